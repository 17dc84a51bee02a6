import Backprop
import BackpropTestSupport
import Testing

/// Convolution-family layers against independent definitions (the shared contract is in
/// LayerContractTests).
struct ConvolutionLayerTests {
    static func input(_ shape: Shape, seed: UInt64 = 1) -> Tensor {
        Tensor(ReferenceMath.values(shape.elementCount, seed: seed, gap: 0.1), shape: shape)
    }

    @Test func transposedConvolutionIsTheAdjointOfConvolution() {
        var generator = RandomGenerator(seed: 2)
        for (strides, padding) in [((1, 1), Padding.valid), ((2, 2), .valid), ((2, 1), .explicit(top: 1, left: 0, bottom: 1, right: 2))] {
            let weight = Tensor.randomNormal([3, 2, 4, 5], generator: &generator)  // conv: 4 → 5 channels
            let x = Tensor.randomNormal([2, 9, 8, 4], generator: &generator)
            let conv = x.conv2D(weight, strides: strides, padding: padding)
            let y = Tensor.randomNormal(conv.shape, generator: &generator)
            // convT with the same weight read as [KH, KW, Cout=4, Cin=5] maps y back to x's shape.
            let outputPadding = (
                x.shape[1] - ((y.shape[1] - 1) * strides.0 + 3) + paddingTotal(padding, 0),
                x.shape[2] - ((y.shape[2] - 1) * strides.1 + 2) + paddingTotal(padding, 1)
            )
            let back = y.conv2DTranspose(weight, strides: strides, padding: padding, outputPadding: outputPadding)
            #expect(back.shape == x.shape)
            let left = (conv * y).sum().item
            let right = (x * back).sum().item
            #expect(abs(left - right) <= 1e-4 * max(1, abs(left)), "⟨conv(x), y⟩ = \(left), ⟨x, convT(y)⟩ = \(right)")
        }
    }

    func paddingTotal(_ padding: Padding, _ axis: Int) -> Int {
        if case .explicit(let t, let l, let b, let r) = padding { return axis == 0 ? t + b : l + r }
        return 0
    }

    @Test func locallyConnectedMatchesExplicitLoops() {
        seedGlobalRandom(4)
        let layer = LocallyConnected2D(inputShape: [3, 3, 1], outputChannels: 1, kernelSize: (2, 2))
        let x = Tensor((1...9).map(Float.init), shape: [1, 3, 3, 1])
        let w = layer.weight.value.scalars
        let b = layer.bias!.value.scalars
        let y = layer(x).scalars
        let pixels = x.scalars
        for position in 0..<4 {
            let (i, j) = (position / 2, position % 2)
            var expected = b[position]
            for p in 0..<2 { for q in 0..<2 { expected += pixels[(i + p) * 3 + j + q] * w[position * 4 + p * 2 + q] } }
            #expect(abs(y[position] - expected) < 1e-5)
        }
    }

    @Test func batchNormTracksRunningStatisticsAndUsesThemInInference() {
        let layer = BatchNorm(channels: 2, momentum: 0.5)
        let x = Tensor([1, 10, 3, 30], shape: [2, 2])
        let trained = withTrainingMode { layer(x) }.scalars
        #expect(trained.map { ($0 * 100).rounded() / 100 } == [-1, -1, 1, 1])
        #expect(layer.runningMean.value.scalars == [1, 10])  // 0.5·0 + 0.5·[2, 20]
        #expect(layer.runningVariance.value.scalars == [1, 50.5])  // 0.5·1 + 0.5·[1, 100]
        let inferred = layer(Tensor([1, 10], shape: [1, 2])).scalars
        #expect(abs(inferred[0]) < 1e-3 && abs(inferred[1]) < 1e-3)
        #expect(layer.parameters.filter { !$0.isTrainable }.count == 2)
        // PyTorch's running variance is unbiased: the batch variance × n/(n − 1) = [2, 200] here.
        let unbiased = BatchNorm(channels: 2, momentum: 0.5, unbiasedRunningVariance: true)
        _ = withTrainingMode { unbiased(x) }
        #expect(unbiased.runningVariance.value.scalars == [1.5, 100.5])  // 0.5·1 + 0.5·[2, 200]
    }

    /// A frozen layer (transfer learning) normalizes with its running statistics and keeps them.
    @Test func frozenBatchNormKeepsItsStatistics() {
        let layer = BatchNorm(channels: 2, momentum: 0.5)
        layer.runningMean.assign(Tensor([1, 2]))
        layer.runningVariance.assign(Tensor([4, 9]))
        layer.gamma.isTrainable = false
        layer.beta.isTrainable = false
        let output = withTrainingMode { layer(Tensor([3, 5, 7, 11], shape: [2, 2])) }.scalars
        #expect(layer.runningMean.value.scalars == [1, 2] && layer.runningVariance.value.scalars == [4, 9])
        let expected: [Float] = [
            2 / (4 + 1e-3).squareRoot(), 3 / (9 + 1e-3).squareRoot(), 6 / (4 + 1e-3).squareRoot(), 9 / (9 + 1e-3).squareRoot(),
        ]
        #expect(zip(output, expected).allSatisfy { abs($0 - $1) < 1e-6 }, "\(output)")
    }

    @Test func deconvolutionUpsamples() {
        let layer = Conv2DTranspose(1, 1, kernelSize: (2, 2), strides: (2, 2), useBias: false)
        layer.weight.assign(Tensor.ones([2, 2, 1, 1]))
        // Each input pixel is spread over its own 2×2 block.
        #expect(layer(Tensor([1, 2, 3, 4], shape: [1, 2, 2, 1])).scalars == [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4])
    }
}

struct ModelValidationTests {
    @Test func aLayerThatDoesNotFitIsReportedWhenTheModelIsBuilt() {
        let model = Model(inputShape: [6, 6, 1]) {
            Conv2D(1, 4, kernelSize: 3)  // → 4×4
            MaxPool2D(2)  // → 2×2
            Conv2D(4, 8, kernelSize: 3)  // does not fit 2×2
            Flatten()
            Dense(8, 2)
        }
        #expect {
            try model.validate()
        } throws: { error in
            let message = "\(error)"
            return message.contains("layer 2") && message.contains("Conv2D(4 → 8") && message.contains("[2, 2, 4]")
                && message.contains("(N − F + 2P)/S + 1")
        }
        let dense = Model(inputShape: [5]) { Dense(4, 2) }
        #expect { try dense.validate() } throws: { "\($0)".contains("Dense(4 → 2)") && "\($0)".contains("4 features") }
    }

    @Test func shapesOfAValidModel() throws {
        let model = Model(inputShape: [28, 28, 1]) {
            Conv2D(1, 6, kernelSize: 5, padding: .same, activation: .tanh)
            AvgPool2D(2)
            Conv2D(6, 16, kernelSize: 5, activation: .tanh)
            AvgPool2D(2)
            Flatten()
            Dense(400, 120, activation: .tanh)
            Dense(120, 84, activation: .tanh)
            Dense(84, 10)
        }
        #expect(try model.validate() == [[28, 28, 6], [14, 14, 6], [10, 10, 16], [5, 5, 16], [400], [120], [84], [10]])
        #expect(model.network.parameterCount == 61_706)  // LeCun et al. 1998's LeNet-5 on padded 28×28 input
    }
}

struct BatchNormalizationTests {
    /// oneDNN's primitive against the textbook formula built from tensor ops.
    @Test func matchesTheFormula() {
        var generator = RandomGenerator(seed: 12)
        let x = Tensor.randomNormal([7, 3, 5], mean: 2, standardDeviation: 3, generator: &generator)
        let scale = Tensor([0.5, -1, 2, 1, 3])
        let shift = Tensor([0, 1, -2, 0.5, 4])
        let (output, mean, variance) = x.batchNormalized(scale: scale, shift: shift, epsilon: 1e-3)
        let expectedMean = x.mean(alongAxes: [0, 1])
        let expectedVariance = (x - expectedMean).squared().mean(alongAxes: [0, 1])
        let expected = (x - expectedMean) / (expectedVariance + 1e-3).squareRoot() * scale + shift
        #expect(ReferenceMath.maxRelativeDifference(mean.scalars, expectedMean.scalars) < 1e-5)
        #expect(ReferenceMath.maxRelativeDifference(variance.scalars, expectedVariance.scalars) < 1e-4)
        #expect(ReferenceMath.maxRelativeDifference(output.scalars, expected.scalars) < 1e-4)
    }
}
