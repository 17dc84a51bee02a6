/// A transposed convolution (upsampling) layer over channels-last images.
///
/// Shapes: input [N, H, W, inputChannels] → output [N, H′, W′, outputChannels] with
/// H′ = (H − 1)·S − P + D(K − 1) + 1 + outputPadding (`.same`: H·S). `weight` is
/// [KH, KW, outputChannels, inputChannels] (Keras order), `bias` is [outputChannels].
public final class Conv2DTranspose: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let strides: (Int, Int)
    public let padding: Padding
    public let outputPadding: (Int, Int)
    public let activation: ActivationFunction

    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
        padding: Padding = .valid, outputPadding: (Int, Int) = (0, 0), activation: ActivationFunction = .identity,
        useBias: Bool = true, weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(
            inputChannels > 0 && outputChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0 && strides.0 > 0 && strides.1 > 0,
            "Conv2DTranspose: channels, kernel size and strides must be positive")
        weight = Parameter(
            weightInitializer.makeTensor([kernelSize.0, kernelSize.1, outputChannels, inputChannels]), regularizer: kernelRegularizer)
        bias = useBias ? Parameter(biasInitializer.makeTensor([outputChannels]), regularizer: biasRegularizer) : nil
        self.strides = strides
        self.padding = padding
        self.outputPadding = outputPadding
        self.activation = activation
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        activation(input.conv2DTranspose(weight.value, bias: bias?.value, strides: strides, padding: padding, outputPadding: outputPadding))
    }
}
