import Testing

@testable import Backprop

/// The reference backend is the oracle of the CPU backend (the gradient-check table runs on both,
/// `GradientCheckTests`); these cover the kernels that table does not reach.
struct ReferenceBackendTests {
    static let rules: [(String, OptimizerUpdate)] = [
        ("sgd", OptimizerUpdate(rule: .sgd(momentum: 0, nesterov: false), learningRate: 0.1, weightDecay: 0.01)),
        ("sgd momentum", OptimizerUpdate(rule: .sgd(momentum: 0.9, nesterov: false), learningRate: 0.1)),
        ("nesterov", OptimizerUpdate(rule: .sgd(momentum: 0.9, nesterov: true), learningRate: 0.1, weightDecay: 5e-4)),
        ("adagrad", OptimizerUpdate(rule: .adaGrad(epsilon: 1e-10), learningRate: 0.01)),
        (
            "rmsprop centered momentum",
            OptimizerUpdate(rule: .rmsProp(alpha: 0.99, epsilon: 1e-8, momentum: 0.5, centered: true), learningRate: 0.01)
        ),
        (
            "adam",
            OptimizerUpdate(
                rule: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection1: 0.1, biasCorrection2: 0.001, amsGrad: false),
                learningRate: 1e-3, weightDecay: 0.01)
        ),
        (
            "adamw amsgrad",
            OptimizerUpdate(
                rule: .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, biasCorrection1: 0.19, biasCorrection2: 0.002, amsGrad: true),
                learningRate: 1e-3, weightDecay: 0.01, decoupledWeightDecay: true)
        ),
    ]

    static func storage(_ values: [Float]) -> TensorStorage {
        let storage = TensorStorage(uninitializedCount: values.count)
        storage.pointer.update(from: values, count: values.count)
        return storage
    }

    /// Three updates of 1,000 parameters (a range inside them) on one backend.
    static func update(_ backend: any Backend, _ rule: OptimizerUpdate) -> [[Float]] {
        var generator = RandomGenerator(seed: 4)
        let parameters = storage((0..<1000).map { _ in generator.nextNormal() })
        let state = (0..<3).map { _ in storage(Array(repeating: 0, count: 1000)) }
        for _ in 0..<3 {
            let gradients = storage((0..<1000).map { _ in generator.nextNormal() })
            backend.optimizerUpdate(rule, parameters: parameters, gradients: gradients, state: state, range: 10..<990)
        }
        return ([parameters] + state).map { Array($0.buffer) }
    }

    @Test(arguments: rules.indices) func optimizerRulesAgree(_ index: Int) {
        let (name, rule) = Self.rules[index]
        let cpu = Self.update(CPUBackend(), rule)
        let reference = Self.update(ReferenceBackend(), rule)
        #expect(cpu[0][0..<10] == reference[0][0..<10], "\(name): parameters outside the range changed")
        for (buffer, (got, expected)) in zip(cpu, reference).enumerated() {
            // Parameters are N(0, 1): relative error above 1, absolute below (C may fuse a·b + c).
            let worst = zip(got, expected).map { abs($0 - $1) / max(abs($1), 1) }.max() ?? 0
            #expect(worst < 1e-5, "\(name): buffer \(buffer) differs by \(worst)")
        }
    }

    /// GEMMs of every transpose, α and β, with padded leading dimensions and offsets.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemmAgrees(transposeA: Bool, transposeB: Bool) {
        let (m, n, k, pad, offset) = (70, 90, 80, 3, 5)
        let (lda, ldb, ldc) = ((transposeA ? m : k) + pad, (transposeB ? k : n) + pad, n + pad)
        var generator = RandomGenerator(seed: 6)
        func random(_ count: Int) -> TensorStorage { Self.storage((0..<count).map { _ in generator.nextNormal() }) }
        let a = random(offset + (transposeA ? k : m) * lda)
        let b = random(offset + (transposeB ? n : k) * ldb)
        let initial = Array(random(offset + m * ldc).buffer)
        for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (1, 0.3)] {
            let results = [CPUBackend(), ReferenceBackend()].map { (backend: any Backend) -> [Float] in
                let c = Self.storage(initial)
                backend.gemm(
                    transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha, a: a, aOffset: offset, lda: lda,
                    b: b, bOffset: offset, ldb: ldb, beta: beta, c: c, cOffset: offset, ldc: ldc)
                return Array(c.buffer)
            }
            let worst = zip(results[0], results[1]).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst < 1e-3, "α \(alpha) β \(beta): differs by \(worst)")
            // The padding between rows and before the offset is left alone.
            #expect(results[0][0..<offset] == initial[0..<offset])
            #expect(results[0][offset + n..<offset + ldc] == initial[offset + n..<offset + ldc])
        }
    }

    /// A small CNN trained a few steps on each backend ends with the same weights: every kernel of
    /// a training step agrees, with the CPU backend's blocked layouts (16 and 32 channels), batch
    /// norm on blocked images, a Winograd convolution (32→32, 3×3) and a residual add in play.
    @Test func trainingStepsAgree() {
        func train() -> [Float] {
            seedGlobalRandom(2)
            var generator = RandomGenerator(seed: 8)
            let x = Tensor((0..<(8 * 6 * 6 * 2)).map { _ in generator.nextNormal() }, shape: [8, 6, 6, 2])
            let y = Tensor((0..<8).map { Float($0 % 3) })
            let model = Model(inputShape: [6, 6, 2]) {
                Conv2D(2, 16, kernelSize: 3, padding: .same, activation: .relu)
                BatchNorm(channels: 16)
                Conv2D(16, 32, kernelSize: 3, padding: .same, activation: .relu)
                MaxPool2D(2)
                Residual { Conv2D(32, 32, kernelSize: 3, padding: .same, activation: .relu) }
                Flatten()
                Dense(3 * 3 * 32, 3)
            }
            // SGD, not Adam: Adam turns rounding noise in a zero gradient (a bias before batch norm)
            // into a full step of either sign.
            model.compile(optimizer: SGD(learningRate: 0.05, momentum: 0.9), loss: .softmaxCrossEntropy)
            model.fit(x, y, batchSize: 4, epochs: 2, shuffle: false, verbose: false)
            return model.namedParameters.flatMap { $0.parameter.value.scalars }
        }
        let cpu = train()
        let reference = Backends.using(ReferenceBackend()) { train() }
        let worst = zip(cpu, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst < 1e-4, "weights differ by \(worst)")
        #expect(Backends.current is CPUBackend, "using(_:) must not outlive its body")
    }

    /// Inference (no tape) runs other plans than training: Winograd on blocked images for the 32→32
    /// convolution, NHWC for the first; predictions must still match the reference backend's.
    @Test func inferenceAgrees() {
        seedGlobalRandom(5)
        var generator = RandomGenerator(seed: 3)
        let x = Tensor((0..<(4 * 8 * 8 * 2)).map { _ in generator.nextNormal() }, shape: [4, 8, 8, 2])
        let model = Model(inputShape: [8, 8, 2]) {
            Conv2D(2, 32, kernelSize: 3, padding: .same, activation: .relu)
            Conv2D(32, 32, kernelSize: 3, padding: .same, activation: .relu)
            MaxPool2D(2)
            Flatten()
            Dense(4 * 4 * 32, 3)
        }
        let cpu = model.predict(x).scalars
        let reference = Backends.using(ReferenceBackend()) { model.predict(x).scalars }
        let scale = max(reference.map(abs).max() ?? 0, 1e-3)
        let worst = zip(cpu, reference).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst / scale < 1e-4, "predictions differ by \(worst) (largest \(scale))")
    }

    /// NaN follows C's fmaxf/fminf in clamping and clipping on both backends.
    @Test func nanIsClampedAlike() {
        let values: [Float] = [.nan, -3, 0.5, 3]
        let results = [CPUBackend(), ReferenceBackend()].map { (backend: any Backend) -> [[Float]] in
            let x = Self.storage(values)
            let y = TensorStorage(uninitializedCount: 4)
            backend.unary(.clamp(lower: -1, upper: 1), x, into: y, count: 4)
            let clipped = Self.storage(values)
            backend.clipValues(clipped, count: 4, limit: 2)
            return [Array(y.buffer), Array(clipped.buffer)]
        }
        #expect(results[0] == results[1], "\(results)")
    }
}
