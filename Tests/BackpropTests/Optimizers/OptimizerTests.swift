import Backprop
import BackpropTestSupport
import Testing

/// Three steps of each update rule on f(θ) = Σ c·θ² + d·θ, compared with NumPy (Fixtures).
struct OptimizerTests {
    let fixtures: Fixtures
    init() throws { fixtures = try Fixtures("reference.json", besides: #filePath) }

    func run(_ optimizer: Optimizer) -> [[Float]] {
        let theta = Parameter(Tensor(fixtures.floats("opt_theta0")))
        let c = Tensor(fixtures.floats("opt_c")), d = Tensor(fixtures.floats("opt_d"))
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

    @Test func plainSGD() { expectClose(run(SGD(learningRate: 0.1)), fixtures.rows("sgd") , "sgd") }
    @Test func momentum() { expectClose(run(SGD(learningRate: 0.1, momentum: 0.9)), fixtures.rows("momentum"), "momentum") }
    @Test func nesterov() { expectClose(run(SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)), fixtures.rows("nesterov"), "nesterov") }
    @Test func adamWithBiasCorrection() { expectClose(run(Adam(learningRate: 0.05)), fixtures.rows("adam"), "adam") }

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
