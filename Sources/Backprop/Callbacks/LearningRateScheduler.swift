/// Sets the optimizer's learning rate from a ``LearningRateSchedule`` before every step
/// (`.step`, t = steps taken) or at the start of every epoch (`.epoch`, t = epochs completed).
public final class LearningRateScheduler: Callback {
    /// What t counts.
    public enum Unit: String, Sendable { case step, epoch }

    public let schedule: LearningRateSchedule
    public let unit: Unit

    public init(_ schedule: LearningRateSchedule, unit: Unit = .step) {
        self.schedule = schedule
        self.unit = unit
    }

    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {
        if unit == .epoch { state.optimizer.learningRate = schedule.value(at: epoch - 1) }
    }

    public func batchWillBegin(_ batch: Int, _ state: TrainingState) {
        if unit == .step { state.optimizer.learningRate = schedule.value(at: state.globalStep) }
    }
}
