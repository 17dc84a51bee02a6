extension Tensor {
    /// Training-mode batch normalization over every axis but the last (channels):
    /// y = (x − μ_B) / √(σ²_B + ε) · scale + shift, with the batch's per-channel mean μ_B and biased
    /// variance σ²_B, which are returned too (for running statistics).
    ///
    /// One oneDNN primitive forward and one backward; the same function composed from primitives
    /// took five passes each way. Gradients flow to `self`, `scale` and `shift`.
    public func batchNormalized(scale: Tensor, shift: Tensor, epsilon: Float = 1e-3) -> (output: Tensor, mean: Tensor, variance: Tensor) {
        let channels = shape.last ?? 0
        precondition(
            rank >= 2 && channels > 0 && scale.shape == [channels] && shift.shape == [channels],
            "batchNormalized: input \(shape) needs scale and shift of shape [\(channels)], got \(scale.shape) and \(shift.shape)")
        let rows = elementCount / channels
        let backend = Backends.current
        let result = Tensor(uninitializedShape: shape)
        let mean = Tensor(uninitializedShape: [channels])
        let variance = Tensor(uninitializedShape: [channels])
        backend.batchNormalizationForward(
            rows: rows, channels: channels, epsilon: epsilon, input: storage, scale: scale.storage, shift: shift.storage,
            into: result.storage, mean: mean.storage, variance: variance.storage)
        let output = Tensor.record("batchNorm", result, inputs: [self, scale, shift]) { [self] gradient, sink in
            let inputGradient = Tensor(uninitializedShape: shape)
            let scaleGradient = Tensor(uninitializedShape: [channels])
            let shiftGradient = Tensor(uninitializedShape: [channels])
            backend.batchNormalizationBackward(
                rows: rows, channels: channels, epsilon: epsilon, input: storage, mean: mean.storage, variance: variance.storage,
                outputGradient: gradient.storage, scale: scale.storage, shift: shift.storage, into: inputGradient.storage,
                scaleGradient: scaleGradient.storage, shiftGradient: shiftGradient.storage)
            sink.add(0, inputGradient)
            sink.add(1, scaleGradient)
            sink.add(2, shiftGradient)
        }
        return (output, mean, variance)
    }
}
