/// Sets the optimizer's learning rate from a ``LearningRateSchedule`` before every step
/// (`.step`, t = steps taken), at the start of every epoch (`.epoch`, t = epochs completed) or
/// before every step by training samples seen (`.sample`, t = samples processed, so a schedule
/// keeps its length when a batch-size schedule changes the number of steps).
///
/// With `activeSteps`, the scheduler sets the rate only while t is below it and then leaves the
/// rate alone: a warm-up in front of a callback that adapts the rate itself (ReduceLROnPlateau).
public final class LearningRateScheduler: StatefulCallback {
    /// What t counts.
    public enum Unit: String, Sendable { case step, epoch, sample }

    public let schedule: LearningRateSchedule
    public let unit: Unit
    /// The scheduler acts only for t < `activeSteps` (nil: always).
    public let activeSteps: Int?

    public init(_ schedule: LearningRateSchedule, unit: Unit = .step, activeSteps: Int? = nil) {
        self.schedule = schedule
        self.unit = unit
        self.activeSteps = activeSteps
    }

    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {
        if unit == .epoch { apply(at: epoch - 1, state) }
    }

    public func batchWillBegin(_ batch: Int, _ state: TrainingState) {
        switch unit {
        case .step: apply(at: state.globalStep, state)
        case .sample: apply(at: state.samplesSeen, state)
        case .epoch: break
        }
    }

    private var handedOver = false

    private func apply(at t: Int, _ state: TrainingState) {
        if let activeSteps, t >= activeSteps {
            // Hand over at the schedule's value there, once; from then on the rate is someone else's.
            if !handedOver { state.optimizer.learningRate = schedule.value(at: activeSteps) }
            handedOver = true
            return
        }
        state.optimizer.learningRate = schedule.value(at: t)
    }
}

extension LearningRateScheduler {
    private struct Fields: Codable { var handedOver: Bool }

    public func state() -> ComponentState { ComponentState(Fields(handedOver: handedOver)) }

    public func restore(_ saved: ComponentState, model: Model, source: String) throws {
        handedOver = try saved.decode(Fields.self, source: source, component: "LearningRateScheduler").handedOver
    }
}
