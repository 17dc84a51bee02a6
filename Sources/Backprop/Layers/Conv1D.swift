/// A 1-D convolution over sequences or signals, channels last: [N, L, Cin] → [N, L′, Cout] with
/// L′ = (L − D(K − 1) − 1 + P)/S + 1. `weight` is [K, Cin, Cout] (Keras order). Computed as a 2-D
/// convolution of height 1.
public final class Conv1D: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: Int
    public let padding: Padding
    public let dilation: Int
    public let activation: ActivationFunction

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
        dilation: Int = 1, activation: ActivationFunction = .identity, useBias: Bool = true,
        weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(
            inputChannels > 0 && outputChannels > 0 && kernelSize > 0 && stride > 0 && dilation > 0,
            "Conv1D: channels, kernel size, stride and dilation must be positive")
        weight = Parameter(weightInitializer.makeTensor([kernelSize, inputChannels, outputChannels]), regularizer: kernelRegularizer)
        bias = useBias ? Parameter(biasInitializer.makeTensor([outputChannels]), regularizer: biasRegularizer) : nil
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3 && input.shape[2] == weight.shape[1], "Conv1D: input \(input.shape) is not [N, L, \(weight.shape[1])]")
        let rowPadding: Padding =
            switch padding {
            case .explicit(_, let left, _, let right): .explicit(top: 0, left: left, bottom: 0, right: right)
            default: padding
            }
        let kernel = weight.value.reshaped([1] + weight.shape.dimensions)
        let output = input.reshaped([input.shape[0], 1, input.shape[1], input.shape[2]])
            .conv2D(kernel, bias: bias?.value, strides: (1, stride), padding: rowPadding, dilation: (1, dilation))
        return activation(output.reshaped([output.shape[0], output.shape[2], output.shape[3]]))
    }
}
