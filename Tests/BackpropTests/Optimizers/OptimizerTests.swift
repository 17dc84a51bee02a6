import Backprop
import BackpropTestSupport
import Testing

/// Three steps of each update rule on f(θ) = Σ c·θ² + d·θ, compared with NumPy (Fixtures).
struct OptimizerTests {
    let fixtures: Fixtures
    init() throws { fixtures = try Fixtures("reference.json", besides: #filePath) }

    func run(_ optimizer: Optimizer) -> [[Float]] {
        let theta = Parameter(Tensor(fixtures.floats("opt_theta0")))
        let c = Tensor(fixtures.floats("opt_c"))
        let d = Tensor(fixtures.floats("opt_d"))
        optimizer.bind([theta])
        var trajectory: [[Float]] = []
        for _ in 0..<3 {
            optimizer.zeroGradients()
            (c * theta.value.squared() + d * theta.value).sum().backward()
            optimizer.step()
            trajectory.append(theta.value.scalars)
        }
        return trajectory
    }

    func expectClose(_ actual: [[Float]], _ expected: [[Float]], _ name: String) {
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            #expect(ReferenceMath.maxRelativeDifference(a, e) < 1e-6, "\(name) step \(step + 1): \(a) vs \(e)")
        }
    }

    @Test func plainSGD() { expectClose(run(SGD(learningRate: 0.1)), fixtures.rows("sgd"), "sgd") }
    @Test func momentum() { expectClose(run(SGD(learningRate: 0.1, momentum: 0.9)), fixtures.rows("momentum"), "momentum") }
    @Test func nesterov() { expectClose(run(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)), fixtures.rows("nesterov"), "nesterov") }
    @Test func adamWithBiasCorrection() { expectClose(run(Adam(learningRate: 0.05)), fixtures.rows("adam"), "adam") }

    @Test func sgdWithMomentumAndWeightDecay() {
        expectClose(run(SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.05)), fixtures.rows("sgd_weight_decay"), "sgd+wd")
    }

    @Test func adaGrad() { expectClose(run(AdaGrad(learningRate: 0.3)), fixtures.rows("adagrad"), "adagrad") }
    @Test func rmsProp() { expectClose(run(RMSProp(learningRate: 0.01)), fixtures.rows("rmsprop"), "rmsprop") }

    @Test func rmsPropCenteredWithMomentum() {
        expectClose(
            run(RMSProp(learningRate: 0.01, momentum: 0.8, centered: true)), fixtures.rows("rmsprop_momentum_centered"), "rmsprop centered")
    }

    @Test func amsGrad() {
        let trajectory = run(Adam(learningRate: 0.5, beta2: 0.5, amsGrad: true))
        expectClose(trajectory, fixtures.rows("amsgrad"), "amsgrad")
        #expect(ReferenceMath.maxRelativeDifference(run(Adam(learningRate: 0.5, beta2: 0.5))[2], trajectory[2]) > 1e-4)
    }

    @Test func adamWDecouplesWeightDecay() {
        expectClose(run(AdamW(learningRate: 0.05, weightDecay: 0.1)), fixtures.rows("adamw"), "adamw")
        expectClose(run(Adam(learningRate: 0.05, weightDecay: 0.1)), fixtures.rows("adam_l2"), "adam+l2")
    }

    @Test func gradientClipping() {
        let byNorm = SGD(learningRate: 0.1)
        byNorm.clipNorm = 1
        expectClose(run(byNorm), fixtures.rows("sgd_clip_norm"), "clip norm")
        let byValue = SGD(learningRate: 0.1)
        byValue.clipValue = 0.5
        expectClose(run(byValue), fixtures.rows("sgd_clip_value"), "clip value")
    }

    @Test func wrongMomentumFormulaWouldBeCaught() {
        // Keras-style momentum (v = μv − ηg) equals PyTorch's only at constant lr; a dampened
        // update v = μv + (1−μ)g is a different rule and must not match.
        let expected = fixtures.rows("momentum")
        let dampened = run(SGD(learningRate: 0.01, momentum: 0.9))
        #expect(ReferenceMath.maxRelativeDifference(dampened[2], expected[2]) > 1e-3)
    }

    @Test func parameterGroupsGetTheirOwnLearningRateAndDecay() {
        let a = Parameter(Tensor([1, 1]))
        let b = Parameter(Tensor([1, 1]))
        let sgd = SGD(learningRate: 0.1, weightDecay: 0.5)
        sgd.bind([a, b])
        sgd.setOptions(for: [b], learningRateScale: 2, weightDecay: 0)
        (a.value + b.value).sum().backward()
        sgd.step()
        let expectedA: Float = 1 - 0.1 * (1 + 0.5)
        let expectedB: Float = 1 - 0.2
        #expect(a.value.scalars == [expectedA, expectedA])
        #expect(b.value.scalars == [expectedB, expectedB])
    }

    @Test func wrongBiasCorrectionWouldBeCaught() {
        // Adam without bias correction takes a 10× smaller first step; the fixture tells them apart.
        let expected = fixtures.rows("adam")
        let uncorrected = run(Adam(learningRate: 0.005))  // lr·(1−β1) mimics m without correction
        #expect(ReferenceMath.maxRelativeDifference(uncorrected[0], expected[0]) > 1e-3)
    }

    @Test func stepWithoutBackwardSeesZeroGradients() {
        let p = Parameter(Tensor([1, 2]))
        let sgd = SGD(learningRate: 0.5)
        sgd.bind([p])
        (p.value * 4).sum().backward()
        sgd.step()
        #expect(p.value.scalars == [-1, 0])
        sgd.zeroGradients()
        sgd.step()
        #expect(p.value.scalars == [-1, 0])
    }
}

struct ReviewRegressionTests {
    @Test func freezingAfterCompileStopsUpdatesAndUnfreezingResumesThem() {
        let frozen = Parameter(Tensor([1, 1]))
        let trained = Parameter(Tensor([1, 1]))
        let sgd = SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.5)
        sgd.bind([frozen, trained])
        frozen.isTrainable = false
        for _ in 0..<3 {
            sgd.zeroGradients()
            (frozen.value * trained.value).sum().backward()
            sgd.step()
        }
        #expect(frozen.value.scalars == [1, 1])
        #expect(trained.value.scalars != [1, 1])
        frozen.isTrainable = true
        sgd.zeroGradients()
        (frozen.value * trained.value).sum().backward()
        sgd.step()
        #expect(frozen.value.scalars != [1, 1])
    }

    @Test func gradientsAreSnapshots() {
        let p = Parameter(Tensor([2]))
        (p.value * 3).sum().backward()
        let first = p.gradient
        (p.value * 5).sum().backward()
        #expect(first.scalars == [3])
        #expect(p.gradient.scalars == [8])
    }

    @Test func emptyInnerDimensionMatmulIsZero() {
        #expect(matmul(Tensor.zeros([4, 0]), Tensor.zeros([0, 3])).scalars == [Float](repeating: 0, count: 12))
    }

    @Test func abandonedAndFailingStreamsEnd() throws {
        struct Failing: Dataset {
            var count: Int { 10 }
            var inputShape: Shape { [1] }
            var targetShape: Shape { [] }
            func read(_ index: Int, input: UnsafeMutableBufferPointer<Float>, target: UnsafeMutableBufferPointer<Float>) throws {
                if index == 5 { throw BackpropError.fileNotFound(path: "sample 5") }
                input[0] = Float(index)
                target[0] = 0
            }
        }
        let stream = DataLoader(Failing(), batchSize: 2, prefetch: true).batches(epoch: 1)
        #expect(try stream.next() != nil)
        #expect(try stream.next() != nil)
        #expect(throws: BackpropError.self) { try stream.next() }
        #expect(try stream.next() == nil)  // no hang after the error
        let cancelled = DataLoader(Failing(), batchSize: 1, prefetch: true).batches(epoch: 1)
        _ = try cancelled.next()
        cancelled.cancel()
        #expect(try cancelled.next() == nil)
        // Dropping a stream with batches left must not keep its thread waiting.
        for _ in 0..<20 { _ = try DataLoader(Failing(), batchSize: 1, prefetch: true).batches(epoch: 1).next() }
    }
}
