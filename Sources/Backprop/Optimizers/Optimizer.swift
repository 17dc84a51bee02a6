/// The base of all optimizers. It owns what every rule shares — the learning rate, weight decay,
/// gradient clipping, parameter groups, the step count and the flat parameter buffers — and
/// subclasses supply only their rule (``updateRule()``) and its state buffers.
///
/// Typical use is through `Model.compile(optimizer:…)`; by hand:
/// ```swift
/// let optimizer = Adam(learningRate: 1e-3)
/// optimizer.bind(model.parameters)
/// optimizer.zeroGradients(); loss.backward(); optimizer.step()
/// ```
open class Optimizer {
    /// Step size; callbacks and schedules may change it between steps.
    public var learningRate: Float
    /// L2 penalty coefficient added to every gradient (decoupled in `AdamW`), unless a parameter
    /// group overrides it.
    public var weightDecay: Float
    /// Clamp each gradient element to [-clipValue, clipValue] before the update.
    public var clipValue: Float?
    /// Rescale all gradients together so their global L2 norm is at most this.
    public var clipNorm: Float?
    /// Updates applied so far.
    public internal(set) var iterations = 0
    /// The bound parameters, or nil before ``bind(_:)``.
    public private(set) var flatParameters: FlatParameters?
    /// The global gradient norm measured at the last step (before clipping), when clipping by norm.
    public private(set) var lastGradientNorm: Double?

    private var groupOptions: [ObjectIdentifier: (learningRateScale: Float, weightDecay: Float?)] = [:]
    private var ranges: [(range: Range<Int>, learningRateScale: Float, weightDecay: Float?)] = []
    private var trainableAtRangeBuild: [Bool] = []
    var state: [TensorStorage] = []

    public init(learningRate: Float, weightDecay: Float = 0) {
        precondition(learningRate >= 0 && learningRate.isFinite, "Optimizer: learning rate must be finite and ≥ 0, got \(learningRate)")
        precondition(weightDecay >= 0, "Optimizer: weight decay must be ≥ 0, got \(weightDecay)")
        self.learningRate = learningRate
        self.weightDecay = weightDecay
    }

    /// Takes charge of `parameters`: moves them into flat buffers and creates the rule's state
    /// (moments) for them, zeroed. Only trainable parameters are updated; freezing or unfreezing
    /// one later (`isTrainable`) takes effect at the next step.
    public func bind(_ parameters: [Parameter]) {
        let flat = FlatParameters(parameters)
        flatParameters = flat
        iterations = 0
        state = (0..<stateBufferCount).map { _ in Optimizer.zeroBuffer(count: flat.count) }
        rebuildRanges()
    }

    /// A parameter group: these parameters use `learningRateScale` × the learning rate and their own
    /// weight decay (nil keeps the optimizer's). Typical: `weightDecay: 0` for biases and norms.
    public func setOptions(for parameters: [Parameter], learningRateScale: Float = 1, weightDecay: Float? = nil) {
        for parameter in parameters { groupOptions[ObjectIdentifier(parameter)] = (learningRateScale, weightDecay) }
        rebuildRanges()
    }

    /// Marks every bound gradient as zero.
    public func zeroGradients() { flatParameters?.zeroGradients() }

    /// Applies one update from the current gradients (after clipping).
    public func step() {
        guard let flat = flatParameters else { preconditionFailure("Optimizer.step: call bind(_:) first") }
        flat.materializeGradients()
        let backend = Backends.current
        if let clipValue { backend.clipValues(flat.gradients, count: flat.count, limit: clipValue) }
        if let clipNorm {
            let norm = backend.sumOfSquares(flat.gradients, count: flat.count).squareRoot()
            lastGradientNorm = norm
            if norm > Double(clipNorm) {
                backend.scale(
                    flat.gradients, by: Float(Double(clipNorm) / norm), into: flat.gradients, count: flat.count, accumulate: false)
            }
        }
        if flat.parameters.map(\.isTrainable) != trainableAtRangeBuild { rebuildRanges() }
        iterations += 1
        let rule = updateRule()
        for group in ranges {
            let update = OptimizerUpdate(
                rule: rule, learningRate: learningRate * group.learningRateScale,
                weightDecay: group.weightDecay ?? weightDecay, decoupledWeightDecay: usesDecoupledWeightDecay)
            backend.optimizerUpdate(update, parameters: flat.values, gradients: flat.gradients, state: state, range: group.range)
        }
    }

    /// How many per-parameter state buffers the rule keeps (velocity, moments).
    open var stateBufferCount: Int { 0 }
    /// The names of the state buffers in checkpoints (PyTorch's where it has one: `exp_avg`).
    open var stateBufferNames: [String] { (0..<stateBufferCount).map { "buffer\($0)" } }
    /// Whether weight decay is decoupled from the gradient (AdamW) rather than an L2 term.
    open var usesDecoupledWeightDecay: Bool { false }
    /// The rule for the step about to be taken; `iterations` already counts it.
    open func updateRule() -> OptimizerUpdate.Rule {
        preconditionFailure("\(type(of: self)) must override updateRule()")
    }

    /// Consecutive trainable parameters with the same options become one range, so the common case
    /// (no groups, nothing frozen) is one pass over the whole buffer.
    private func rebuildRanges() {
        guard let flat = flatParameters else { return }
        ranges = []
        trainableAtRangeBuild = flat.parameters.map(\.isTrainable)
        var previousIncluded = false
        for (index, parameter) in flat.parameters.enumerated() {
            guard parameter.isTrainable else {
                previousIncluded = false
                continue
            }
            defer { previousIncluded = true }
            let start = flat.offsets[index]
            let end = index + 1 < flat.offsets.count ? flat.offsets[index + 1] : flat.count
            let options = groupOptions[ObjectIdentifier(parameter)] ?? (1, nil)
            if previousIncluded, let last = ranges.last, last.learningRateScale == options.learningRateScale,
                last.weightDecay == options.weightDecay
            {
                ranges[ranges.count - 1].range = last.range.lowerBound..<end
            } else {
                ranges.append((start..<end, options.learningRateScale, options.weightDecay))
            }
        }
    }

    static func zeroBuffer(count: Int) -> TensorStorage {
        let storage = TensorStorage(uninitializedCount: max(count, 1))
        Backends.current.fill(storage, value: 0, count: count)
        return storage
    }
}
