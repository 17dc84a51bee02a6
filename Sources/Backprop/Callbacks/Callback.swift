/// Hooks into `fit`, following Keras's callback protocol. Every hook has an empty default, so a
/// callback implements only what it needs. Callbacks can read the logs, change the optimizer's
/// learning rate or stop training through the ``TrainingState``.
public protocol Callback: AnyObject {
    func trainingWillBegin(_ state: TrainingState)
    func epochWillBegin(_ epoch: Int, _ state: TrainingState)
    /// Before each optimizer step (`batch` counts from 1 within the epoch).
    func batchWillBegin(_ batch: Int, _ state: TrainingState)
    /// After each optimizer step; `logs` holds the running averages of the epoch so far.
    func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState)
    /// After validation; `record` is what `History` stores for the epoch.
    func epochDidEnd(_ record: History.Epoch, _ state: TrainingState)
    func trainingDidEnd(_ state: TrainingState)
}

extension Callback {
    public func trainingWillBegin(_ state: TrainingState) {}
    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {}
    public func batchWillBegin(_ batch: Int, _ state: TrainingState) {}
    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {}
    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {}
    public func trainingDidEnd(_ state: TrainingState) {}
}

/// What callbacks see of a running `fit`, and what they may change.
public final class TrainingState {
    /// The model being trained.
    public let model: Model
    /// The optimizer; its `learningRate` may be changed between steps.
    public let optimizer: Optimizer
    /// Total epochs requested.
    public let epochs: Int
    /// Training samples per epoch.
    public let sampleCount: Int
    /// Samples per step; a callback may change it before an epoch begins (batch-size schedules).
    public var batchSize: Int {
        didSet { precondition(batchSize > 0, "TrainingState: batch size must be positive, got \(batchSize)") }
    }
    /// Whether a smaller last batch is dropped.
    public let dropsRemainder: Bool
    /// Optimizer steps in the current epoch.
    public var stepsPerEpoch: Int { dropsRemainder ? sampleCount / batchSize : (sampleCount + batchSize - 1) / batchSize }
    /// The current epoch (1-based).
    public internal(set) var epoch = 0
    /// Optimizer steps taken since training began.
    public internal(set) var globalStep = 0
    /// Training samples processed since training began (batch-size schedules make this differ
    /// from `globalStep × batchSize`).
    public internal(set) var samplesSeen = 0
    /// Where callbacks send messages for the user (a reduced learning rate, a stop): standard
    /// output when `fit` is verbose, nowhere when it is not.
    public var log: (String) -> Void = { print($0) }
    /// The batch of the step that just ran (inputs, targets), for diagnostics.
    public internal(set) var lastBatch: (inputs: Tensor, targets: Tensor)?
    /// Set to true to end training after the current step.
    public var shouldStop = false
    /// Why training was stopped early, shown to the user.
    public var stopReason: String?

    /// Creates the state `fit` hands to callbacks (public so callbacks can be tested on their own).
    public init(model: Model, optimizer: Optimizer, epochs: Int, sampleCount: Int, batchSize: Int, dropsRemainder: Bool = false) {
        self.dropsRemainder = dropsRemainder
        self.model = model
        self.optimizer = optimizer
        self.epochs = epochs
        self.sampleCount = sampleCount
        self.batchSize = batchSize
    }

    /// Ends training after the current step, with a message for the user.
    public func stop(_ reason: String) {
        shouldStop = true
        stopReason = reason
    }
}
