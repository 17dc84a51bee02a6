/// Stops training when the monitored value has not improved for `patience` epochs, optionally
/// restoring the parameters of the best epoch.
public final class EarlyStopping: StatefulCallback {
    public private(set) var monitor: Monitor
    public let patience: Int
    public let restoreBestWeights: Bool
    private var wait = 0
    /// The model's state (``Model/stateDict()``) at the best epoch, when restoring best weights.
    private var bestState: [(name: String, value: Tensor)]?
    /// The epoch whose parameters were best, once one was seen.
    public private(set) var bestEpoch: Int?
    /// The epoch after which training stopped, if it did.
    public private(set) var stoppedEpoch: Int?

    public init(
        monitor: String = "val_loss", patience: Int = 0, minDelta: Double = 0, mode: MonitorMode = .auto,
        restoreBestWeights: Bool = false
    ) {
        precondition(patience >= 0, "EarlyStopping: patience must be ≥ 0, got \(patience)")
        self.monitor = Monitor(monitor, mode: mode, minDelta: minDelta)
        self.patience = patience
        self.restoreBestWeights = restoreBestWeights
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        if monitor.improves(monitor.value(in: record)) {
            wait = 0
            bestEpoch = record.epoch
            if restoreBestWeights { bestState = state.model.stateDict() }
            return
        }
        wait += 1
        guard wait >= patience else { return }  // Keras: stop once `patience` epochs in a row did not improve
        stoppedEpoch = record.epoch
        var reason =
            "Early stopping after epoch \(record.epoch): \(monitor.name) has not improved for \(wait) epochs (best \(monitor.best.map(formatMetric) ?? "-") at epoch \(bestEpoch ?? 0))"
        if restoreBestWeights, let bestState {
            do {
                try state.model.load(Dictionary(bestState, uniquingKeysWith: { first, _ in first }), strict: true, source: "EarlyStopping")
            } catch {
                preconditionFailure("EarlyStopping: the model's own state does not load back: \(error)")
            }
            reason += "; restored the weights of epoch \(bestEpoch ?? 0)"
        }
        state.stop(reason)
    }

    private struct Fields: Codable {
        var monitor: Monitor
        var wait: Int
        var bestEpoch: Int?
        var stoppedEpoch: Int?
        var hasBestState: Bool
    }

    public func state() -> ComponentState {
        ComponentState(
            Fields(monitor: monitor, wait: wait, bestEpoch: bestEpoch, stoppedEpoch: stoppedEpoch, hasBestState: bestState != nil),
            tensors: Dictionary((bestState ?? []).map { ("best.\($0.name)", $0.value) }, uniquingKeysWith: { first, _ in first }))
    }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        let fields = try saved.decode(Fields.self, source: source, component: "EarlyStopping")
        let restoredMonitor = try monitor.restored(from: fields.monitor, source: source, component: "EarlyStopping")
        var best: [(name: String, value: Tensor)]?
        if fields.hasBestState {
            best = saved.tensors.filter { $0.key.hasPrefix("best.") }.map { (String($0.key.dropFirst(5)), $0.value) }
                .sorted { $0.0 < $1.0 }
            // The same check a load makes, so a stop later cannot fail.
            try model.check(
                Dictionary(best ?? [], uniquingKeysWith: { first, _ in first }), strict: true,
                source: "\(source) (EarlyStopping's best weights)")
        }
        monitor = restoredMonitor
        wait = fields.wait
        bestEpoch = fields.bestEpoch
        stoppedEpoch = fields.stoppedEpoch
        bestState = best
    }
}
