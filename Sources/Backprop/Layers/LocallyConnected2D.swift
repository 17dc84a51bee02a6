/// A locally connected layer: like `Conv2D` with valid padding, but every output position has its
/// own weights (the course's sparse connectivity without parameter sharing).
///
/// Shapes: input [N, H, W, Cin] → output [N, H′, W′, Cout] with H′ = (H − KH)/S + 1. `weight` is
/// [H′·W′, KH·KW·Cin, Cout] (one filter bank per position), `bias` is [H′·W′, Cout]. Computed from
/// primitives: the patches are gathered (im2col) and multiplied position by position (batched matmul).
public final class LocallyConnected2D: Layer {
    public let weight: Parameter
    public let bias: Parameter?
    public let inputShape: Shape
    public let kernelSize: (Int, Int)
    public let strides: (Int, Int)
    public let activation: ActivationFunction
    /// Output height and width.
    public let outputSize: (Int, Int)
    private let patchIndices: [Int]

    /// - Parameter inputShape: [H, W, Cin] of one sample (unshared weights depend on it).
    public init(
        inputShape: Shape, outputChannels: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
        activation: ActivationFunction = .identity, useBias: Bool = true, weightInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(inputShape.rank == 3, "LocallyConnected2D: inputShape must be [H, W, C], got \(inputShape)")
        let (h, w, c) = (inputShape[0], inputShape[1], inputShape[2])
        precondition(
            kernelSize.0 <= h && kernelSize.1 <= w && strides.0 > 0 && strides.1 > 0,
            "LocallyConnected2D: a \(kernelSize) kernel does not fit input \(inputShape); output size = (N − F)/S + 1 must be ≥ 1")
        let outH = (h - kernelSize.0) / strides.0 + 1
        let outW = (w - kernelSize.1) / strides.1 + 1
        var indices: [Int] = []
        for i in 0..<outH {
            for j in 0..<outW {
                for p in 0..<kernelSize.0 {
                    for q in 0..<kernelSize.1 {
                        for channel in 0..<c { indices.append(((i * strides.0 + p) * w + j * strides.1 + q) * c + channel) }
                    }
                }
            }
        }
        self.inputShape = inputShape
        self.kernelSize = kernelSize
        self.strides = strides
        self.activation = activation
        self.outputSize = (outH, outW)
        self.patchIndices = indices
        let patch = kernelSize.0 * kernelSize.1 * c
        weight = Parameter(weightInitializer.makeTensor([outH * outW, patch, outputChannels]), regularizer: kernelRegularizer)
        bias = useBias ? Parameter(biasInitializer.makeTensor([outH * outW, outputChannels]), regularizer: biasRegularizer) : nil
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(
            Array(input.shape.dimensions.dropFirst()) == inputShape.dimensions,
            "LocallyConnected2D: input \(input.shape) is not [N] + \(inputShape)")
        let n = input.shape[0]
        let positions = outputSize.0 * outputSize.1
        let patch = weight.shape[1]
        let patches = input.reshaped([n, -1]).gathering(patchIndices, alongAxis: 1)  // [N, P·K]
            .reshaped([n, positions, patch]).permuted([1, 0, 2])  // [P, N, K]
        var output = matmul(patches, weight.value)  // [P, N, Cout]
        if let bias { output = output + bias.value.reshaped([positions, 1, -1]) }
        return activation(output.permuted([1, 0, 2]).reshaped([n, outputSize.0, outputSize.1, -1]))
    }
}

/// A locally connected layer over sequences: [N, L, Cin] → [N, L′, Cout], L′ = (L − K)/S + 1, with
/// unshared weights per output position (the 1-D case of ``LocallyConnected2D``).
public final class LocallyConnected1D: Layer {
    public let layer: LocallyConnected2D

    public init(
        inputLength: Int, inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1,
        activation: ActivationFunction = .identity, useBias: Bool = true, weightInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        layer = LocallyConnected2D(
            inputShape: [1, inputLength, inputChannels], outputChannels: outputChannels,
            kernelSize: (1, kernelSize), strides: (1, stride), activation: activation, useBias: useBias,
            weightInitializer: weightInitializer, biasInitializer: biasInitializer, kernelRegularizer: kernelRegularizer,
            biasRegularizer: biasRegularizer)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let output = layer(input.reshaped([input.shape[0], 1, input.shape[1], input.shape[2]]))
        return output.reshaped([output.shape[0], output.shape[2], output.shape[3]])
    }
}
