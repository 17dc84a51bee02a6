// Transposed convolution: the adjoint of conv2D, computed with the same backend kernels —
// its forward is the convolution's backward-data, its input gradient is the convolution's
// forward, and its weight gradient is the convolution's backward-weights with roles swapped.

extension Tensor {
    /// Transposed 2-D convolution ("deconvolution") of NHWC `self` [N, H, W, Cin] with `weight`
    /// [KH, KW, Cout, Cin] (Keras order), plus `bias` [Cout]. Output [N, H′, W′, Cout] with
    /// H′ = (H − 1)·S − (Ptop + Pbottom) + D(KH − 1) + 1 + outputPadding; `.same` padding gives
    /// H′ = H·S. It is the adjoint of `conv2D` with the same weight: ⟨conv(x), y⟩ = ⟨x, convT(y)⟩.
    public func conv2DTranspose(
        _ weight: Tensor, bias: Tensor? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)
    ) -> Tensor {
        precondition(
            rank == 4 && weight.rank == 4,
            "conv2DTranspose: input must be [N, H, W, C] and weight [KH, KW, Cout, Cin], got \(shape) and \(weight.shape)")
        precondition(
            weight.shape[3] == shape[3],
            "conv2DTranspose: input has \(shape[3]) channels but weight \(weight.shape) expects \(weight.shape[3])")
        precondition(
            outputPadding.0 >= 0 && outputPadding.0 < Swift.max(strides.0, dilation.0) && outputPadding.1 >= 0
                && outputPadding.1 < Swift.max(strides.1, dilation.1),
            "conv2DTranspose: output padding \(outputPadding) must be smaller than the stride \(strides) or dilation")
        let outputChannels = weight.shape[2]
        if let bias {
            precondition(
                bias.shape == [outputChannels], "conv2DTranspose: bias \(bias.shape) does not match \(outputChannels) output channels")
        }
        let windowH = dilation.0 * (weight.shape[0] - 1) + 1
        let windowW = dilation.1 * (weight.shape[1] - 1) + 1
        func resolve(_ size: Int, _ window: Int, _ stride: Int, _ extra: Int, axis: Int) -> (Int, Int, Int) {
            switch padding {
            case .same:
                let output = size * stride
                let total = Swift.max((size - 1) * stride + window - output, 0)
                return (total / 2, total - total / 2, output)
            case .valid:
                return (0, 0, (size - 1) * stride + window + extra)
            case .explicit(let top, let left, let bottom, let right):
                let (before, after) = axis == 0 ? (top, bottom) : (left, right)
                return (before, after, (size - 1) * stride - before - after + window + extra)
            }
        }
        let rows = resolve(shape[1], windowH, strides.0, outputPadding.0, axis: 0)
        let columns = resolve(shape[2], windowW, strides.1, outputPadding.1, axis: 1)
        precondition(rows.2 > 0 && columns.2 > 0, "conv2DTranspose: padding \(padding) leaves no output for input \(shape)")
        // The convolution this is the adjoint of: from the output [N, H′, W′, Cout] to the input.
        let geometry = ConvolutionGeometry(
            batch: shape[0], inputHeight: rows.2, inputWidth: columns.2, inputChannels: outputChannels,
            outputHeight: shape[1], outputWidth: shape[2], outputChannels: shape[3],
            kernelHeight: weight.shape[0], kernelWidth: weight.shape[1], strideHeight: strides.0, strideWidth: strides.1,
            dilationHeight: dilation.0, dilationWidth: dilation.1, padTop: rows.0, padLeft: columns.0,
            padBottom: rows.1, padRight: columns.1, hasBias: false)
        let backend = Backends.current
        let result = Tensor(uninitializedShape: [shape[0], rows.2, columns.2, outputChannels])
        backend.convolutionBackwardData(geometry, outputGradient: storage, weight: weight.storage, into: result.storage)
        let output = Tensor.record("conv2DTranspose", result, inputs: [self, weight]) { [self] gradient, sink in
            if sink.needsGradient(0) {
                sink.write(0, shape: shape) {
                    backend.convolutionForward(geometry, input: gradient.storage, weight: weight.storage, bias: nil, into: $0)
                }
            }
            if sink.needsGradient(1) {
                sink.write(1, shape: weight.shape) {
                    backend.convolutionBackwardWeights(
                        geometry, input: gradient.storage, outputGradient: storage, into: $0, biasGradient: nil)
                }
            }
        }
        return bias.map { output + $0 } ?? output
    }
}
