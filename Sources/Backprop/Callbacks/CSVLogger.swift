import Foundation

/// Appends one CSV row per epoch: epoch, learning rate, batch size, seconds, then every training
/// and validation value (`val_` prefix), with a header row first. A resumed run (restored from a
/// checkpoint) keeps the rows up to the checkpoint and appends after them.
public final class CSVLogger: StatefulCallback {
    public let path: String
    private let handle: FileHandle
    private var columns: [String]?
    /// Bytes written so far (the file's length once training began).
    private var length: UInt64 = 0
    private var resumed = false

    /// Opens (creating) the file at `path`; it is emptied when training begins, unless the run
    /// resumes from a checkpoint.
    /// - Throws: ``BackpropError/unwritable(path:reason:)`` with the system's reason when the file
    ///   cannot be created.
    public init(path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw BackpropError.unwritable(path: path, reason: String(cString: strerror(errno))) }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        self.path = path
        self.handle = handle
    }

    public func trainingWillBegin(_ state: TrainingState) {
        // Rows after the checkpoint (epochs the resumed run repeats) are dropped.
        if ftruncate(handle.fileDescriptor, off_t(resumed ? length : 0)) != 0 {
            failure = "\(path): cannot write: \(String(cString: strerror(errno)))"
        }
        lseek(handle.fileDescriptor, off_t(resumed ? length : 0), SEEK_SET)
        if !resumed { length = 0 }
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
            let data = Data(line.utf8)
            try handle.write(contentsOf: data)
            length += UInt64(data.count)
        } catch {
            failure = "\(path): cannot write: \(error.localizedDescription)"
        }
    }

    private struct Fields: Codable {
        var columns: [String]?
        var length: UInt64
    }

    public func state() -> ComponentState { ComponentState(Fields(columns: columns, length: length)) }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        let fields = try saved.decode(Fields.self, source: source, component: "CSVLogger")
        var status = stat()
        guard fstat(handle.fileDescriptor, &status) == 0, UInt64(status.st_size) >= fields.length else {
            throw BackpropError.inconsistent(
                path: path, otherPath: source, detail: "the log is shorter than the \(fields.length) bytes the checkpoint wrote")
        }
        columns = fields.columns
        length = fields.length
        resumed = true
    }
}
