import Foundation

/// Writes the run's complete state (``TrainingCheckpoint``) into a folder — after every epoch
/// and/or every `everySteps` steps, and when a signal interrupts training — keeping the newest
/// `keepLast`, and `best.safetensors` for the best epoch by a monitored value. Every write is
/// atomic, so a crash at any moment leaves the newest complete checkpoint readable.
///
/// Files: `epoch-0003-step-00000120.safetensors` (inside epoch 3, after step 120 of the run),
/// `epoch-0003-end.safetensors` (after epoch 3 and its callbacks). Each is also a model file.
/// Resume with ``ModelCheckpoint/latest(in:)`` and `Model.fit(…, resumingFrom:)`.
public final class ModelCheckpoint: StatefulCallback {
    public let directory: String
    public let everySteps: Int?
    public let everyEpoch: Bool
    public let keepLast: Int
    /// Model-file metadata stored in every checkpoint (class names, options of the run).
    public var metadata: [String: String]
    private var monitor: Monitor?
    private var pendingValue: Double?
    /// The file written last.
    public private(set) var lastPath: String?
    /// Seconds spent writing checkpoints.
    public private(set) var secondsWriting = 0.0
    /// Why the last write failed, if it did; training is then stopped with that reason.
    public private(set) var failure: String?

    /// Creates the folder if needed and checks it can be written.
    ///
    /// - Throws: ``BackpropError/unwritable(path:reason:)``.
    public init(
        directory: String, everySteps: Int? = nil, everyEpoch: Bool = true, keepLast: Int = 2, best monitor: String? = nil,
        metadata: [String: String] = [:]
    ) throws {
        precondition(everySteps.map { $0 > 0 } ?? true, "ModelCheckpoint: everySteps must be positive")
        precondition(keepLast > 0, "ModelCheckpoint: keepLast must be positive, got \(keepLast)")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw BackpropError.unwritable(path: directory, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BackpropError.unwritable(path: directory, reason: "it is not a folder")
        }
        guard access(directory, W_OK) == 0 else {
            throw BackpropError.unwritable(path: directory, reason: String(cString: strerror(errno)))
        }
        self.directory = directory
        self.everySteps = everySteps
        self.everyEpoch = everyEpoch
        self.keepLast = keepLast
        self.metadata = metadata
        self.monitor = monitor.map { Monitor($0) }
        // Temporary files of a process killed while writing.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where name.hasPrefix(".") && name.contains(".safetensors.tmp-") {
            unlink(directory + "/" + name)
        }
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        pendingValue = monitor.map { $0.value(in: record) }
    }

    public func boundaryReached(_ boundary: TrainingBoundary, _ state: TrainingState) {
        switch boundary {
        case .step:
            guard let everySteps, state.globalStep % everySteps == 0 else { return }
            save(state, name: Self.fileName(epoch: state.epoch, step: state.globalStep, end: false))
        case .interruption:
            save(state, name: Self.fileName(epoch: state.epoch, step: state.globalStep, end: false))
        case .epoch:
            var improved = false
            if let value = pendingValue, var monitor {
                improved = monitor.improves(value)
                self.monitor = monitor
            }
            pendingValue = nil
            if everyEpoch { save(state, name: Self.fileName(epoch: state.epoch, step: state.globalStep, end: true)) }
            if improved { save(state, name: "best.safetensors", prune: false) }
        }
    }

    private func save(_ state: TrainingState, name: String, prune: Bool = true) {
        guard failure == nil else { return }
        let start = Date()
        defer { secondsWriting += Date().timeIntervalSince(start) }
        let path = directory + "/" + name
        do {
            try state.checkpoint(metadata: metadata).write(to: path)
            lastPath = path
        } catch {
            failure = "\(error)"
            state.stop("ModelCheckpoint: \(error)")
            return
        }
        guard prune else { return }
        for old in Self.checkpoints(in: directory).dropLast(keepLast) { unlink(directory + "/" + old.name) }
    }

    static func fileName(epoch: Int, step: Int, end: Bool) -> String {
        func padded(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(width - digits.count, 0)) + digits
        }
        return end ? "epoch-\(padded(epoch, 4))-end.safetensors" : "epoch-\(padded(epoch, 4))-step-\(padded(step, 8)).safetensors"
    }

    /// The checkpoint files in `directory`, oldest first (by epoch, then step, an epoch's end last).
    public static func checkpoints(in directory: String) -> [(name: String, epoch: Int, step: Int, end: Bool)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let parsed = names.compactMap { name -> (String, Int, Int, Bool)? in
            guard name.hasPrefix("epoch-"), name.hasSuffix(".safetensors") else { return nil }
            let parts = name.dropLast(".safetensors".count).split(separator: "-")
            guard parts.count >= 3, let epoch = Int(parts[1]) else { return nil }
            if parts.count == 3, parts[2] == "end" { return (name, epoch, Int.max, true) }
            if parts.count == 4, parts[2] == "step", let step = Int(parts[3]) { return (name, epoch, step, false) }
            return nil
        }
        return parsed.sorted { ($0.1, $0.2) < ($1.1, $1.2) }.map { ($0.0, $0.1, $0.2, $0.3) }
    }

    /// The newest checkpoint in `directory` that reads, with its path, and the newer files that
    /// did not read (with why); nil when there is none.
    public static func latest(in directory: String) -> (path: String, checkpoint: TrainingCheckpoint, skipped: [String])? {
        var skipped: [String] = []
        for entry in checkpoints(in: directory).reversed() {
            let path = directory + "/" + entry.name
            do {
                return (path, try TrainingCheckpoint(contentsOf: path), skipped)
            } catch {
                skipped.append("\(error)")
            }
        }
        return nil
    }

    private struct Fields: Codable {
        var monitor: Monitor?
    }

    public func state() -> ComponentState { ComponentState(Fields(monitor: monitor)) }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        let fields = try saved.decode(Fields.self, source: source, component: "ModelCheckpoint")
        if let monitor, let savedMonitor = fields.monitor {
            self.monitor = try monitor.restored(from: savedMonitor, source: source, component: "ModelCheckpoint")
        }
    }
}
