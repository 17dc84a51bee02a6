// Convolution and pooling over NHWC images. Kernels run in the backend (oneDNN); the pullbacks
// call its backward-data and backward-weights kernels.

/// How a convolution or pooling window treats the border.
public enum Padding: Sendable, Equatable, Codable, CustomStringConvertible {
    /// No padding: only windows that fit inside the input.
    case valid
    /// Pad so that the output has ⌈input / stride⌉ positions (TensorFlow's rule; the extra row or
    /// column, if any, goes at the bottom/right).
    case same
    /// Explicit padding in rows and columns on each side.
    case explicit(top: Int, left: Int, bottom: Int, right: Int)

    /// The same explicit padding on every side.
    public static func symmetric(_ amount: Int) -> Padding { .explicit(top: amount, left: amount, bottom: amount, right: amount) }

    public var description: String {
        switch self {
        case .valid: "valid"
        case .same: "same"
        case .explicit(let t, let l, let b, let r): "explicit(\(t), \(l), \(b), \(r))"
        }
    }

    /// (before, after, output) along one axis of extent `size` for a window of `window` (already
    /// dilated) and `stride`; nil when the window does not fit. Output = (N − F + 2P)/S + 1.
    func resolve(size: Int, window: Int, stride: Int, axis: Int) -> (before: Int, after: Int, output: Int)? {
        var before = 0
        var after = 0
        switch self {
        case .valid: break
        case .same:
            let output = (size + stride - 1) / stride
            let total = max((output - 1) * stride + window - size, 0)
            before = total / 2
            after = total - before
        case .explicit(let top, let left, let bottom, let right):
            (before, after) = axis == 0 ? (top, bottom) : (left, right)
        }
        let span = size + before + after - window
        guard span >= 0 else { return nil }
        return (before, after, span / stride + 1)
    }
}

extension Tensor {
    /// 2-D convolution (cross-correlation, as in every framework) of NHWC `self` [N, H, W, Cin]
    /// with `weight` [KH, KW, Cin, Cout], plus `bias` [Cout]. Output [N, H′, W′, Cout] with
    /// H′ = (H − D(KH−1) − 1 + Ptop + Pbottom)/S + 1.
    public func conv2D(
        _ weight: Tensor, bias: Tensor? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        dilation: (Int, Int) = (1, 1)
    ) -> Tensor {
        conv2D(weight, bias: bias, strides: strides, padding: padding, dilation: dilation, fusingReLU: false)
    }

    /// `conv2D(…).relu()` in one kernel: the ReLU is a oneDNN post-op on the forward output (saving a
    /// pass over the largest activations of a CNN); the pullback masks the gradient with the output
    /// before the convolution's backward kernels.
    public func conv2DReLU(
        _ weight: Tensor, bias: Tensor? = nil, strides: (Int, Int) = (1, 1), padding: Padding = .valid,
        dilation: (Int, Int) = (1, 1)
    ) -> Tensor {
        conv2D(weight, bias: bias, strides: strides, padding: padding, dilation: dilation, fusingReLU: true)
    }

    /// The checked shape of `self` convolved with `weight` (preconditions name `name`).
    func convolutionGeometry(
        _ weight: Tensor, bias: Tensor?, strides: (Int, Int), padding: Padding, dilation: (Int, Int), fusingReLU: Bool,
        name: StaticString
    ) -> ConvolutionGeometry {
        precondition(
            rank == 4 && weight.rank == 4,
            "\(name): input must be [N, H, W, C] and weight [KH, KW, Cin, Cout], got \(shape) and \(weight.shape)")
        precondition(
            weight.shape[2] == shape[3], "\(name): input has \(shape[3]) channels but weight \(weight.shape) expects \(weight.shape[2])")
        precondition(
            strides.0 > 0 && strides.1 > 0 && dilation.0 > 0 && dilation.1 > 0,
            "\(name): strides \(strides) and dilation \(dilation) must be positive")
        let outputChannels = weight.shape[3]
        if let bias {
            precondition(bias.shape == [outputChannels], "\(name): bias \(bias.shape) does not match \(outputChannels) output channels")
        }
        let windowH = dilation.0 * (weight.shape[0] - 1) + 1
        let windowW = dilation.1 * (weight.shape[1] - 1) + 1
        guard let rows = padding.resolve(size: shape[1], window: windowH, stride: strides.0, axis: 0),
            let columns = padding.resolve(size: shape[2], window: windowW, stride: strides.1, axis: 1)
        else {
            preconditionFailure(
                "\(name): a \(weight.shape[0])×\(weight.shape[1]) kernel (dilation \(dilation)) with padding \(padding) does not fit input \(shape); output size = (N − F + 2P)/S + 1 must be ≥ 1"
            )
        }
        return ConvolutionGeometry(
            batch: shape[0], inputHeight: shape[1], inputWidth: shape[2], inputChannels: shape[3],
            outputHeight: rows.output, outputWidth: columns.output, outputChannels: outputChannels,
            kernelHeight: weight.shape[0], kernelWidth: weight.shape[1], strideHeight: strides.0, strideWidth: strides.1,
            dilationHeight: dilation.0, dilationWidth: dilation.1, padTop: rows.before, padLeft: columns.before,
            padBottom: rows.after, padRight: columns.after, hasBias: bias != nil, fusedReLU: fusingReLU,
            forwardOnly: !Tensor.willRecord([self, weight] + (bias.map { [$0] } ?? [])))
    }

    private func conv2D(
        _ weight: Tensor, bias: Tensor?, strides: (Int, Int), padding: Padding, dilation: (Int, Int), fusingReLU: Bool
    ) -> Tensor {
        let geometry = convolutionGeometry(
            weight, bias: bias, strides: strides, padding: padding, dilation: dilation, fusingReLU: fusingReLU, name: "conv2D")
        let backend = Backends.current
        let result = Tensor(uninitializedShape: [geometry.batch, geometry.outputHeight, geometry.outputWidth, geometry.outputChannels])
        guard result.elementCount > 0 else { return result }
        backend.convolutionForward(geometry, input: storage, weight: weight.storage, bias: bias?.storage, into: result.storage)
        let inputs = [self, weight] + (bias.map { [$0] } ?? [])
        return Tensor.record("conv2D", result, inputs: inputs) { [self] upstream, sink in
            var gradient = upstream
            if fusingReLU {  // ∂relu: pass the gradient where the output is positive
                gradient = Tensor(uninitializedShape: result.shape)
                backend.unaryBackward(
                    .relu, x: result.storage, y: result.storage, dy: upstream.storage, into: gradient.storage,
                    count: result.elementCount, accumulate: false)
            }
            if sink.needsGradient(0) {
                sink.write(0, shape: shape) {
                    backend.convolutionBackwardData(geometry, outputGradient: gradient.storage, weight: weight.storage, into: $0)
                }
            }
            guard sink.needsGradient(1) || (bias != nil && sink.needsGradient(2)) else { return }
            let weightGradient = Tensor(uninitializedShape: weight.shape)
            let biasGradient = bias.map { Tensor(uninitializedShape: $0.shape) }
            backend.convolutionBackwardWeights(
                geometry, input: storage, outputGradient: gradient.storage, into: weightGradient.storage,
                biasGradient: biasGradient?.storage)
            sink.add(1, weightGradient)
            if let biasGradient { sink.add(2, biasGradient) }
        }
    }

    /// Max pooling over NHWC windows of `size` moved by `strides` (default: the window size).
    public func maxPool2D(size: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid) -> Tensor {
        pool2D(.max, size: size, strides: strides ?? size, padding: padding, name: "maxPool2D")
    }

    /// Average pooling over NHWC windows; padded positions are not counted in the average unless
    /// `countIncludesPadding`.
    public func averagePool2D(
        size: (Int, Int), strides: (Int, Int)? = nil, padding: Padding = .valid, countIncludesPadding: Bool = false
    ) -> Tensor {
        pool2D(
            countIncludesPadding ? .averageIncludingPadding : .average, size: size, strides: strides ?? size, padding: padding,
            name: "averagePool2D")
    }

    /// The checked shape of a pooling of an NHWC input of shape `input` (preconditions name `name`).
    static func poolingGeometry(
        _ kind: PoolingGeometry.Kind, input shape: Shape, size: (Int, Int), strides: (Int, Int), padding: Padding, forwardOnly: Bool,
        name: StaticString
    ) -> PoolingGeometry {
        precondition(shape.rank == 4, "\(name): input must be [N, H, W, C], got \(shape)")
        precondition(
            size.0 > 0 && size.1 > 0 && strides.0 > 0 && strides.1 > 0, "\(name): window \(size) and strides \(strides) must be positive")
        guard let rows = padding.resolve(size: shape[1], window: size.0, stride: strides.0, axis: 0),
            let columns = padding.resolve(size: shape[2], window: size.1, stride: strides.1, axis: 1)
        else {
            preconditionFailure(
                "\(name): a \(size.0)×\(size.1) window with padding \(padding) does not fit input \(shape); output size = (N − F + 2P)/S + 1 must be ≥ 1"
            )
        }
        precondition(
            rows.before < size.0 && rows.after < size.0 && columns.before < size.1 && columns.after < size.1,
            "\(name): padding \(padding) must be smaller than the window \(size)")
        return PoolingGeometry(
            batch: shape[0], inputHeight: shape[1], inputWidth: shape[2], channels: shape[3], outputHeight: rows.output,
            outputWidth: columns.output, kernelHeight: size.0, kernelWidth: size.1, strideHeight: strides.0,
            strideWidth: strides.1, padTop: rows.before, padLeft: columns.before, padBottom: rows.after,
            padRight: columns.after, kind: kind, forwardOnly: forwardOnly)
    }

    private func pool2D(_ kind: PoolingGeometry.Kind, size: (Int, Int), strides: (Int, Int), padding: Padding, name: StaticString) -> Tensor
    {
        let geometry = Tensor.poolingGeometry(
            kind, input: shape, size: size, strides: strides, padding: padding, forwardOnly: !Tensor.willRecord([self]), name: name)
        let backend = Backends.current
        let result = Tensor(uninitializedShape: [geometry.batch, geometry.outputHeight, geometry.outputWidth, geometry.channels])
        guard result.elementCount > 0 else { return result }
        let workspace = backend.poolingForward(geometry, input: storage, into: result.storage)
        return Tensor.record(name, result, inputs: [self]) { [shape] gradient, sink in
            sink.write(0, shape: shape) {
                backend.poolingBackward(geometry, outputGradient: gradient.storage, workspace: workspace, into: $0)
            }
        }
    }
}

extension GradientSink {
    /// Lets a kernel that can only overwrite produce input `index`'s gradient: it writes into a
    /// fresh buffer, which becomes the input's gradient without a copy when it is the first
    /// contribution and is added to it otherwise.
    public mutating func write(_ index: Int, shape: Shape, _ kernel: (TensorStorage) -> Void) {
        guard needsGradient(index) else { return }
        let temporary = Tensor(uninitializedShape: shape)
        kernel(temporary.storage)
        add(index, temporary)
    }
}
