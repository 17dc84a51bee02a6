import Backprop

/// The contract every layer must keep, checked in one place: the output shape for an input, the
/// parameter count and names (by path), the gradients of the input and of every trainable
/// parameter against central finite differences, and — for layers with trainable parameters — one
/// small SGD step lowering a squared-error loss.
public struct LayerContract: Sendable, CustomStringConvertible {
    public let name: String
    /// Input batch shape.
    public let input: Shape
    /// Expected output batch shape.
    public let output: Shape
    /// Expected parameter names (trainable or not), in the order reflection finds them.
    public let parameterNames: [String]
    /// Expected number of parameter scalars.
    public let parameterCount: Int
    /// Run in training mode.
    public let training: Bool
    /// Inputs on a shuffled even grid (no two within 2ε), for max-style layers.
    public let distinct: Bool
    public let make: @Sendable () -> any Layer

    public init(
        _ name: String, input: Shape, output: Shape, parameters parameterNames: [String], count parameterCount: Int,
        training: Bool = false, distinct: Bool = false, _ make: @escaping @Sendable () -> any Layer
    ) {
        self.distinct = distinct
        self.name = name
        self.input = input
        self.output = output
        self.parameterNames = parameterNames
        self.parameterCount = parameterCount
        self.training = training
        self.make = make
    }

    public var description: String { name }

    /// Random inputs in ±2 away from 0, or a shuffled grid with steps of 0.05 when `distinct`.
    public func makeInput() -> Tensor {
        guard distinct else { return Tensor(ReferenceMath.values(input.elementCount, seed: 1, gap: 0.1), shape: input) }
        var generator = RandomGenerator(seed: 1)
        return Tensor((0..<input.elementCount).map { Float($0) * 0.05 - 2 }.shuffled(using: &generator), shape: input)
    }

    /// Every way the layer breaks the contract (empty when it keeps it).
    public func violations() -> [String] {
        var problems: [String] = []
        seedGlobalRandom(3)
        let layer = make()
        let x = makeInput()
        let y = withTrainingMode(training) { withoutGradient { layer(x) } }
        if y.shape != output { problems.append("output shape \(y.shape), expected \(output)") }
        if layer.parameterCount != parameterCount { problems.append("\(layer.parameterCount) parameters, expected \(parameterCount)") }
        let names = layer.namedParameters.map(\.name)
        if names != parameterNames { problems.append("parameter names \(names), expected \(parameterNames)") }
        let gradients = checkLayerGradients(layer, input: x, training: training)
        if !gradients.passed { problems.append("gradients: \(gradients)") }
        if let step = stepLowersTheLoss(layer, x), !step.lowered {
            problems.append("one SGD step did not lower the loss: \(step.before) → \(step.after)")
        }
        return problems
    }

    /// ½‖layer(x) − t‖² for a fixed random t, before and after one SGD step of a small rate; nil
    /// for layers with nothing to train.
    private func stepLowersTheLoss(_ layer: any Layer, _ x: Tensor) -> (lowered: Bool, before: Float, after: Float)? {
        let trainable = layer.parameters.filter(\.isTrainable)
        guard !trainable.isEmpty else { return nil }
        var generator = RandomGenerator(seed: 5)
        let target = Tensor.randomNormal(output, generator: &generator)
        func loss() -> Tensor { ((withTrainingMode(training) { layer(x) } - target).squared().sum()) * 0.5 }
        let optimizer = SGD(learningRate: 1e-3)
        optimizer.bind(trainable)
        optimizer.zeroGradients()
        let before = loss()
        before.backward()
        optimizer.step()
        let after = withoutGradient { loss() }.item
        return (after < before.item, before.item, after)
    }
}
