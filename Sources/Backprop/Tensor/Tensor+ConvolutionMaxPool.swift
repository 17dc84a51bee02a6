// Convolution followed by max pooling as one op, so a backend can run a network's first layer
// without storing its full-size output (see CPUBackend.convolutionMaxPoolForward).

extension Tensor {
    /// `conv2D(weight, …).maxPool2D(size: poolSize, …)` as one op: the same values and gradients.
    /// The CPU backend runs it as one kernel when the convolution has at most 4 input channels and
    /// its input needs no gradient (a network's first layer): the full-size convolution output is
    /// never stored, and the backward pass reads only the pooled gradient.
    public func conv2DMaxPool(
        _ weight: Tensor, bias: Tensor? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        dilation: (Int, Int) = (1, 1), poolSize: (Int, Int), poolStrides: (Int, Int)? = nil, poolPadding: Padding = .valid
    ) -> Tensor {
        let convolution = convolutionGeometry(
            weight, bias: bias, strides: strides, padding: padding, dilation: dilation, fusingReLU: false, name: "conv2DMaxPool")
        let convolved: Shape = [convolution.batch, convolution.outputHeight, convolution.outputWidth, convolution.outputChannels]
        let pooling = Tensor.poolingGeometry(
            .max, input: convolved, size: poolSize, strides: poolStrides ?? poolSize, padding: poolPadding,
            forwardOnly: convolution.forwardOnly, name: "conv2DMaxPool")
        let backend = Backends.current
        let result = Tensor(uninitializedShape: [pooling.batch, pooling.outputHeight, pooling.outputWidth, pooling.channels])
        guard result.elementCount > 0 else { return result }
        let inputGradientNeeded = Tensor.willRecord([self])
        let workspace = backend.convolutionMaxPoolForward(
            convolution, pooling, input: storage, weight: weight.storage, bias: bias?.storage, into: result.storage,
            inputGradientNeeded: inputGradientNeeded)
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return Tensor.record("conv2DMaxPool", result, inputs: inputs) { [self] gradient, sink in
            let inputGradient = sink.needsGradient(0) ? Tensor(uninitializedShape: shape) : nil
            let weightGradient = sink.needsGradient(1) ? Tensor(uninitializedShape: weight.shape) : nil
            let biasGradient = bias != nil && sink.needsGradient(2) ? Tensor(uninitializedShape: [convolution.outputChannels]) : nil
            guard inputGradient != nil || weightGradient != nil || biasGradient != nil else { return }
            backend.convolutionMaxPoolBackward(
                convolution, pooling, input: storage, weight: weight.storage, outputGradient: gradient.storage,
                workspace: workspace, inputGradient: inputGradient?.storage, weightGradient: weightGradient?.storage,
                biasGradient: biasGradient?.storage, inputGradientNeeded: inputGradientNeeded)
            if let inputGradient { sink.add(0, inputGradient) }
            if let weightGradient { sink.add(1, weightGradient) }
            if let biasGradient { sink.add(2, biasGradient) }
        }
    }
}
