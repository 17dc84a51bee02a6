import Foundation

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015):
/// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − η·m̂ / (√v̂ + ε) with the bias-corrected
/// m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ). `amsGrad` uses the running maximum of v (Reddi et al. 2018).
/// `weightDecay` adds an L2 term to the gradient; for decoupled decay use ``AdamW``.
public class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    public let amsGrad: Bool

    public init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        amsGrad: Bool = false, weightDecay: Float = 0
    ) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsGrad = amsGrad
        super.init(learningRate: learningRate, weightDecay: weightDecay)
    }

    public override var stateBufferCount: Int { amsGrad ? 3 : 2 }
    public override var stateBufferNames: [String] { ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"].prefix(stateBufferCount).map { $0 } }

    public override func updateRule() -> OptimizerUpdate.Rule {
        let t = Float(iterations)
        return .adam(
            beta1: beta1, beta2: beta2, epsilon: epsilon, biasCorrection1: 1 - pow(beta1, t),
            biasCorrection2: 1 - pow(beta2, t), amsGrad: amsGrad)
    }
}

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", 2019): Adam whose weight
/// decay shrinks the parameters directly, θ ← θ(1 − η·λ), instead of entering the moments.
public final class AdamW: Adam {
    public override init(
        learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
        amsGrad: Bool = false, weightDecay: Float = 0.01
    ) {
        super.init(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, amsGrad: amsGrad, weightDecay: weightDecay)
    }

    public override var usesDecoupledWeightDecay: Bool { true }
}
