/// Stops training when the monitored value has not improved for `patience` epochs, optionally
/// restoring the parameters of the best epoch.
public final class EarlyStopping: Callback {
    public private(set) var monitor: Monitor
    public let patience: Int
    public let restoreBestWeights: Bool
    private var wait = 0
    private var bestValues: [Float]?
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
            if restoreBestWeights, let flat = state.optimizer.flatParameters {
                bestValues = Array(UnsafeBufferPointer(start: flat.values.pointer, count: flat.count))
            }
            return
        }
        wait += 1
        guard wait >= patience else { return }  // Keras: stop once `patience` epochs in a row did not improve
        stoppedEpoch = record.epoch
        var reason =
            "Early stopping after epoch \(record.epoch): \(monitor.name) has not improved for \(wait) epochs (best \(monitor.best.map(formatMetric) ?? "-") at epoch \(bestEpoch ?? 0))"
        if restoreBestWeights, let bestValues, let flat = state.optimizer.flatParameters {
            bestValues.withUnsafeBufferPointer { flat.values.pointer.update(from: $0.baseAddress!, count: flat.count) }
            reason += "; restored the weights of epoch \(bestEpoch ?? 0)"
        }
        state.stop(reason)
    }
}
