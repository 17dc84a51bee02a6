import Backprop
import BackpropTestSupport
import Testing

/// The course's sanity checks, on the real Fashion-MNIST that scripts/test.sh installs.
@Suite(.serialized)
struct TrainingTests {
    static let data = Result { try FashionMNIST.load() }

    static func mlp(seed: UInt64) -> Model {
        seedGlobalRandom(seed)
        return Model(inputShape: [28, 28, 1]) {
            Flatten()
            Dense(784, 512, activation: .relu)
            Dense(512, 256, activation: .relu)
            Dense(256, 10)
        }
    }

    @Test func defaultDatasetLoads() throws {
        let (train, test) = try Self.data.get()
        #expect(train.inputs.shape == [60000, 28, 28, 1] && train.labels.shape == [60000])
        #expect(test.count == 10000)
        #expect(train.inputs.max().item == 1 && train.inputs.scalars.min() == 0)
    }

    @Test(arguments: [0, 1, 2] as [UInt64])
    func untrainedLossIsNearLogTen(seed: UInt64) throws {
        let test = try Self.data.get().test
        let model = Self.mlp(seed: seed)
        model.compile(optimizer: SGD(), loss: .softmaxCrossEntropy)
        let loss = model.evaluate(test.inputs.slice([0..<2000]), test.labels.slice([0..<2000]))["loss"]!
        #expect(abs(loss - 2.3026) < 0.1, "initial loss \(loss)")
    }

    @Test func overfitsThirtyTwoSamples() throws {
        let train = try Self.data.get().train
        let x = train.inputs.slice([0..<32])
        let y = train.labels.slice([0..<32])
        let model = Self.mlp(seed: 0)
        model.compile(optimizer: Adam(learningRate: 1e-3), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        var epochs = 0
        var accuracy = 0.0
        while epochs < 60 && accuracy < 1 {
            model.fit(x, y, batchSize: 4, epochs: 1, seed: UInt64(epochs), verbose: false)
            accuracy = model.evaluate(x, y)["accuracy"]!
            epochs += 1
        }
        #expect(accuracy == 1, "training accuracy \(accuracy) after \(epochs) epochs")
    }

    @Test func sameSeedGivesIdenticalRunAndAnotherSeedDoesNot() throws {
        let train = try Self.data.get().train
        let x = train.inputs.slice([0..<3000])
        let y = train.labels.slice([0..<3000])
        func run(_ seed: UInt64) -> [Double] {
            let model = Self.mlp(seed: seed)
            model.compile(optimizer: Adam(), loss: .softmaxCrossEntropy, metrics: [.accuracy])
            let history = model.fit(x, y, batchSize: 128, epochs: 2, validationSplit: 0.2, seed: seed, verbose: false)
            return history["loss"] + history["val_loss"]
        }
        let first = run(3)
        let second = run(3)
        let other = run(4)
        #expect(first == second)
        #expect(first != other)
        #expect(first.count == 4)
    }

    @Test func learnsBeyondChanceQuickly() throws {
        let (train, test) = try Self.data.get()
        let model = Self.mlp(seed: 0)
        model.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: .softmaxCrossEntropy, metrics: [.accuracy])
        let history = model.fit(train.inputs.slice([0..<5000]), train.labels.slice([0..<5000]), batchSize: 64, epochs: 2, verbose: false)
        #expect(history["loss"][1] < history["loss"][0])
        let accuracy = model.evaluate(test.inputs.slice([0..<1000]), test.labels.slice([0..<1000]))["accuracy"]!
        #expect(accuracy > 0.7, "test accuracy \(accuracy)")
        // predict in batches of 128 equals one forward pass over all 300, and its argmax is the
        // accuracy evaluate reports on the same samples.
        let inputs = test.inputs.slice([0..<300])
        let predictions = model.predict(inputs, batchSize: 128)
        #expect(predictions.shape == [300, 10])
        let whole = withoutGradient { model(inputs) }
        #expect(ReferenceMath.maxRelativeDifference(predictions.scalars, whole.scalars) < 1e-5)
        let predicted = predictions.argmax(alongAxis: -1).scalars
        let correct = zip(predicted, test.labels.slice([0..<300]).scalars).filter { $0 == $1 }.count
        let evaluated = model.evaluate(inputs, test.labels.slice([0..<300]))["accuracy"]!
        #expect(abs(Double(correct) / 300 - evaluated) < 1e-9)
    }
}
