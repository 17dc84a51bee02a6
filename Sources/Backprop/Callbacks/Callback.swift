/// Hooks into `fit`, following Keras's callback protocol. Every hook has an empty default, so a
/// callback implements only what it needs. Callbacks can read the logs, change the optimizer's
/// learning rate or stop training through the ``TrainingState``.
///
/// A step runs `batchWillBegin` → forward → ``forwardDidEnd(_:_:)`` → backward →
/// ``gradientsReady(_:)`` → clipping and the optimizer step → ``stepDidEnd(_:)`` → the step's
/// metrics → `batchDidEnd` → `boundaryReached(.step)`.
public protocol Callback: AnyObject {
    func trainingWillBegin(_ state: TrainingState)
    func epochWillBegin(_ epoch: Int, _ state: TrainingState)
    /// Before each optimizer step (`batch` counts from 1 within the epoch).
    func batchWillBegin(_ batch: Int, _ state: TrainingState)
    /// Whether ``forwardDidEnd(_:_:)`` should carry every layer's output at global step `step`
    /// (1-based). Recording costs a little (layer fusions are off for that step), so monitors sample.
    func wantsLayerOutputs(atStep step: Int) -> Bool
    /// After the forward pass and the loss, before backward; `pass.layerOutputs` are filled when
    /// a callback asked for them.
    func forwardDidEnd(_ pass: ForwardPass, _ state: TrainingState)
    /// After backward: every gradient is ready (``Parameter/gradient``), before clipping and the
    /// optimizer step. A gradient allreduce goes here; monitors read gradient norms here.
    func gradientsReady(_ state: TrainingState)
    /// Right after the optimizer step (skipped steps — a non-finite loss — still call it).
    func stepDidEnd(_ state: TrainingState)
    /// After each optimizer step; `logs` holds the running averages of the epoch so far.
    func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState)
    /// Whether the epoch's validation pass should keep its predictions in
    /// ``TrainingState/validationPredictions`` (for confusion matrices and worst examples).
    var wantsValidationPredictions: Bool { get }
    /// After validation; `record` is what `History` stores for the epoch.
    func epochDidEnd(_ record: History.Epoch, _ state: TrainingState)
    func trainingDidEnd(_ state: TrainingState)
    /// After every callback has handled a step or an epoch, or when a signal stopped training:
    /// the run's state is complete here and can be saved (``TrainingState/checkpoint()``).
    func boundaryReached(_ boundary: TrainingBoundary, _ state: TrainingState)
}

extension Callback {
    public func trainingWillBegin(_ state: TrainingState) {}
    public func epochWillBegin(_ epoch: Int, _ state: TrainingState) {}
    public func batchWillBegin(_ batch: Int, _ state: TrainingState) {}
    public func wantsLayerOutputs(atStep step: Int) -> Bool { false }
    public func forwardDidEnd(_ pass: ForwardPass, _ state: TrainingState) {}
    public func gradientsReady(_ state: TrainingState) {}
    public func stepDidEnd(_ state: TrainingState) {}
    public var wantsValidationPredictions: Bool { false }
    public func batchDidEnd(_ batch: Int, logs: Logs, _ state: TrainingState) {}
    public func epochDidEnd(_ record: History.Epoch, _ state: TrainingState) {}
    public func trainingDidEnd(_ state: TrainingState) {}
    public func boundaryReached(_ boundary: TrainingBoundary, _ state: TrainingState) {}
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
    /// Whether the optimizer applied the last step (false when its loss was not finite).
    public internal(set) var lastStepApplied = true
    /// The last validation pass's inputs, outputs and targets in sample order, when a callback
    /// asked (``Callback/wantsValidationPredictions``); set before `epochDidEnd`.
    public internal(set) var validationPredictions: (inputs: Tensor, outputs: Tensor, targets: Tensor)? {
        didSet { cachedOutcome = nil }
    }
    private var cachedOutcome: ClassificationOutcome??

    /// The confusion matrix and worst examples of the last validation pass (classification),
    /// computed once for every callback that reads it.
    public var validationOutcome: ClassificationOutcome? {
        if let cached = cachedOutcome { return cached }
        let outcome = validationPredictions.flatMap { ClassificationOutcome(inputs: $0.inputs, outputs: $0.outputs, targets: $0.targets) }
        cachedOutcome = .some(outcome)
        return outcome
    }
    /// Set to true to end training after the current step.
    public var shouldStop = false
    /// Why training was stopped early, shown to the user.
    public var stopReason: String?
    /// The signal that stopped training between steps, if one did (the epoch it stopped in is
    /// then incomplete: no validation, no epoch callbacks).
    public internal(set) var interruption: Int32?

    /// Steps done in the current epoch.
    public internal(set) var stepsDoneInEpoch = 0
    /// Whether the current epoch's end has run.
    public internal(set) var epochComplete = false
    var epochTotals: [Double] = []
    var epochSamples = 0
    var epochSeconds = 0.0
    /// Every callback of the run, with the keys their states are saved under.
    var callbacks: [any Callback] = []

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

extension TrainingState {
    /// The keys of the stateful callbacks' states: the type name, then `#2`, `#3`… for repeats.
    var statefulCallbacks: [(key: String, callback: any StatefulCallback)] {
        var counts: [String: Int] = [:]
        return callbacks.compactMap { callback in
            guard let stateful = callback as? any StatefulCallback else { return nil }
            let name = String(describing: type(of: stateful))
            counts[name, default: 0] += 1
            let count = counts[name]!
            return (count == 1 ? name : "\(name)#\(count)", stateful)
        }
    }

    /// The run's complete state now: meaningful at a ``TrainingBoundary`` (in
    /// ``Callback/boundaryReached(_:_:)``), where a resumed run continues bit for bit.
    public func checkpoint(metadata: [String: String] = [:]) -> TrainingCheckpoint {
        var all = metadata
        if let architecture = model.architecture {
            all[Model.architectureMetadataKey] = String(decoding: architecture.jsonData(), as: UTF8.self)
        }
        let progress = TrainingProgress(
            epoch: epoch, stepsDone: stepsDoneInEpoch, epochComplete: epochComplete, globalStep: globalStep, samplesSeen: samplesSeen,
            sampleCount: sampleCount, batchSize: batchSize, epochTotals: epochTotals, epochSamples: epochSamples,
            epochSeconds: epochSeconds,
            stopReason: interruption == nil ? stopReason : nil, random: GlobalRandom.current.stateWords.map(HexWord.init))
        return TrainingCheckpoint(
            model: model.stateDict(), optimizer: optimizer.state(names: model.namedParameters),
            callbacks: statefulCallbacks.map { ($0.key, $0.callback.state()) }, progress: progress, metadata: all)
    }

    /// Puts a checkpoint's state into this run: callbacks, optimizer, then the model (last, so a
    /// failure elsewhere leaves the weights alone), the random generator and the position.
    func restore(_ checkpoint: TrainingCheckpoint, source: String) throws {
        let mine = statefulCallbacks
        guard mine.map(\.key) == checkpoint.callbacks.map(\.key) else {
            throw BackpropError.malformed(
                path: source, field: "__metadata__.\(TrainingCheckpoint.callbackKeysKey)",
                expected: "the callbacks of this run (\(mine.map(\.key).joined(separator: ", ")))",
                found: checkpoint.callbacks.map(\.key).joined(separator: ", "))
        }
        let progress = checkpoint.progress
        guard let generator = progress.randomGenerator, progress.epochTotals.count == epochTotals.count || progress.epoch == 0 else {
            throw BackpropError.malformed(
                path: source, field: "__metadata__.\(TrainingCheckpoint.progressKey)",
                expected: "\(epochTotals.count) running totals (loss, penalty and the metrics of this run)",
                found: "\(progress.epochTotals.count)")
        }
        guard progress.sampleCount == sampleCount else {
            throw BackpropError.malformed(
                path: source, field: "__metadata__.\(TrainingCheckpoint.progressKey)",
                expected: "a run over \(sampleCount) training samples (this run's data)", found: "\(progress.sampleCount) samples")
        }
        for ((_, callback), (_, saved)) in zip(mine, checkpoint.callbacks) { try callback.restore(saved, model: model, source: source) }
        try optimizer.restore(checkpoint.optimizer, names: model.namedParameters, source: source)
        try model.load(Dictionary(checkpoint.model, uniquingKeysWith: { first, _ in first }), strict: true, source: source)
        GlobalRandom.current = generator
        epoch = progress.epoch
        stepsDoneInEpoch = progress.stepsDone
        epochComplete = progress.epochComplete
        globalStep = progress.globalStep
        samplesSeen = progress.samplesSeen
        batchSize = progress.batchSize
        if progress.epoch > 0 { epochTotals = progress.epochTotals }
        epochSamples = progress.epochSamples
        epochSeconds = progress.epochSeconds
        if let reason = progress.stopReason { stop(reason) }
    }
}
