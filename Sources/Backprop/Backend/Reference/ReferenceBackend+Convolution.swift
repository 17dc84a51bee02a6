import Foundation

// Convolution, pooling and batch normalization by their definitions, over NHWC images and HWIO
// weights: output[n, y, x, o] = bias[o] + Σ input[n, y·S − P + i·D, x·S − P + j·D, c] · w[i, j, c, o].
extension ReferenceBackend {
    /// Calls `body` with the indices (input, output, weight) of every product the convolution sums:
    /// each tap of each window inside the input, each input and output channel.
    private func forEachProduct(_ g: ConvolutionGeometry, _ body: (_ input: Int, _ output: Int, _ weight: Int) -> Void) {
        for n in 0..<g.batch {
            for y in 0..<g.outputHeight {
                for x in 0..<g.outputWidth {
                    let outBase = ((n * g.outputHeight + y) * g.outputWidth + x) * g.outputChannels
                    for i in 0..<g.kernelHeight {
                        let inY = y * g.strideHeight - g.padTop + i * g.dilationHeight
                        guard inY >= 0 && inY < g.inputHeight else { continue }
                        for j in 0..<g.kernelWidth {
                            let inX = x * g.strideWidth - g.padLeft + j * g.dilationWidth
                            guard inX >= 0 && inX < g.inputWidth else { continue }
                            let inBase = ((n * g.inputHeight + inY) * g.inputWidth + inX) * g.inputChannels
                            for c in 0..<g.inputChannels {
                                let weightBase = ((i * g.kernelWidth + j) * g.inputChannels + c) * g.outputChannels
                                for o in 0..<g.outputChannels { body(inBase + c, outBase + o, weightBase + o) }
                            }
                        }
                    }
                }
            }
        }
    }

    public func convolutionForward(
        _ g: ConvolutionGeometry, input: TensorStorage, weight: TensorStorage, bias: TensorStorage?,
        into output: TensorStorage
    ) {
        let (input, weight) = (input.pointer, weight.pointer)
        var sums = Array(repeating: 0.0, count: g.outputElementCount)
        forEachProduct(g) { sums[$1] += Double(input[$0]) * Double(weight[$2]) }
        for index in sums.indices {
            var value = Float(sums[index]) + (bias.map { $0.pointer[index % g.outputChannels] } ?? 0)
            if g.fusedReLU && value < 0 { value = 0 }
            output.pointer[index] = value
        }
    }

    public func convolutionBackwardData(
        _ g: ConvolutionGeometry, outputGradient: TensorStorage, weight: TensorStorage,
        into inputGradient: TensorStorage
    ) {
        let (gradient, weight) = (outputGradient.pointer, weight.pointer)
        var sums = Array(repeating: 0.0, count: g.batch * g.inputHeight * g.inputWidth * g.inputChannels)
        forEachProduct(g) { sums[$0] += Double(gradient[$1]) * Double(weight[$2]) }
        for index in sums.indices { inputGradient.pointer[index] = Float(sums[index]) }
    }

    public func convolutionBackwardWeights(
        _ g: ConvolutionGeometry, input: TensorStorage, outputGradient: TensorStorage,
        into weightGradient: TensorStorage, biasGradient: TensorStorage?
    ) {
        let (input, gradient) = (input.pointer, outputGradient.pointer)
        var sums = Array(repeating: 0.0, count: g.kernelHeight * g.kernelWidth * g.inputChannels * g.outputChannels)
        forEachProduct(g) { sums[$2] += Double(input[$0]) * Double(gradient[$1]) }
        for index in sums.indices { weightGradient.pointer[index] = Float(sums[index]) }
        if let biasGradient {
            for o in 0..<g.outputChannels {
                biasGradient.pointer[o] = Float(
                    stride(from: o, to: g.outputElementCount, by: g.outputChannels).reduce(0.0) { $0 + Double(gradient[$1]) })
            }
        }
    }

    /// For every output element: the input elements its window covers (inside the input) and the
    /// divisor of an average (the window's size when padding counts, else the covered count).
    private func forEachWindow(_ g: PoolingGeometry, _ body: (_ output: Int, _ inputs: [Int], _ divisor: Int) -> Void) {
        var output = 0
        for n in 0..<g.batch {
            for y in 0..<g.outputHeight {
                for x in 0..<g.outputWidth {
                    let rows = (y * g.strideHeight - g.padTop)..<(y * g.strideHeight - g.padTop + g.kernelHeight)
                    let columns = (x * g.strideWidth - g.padLeft)..<(x * g.strideWidth - g.padLeft + g.kernelWidth)
                    let covered = rows.clamped(to: 0..<g.inputHeight).flatMap { inY in
                        columns.clamped(to: 0..<g.inputWidth).map { inX in ((n * g.inputHeight + inY) * g.inputWidth + inX) * g.channels }
                    }
                    let divisor = g.kind == .averageIncludingPadding ? g.kernelHeight * g.kernelWidth : covered.count
                    for c in 0..<g.channels { body(output * g.channels + c, covered.map { $0 + c }, divisor) }
                    output += 1
                }
            }
        }
    }

    /// The workspace of max pooling holds each output's arg-max input index.
    public func poolingForward(_ g: PoolingGeometry, input: TensorStorage, into output: TensorStorage) -> TensorStorage? {
        let count = g.batch * g.outputHeight * g.outputWidth * g.channels
        precondition(g.batch * g.inputHeight * g.inputWidth * g.channels < 1 << 24, "ReferenceBackend: pooling input too large")
        let workspace = g.kind == .max ? TensorStorage(uninitializedCount: count) : nil
        forEachWindow(g) { index, inputs, divisor in
            if g.kind == .max {
                let best = inputs.dropFirst().reduce(inputs[0]) { input.pointer[$1] > input.pointer[$0] ? $1 : $0 }
                output.pointer[index] = input.pointer[best]
                workspace?.pointer[index] = Float(best)
            } else {
                output.pointer[index] = Float(inputs.reduce(0.0) { $0 + Double(input.pointer[$1]) } / Double(divisor))
            }
        }
        return workspace
    }

    public func poolingBackward(
        _ g: PoolingGeometry, outputGradient: TensorStorage, workspace: TensorStorage?,
        into inputGradient: TensorStorage
    ) {
        fill(inputGradient, value: 0, count: g.batch * g.inputHeight * g.inputWidth * g.channels)
        forEachWindow(g) { index, inputs, divisor in
            let gradient = outputGradient.pointer[index]
            if let workspace {
                inputGradient.pointer[Int(workspace.pointer[index])] += gradient
            } else {
                for input in inputs { inputGradient.pointer[input] += gradient / Float(divisor) }
            }
        }
    }

    public func batchNormalizationForward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, scale: TensorStorage, shift: TensorStorage,
        into output: TensorStorage, mean: TensorStorage, variance: TensorStorage
    ) {
        let x = input.pointer
        for c in 0..<channels {
            let values = (0..<rows).map { Double(x[$0 * channels + c]) }
            let average = values.reduce(0, +) / Double(rows)
            let spread = values.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(rows)
            mean.pointer[c] = Float(average)
            variance.pointer[c] = Float(spread)
            let inverse = 1 / (spread + Double(epsilon)).squareRoot()
            for r in 0..<rows {
                output.pointer[r * channels + c] = Float(
                    (values[r] - average) * inverse * Double(scale.pointer[c]) + Double(shift.pointer[c]))
            }
        }
    }

    /// With x̂ = (x − μ)/√(σ² + ε): ∂shift = Σ dy, ∂scale = Σ dy·x̂,
    /// ∂x = scale/√(σ² + ε) · (dy − mean(dy) − x̂ · mean(dy·x̂)).
    public func batchNormalizationBackward(
        rows: Int, channels: Int, epsilon: Float, input: TensorStorage, mean: TensorStorage, variance: TensorStorage,
        outputGradient: TensorStorage, scale: TensorStorage, shift: TensorStorage, into inputGradient: TensorStorage,
        scaleGradient: TensorStorage, shiftGradient: TensorStorage
    ) {
        let (x, dy) = (input.pointer, outputGradient.pointer)
        for c in 0..<channels {
            let inverse = 1 / (Double(variance.pointer[c]) + Double(epsilon)).squareRoot()
            let normalized = (0..<rows).map { (Double(x[$0 * channels + c]) - Double(mean.pointer[c])) * inverse }
            let gradient = (0..<rows).map { Double(dy[$0 * channels + c]) }
            let sum = gradient.reduce(0, +)
            let dot = zip(gradient, normalized).reduce(0) { $0 + $1.0 * $1.1 }
            shiftGradient.pointer[c] = Float(sum)
            scaleGradient.pointer[c] = Float(dot)
            let factor = Double(scale.pointer[c]) * inverse
            for r in 0..<rows {
                inputGradient.pointer[r * channels + c] = Float(
                    factor * (gradient[r] - sum / Double(rows) - normalized[r] * dot / Double(rows)))
            }
        }
    }
}
