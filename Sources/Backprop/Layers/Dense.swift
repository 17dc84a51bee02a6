/// A fully connected layer: y = activation(x · W + b).
///
/// Shapes: input [..., inputSize] → output [..., outputSize]. `weight` is [inputSize, outputSize]
/// (Keras order; checkpoints transpose to PyTorch's [out, in]), `bias` is [outputSize].
///
/// ```swift
/// let hidden = Dense(784, 512, activation: .relu)
/// ```
public final class Dense: Layer {
    /// [inputSize, outputSize].
    public let weight: Parameter
    /// [outputSize], absent when created with `useBias: false`.
    public let bias: Parameter?
    /// Applied after the affine map.
    public let activation: ActivationFunction

    public var inputSize: Int { weight.shape[0] }
    public var outputSize: Int { weight.shape[1] }

    /// - Parameters:
    ///   - inputSize: features per input sample.
    ///   - outputSize: units (features per output sample).
    ///   - activation: applied to the affine output.
    ///   - useBias: whether to add a learned bias.
    ///   - weightInitializer: distribution of W; Glorot uniform by default, as in Keras.
    ///   - biasInitializer: distribution of b; zeros by default.
    ///   - kernelRegularizer: penalty on W added to the training loss.
    ///   - biasRegularizer: penalty on b added to the training loss.
    public init(
        _ inputSize: Int, _ outputSize: Int, activation: ActivationFunction = .identity, useBias: Bool = true,
        weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(inputSize > 0 && outputSize > 0, "Dense: sizes must be positive, got \(inputSize) → \(outputSize)")
        weight = Parameter(weightInitializer.makeTensor([inputSize, outputSize]), regularizer: kernelRegularizer)
        bias = useBias ? Parameter(biasInitializer.makeTensor([outputSize]), regularizer: biasRegularizer) : nil
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(
            input.rank >= 1 && input.shape.last == inputSize,
            "Dense(\(inputSize) → \(outputSize)): input of shape \(input.shape) does not end in \(inputSize)")
        var output = matmul(input, weight.value)
        if let bias { output = output + bias.value }
        return activation(output)
    }
}
