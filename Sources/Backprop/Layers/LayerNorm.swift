/// Normalizes each sample over its last axis and scales and shifts it with learned `weight` and
/// `bias` (Ba et al. 2016; PyTorch's `nn.LayerNorm(features)`): unlike batch norm it needs no
/// batch statistics, so it behaves the same in training and inference and suits recurrent nets.
public final class LayerNorm: Layer {
    /// γ, [features], ones at first.
    public let weight: Parameter
    /// β, [features], zeros at first.
    public let bias: Parameter
    public let epsilon: Float

    public var features: Int { weight.elementCount }

    /// - Parameter epsilon: added to the variance; 1e-5 as PyTorch (Keras uses 1e-3).
    public init(features: Int, epsilon: Float = 1e-5) {
        precondition(features > 0 && epsilon >= 0, "LayerNorm: features must be positive and epsilon ≥ 0")
        weight = Parameter(Tensor.ones([features]))
        bias = Parameter(Tensor.zeros([features]))
        self.epsilon = epsilon
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(
            input.rank >= 2 && input.shape.last == features,
            "LayerNorm(\(features)): input of shape \(input.shape) does not end in \(features)")
        let axis = input.rank - 1
        let centered = input - input.mean(alongAxis: axis, keepingAxis: true)
        let variance = centered.squared().mean(alongAxis: axis, keepingAxis: true)
        return centered / (variance + epsilon).squareRoot() * weight.value + bias.value
    }
}
