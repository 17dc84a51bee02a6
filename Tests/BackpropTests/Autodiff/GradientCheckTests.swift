import Backprop
import BackpropTestSupport
import Testing

/// Every differentiable op, checked against central finite differences on odd shapes.
struct GradientCheckTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let shapes: [Shape]
        let positive: Bool
        /// Inputs are a shuffled even grid, so no two values lie within 2ε (max-style kinks).
        let distinct: Bool
        /// Step of the finite difference; larger for ops linear in each input, where the Float32
        /// rounding of a large sum would otherwise swamp small gradients.
        let epsilon: Float
        let function: @Sendable ([Tensor]) -> Tensor
        var testDescription: String { name }

        init(
            _ name: String, _ shapes: [Shape], positive: Bool = false, distinct: Bool = false, epsilon: Float = 1e-2,
            _ function: @escaping @Sendable ([Tensor]) -> Tensor
        ) {
            self.epsilon = epsilon
            self.name = name
            self.shapes = shapes
            self.positive = positive
            self.distinct = distinct
            self.function = function
        }
    }

    static let cases: [Case] = [
        Case("add (broadcast row)", [[3, 5], [5]]) { $0[0] + $0[1] },
        Case("add (broadcast column and leading axis)", [[2, 3, 1], [4]]) { $0[0] + $0[1] },
        Case("subtract (broadcast)", [[4, 1], [1, 3]]) { $0[0] - $0[1] },
        Case("multiply (broadcast)", [[2, 3, 4], [3, 1]]) { $0[0] * $0[1] },
        Case("multiply (same input twice)", [[3, 3]]) { $0[0] * $0[0] },
        Case("divide (broadcast)", [[3, 4], [4]], positive: true) { $0[0] / $0[1] },
        Case("maximum", [[3, 5], [3, 5]]) { Tensor.maximum($0[0], $0[1]) },
        Case("minimum (broadcast)", [[3, 5], [5]]) { Tensor.minimum($0[0], $0[1]) },
        Case("pow (tensor exponent)", [[2, 3], [2, 3]], positive: true) { $0[0].pow($0[1]) },
        Case("scalar affine", [[7]]) { 3 - $0[0] * 2 + 1 },
        Case("scalar divided by tensor", [[5]], positive: true) { 2 / $0[0] },
        Case("negate", [[4]]) { -$0[0] },
        Case("exp", [[3, 4]]) { $0[0].exp() },
        Case("log", [[3, 4]], positive: true) { $0[0].log() },
        Case("squareRoot", [[3, 4]], positive: true) { $0[0].squareRoot() },
        Case("abs", [[9]]) { $0[0].abs() },
        Case("squared", [[9]]) { $0[0].squared() },
        Case("pow (scalar)", [[6]], positive: true) { $0[0].pow(2.5) },
        Case("clamped", [[11]]) { $0[0].clamped(to: -0.7...0.9) },
        Case("relu", [[4, 5]]) { $0[0].relu() },
        Case("leakyRelu", [[4, 5]]) { $0[0].leakyRelu(slope: 0.1) },
        Case("elu", [[4, 5]]) { $0[0].elu(alpha: 0.7) },
        Case("sigmoid", [[4, 5]]) { $0[0].sigmoid() },
        Case("tanh", [[4, 5]]) { $0[0].tanh() },
        Case("softplus", [[4, 5]]) { $0[0].softplus() },
        Case("logSoftmax", [[3, 7]]) { $0[0].logSoftmax() },
        Case("softmax", [[2, 3, 5]]) { $0[0].softmax() },
        Case("maxout", [[3, 6]]) { $0[0].maxout(pieces: 3) },
        Case("sum (all)", [[3, 4]]) { $0[0].sum() },
        Case("sum (axes 0, 2)", [[2, 3, 4]]) { $0[0].sum(alongAxes: [0, 2]) },
        Case("sum (keeping axis)", [[3, 4]]) { $0[0].sum(alongAxis: -1, keepingAxis: true) * $0[0] },
        Case("mean (axis 1)", [[3, 5]]) { $0[0].mean(alongAxis: 1) },
        Case("max (axis 1)", [[3, 5]]) { $0[0].max(alongAxis: 1) },
        Case("max (all)", [[2, 3, 2]]) { $0[0].max() },
        Case("matmul", [[3, 5], [5, 4]]) { matmul($0[0], $0[1]) },
        Case("matmul (rank 3 by matrix)", [[2, 3, 4], [4, 5]]) { matmul($0[0], $0[1]) },
        Case("matmul (batched)", [[2, 3, 4], [2, 4, 2]]) { matmul($0[0], $0[1]) },
        Case("reshape", [[2, 6]]) { $0[0].reshaped([3, 4]) * $0[0].reshaped([3, 4]) },
        Case("permute", [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
        Case("transposed", [[3, 5]]) { $0[0].transposed() },
        Case("slice", [[4, 5]]) { $0[0].slice([1..<3, 2..<5]) },
        Case("gather (repeated indices)", [[5, 3]]) { $0[0].gathering([4, 0, 4, 2]) },
        Case("gather (axis 1)", [[2, 5, 3]]) { $0[0].gathering([1, 3], alongAxis: 1) },
        Case("concatenate", [[2, 3], [4, 3]]) { Tensor.concatenate([$0[0], $0[1]]) },
        Case("concatenate (axis 1)", [[2, 3], [2, 2]]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1) },
        Case("softmax cross-entropy (integer labels)", [[4, 5]]) {
            softmaxCrossEntropy(logits: $0[0], labels: Tensor([0, 4, 2, 2]))
        },
        Case("softmax cross-entropy (one-hot)", [[2, 3]]) {
            SoftmaxCrossEntropy()($0[0], Tensor([0, 1, 0, 0.2, 0.3, 0.5], shape: [2, 3]))
        },
        Case("binary cross-entropy", [[6]]) { BinaryCrossEntropy()($0[0], Tensor([0, 1, 1, 0, 1, 0])) },
        Case("mean squared error", [[2, 3]]) { MeanSquaredError()($0[0], Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])) },
        Case("mean absolute error", [[5]]) { MeanAbsoluteError()($0[0], Tensor([3, 3, 3, 3, 3])) },
        // Targets 3 and −3 put every |d| (inputs lie in about ±1.5) on the linear side, targets 0.1
        // on the quadratic side: both branches, away from the kink at |d| = δ.
        Case("huber (both branches)", [[6]]) { HuberLoss(delta: 0.5)($0[0] * 0.1, Tensor([3, -3, 0.1, 0.1, 3, 0.1])) },
        Case("conv2D (valid, bias)", [[2, 5, 6, 3], [3, 2, 3, 4], [4]]) { $0[0].conv2D($0[1], bias: $0[2]) },
        Case("conv2D (same, stride 2)", [[1, 7, 6, 2], [3, 3, 2, 3]]) { $0[0].conv2D($0[1], strides: (2, 2), padding: .same) },
        Case("conv2D (explicit padding, dilation 2)", [[2, 6, 7, 2], [2, 3, 2, 2]]) {
            $0[0].conv2D($0[1], padding: .explicit(top: 1, left: 0, bottom: 2, right: 1), dilation: (2, 2))
        },
        Case("conv2D (1×1, stride 3)", [[1, 7, 7, 3], [1, 1, 3, 2], [2]]) { $0[0].conv2D($0[1], bias: $0[2], strides: (3, 3)) },
        // 16 channels: the backend keeps these activations blocked (nChw16c/nChw8c) between kernels.
        Case("conv2D (blocked layout, 16→16, bias)", [[2, 4, 4, 16], [3, 3, 16, 16], [16]], epsilon: 0.5) {
            $0[0].conv2D($0[1], bias: $0[2], padding: .same)
        },
        // Polynomial in every single input (square, not tanh), so central differences are exact
        // and a large step keeps Float32 rounding out of the comparison.
        Case(
            "conv → averagePool → square → conv, blocked, with an NHWC use of the first output",
            [[1, 4, 4, 16], [3, 3, 16, 16], [3, 3, 16, 16]], epsilon: 0.5
        ) {
            let first = $0[0].conv2D($0[1] * 0.1, padding: .same)
            let blocked = first.averagePool2D(size: (2, 2)).squared().conv2D($0[2], padding: .same)
            return (blocked.sum() + (first * first).mean()) * 0.05  // gradients near 1, noise under the 1e-3 floor
        },
        Case("maxPool2D (2×2)", [[2, 4, 6, 3]], distinct: true) { $0[0].maxPool2D(size: (2, 2)) },
        // A first layer: the image needs no gradient, so the CPU backend runs its fused kernel.
        Case("conv2DMaxPool (fused first layer, 1→16, same, 2×2)", [[3, 3, 1, 16], [16]], distinct: true) {
            Tensor(ReferenceMath.values(16, seed: 21, lower: 0, upper: 1), shape: [1, 4, 4, 1])
                .conv2DMaxPool($0[0], bias: $0[1], padding: .same, poolSize: (2, 2))
        },
        Case("conv2DMaxPool (fused, 2 channels, stride 2×1, dilation, 3×3 windows, a remainder)", [[2, 2, 2, 16]], distinct: true) {
            Tensor(ReferenceMath.values(2 * 7 * 5, seed: 22, lower: 0, upper: 1), shape: [1, 7, 5, 2])
                .conv2DMaxPool(
                    $0[0], strides: (2, 1), padding: .explicit(top: 1, left: 0, bottom: 0, right: 1), dilation: (2, 1), poolSize: (3, 3))
        },
        Case("conv2DMaxPool (input gradient: two kernels)", [[1, 3, 3, 2], [3, 3, 2, 16], [16]], distinct: true) {
            $0[0].conv2DMaxPool($0[1], bias: $0[2], padding: .same, poolSize: (2, 2))
        },
        Case("maxPool2D (3×3 stride 2, same)", [[1, 7, 5, 2]], distinct: true) {
            $0[0].maxPool2D(size: (3, 3), strides: (2, 2), padding: .same)
        },
        Case("averagePool2D (2×3 stride 1)", [[2, 5, 5, 2]]) { $0[0].averagePool2D(size: (2, 3), strides: (1, 1)) },
        Case("averagePool2D (explicit, includes padding)", [[1, 5, 4, 2]]) {
            $0[0].averagePool2D(
                size: (3, 2), strides: (2, 1), padding: .explicit(top: 1, left: 0, bottom: 2, right: 1), countIncludesPadding: true)
        },
        Case("averagePool2D (same, excludes padding)", [[1, 5, 5, 3]]) {
            $0[0].averagePool2D(size: (3, 3), strides: (2, 2), padding: .same)
        },
        Case("batchNormalized (oneDNN, training)", [[5, 3, 2, 3], [3], [3]]) { $0[0].batchNormalized(scale: $0[1], shift: $0[2]).output },
        Case("L2 penalty", [[3, 4]]) { Regularizer.l2(0.3).penalty($0[0]) },
        Case("L1 + L2 penalty", [[5]]) { Regularizer.l1l2(l1: 0.2, l2: 0.1).penalty($0[0]) },
        // Recurrent layers: through time, with initial states, masks (a gap in the middle, a
        // sequence that ends early) and both directions; weights scaled so the gates do not saturate.
        Case("recurrent tanh (biases)", [[2, 4, 3], [5, 3], [5, 5], [5], [5]]) {
            recurrent(
                $0[0], cell: .tanh, inputWeight: $0[1] * 0.4, recurrentWeight: $0[2] * 0.3, inputBias: $0[3], recurrentBias: $0[4]
            ).sequence
        },
        Case("recurrent relu (reverse, no bias)", [[2, 3, 2], [3, 2], [3, 3]], distinct: true) {
            recurrent(
                $0[0], cell: .relu, inputWeight: $0[1], recurrentWeight: $0[2] * 0.5, inputBias: nil, recurrentBias: nil, reverse: true
            )
            .sequence
        },
        Case("LSTM (initial states, mask, last states)", [[2, 4, 3], [8, 3], [8, 2], [8], [8], [2, 2], [2, 2]]) {
            let o = recurrent(
                $0[0], cell: .lstm, inputWeight: $0[1] * 0.4, recurrentWeight: $0[2] * 0.4, inputBias: $0[3], recurrentBias: $0[4],
                initialHidden: $0[5], initialCell: $0[6], mask: GradientCheckTests.mask)
            return o.sequence.sum(alongAxis: 1) + o.hidden * 2 + o.cell! * 3
        },
        Case("LSTM (reverse, mask, only the cell state used)", [[2, 4, 3], [8, 3], [8, 2], [8]]) {
            recurrent(
                $0[0], cell: .lstm, inputWeight: $0[1] * 0.4, recurrentWeight: $0[2] * 0.4, inputBias: $0[3], recurrentBias: nil,
                mask: GradientCheckTests.mask, reverse: true
            ).cell!
        },
        Case("GRU (initial state, mask)", [[2, 4, 3], [6, 3], [6, 2], [6], [6], [2, 2]]) {
            let o = recurrent(
                $0[0], cell: .gru, inputWeight: $0[1] * 0.7, recurrentWeight: $0[2] * 0.7, inputBias: $0[3], recurrentBias: $0[4],
                initialHidden: $0[5], mask: GradientCheckTests.mask)
            return o.sequence.sum(alongAxis: 1) + o.hidden
        },
        Case("GRU (reverse, mask)", [[2, 4, 3], [6, 3], [6, 2], [6], [6]]) {
            recurrent(
                $0[0], cell: .gru, inputWeight: $0[1] * 0.7, recurrentWeight: $0[2] * 0.7, inputBias: $0[3], recurrentBias: $0[4],
                mask: GradientCheckTests.mask, reverse: true
            ).sequence
        },
        Case("layer norm", [[3, 5], [5], [5]]) {
            let centered = $0[0] - $0[0].mean(alongAxis: 1, keepingAxis: true)
            return centered / (centered.squared().mean(alongAxis: 1, keepingAxis: true) + 1e-5).squareRoot() * $0[1] + $0[2]
        },
        Case("gathering rows (embedding lookup, repeated ids)", [[4, 3]]) { $0[0].gathering([2, 0, 2, 3, 2], alongAxis: 0) },
        Case("composition (two-layer net)", [[3, 4], [4, 5], [5]]) { (matmul($0[0], $0[1]) + $0[2]).tanh().sum(alongAxis: 1) },
    ]

    /// Sample 0 skips step 2; sample 1 ends after step 1.
    static let mask = Tensor([1, 1, 0, 1, 1, 1, 0, 0], shape: [2, 4])

    static func inputs(_ testCase: Case) -> [Tensor] {
        testCase.shapes.enumerated().map { index, shape in
            if testCase.distinct {
                var generator = RandomGenerator(seed: UInt64(index + 1))
                let grid = (0..<shape.elementCount).map { Float($0) * 0.05 - 2 }.shuffled(using: &generator)
                return Tensor(grid, shape: shape)
            }
            return Tensor(
                ReferenceMath.values(
                    shape.elementCount, seed: UInt64(index + 1),
                    lower: testCase.positive ? 0.5 : -2, upper: testCase.positive ? 2 : 2, gap: 0.1),
                shape: shape)
        }
    }

    @Test(arguments: cases)
    func gradientMatchesFiniteDifferences(_ testCase: Case) {
        let result = checkGradients(of: testCase.function, at: Self.inputs(testCase), epsilon: testCase.epsilon)
        #expect(result.passed, "\(testCase.name): \(result)")
    }

    /// The same table on the plain-Swift reference backend: its kernels pass the same check.
    @Test(arguments: cases)
    func gradientMatchesFiniteDifferencesOnTheReferenceBackend(_ testCase: Case) {
        let result = Backends.using(ReferenceBackend()) {
            checkGradients(of: testCase.function, at: Self.inputs(testCase), epsilon: testCase.epsilon)
        }
        #expect(result.passed, "\(testCase.name): \(result)")
    }

    /// The CPU backend's values and gradients equal the reference backend's, relative to each
    /// result's largest magnitude.
    @Test(arguments: cases)
    func cpuBackendAgreesWithTheReference(_ testCase: Case) {
        let inputs = Self.inputs(testCase)
        func run() -> [[Float]] {
            let leaves = inputs.map { $0.copy().requiringGradient() }
            let output = testCase.function(leaves)
            var generator = RandomGenerator(seed: 9)
            output.backward(seed: Tensor((0..<output.elementCount).map { _ in generator.nextUniform() * 2 - 1 }, shape: output.shape))
            return [output.scalars] + leaves.map { $0.gradient!.scalars }
        }
        let cpu = run()
        let reference = Backends.using(ReferenceBackend()) { run() }
        for (index, (got, expected)) in zip(cpu, reference).enumerated() {
            let scale = max(expected.map(abs).max() ?? 0, 1e-3)
            let worst = zip(got, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst / scale < 1e-4, "\(testCase.name): result \(index) differs by \(worst) (largest magnitude \(scale))")
        }
    }

    @Test func wrongDerivativeIsCaught() {
        // x² with the derivative 3x instead of 2x: the check must fail.
        func wrongSquare(_ x: Tensor) -> Tensor {
            let y = withoutGradient { x * x }
            return Tensor.differentiable("wrongSquare", value: y, inputs: [x]) { gradient, sink in
                sink.add(0, gradient * x * 3)
            }
        }
        let x = Tensor(ReferenceMath.values(6, seed: 3), shape: [6])
        let result = checkGradients(of: { wrongSquare($0[0]) }, at: [x])
        #expect(!result.passed)
        #expect(result.maxRelativeError > 0.3)
    }

    @Test func correctCustomDerivativePasses() {
        func square(_ x: Tensor) -> Tensor {
            let y = withoutGradient { x * x }
            return Tensor.differentiable("square", value: y, inputs: [x]) { gradient, sink in
                sink.add(0, gradient * x * 2)
            }
        }
        let x = Tensor(ReferenceMath.values(6, seed: 3), shape: [6])
        #expect(checkGradients(of: { square($0[0]) }, at: [x]).passed)
    }
}
