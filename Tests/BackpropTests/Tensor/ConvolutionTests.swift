import Backprop
import BackpropTestSupport
import Testing

struct ConvolutionTests {
    @Test func handComputedConvolution() {
        // 3×3 input, 2×2 kernel of ones plus a corner weight, valid: each output sums a window.
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [1, 3, 3, 1])
        let w = Tensor([1, 0, 0, 2], shape: [2, 2, 1, 1])
        // out[i][j] = x[i][j] + 2·x[i+1][j+1]
        let valid: [Float] = [11.5, 14.5, 20.5, 23.5]  // 1+10, 2+12, 4+16, 5+18, plus 0.5
        #expect(x.conv2D(w, bias: Tensor([0.5])).scalars == valid)
        // same padding with stride 2 on 3×3: output 2×2, padding bottom/right only.
        // Windows at columns/rows 2–3 reach the padding, so only their top-left tap sees data.
        let same: [Float] = [11, 3, 7, 9]  // 1+2·5, 3+2·0, 7+2·0, 9
        #expect(x.conv2D(w, strides: (2, 2), padding: .same).scalars == same)
    }

    @Test func matchesNumPyLoops() throws {
        let fixtures = try Fixtures("reference.json", besides: #filePath)
        let x = Tensor(fixtures.floats("conv_x"), shape: [2, 5, 6, 3])
        let w = Tensor(fixtures.floats("conv_w"), shape: [3, 2, 3, 4])
        let b = Tensor(fixtures.floats("conv_b"))
        let strided = x.conv2D(w, bias: b, strides: (2, 2), padding: .explicit(top: 1, left: 0, bottom: 1, right: 1))
        #expect(strided.shape == [2, 3, 3, 4])
        #expect(ReferenceMath.maxRelativeDifference(strided.scalars, fixtures.floats("conv_out")) < 1e-5)
        let dilated = x.conv2D(w, bias: b, dilation: (2, 2))
        #expect(dilated.shape == [2, 1, 4, 4])
        #expect(ReferenceMath.maxRelativeDifference(dilated.scalars, fixtures.floats("conv_dilated_out")) < 1e-5)
    }

    @Test func strideOneConvolutionIsTranslationEquivariant() {
        var generator = RandomGenerator(seed: 3)
        let image = Tensor.randomNormal([1, 12, 12, 2], generator: &generator)
        let w = Tensor.randomNormal([3, 3, 2, 4], generator: &generator)
        // Shift the image right by 2 columns (zeros enter on the left).
        let shifted = Tensor.concatenate([Tensor.zeros([1, 12, 2, 2]), image.slice([0..<1, 0..<12, 0..<10])], alongAxis: 2)
        let out = image.conv2D(w)
        let outShifted = shifted.conv2D(w)
        // Away from the border the output shifts by the same 2 columns.
        let expected = out.slice([0..<1, 0..<10, 0..<6]).scalars
        let actual = outShifted.slice([0..<1, 0..<10, 2..<8]).scalars
        #expect(ReferenceMath.maxRelativeDifference(actual, expected) < 1e-5)
    }

    @Test func maxPoolingIsInvariantToSmallShifts() {
        // A single bright pixel moved within its 2×2 window leaves the pooled map unchanged.
        func image(row: Int, column: Int) -> Tensor {
            var pixels = [Float](repeating: 0, count: 16)
            pixels[row * 4 + column] = 1
            return Tensor(pixels, shape: [1, 4, 4, 1])
        }
        let reference = image(row: 0, column: 0).maxPool2D(size: (2, 2)).scalars
        for (row, column) in [(0, 1), (1, 0), (1, 1)] {
            #expect(image(row: row, column: column).maxPool2D(size: (2, 2)).scalars == reference)
        }
        #expect(image(row: 2, column: 2).maxPool2D(size: (2, 2)).scalars != reference)
    }

    @Test func averagePoolingExcludesPadding() {
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], shape: [1, 3, 3, 1])
        // same padding on 3×3 with 2×2 stride 2: the last row/column windows are partly padding.
        let expected: [Float] = [3, 4.5, 7.5, 9]
        #expect(x.averagePool2D(size: (2, 2), padding: .same).scalars == expected)
        // PyTorch's count_include_pad=True: padded positions count as zeros (every window divides by 4).
        #expect(x.averagePool2D(size: (2, 2), padding: .same, countIncludesPadding: true).scalars == [3, 2.25, 3.75, 2.25])
    }

    @Test func outputSizesFollowTheRule() {
        let x = Tensor.zeros([2, 28, 28, 3])
        #expect(x.conv2D(Tensor.zeros([5, 5, 3, 8])).shape == [2, 24, 24, 8])  // (28−5)/1+1
        #expect(x.conv2D(Tensor.zeros([3, 3, 3, 8]), strides: (2, 2), padding: .symmetric(1)).shape == [2, 14, 14, 8])  // (28−3+2)/2+1
        #expect(x.conv2D(Tensor.zeros([3, 3, 3, 8]), strides: (3, 3), padding: .same).shape == [2, 10, 10, 8])
        #expect(x.maxPool2D(size: (3, 3), strides: (2, 2)).shape == [2, 13, 13, 3])
        #expect(GlobalAveragePooling2D()(x).shape == [2, 3])
    }

    @Test func kernelThatDoesNotFitIsAClearError() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor.zeros([1, 4, 4, 1]).conv2D(Tensor.zeros([5, 5, 1, 1]))
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("5×5") && message.contains("(N − F + 2P)/S + 1"), "\(message.suffix(300))")
    }

    @Test func convolutionLayersTrain() {
        seedGlobalRandom(4)
        let model = Model(inputShape: [8, 8, 1]) {
            Conv2D(1, 4, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            Conv2D(4, 4, kernelSize: 3, stride: 2, padding: .same, activation: .relu)
            GlobalAveragePooling2D()
            Dense(4, 2)
        }
        // Two classes: a bright left half or a bright right half.
        var generator = RandomGenerator(seed: 9)
        var pixels: [Float] = []
        var labels: [Float] = []
        for i in 0..<64 {
            let left = i % 2 == 0
            for _ in 0..<8 {
                for column in 0..<8 {
                    let bright = (column < 4) == left
                    let noise = generator.nextUniform()
                    pixels.append(bright ? 1 + noise : noise * 0.2)
                }
            }
            labels.append(left ? 0 : 1)
        }
        model.compile(optimizer: Adam(learningRate: 0.02), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let x = Tensor(pixels, shape: [64, 8, 8, 1])
        let y = Tensor(labels)
        model.fit(x, y, batchSize: 16, epochs: 30, verbose: false)
        #expect(model.evaluate(x, y)["accuracy"]! > 0.95)
        #expect(
            model.namedParameters.map(\.name) == [
                "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias", "layers.4.weight", "layers.4.bias",
            ])
    }
}

struct FusedConvolutionTests {
    /// The fused ReLU gives the same values and gradients as conv2D followed by relu (each of which
    /// is gradient-checked on its own).
    @Test func fusedReLUEqualsTheComposition() {
        var generator = RandomGenerator(seed: 8)
        let x = Tensor.randomNormal([2, 6, 5, 3], generator: &generator)
        let w = Tensor.randomNormal([3, 3, 3, 4], generator: &generator)
        let b = Tensor.randomNormal([4], generator: &generator)
        let seed = Tensor.randomNormal([2, 3, 3, 4], generator: &generator)
        func run(_ fused: Bool) -> [[Float]] {
            let (xl, wl, bl) = (x.requiringGradient(), w.requiringGradient(), b.requiringGradient())
            let y =
                fused
                ? xl.conv2DReLU(wl, bias: bl, strides: (2, 2), padding: .same)
                : xl.conv2D(wl, bias: bl, strides: (2, 2), padding: .same).relu()
            y.backward(seed: seed)
            return [y.scalars, xl.gradient!.scalars, wl.gradient!.scalars, bl.gradient!.scalars]
        }
        let (fused, composed) = (run(true), run(false))
        for (a, b) in zip(fused, composed) { #expect(ReferenceMath.maxRelativeDifference(a, b) < 1e-5) }
        #expect(fused[0].contains(0) && fused[0].allSatisfy { $0 >= 0 })
    }
}

struct SequentialFastPathTests {
    /// A ReLU convolution followed by max pooling runs as conv → pool → ReLU inside Sequential;
    /// outputs and every gradient equal the layer-by-layer computation.
    @Test func reluPoolReorderIsExact() {
        seedGlobalRandom(6)
        let conv = Conv2D(2, 4, kernelSize: 3, padding: .same, activation: .relu)
        let pool = MaxPool2D(2)
        let sequential = Sequential([conv, pool])
        var generator = RandomGenerator(seed: 2)
        let x = Tensor.randomNormal([3, 6, 6, 2], generator: &generator)
        let seed = Tensor.randomNormal([3, 3, 3, 4], generator: &generator)
        func run(_ body: (Tensor) -> Tensor) -> [[Float]] {
            conv.weight.zeroGradient()
            conv.bias!.zeroGradient()
            let leaf = x.requiringGradient()
            let y = body(leaf)
            y.backward(seed: seed)
            return [y.scalars, leaf.gradient!.scalars, conv.weight.gradient.scalars, conv.bias!.gradient.scalars]
        }
        let fast = run { sequential($0) }
        let plain = run { pool(conv($0)) }
        for (a, b) in zip(fast, plain) { #expect(ReferenceMath.maxRelativeDifference(a, b) < 1e-5) }
    }
}
