import Foundation

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", 2015):
/// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − η·m̂ / (√v̂ + ε) with the bias-corrected
/// m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
public final class Adam: Optimizer {
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    private var firstMoment: TensorStorage?
    private var secondMoment: TensorStorage?

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        precondition(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam: betas must be in [0, 1), got \(beta1), \(beta2)")
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        super.init(learningRate: learningRate)
    }

    public override func makeState(count: Int) {
        firstMoment = makeZeroBuffer(count: count)
        secondMoment = makeZeroBuffer(count: count)
    }

    public override func applyUpdate(parameters: TensorStorage, gradients: TensorStorage, count: Int) {
        let t = Float(iterations)
        Backends.current.adamUpdate(
            parameters: parameters, gradients: gradients, firstMoment: firstMoment!, secondMoment: secondMoment!,
            count: count, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon,
            biasCorrection1: 1 - pow(beta1, t), biasCorrection2: 1 - pow(beta2, t))
    }
}
