import Foundation

/// Appends one CSV row per epoch: epoch, learning rate, batch size, seconds, then every training
/// and validation value (`val_` prefix), with a header row first.
public final class CSVLogger: Callback {
    public let path: String
    private let handle: FileHandle
    private var columns: [String]?

    /// Creates (or truncates) the file at `path`.
    /// - Throws: ``BackpropError/fileNotFound(path:)`` when the file cannot be created.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw BackpropError.fileNotFound(path: path)
        }
        self.path = path
        self.handle = handle
    }

    deinit { try? handle.close() }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        var values: [(String, String)] = [
            ("epoch", "\(record.epoch)"), ("learning_rate", "\(record.learningRate)"),
            ("batch_size", "\(record.batchSize)"), ("seconds", String(format: "%.3f", record.seconds)),
        ]
        values += record.training.entries.map { ($0.name, "\($0.value)") }
        values += (record.validation?.entries ?? []).map { ("val_" + $0.name, "\($0.value)") }
        if columns == nil {
            columns = values.map(\.0)
            write(columns!.joined(separator: ",") + "\n")
        }
        let lookup = Dictionary(values, uniquingKeysWith: { first, _ in first })
        write(columns!.map { lookup[$0] ?? "" }.joined(separator: ",") + "\n")
    }

    private func write(_ line: String) { handle.write(Data(line.utf8)) }
}
