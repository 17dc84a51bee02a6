/// Hooks into `fit`, following Keras's callback protocol. Every hook has an empty default, so a
/// callback implements only what it needs. Callbacks can read the logs, change the optimizer's
/// learning rate or stop training through the ``TrainingState``.
public protocol Callback: AnyObject {
    func trainingWillBegin(_ state: TrainingState)
    func epochWillBegin(_ epoch: Int, _ state: TrainingState)
    /// After each optimizer step; `logs` holds the running averages of the epoch so far.
    func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState)
    /// After validation; `record` is what `History` stores for the epoch.
    func epochDidEnd(_ record: History.Epoch, _ state: TrainingState)
    func trainingDidEnd(_ state: TrainingState)
}

extension Callback {
    public func trainingWillBegin(_ state: TrainingState) {}
    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {}
    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {}
    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {}
    public func trainingDidEnd(_ state: TrainingState) {}
}

/// What callbacks see of a running `fit`.
public final class TrainingState {
    /// The optimizer; its `learningRate` may be changed between steps.
    public let optimizer: Optimizer
    /// Total epochs requested.
    public let epochs: Int
    /// Optimizer steps per epoch.
    public let stepsPerEpoch: Int
    /// The current epoch (1-based).
    public internal(set) var epoch = 0
    /// Set to true to end training after the current step.
    public var shouldStop = false
    /// Why training was stopped early, shown to the user.
    public var stopReason: String?

    init(optimizer: Optimizer, epochs: Int, stepsPerEpoch: Int) {
        self.optimizer = optimizer
        self.epochs = epochs
        self.stepsPerEpoch = stepsPerEpoch
    }
}
