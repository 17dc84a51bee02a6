/// AdaGrad (Duchi, Hazan & Singer 2011): s ← s + g²; θ ← θ − η·g / (√s + ε). Each parameter's
/// step shrinks with the history of its gradients.
public final class AdaGrad: Optimizer {
    public let epsilon: Float

    public init(learningRate: Float = 0.01, epsilon: Float = 1e-10, weightDecay: Float = 0) {
        self.epsilon = epsilon
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var stateBufferCount: Int { 1 }
    public override var stateBufferNames: [String] { ["sum"] }
    public override func updateRule() -> OptimizerUpdate.Rule { .adaGrad(epsilon: epsilon) }
}
