import Backprop
import Testing

struct LayerTests {
    @Test func parametersAreFoundAndNamedByPath() {
        let model = Sequential {
            Flatten()
            Dense(4, 3, activation: .relu)
            Dense(3, 2, useBias: false)
            Maxout(2, units: 2, pieces: 3)
        }
        let names = model.namedParameters.map(\.name)
        #expect(names == ["layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.3.linear.weight", "layers.3.linear.bias"])
        #expect(model.parameterCount == 4 * 3 + 3 + 3 * 2 + 2 * 6 + 6)
    }

    @Test func denseComputesAffineMapThenActivation() {
        let dense = Dense(2, 2, activation: .relu)
        dense.weight.assign(Tensor([1, -1, 2, 1], shape: [2, 2]))
        dense.bias!.assign(Tensor([0.5, -10]))
        #expect(dense(Tensor([1, 1], shape: [1, 2])).scalars == [3.5, 0])
    }

    @Test func summaryMatchesKerasParameterCounts() {
        let model = Model(inputShape: [28, 28, 1]) {
            Flatten()
            Dense(784, 512, activation: .relu)
            Dense(512, 256, activation: .relu)
            Dense(256, 10)
        }
        let summary = model.summary()
        #expect(summary.contains("(None, 784)"))
        #expect(summary.contains("401,920"))
        #expect(summary.contains("Total params: 535,818"))
    }

    @Test func dropoutScalesInTrainingAndIsIdentityOtherwise() {
        seedGlobalRandom(1)
        let dropout = Dropout(rate: 0.25)
        let x = Tensor.ones([10000])
        #expect(dropout(x).scalars == x.scalars)
        let trained = withTrainingMode { dropout(x) }.scalars
        #expect(Set(trained) == [0, Float(1) / 0.75])
        let kept = Double(trained.filter { $0 > 0 }.count) / 10000
        #expect(abs(kept - 0.75) < 0.02)
    }

    @Test(arguments: [Initializer.glorotUniform, .glorotNormal, .xavier, .heNormal, .heUniform])
    func initializersHaveTheirVariance(_ initializer: Initializer) {
        var generator = RandomGenerator(seed: 5)
        let values = initializer.makeTensor([400, 200], generator: &generator).scalars
        let variance = values.map { Double($0 * $0) }.reduce(0, +) / Double(values.count)
        let expected: Double =
            switch initializer {
            case .glorotUniform, .glorotNormal: 2.0 / 600
            case .xavier: 1.0 / 400
            default: 2.0 / 400
            }
        #expect(abs(variance / expected - 1) < 0.05)
    }

    @Test func fixedInitializers() {
        var generator = RandomGenerator(seed: 5)
        #expect(Initializer.zeros.makeTensor([3], generator: &generator).scalars == [0, 0, 0])
        #expect(Initializer.constant(0.5).makeTensor([2], generator: &generator).scalars == [0.5, 0.5])
        let small = Initializer.normal(standardDeviation: 0.01).makeTensor([10000], generator: &generator).scalars
        let sd = (small.map { Double($0 * $0) }.reduce(0, +) / 10000).squareRoot()
        #expect(abs(sd - 0.01) < 0.0005)
    }
}
