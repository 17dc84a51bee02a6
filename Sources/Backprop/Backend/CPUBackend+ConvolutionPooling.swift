import CBackpropKernels

// A network's first layer — a convolution of a few input channels followed by max pooling — in one
// C kernel (`convolution_pooling.c`): oneDNN has only slow kernels for one input channel (~130
// GFLOP/s) and its pooling reads and writes the full-size output; the fused kernel keeps each
// window's convolution values in registers and writes the pooled map and which position won.

extension CPUBackend {
    /// The fused kernel's shape and its output's blocked layout, or nil when the pair runs as oneDNN's
    /// two kernels: it needs at most 4 input channels, an input that wants no gradient, no negative
    /// padding, output channels that fill the channel block, and pooling windows that tile without
    /// padding.
    func fusedConvolutionPoolShape(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, inputGradientNeeded: Bool
    ) -> (shape: bp_conv_pool_shape, output: BlockedLayout)? {
        guard !inputGradientNeeded, activationBlock > 0, convolution.inputChannels <= 4,
            convolution.padTop >= 0, convolution.padLeft >= 0,  // negative explicit padding crops: oneDNN's path decides
            convolution.outputChannels % activationBlock == 0, pooling.kind == .max,
            pooling.kernelHeight == pooling.strideHeight, pooling.kernelWidth == pooling.strideWidth,
            pooling.kernelHeight * pooling.kernelWidth <= 255,
            pooling.padTop == 0, pooling.padLeft == 0, pooling.padBottom == 0, pooling.padRight == 0,
            let output = blockedLayout(
                batch: pooling.batch, height: pooling.outputHeight, width: pooling.outputWidth, channels: pooling.channels)
        else { return nil }
        let shape = bp_conv_pool_shape(
            batch: Int64(convolution.batch), height: Int64(convolution.inputHeight), width: Int64(convolution.inputWidth),
            in_channels: Int64(convolution.inputChannels), kernel_h: Int64(convolution.kernelHeight),
            kernel_w: Int64(convolution.kernelWidth), stride_h: Int64(convolution.strideHeight),
            stride_w: Int64(convolution.strideWidth), dilation_h: Int64(convolution.dilationHeight),
            dilation_w: Int64(convolution.dilationWidth), pad_top: Int64(convolution.padTop),
            pad_left: Int64(convolution.padLeft), out_channels: Int64(convolution.outputChannels),
            pool_h: Int64(pooling.kernelHeight), pool_w: Int64(pooling.kernelWidth),
            pooled_h: Int64(pooling.outputHeight), pooled_w: Int64(pooling.outputWidth), block: Int64(activationBlock))
        return (shape, output)
    }

    public func convolutionMaxPoolForward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        bias: TensorStorage?, into output: TensorStorage, inputGradientNeeded: Bool
    ) -> TensorStorage? {
        guard let (fusedShape, layout) = fusedConvolutionPoolShape(convolution, pooling, inputGradientNeeded: inputGradientNeeded)
        else {
            return composedConvolutionMaxPoolForward(convolution, pooling, input: input, weight: weight, bias: bias, into: output)
        }
        fusedConvolutionPools.withLock { _ = $0.insert(FusedConvolutionPool(convolution, pooling)) }
        var shape = fusedShape
        // One byte per pooled output: the winning position within its window.
        let winners = TensorStorage(uninitializedCount: (layout.elementCount + 3) / 4)
        write(output, in: layout) { target in
            let status = bp_conv_maxpool_forward(
                &shape, input.pointer, weight.pointer, bias?.pointer, target,
                UnsafeMutableRawPointer(winners.pointer).assumingMemoryBound(to: UInt8.self))
            precondition(status == 0, "conv2DMaxPool: the fused kernel failed (status \(status), out of memory?) for \(convolution)")
        }
        return winners
    }

    public func convolutionMaxPoolBackward(
        _ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry, input: TensorStorage, weight: TensorStorage,
        outputGradient: TensorStorage, workspace: TensorStorage?, inputGradient: TensorStorage?,
        weightGradient: TensorStorage?, biasGradient: TensorStorage?, inputGradientNeeded: Bool
    ) {
        guard let (fusedShape, layout) = fusedConvolutionPoolShape(convolution, pooling, inputGradientNeeded: inputGradientNeeded)
        else {
            return composedConvolutionMaxPoolBackward(
                convolution, pooling, input: input, weight: weight, outputGradient: outputGradient, workspace: workspace,
                inputGradient: inputGradient, weightGradient: weightGradient, biasGradient: biasGradient)
        }
        precondition(inputGradient == nil, "conv2DMaxPool: an input gradient was asked of a pass made without one")
        guard let workspace else { preconditionFailure("conv2DMaxPool: the fused kernel's backward pass needs its forward's workspace") }
        guard weightGradient != nil || biasGradient != nil else { return }
        let weights = weightGradient ?? Tensor(uninitializedShape: [convolution.weightElementCount]).storage
        var shape = fusedShape
        var staging: [TensorStorage] = []
        let gradient = elements(outputGradient, in: layout, staging: &staging)
        let status = bp_conv_maxpool_backward_weights(
            &shape, input.pointer, gradient, UnsafeMutableRawPointer(workspace.pointer).assumingMemoryBound(to: UInt8.self),
            weights.pointer, biasGradient?.pointer)
        precondition(status == 0, "conv2DMaxPool: the fused kernel's backward pass failed (status \(status)) for \(convolution)")
        withExtendedLifetime(staging) {}
    }
}

/// A convolution-and-pooling shape the fused kernel ran (listed by `kernelsInUse`); training and
/// inference calls count as one.
struct FusedConvolutionPool: Hashable {
    let convolution: ConvolutionGeometry
    let pooling: PoolingGeometry

    init(_ convolution: ConvolutionGeometry, _ pooling: PoolingGeometry) {
        var (convolution, pooling) = (convolution, pooling)
        convolution.forwardOnly = false
        pooling.forwardOnly = false
        (self.convolution, self.pooling) = (convolution, pooling)
    }

    var description: String {
        let c = convolution
        return
            "conv \(c.kernelHeight)×\(c.kernelWidth) \(c.inputChannels)→\(c.outputChannels) + max pool \(pooling.kernelHeight)×\(pooling.kernelWidth) on \(c.batch)×\(c.inputHeight)×\(c.inputWidth)"
    }
}
