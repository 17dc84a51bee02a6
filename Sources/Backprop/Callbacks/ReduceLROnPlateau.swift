/// Multiplies the learning rate by `factor` when the monitored value has not improved for
/// `patience` epochs, then waits `cooldown` epochs before counting again, never going below
/// `minLearningRate` (Keras's ReduceLROnPlateau, as the course presents it).
public final class ReduceLROnPlateau: StatefulCallback {
    public private(set) var monitor: Monitor
    public let factor: Float
    public let patience: Int
    public let cooldown: Int
    public let minLearningRate: Float
    /// Report a line through `TrainingState.log` when the rate is reduced (as Keras's `verbose=1`).
    public let verbose: Bool
    private var wait = 0
    private var cooldownLeft = 0
    /// Epochs (1-based) at which the rate was reduced.
    public private(set) var reductions: [Int] = []

    public init(
        monitor: String = "val_loss", factor: Float = 0.1, patience: Int = 10, mode: MonitorMode = .auto,
        minDelta: Double = 1e-4, cooldown: Int = 0, minLearningRate: Float = 0, verbose: Bool = true
    ) {
        self.verbose = verbose
        precondition(factor > 0 && factor < 1, "ReduceLROnPlateau: factor must be in (0, 1), got \(factor)")
        precondition(patience >= 0 && cooldown >= 0, "ReduceLROnPlateau: patience and cooldown must be ≥ 0")
        self.monitor = Monitor(monitor, mode: mode, minDelta: minDelta)
        self.factor = factor
        self.patience = patience
        self.cooldown = cooldown
        self.minLearningRate = minLearningRate
    }

    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {
        let current = monitor.value(in: record)
        if cooldownLeft > 0 {
            cooldownLeft -= 1
            wait = 0
        }
        if monitor.improves(current) {
            wait = 0
        } else if cooldownLeft == 0 {
            wait += 1
            if wait >= patience {
                let old = state.optimizer.learningRate
                if old > minLearningRate {
                    state.optimizer.learningRate = max(old * factor, minLearningRate)
                    reductions.append(record.epoch)
                    if verbose {
                        state.log(
                            "Epoch \(record.epoch): ReduceLROnPlateau reducing learning rate to \(state.optimizer.learningRate) (\(monitor.name) has not improved for \(patience) epochs)"
                        )
                    }
                }
                cooldownLeft = cooldown
                wait = 0
            }
        }
    }
}

extension ReduceLROnPlateau {
    private struct Fields: Codable {
        var monitor: Monitor
        var wait: Int
        var cooldownLeft: Int
        var reductions: [Int]
    }

    public func state() -> ComponentState {
        ComponentState(Fields(monitor: monitor, wait: wait, cooldownLeft: cooldownLeft, reductions: reductions))
    }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        let fields = try saved.decode(Fields.self, source: source, component: "ReduceLROnPlateau")
        monitor = try monitor.restored(from: fields.monitor, source: source, component: "ReduceLROnPlateau")
        wait = fields.wait
        cooldownLeft = fields.cooldownLeft
        reductions = fields.reductions
    }
}
