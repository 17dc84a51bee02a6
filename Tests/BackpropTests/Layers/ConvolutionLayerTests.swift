import Backprop
import BackpropTestSupport
import Testing

/// The layer contract for the convolution family: shapes, parameter counts, gradients of the input
/// and of every parameter against finite differences.
struct ConvolutionLayerTests {
    static func input(_ shape: Shape, seed: UInt64 = 1) -> Tensor {
        Tensor(ReferenceMath.values(shape.elementCount, seed: seed, gap: 0.1), shape: shape)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let input: Shape
        let output: Shape
        let parameters: Int
        let training: Bool
        let make: @Sendable () -> any Layer
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "Conv2D same stride 2", input: [2, 5, 6, 2], output: [2, 3, 3, 3], parameters: 3 * 3 * 2 * 3 + 3, training: false) {
            Conv2D(2, 3, kernelSize: 3, stride: 2, padding: .same, activation: .tanh)
        },
        Case(
            name: "Conv2DTranspose stride 2 valid", input: [2, 3, 4, 2], output: [2, 7, 9, 3], parameters: 3 * 3 * 3 * 2 + 3,
            training: false
        ) {
            Conv2DTranspose(2, 3, kernelSize: (3, 3), strides: (2, 2))
        },
        Case(
            name: "Conv2DTranspose same with output padding", input: [1, 3, 3, 2], output: [1, 6, 6, 2], parameters: 2 * 2 * 2 * 2 + 2,
            training: false
        ) {
            Conv2DTranspose(2, 2, kernelSize: (2, 2), strides: (2, 2), padding: .same)
        },
        Case(name: "Conv1D dilated", input: [2, 9, 3], output: [2, 5, 2], parameters: 3 * 3 * 2 + 2, training: false) {
            Conv1D(3, 2, kernelSize: 3, dilation: 2, activation: .elu(alpha: 1))
        },
        Case(
            name: "LocallyConnected2D", input: [2, 5, 4, 2], output: [2, 2, 2, 3], parameters: 4 * (3 * 2 * 2) * 3 + 4 * 3, training: false
        ) {
            LocallyConnected2D(inputShape: [5, 4, 2], outputChannels: 3, kernelSize: (3, 2), strides: (2, 2))
        },
        Case(name: "LocallyConnected1D", input: [2, 7, 2], output: [2, 3, 2], parameters: 3 * (3 * 2) * 2 + 3 * 2, training: false) {
            LocallyConnected1D(inputLength: 7, inputChannels: 2, outputChannels: 2, kernelSize: 3, stride: 2)
        },
        Case(name: "BatchNorm in training", input: [4, 3, 2, 3], output: [4, 3, 2, 3], parameters: 4 * 3, training: true) {
            BatchNorm(channels: 3)
        },
        Case(name: "BatchNorm in inference", input: [3, 4], output: [3, 4], parameters: 4 * 4, training: false) {
            BatchNorm(channels: 4)
        },
        Case(name: "ZeroPadding2D", input: [1, 2, 3, 2], output: [1, 5, 4, 2], parameters: 0, training: false) {
            ZeroPadding2D(top: 1, left: 0, bottom: 2, right: 1)
        },
        Case(name: "Reshape", input: [2, 3, 4], output: [2, 12], parameters: 0, training: false) { Reshape([12]) },
        Case(name: "GlobalAveragePooling2D", input: [2, 3, 3, 2], output: [2, 2], parameters: 0, training: false) {
            GlobalAveragePooling2D()
        },
    ]

    @Test(arguments: cases)
    func layerContract(_ testCase: Case) {
        seedGlobalRandom(3)
        let layer = testCase.make()
        let x = Self.input(testCase.input)
        let y = withTrainingMode(testCase.training) { withoutGradient { layer(x) } }
        #expect(y.shape == testCase.output)
        #expect(layer.parameterCount == testCase.parameters)
        let result = checkLayerGradients(layer, input: x, training: testCase.training)
        #expect(result.passed, "\(testCase.name): \(result)")
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
