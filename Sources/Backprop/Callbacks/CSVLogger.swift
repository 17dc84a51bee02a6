import Foundation

/// Appends one CSV row per epoch: epoch, learning rate, batch size, seconds, then every training
/// and validation value (`val_` prefix), with a header row first.
public final class CSVLogger: Callback {
    public let path: String
    private let handle: FileHandle
    private var columns: [String]?

    /// Creates (or truncates) the file at `path`.
    /// - Throws: ``BackpropError/unwritable(path:reason:)`` with the system's reason when the file
    ///   cannot be created.
    public init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard descriptor >= 0 else { throw BackpropError.unwritable(path: path, reason: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.path = path
        self.handle = handle
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        var values: [(String, String)] = [
            ("epoch", "\(record.epoch)"), ("learning_rate", "\(record.learningRate)"),
            ("batch_size", "\(record.batchSize)"), ("seconds", String(format: "%.3f", record.seconds)),
        ]
        values += record.training.entries.map { ($0.name, "\($0.value)") }
        values += (record.validation?.entries ?? []).map { ("val_" + $0.name, "\($0.value)") }
        if columns == nil {
            write(values.map(\.0).joined(separator: ",") + "\n")
        }
        let columns = self.columns ?? values.map(\.0)
        self.columns = columns
        let lookup = Dictionary(values, uniquingKeysWith: { first, _ in first })
        write(columns.map { lookup[$0] ?? "" }.joined(separator: ",") + "\n")
        if let failure { state.stop("CSVLogger: " + failure) }
    }

    /// Why writing failed (a full disk), once it has; training is then stopped with that reason.
    public private(set) var failure: String?

    private func write(_ line: String) {
        guard failure == nil else { return }
        do {
            try handle.write(contentsOf: Data(line.utf8))
        } catch {
            failure = "\(path): cannot write: \(error.localizedDescription)"
        }
    }
}
