/// RMSProp (Hinton, Coursera lecture 6e, 2012) in PyTorch's form: v ← αv + (1−α)g²;
/// θ ← θ − η·g / (√v + ε). `centered` divides by the estimated variance √(v − ḡ²) instead
/// (Graves 2013); `momentum` accumulates the scaled steps: b ← μb + g/(√v + ε), θ ← θ − η·b.
public final class RMSProp: Optimizer {
    public let alpha: Float
    public let epsilon: Float
    public let momentum: Float
    public let centered: Bool

    public init(
        learningRate: Float = 0.01, alpha: Float = 0.99, epsilon: Float = 1e-8, momentum: Float = 0,
        centered: Bool = false, weightDecay: Float = 0
    ) {
        precondition(alpha >= 0 && alpha < 1, "RMSProp: alpha must be in [0, 1), got \(alpha)")
        precondition(momentum >= 0 && momentum < 1, "RMSProp: momentum must be in [0, 1), got \(momentum)")
        self.alpha = alpha
        self.epsilon = epsilon
        self.momentum = momentum
        self.centered = centered
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var stateBufferCount: Int { 3 }
    public override var stateBufferNames: [String] { ["square_avg", "momentum_buffer", "grad_avg"] }
    public override func updateRule() -> OptimizerUpdate.Rule {
        .rmsProp(alpha: alpha, epsilon: epsilon, momentum: momentum, centered: centered)
    }
}
