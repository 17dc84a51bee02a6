/// Stochastic gradient descent, optionally with momentum (Polyak 1964) or Nesterov momentum
/// (Sutskever et al. 2013), in PyTorch's form: v ← μv + g; θ ← θ − η·v (Nesterov: θ ← θ − η(g + μv)).
public final class SGD: Optimizer {
    /// μ; 0 is plain SGD.
    public let momentum: Float
    /// Whether to use the Nesterov look-ahead.
    public let nesterov: Bool
    private var velocity: TensorStorage?

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false) {
        precondition(momentum >= 0 && momentum < 1, "SGD: momentum must be in [0, 1), got \(momentum)")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate)
    }

    public override func makeState(count: Int) {
        velocity = momentum > 0 ? makeZeroBuffer(count: count) : nil
    }

    public override func applyUpdate(parameters: TensorStorage, gradients: TensorStorage, count: Int) {
        Backends.current.sgdUpdate(
            parameters: parameters, gradients: gradients, velocity: velocity ?? gradients, count: count,
            learningRate: learningRate, momentum: momentum, nesterov: nesterov)
    }
}
