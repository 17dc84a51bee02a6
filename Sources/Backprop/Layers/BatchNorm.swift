/// Batch normalization (Ioffe & Szegedy 2015) over the last (channel) axis: in training mode each
/// channel is normalized with the batch's mean and variance, then scaled by γ and shifted by β;
/// the running statistics move toward the batch's by `momentum` (Keras: running ← m·running +
/// (1 − m)·batch). In inference the running statistics are used.
///
/// Training mode runs oneDNN's batch-normalization primitive (forward and backward); inference is
/// an affine map with the running statistics.
///
/// Shapes: any [N, …, C] → the same. `gamma`, `beta`: [C] trainable; `runningMean`,
/// `runningVariance`: [C] non-trainable (kept in checkpoints, counted as non-trainable parameters).
public final class BatchNorm: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVariance: Parameter
    public let momentum: Float
    public let epsilon: Float
    /// Update the running variance with the unbiased batch variance (× n/(n − 1)), as PyTorch does;
    /// Keras uses the biased one.
    public let unbiasedRunningVariance: Bool

    public init(channels: Int, momentum: Float = 0.99, epsilon: Float = 1e-3, unbiasedRunningVariance: Bool = false) {
        precondition(
            channels > 0 && momentum >= 0 && momentum < 1 && epsilon > 0,
            "BatchNorm: channels > 0, momentum in [0, 1) and epsilon > 0 required, got \(channels), \(momentum), \(epsilon)")
        gamma = Parameter(.ones([channels]))
        beta = Parameter(.zeros([channels]))
        runningMean = Parameter(.zeros([channels]), isTrainable: false)
        runningVariance = Parameter(.ones([channels]), isTrainable: false)
        self.momentum = momentum
        self.epsilon = epsilon
        self.unbiasedRunningVariance = unbiasedRunningVariance
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(
            input.rank >= 2 && input.shape.last == gamma.elementCount,
            "BatchNorm(\(gamma.elementCount)): input \(input.shape) does not end in \(gamma.elementCount) channels")
        // A frozen layer (transfer learning) runs as in inference and keeps its statistics, as in Keras.
        guard isTrainingMode, gamma.isTrainable || beta.isTrainable else {
            let scale = gamma.value / (runningVariance.value + epsilon).squareRoot()
            return (input - runningMean.value) * scale + beta.value
        }
        let (output, mean, variance) = input.batchNormalized(scale: gamma.value, shift: beta.value, epsilon: epsilon)
        withoutGradient {
            let n = Float(input.elementCount / gamma.elementCount)
            let batchVariance = unbiasedRunningVariance && n > 1 ? variance * (n / (n - 1)) : variance
            runningMean.assign(runningMean.value * momentum + mean * (1 - momentum))
            runningVariance.assign(runningVariance.value * momentum + batchVariance * (1 - momentum))
        }
        return output
    }
}
