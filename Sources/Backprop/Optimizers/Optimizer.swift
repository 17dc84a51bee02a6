/// The base of all optimizers: owns the learning rate, the step count and the flat parameter
/// buffers. Subclasses implement only their update rule, ``applyUpdate(parameters:gradients:count:)``.
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
    /// Updates applied so far.
    public private(set) var iterations = 0
    /// The bound parameters, or nil before ``bind(_:)``.
    public private(set) var flatParameters: FlatParameters?

    public init(learningRate: Float) {
        precondition(learningRate >= 0 && learningRate.isFinite, "Optimizer: learning rate must be finite and ≥ 0, got \(learningRate)")
        self.learningRate = learningRate
    }

    /// Takes charge of the trainable `parameters`: moves them into flat buffers and creates the
    /// optimizer's state (moments) for them.
    public func bind(_ parameters: [Parameter]) {
        let flat = FlatParameters(parameters.filter(\.isTrainable))
        flatParameters = flat
        iterations = 0
        makeState(count: flat.count)
    }

    /// Marks every bound gradient as zero.
    public func zeroGradients() { flatParameters?.zeroGradients() }

    /// Applies one update from the current gradients.
    public func step() {
        guard let flat = flatParameters else { preconditionFailure("Optimizer.step: call bind(_:) first") }
        flat.materializeGradients()
        iterations += 1
        applyUpdate(parameters: flat.values, gradients: flat.gradients, count: flat.count)
    }

    /// Creates per-parameter state buffers of `count` scalars (moments, velocity).
    open func makeState(count: Int) {}

    /// The update rule over the flat buffers. `iterations` is already incremented.
    open func applyUpdate(parameters: TensorStorage, gradients: TensorStorage, count: Int) {
        preconditionFailure("\(type(of: self)) must override applyUpdate(parameters:gradients:count:)")
    }

    /// A zero-filled state buffer.
    public func makeZeroBuffer(count: Int) -> TensorStorage {
        let storage = TensorStorage(uninitializedCount: max(count, 1))
        Backends.current.fill(storage, value: 0, count: count)
        return storage
    }
}
