import Backprop
import Testing

/// Kernels must never read pooled memory before writing it: training with the pool's cached
/// blocks filled with NaN must give exactly the same numbers.
struct PoolPoisonTests {
    @Test func poisonedPoolDoesNotChangeTraining() throws {
        func run(poison: Bool) -> [Double] {
            seedGlobalRandom(5)
            let model = Model(inputShape: [12]) {
                Dense(12, 16, activation: .relu, kernelRegularizer: .l2(1e-3))
                Dropout(rate: 0.2)
                Dense(16, 8, activation: .tanh)
                Maxout(8, units: 2, pieces: 2)
                Dense(2, 3)
            }
            model.compile(optimizer: Adam(learningRate: 0.01, amsGrad: true), loss: .softmaxCrossEntropy, metrics: [.accuracy])
            var generator = RandomGenerator(seed: 1)
            let x = Tensor.randomNormal([50, 12], generator: &generator)
            let y = Tensor((0..<50).map { Float($0 % 3) })
            if poison { BufferPool.shared.fillCached(with: .nan) }
            let history = model.fit(x, y, batchSize: 8, epochs: 3, validationSplit: 0.2, seed: 2, verbose: false)
            return history["loss"] + history["val_loss"] + history["penalty"]
        }
        let clean = run(poison: false)
        let poisoned = run(poison: true)
        #expect(clean.allSatisfy { $0.isFinite })
        #expect(clean == poisoned)
    }
}
