import Backprop
import BackpropTestSupport
import Foundation
import Testing

struct ActivationTests {
    let fixtures: Fixtures
    let x: Tensor

    init() throws {
        fixtures = try Fixtures("reference.json", besides: #filePath)
        x = Tensor(fixtures.floats("x"))
    }

    @Test func elementwiseFunctionsMatchNumPy() {
        let cases: [(String, Tensor)] = [
            ("exp", x.exp()), ("log_abs", x.abs().log()), ("tanh", x.tanh()), ("sigmoid", x.sigmoid()),
            ("softplus", x.softplus()), ("elu", x.elu(alpha: 0.7)), ("leaky_relu", x.leakyRelu(slope: 0.2)),
        ]
        for (name, value) in cases {
            #expect(ReferenceMath.maxRelativeDifference(value.scalars, fixtures.floats(name)) < 3e-6, "\(name)")
        }
        #expect(x.relu().scalars == [0, 0, 0, 0.3, 0.9, 2.5])
    }

    /// ELU is α(eˣ − 1) for x < 0; computed as exp(x) − 1 in Float32 it keeps only ~|x|/ε correct
    /// digits near 0 (x = −1e-6 would come out 20 % off). Against Foundation's Double expm1.
    @Test func eluKeepsRelativePrecisionNearZero() {
        let inputs: [Float] = [-1e-7, -3e-6, -1e-4, -0.01, -0.2, -0.34, -0.36, -1, -5, -20]
        let outputs = Tensor(inputs).elu(alpha: 1.5).scalars
        for (x, y) in zip(inputs, outputs) {
            let expected = 1.5 * Foundation.expm1(Double(x))
            #expect(abs(Double(y) - expected) <= 4e-7 * abs(expected), "elu(\(x)) = \(y), expected \(expected)")
        }
    }

    @Test func logSoftmaxMatchesNumPyAndIsFiniteForHugeLogits() {
        let logits = Tensor(fixtures.floats("logits"), shape: [4, 3])
        let result = logits.logSoftmax().scalars
        #expect(result.allSatisfy { $0.isFinite })
        #expect(ReferenceMath.maxRelativeDifference(result, fixtures.floats("log_softmax")) < 1e-6)
        let probabilities = Tensor([1e4, -1e4, 0, 3], shape: [1, 4]).softmax().scalars
        #expect(probabilities.allSatisfy { $0.isFinite })
        #expect(abs(probabilities.reduce(0, +) - 1) < 1e-6)
    }

    @Test func extremeInputsStayFinite() {
        let extreme = Tensor([-1e4, -100, -88, 88, 100, 1e4])
        #expect(extreme.sigmoid().scalars.allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
        #expect(extreme.tanh().scalars == [-1, -1, -1, 1, 1, 1])
        #expect(extreme.softplus().scalars.allSatisfy { $0.isFinite })
        #expect(Tensor([0]).log().scalars == [-.infinity])
        #expect(Tensor([-1]).log().scalars[0].isNaN)
    }

    /// A NaN is seen where it starts: ReLU (alone, after a convolution, after a dense layer)
    /// passes it on instead of mapping it to 0.
    @Test func reluPropagatesNaN() {
        let values = Tensor([-1, .nan, 2, -.infinity])
        let y = values.relu().scalars
        #expect(y[0] == 0 && y[1].isNaN && y[2] == 2 && y[3] == 0)
        var input = [Float](repeating: 0.5, count: 16)
        input[5] = .nan
        let image = Tensor(input, shape: [1, 4, 4, 1])
        let conv = Conv2D(1, 2, kernelSize: 1, activation: .relu, weightInitializer: .constant(1))
        #expect(conv(image).scalars.filter(\.isNaN).count == 2)
        // (oneDNN's max pooling skips NaN, unlike PyTorch's: the monitors read the convolution's own output.)
        let dense = Dense(16, 3, activation: .relu, weightInitializer: .constant(1))
        #expect(dense(image.reshaped([1, 16])).scalars.allSatisfy { $0.isNaN })
    }

    @Test func maxoutTakesTheMaximumOfEachGroup() {
        let t = Tensor([1, 5, 2, -1, -3, 0], shape: [1, 6])
        #expect(t.maxout(pieces: 3).scalars == [5, 0])
        #expect(t.maxout(pieces: 2).scalars == [5, 2, 0])
    }
}
