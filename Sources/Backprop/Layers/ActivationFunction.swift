/// An activation applied after a layer's affine map, or on its own with the ``Activation`` layer.
public enum ActivationFunction: Sendable, Equatable, Codable, CustomStringConvertible {
    case identity, relu, sigmoid, tanh, softplus, softmax, logSoftmax
    case leakyRelu(slope: Float)
    case elu(alpha: Float)

    /// Applies the function.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .identity: x
        case .relu: x.relu()
        case .sigmoid: x.sigmoid()
        case .tanh: x.tanh()
        case .softplus: x.softplus()
        case .softmax: x.softmax()
        case .logSoftmax: x.logSoftmax()
        case .leakyRelu(let slope): x.leakyRelu(slope: slope)
        case .elu(let alpha): x.elu(alpha: alpha)
        }
    }

    public var description: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .softmax: "softmax"
        case .logSoftmax: "logSoftmax"
        case .leakyRelu(let slope): "leakyRelu(\(slope))"
        case .elu(let alpha): "elu(\(alpha))"
        }
    }
}

/// Applies an activation function on its own: `Activation(.relu)`.
public final class Activation: Layer {
    /// The function applied.
    public let function: ActivationFunction

    public init(_ function: ActivationFunction) { self.function = function }

    public func callAsFunction(_ input: Tensor) -> Tensor { function(input) }
}
