/// Stochastic gradient descent, optionally with momentum (Polyak 1964) or Nesterov momentum
/// (Sutskever et al. 2013), in PyTorch's form: v ← μv + g; θ ← θ − η·v (Nesterov: θ ← θ − η(g + μv)).
public final class SGD: Optimizer {
    /// μ; 0 is plain SGD.
    public let momentum: Float
    /// Whether to use the Nesterov look-ahead.
    public let nesterov: Bool

    public init(learningRate: Float = 0.01, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
        precondition(momentum >= 0 && momentum < 1, "SGD: momentum must be in [0, 1), got \(momentum)")
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.momentum = momentum
        self.nesterov = nesterov
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var stateBufferCount: Int { momentum > 0 ? 1 : 0 }
    public override var stateBufferNames: [String] { momentum > 0 ? ["momentum_buffer"] : [] }
    public override func updateRule() -> OptimizerUpdate.Rule { .sgd(momentum: momentum, nesterov: nesterov) }
}
