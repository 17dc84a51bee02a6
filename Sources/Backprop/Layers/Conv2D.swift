/// A 2-D convolution layer over channels-last images: y = activation(conv(x, W) + b).
///
/// Shapes: input [N, H, W, inputChannels] → output [N, H′, W′, outputChannels] with
/// H′ = (H − D(KH − 1) − 1 + P)/S + 1 (P the total padding of that axis). `weight` is
/// [KH, KW, inputChannels, outputChannels] (Keras order), `bias` is [outputChannels].
///
/// ```swift
/// let conv = Conv2D(1, 32, kernelSize: 3, padding: .same, activation: .relu)
/// ```
public final class Conv2D: Layer {
    /// [KH, KW, inputChannels, outputChannels].
    public let weight: Parameter
    /// [outputChannels], absent when created with `useBias: false`.
    public let bias: Parameter?
    public let strides: (Int, Int)
    public let padding: Padding
    public let dilation: (Int, Int)
    public let activation: ActivationFunction

    public var inputChannels: Int { weight.shape[2] }
    public var outputChannels: Int { weight.shape[3] }
    public var kernelSize: (Int, Int) { (weight.shape[0], weight.shape[1]) }

    /// - Parameters:
    ///   - inputChannels, outputChannels: feature maps in and out.
    ///   - kernelSize: window height and width.
    ///   - strides: step of the window (rows, columns).
    ///   - padding: `.valid`, `.same` or explicit.
    ///   - dilation: spacing of the kernel taps (1 = dense).
    public init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
        padding: Padding = .valid, dilation: (Int, Int) = (1, 1), activation: ActivationFunction = .identity,
        useBias: Bool = true, weightInitializer: Initializer = .glorotUniform, biasInitializer: Initializer = .zeros,
        kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(
            inputChannels > 0 && outputChannels > 0 && kernelSize.0 > 0 && kernelSize.1 > 0,
            "Conv2D: channels and kernel size must be positive, got \(inputChannels) → \(outputChannels), kernel \(kernelSize)")
        precondition(
            strides.0 > 0 && strides.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
            "Conv2D: strides \(strides) and dilation \(dilation) must be positive")
        weight = Parameter(
            weightInitializer.makeTensor([kernelSize.0, kernelSize.1, inputChannels, outputChannels]),
            regularizer: kernelRegularizer)
        bias = useBias ? Parameter(biasInitializer.makeTensor([outputChannels]), regularizer: biasRegularizer) : nil
        self.strides = strides
        self.padding = padding
        self.dilation = dilation
        self.activation = activation
    }

    /// A square kernel and equal strides.
    public convenience init(
        _ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid,
        dilation: Int = 1, activation: ActivationFunction = .identity, useBias: Bool = true,
        weightInitializer: Initializer = .glorotUniform, kernelRegularizer: Regularizer? = nil
    ) {
        self.init(
            inputChannels, outputChannels, kernelSize: (kernelSize, kernelSize), strides: (stride, stride),
            padding: padding, dilation: (dilation, dilation), activation: activation, useBias: useBias,
            weightInitializer: weightInitializer, kernelRegularizer: kernelRegularizer)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        checkInput(input)
        if activation == .relu {
            return input.conv2DReLU(weight.value, bias: bias?.value, strides: strides, padding: padding, dilation: dilation)
        }
        return activation(input.conv2D(weight.value, bias: bias?.value, strides: strides, padding: padding, dilation: dilation))
    }

    /// The layer without its activation, followed by `pool`, as one op (`Sequential` moves a ReLU
    /// past the pooling this way).
    func pooled(_ input: Tensor, by pool: MaxPool2D) -> Tensor {
        checkInput(input)
        return input.conv2DMaxPool(
            weight.value, bias: bias?.value, strides: strides, padding: padding, dilation: dilation, poolSize: pool.size,
            poolStrides: pool.strides, poolPadding: pool.padding)
    }

    private func checkInput(_ input: Tensor) {
        precondition(
            input.rank == 4 && input.shape[3] == inputChannels,
            "Conv2D(\(inputChannels) → \(outputChannels)): input of shape \(input.shape) is not [N, H, W, \(inputChannels)]")
    }
}
