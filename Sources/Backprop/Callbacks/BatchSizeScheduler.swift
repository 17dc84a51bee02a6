/// Grows the batch size during training while the learning rate stays put ("Don't decay the
/// learning rate, increase the batch size", Smith et al. 2018): at given epochs, or by `factor`
/// when the monitored value plateaus.
public final class BatchSizeScheduler: StatefulCallback {
    /// When the batch grows.
    public enum Rule: Sendable {
        /// Epoch (1-based) at which each new batch size starts.
        case milestones([Int: Int])
        /// × factor after `patience` epochs without improvement, up to `maximum`.
        case onPlateau(monitor: String, factor: Int, patience: Int, maximum: Int)
    }

    public let rule: Rule
    private var monitor: Monitor?
    private var wait = 0
    /// Epochs (1-based) at which the batch size changed, with the new size.
    public private(set) var changes: [(epoch: Int, batchSize: Int)] = []

    public init(_ rule: Rule) {
        self.rule = rule
        if case .onPlateau(let name, let factor, let patience, _) = rule {
            precondition(factor > 1 && patience >= 0, "BatchSizeScheduler: factor must be > 1 and patience ≥ 0")
            monitor = Monitor(name)
        }
    }

    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {
        guard case .milestones(let sizes) = rule, let size = sizes[epoch], size != state.batchSize else { return }
        state.batchSize = size
        changes.append((epoch, size))
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        guard case .onPlateau(_, let factor, let patience, let maximum) = rule, var monitor else { return }
        defer { self.monitor = monitor }
        if monitor.improves(monitor.value(in: record)) {
            wait = 0
            return
        }
        wait += 1
        if wait >= patience && state.batchSize < maximum {
            state.batchSize = min(state.batchSize * factor, maximum)
            changes.append((record.epoch + 1, state.batchSize))
            wait = 0
        }
    }
}

extension BatchSizeScheduler {
    private struct Change: Codable {
        var epoch: Int
        var batchSize: Int
    }

    private struct Fields: Codable {
        var monitor: Monitor?
        var wait: Int
        var changes: [Change]
    }

    public func state() -> ComponentState {
        ComponentState(Fields(monitor: monitor, wait: wait, changes: changes.map { Change(epoch: $0.epoch, batchSize: $0.batchSize) }))
    }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        let fields = try saved.decode(Fields.self, source: source, component: "BatchSizeScheduler")
        if let monitor {
            guard let savedMonitor = fields.monitor else {
                throw BackpropError.malformed(
                    path: source, field: "state of BatchSizeScheduler", expected: "a monitor of \(monitor.name)", found: "none")
            }
            self.monitor = try monitor.restored(from: savedMonitor, source: source, component: "BatchSizeScheduler")
        }
        wait = fields.wait
        changes = fields.changes.map { ($0.epoch, $0.batchSize) }
    }
}
