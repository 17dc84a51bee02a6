/// The outcome of ``checkGradients(of:at:epsilon:tolerance:seed:)``.
public struct GradientCheckResult: Sendable, CustomStringConvertible {
    /// The largest relative error between back-propagated and finite-difference derivatives.
    public let maxRelativeError: Double
    /// Where it occurred: input number (for layers: 0 the input, then each trainable parameter),
    /// flat element index, analytic and numeric values.
    public let worst: (input: Int, element: Int, analytic: Double, numeric: Double)
    /// The threshold used.
    public let tolerance: Double

    /// Whether every derivative agreed within the tolerance.
    public var passed: Bool { maxRelativeError <= tolerance }

    public var description: String {
        "max relative error \(maxRelativeError) (tolerance \(tolerance)) at input \(worst.input) element \(worst.element): "
            + "backprop \(worst.analytic), finite difference \(worst.numeric)"
    }
}

/// Compares the gradients back-propagation computes for `function` with central finite
/// differences, the course's gradient check.
///
/// The output is reduced to a scalar with fixed random weights (L = Σ wᵢ·f(x)ᵢ), so every output
/// element's gradient is exercised. Each input element is perturbed by ±epsilon and
/// (L(x+ε) − L(x−ε)) / 2ε is compared with ∂L/∂x from `backward()`; the relative error is
/// |a − n| / max(|a|, |n|, 1e-3). In Float32 an epsilon near 1e-2 balances rounding against
/// truncation error; keep inputs away from kinks (ReLU at 0, ties in max).
///
/// ```swift
/// let result = checkGradients(of: { $0[0].tanh() }, at: [Tensor.randomNormal([3, 4])])
/// #expect(result.passed)
/// ```
public func checkGradients(
    of function: ([Tensor]) -> Tensor, at inputs: [Tensor], epsilon: Float = 1e-2, tolerance: Double = 1e-2,
    seed: UInt64 = 7
) -> GradientCheckResult {
    let leaves = inputs.map { $0.copy().requiringGradient() }
    let output = function(leaves)
    var generator = RandomGenerator(seed: seed)
    let weights = (0..<output.elementCount).map { _ in Double(generator.nextUniform()) * 2 - 1 }
    output.backward(seed: Tensor(weights.map(Float.init), shape: output.shape))

    func weightedSum() -> Double {
        let values = withoutGradient { function(leaves) }.scalars
        return zip(values, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
    }

    var worst = (input: 0, element: 0, analytic: 0.0, numeric: 0.0)
    var maxError = 0.0
    for (index, leaf) in leaves.enumerated() {
        let analytic = leaf.gradient!.scalars
        let pointer = leaf.storage.pointer
        for element in 0..<leaf.elementCount {
            let original = pointer[element]
            pointer[element] = original + epsilon
            let plus = weightedSum()
            pointer[element] = original - epsilon
            let minus = weightedSum()
            pointer[element] = original
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let a = Double(analytic[element])
            let error = Swift.abs(a - numeric) / Swift.max(Swift.abs(a), Swift.abs(numeric), 1e-3)
            if error > maxError || !error.isFinite {
                maxError = error.isFinite ? error : .infinity
                worst = (index, element, a, numeric)
            }
        }
    }
    return GradientCheckResult(maxRelativeError: maxError, worst: worst, tolerance: tolerance)
}

/// Checks a layer's parameter gradients (and its input gradient) against central finite
/// differences, in training or inference mode: the layer contract every layer should pass.
///
/// Parameters are perturbed in place and restored. Layers whose training-mode forward has side
/// effects (batch norm's running statistics) are fine: only the output is compared.
public func checkLayerGradients(
    _ layer: any Layer, input: Tensor, training: Bool = false, epsilon: Float = 1e-2, tolerance: Double = 1e-2,
    seed: UInt64 = 7
) -> GradientCheckResult {
    let parameters = layer.parameters.filter(\.isTrainable)
    let leaf = input.copy().requiringGradient()
    for parameter in parameters { parameter.zeroGradient() }
    let output = withTrainingMode(training) { layer(leaf) }
    var generator = RandomGenerator(seed: seed)
    let weights = (0..<output.elementCount).map { _ in Double(generator.nextUniform()) * 2 - 1 }
    output.backward(seed: Tensor(weights.map(Float.init), shape: output.shape))

    func weightedSum() -> Double {
        let values = withoutGradient { withTrainingMode(training) { layer(leaf) } }.scalars
        return zip(values, weights).reduce(0) { $0 + Double($1.0) * $1.1 }
    }
    var worst = (input: 0, element: 0, analytic: 0.0, numeric: 0.0)
    var maxError = 0.0
    let targets: [(analytic: [Float], pointer: UnsafeMutablePointer<Float>, count: Int)] =
        [(leaf.gradient!.scalars, leaf.storage.pointer, leaf.elementCount)]
        + parameters.map { ($0.gradient.scalars, $0.value.storage.pointer, $0.elementCount) }
    for (index, target) in targets.enumerated() {
        for element in 0..<target.count {
            let original = target.pointer[element]
            target.pointer[element] = original + epsilon
            let plus = weightedSum()
            target.pointer[element] = original - epsilon
            let minus = weightedSum()
            target.pointer[element] = original
            let numeric = (plus - minus) / (2 * Double(epsilon))
            let a = Double(target.analytic[element])
            let error = Swift.abs(a - numeric) / Swift.max(Swift.abs(a), Swift.abs(numeric), 1e-3)
            if error > maxError || !error.isFinite {
                maxError = error.isFinite ? error : .infinity
                worst = (index, element, a, numeric)
            }
        }
    }
    return GradientCheckResult(maxRelativeError: maxError, worst: worst, tolerance: tolerance)
}
