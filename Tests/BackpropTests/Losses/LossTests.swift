import Backprop
import BackpropTestSupport
import Testing

struct LossTests {
    let fixtures: Fixtures
    init() throws { fixtures = try Fixtures("reference.json", besides: #filePath) }

    @Test func softmaxCrossEntropyMatchesNumPyWithItsGradient() {
        let logits = Tensor(fixtures.floats("logits"), shape: [4, 3]).requiringGradient()
        let labels = Tensor(fixtures.floats("labels"))
        let loss = SoftmaxCrossEntropy()(logits, labels)
        #expect(abs(Double(loss.item) - fixtures.double("cross_entropy")) < 1e-4)
        loss.backward()
        #expect(ReferenceMath.maxRelativeDifference(logits.gradient!.scalars, fixtures.floats("cross_entropy_grad")) < 1e-6)
    }

    @Test func oneHotTargetsGiveTheSameLossAsIntegerLabels() {
        let logits = Tensor(fixtures.floats("logits"), shape: [4, 3])
        let labels = fixtures.floats("labels").map(Int.init)
        var oneHot = [Float](repeating: 0, count: 12)
        for (row, label) in labels.enumerated() { oneHot[row * 3 + label] = 1 }
        let fromLabels = SoftmaxCrossEntropy()(logits, Tensor(labels.map(Float.init)))
        let fromOneHot = SoftmaxCrossEntropy()(logits, Tensor(oneHot, shape: [4, 3]))
        #expect(abs(fromLabels.item - fromOneHot.item) < 1e-3)
    }

    @Test func binaryCrossEntropyMatchesNumPy() {
        let loss = BinaryCrossEntropy()(Tensor(fixtures.floats("bce_logits")), Tensor(fixtures.floats("bce_targets")))
        #expect(abs(Double(loss.item) - fixtures.double("bce")) < 1e-5)
    }

    @Test func regressionLossesByHand() {
        let p = Tensor([1, 2, 4])
        let t = Tensor([0, 2, 1])
        #expect(abs(MeanSquaredError()(p, t).item - 10.0 / 3) < 1e-6)
        #expect(abs(MeanAbsoluteError()(p, t).item - 4.0 / 3) < 1e-6)
        // Huber, d = [1, 0, 3]: δ = 1 → [½, 0, 1·(3 − ½)] = 3/3; δ = 2 → [½, 0, 2·(3 − 1)] = 4.5/3.
        #expect(abs(HuberLoss(delta: 1)(p, t).item - 1.0) < 1e-6)
        #expect(abs(HuberLoss(delta: 2)(p, t).item - 1.5) < 1e-6)
    }

    @Test func untrainedTenClassLossIsLogTen() {
        // Equal logits: every class has probability 1/10.
        let loss = SoftmaxCrossEntropy()(Tensor.zeros([5, 10]), Tensor([0, 3, 9, 1, 2]))
        #expect(abs(loss.item - 2.302585) < 1e-5)
    }

    @Test func accuracyAndTopK() {
        let predictions = Tensor([0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.3, 0.3, 0.4], shape: [3, 3])
        let labels = Tensor([1, 1, 0])
        #expect(Accuracy().value(predictions: predictions, targets: labels) == 1.0 / 3)
        #expect(TopKAccuracy(k: 2).value(predictions: predictions, targets: labels) == 1)
        #expect(Accuracy().value(predictions: Tensor([2, -1, 0.5, -3]), targets: Tensor([1, 0, 0, 0])) == 0.75)
    }
}
