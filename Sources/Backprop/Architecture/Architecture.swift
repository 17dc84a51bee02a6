/// A network described by its input shape and layer specs, before anything is allocated: it can
/// be checked (every layer against the shape it receives), counted and sized, then built.
///
/// ```swift
/// let architecture = Architecture(inputShape: [28, 28, 1], layers: [
///     .conv2D(filters: 32, kernelSize: 3, padding: .same, activation: .relu), .maxPool2D(size: 2),
///     .flatten, .dense(units: 10),
/// ])
/// let plan = try architecture.plan()      // shapes and parameter counts; throws naming the layer
/// let model = try architecture.makeModel()
/// ```
public struct Architecture: Sendable, Equatable {
    /// Shape of one input sample (without the batch axis).
    public var inputShape: Shape
    /// The layers, in order.
    public var layers: [LayerSpec]

    public init(inputShape: Shape, layers: [LayerSpec]) {
        self.inputShape = inputShape
        self.layers = layers
    }

    /// What each layer receives and produces, and its parameter count.
    public struct Plan: Sendable {
        /// Per layer: input shape, output shape, parameters.
        public let steps: [(layer: LayerSpec, input: Shape, output: Shape, parameters: Int)]
        /// All parameters (saturating at `Int.max`).
        public var parameterCount: Int {
            steps.reduce(0) { Architecture.saturatingSum($0, $1.parameters) }
        }
        /// Scalars of every layer's output for one sample (saturating): what a forward pass keeps,
        /// the nodes of graphs and the branches of residual blocks included.
        public var activationCount: Int {
            steps.reduce(0) { total, step in
                Architecture.saturatingSum(total, step.layer.activationCount(for: step.input, output: step.output))
            }
        }
        /// The output shape of the last layer.
        public let outputShape: Shape
    }

    /// Checks every layer against the shape it receives.
    ///
    /// - Throws: ``BackpropError/layerDoesNotFit(layer:inputShape:rule:)`` naming the first layer
    ///   (by index) that cannot take its input.
    public func plan() throws -> Plan {
        guard inputShape.rank >= 1, inputShape.dimensions.allSatisfy({ $0 > 0 }), Shape.isReasonable(inputShape.dimensions) else {
            throw BackpropError.invalidArgument(
                name: "input shape", expected: "positive extents whose product fits in memory", found: "\(inputShape)")
        }
        var shape = inputShape
        var steps: [(LayerSpec, Shape, Shape, Int)] = []
        for (index, layer) in layers.enumerated() {
            do {
                let (output, parameters) = try layer.plan(for: shape)
                steps.append((layer, shape, output, parameters))
                shape = output
            } catch BackpropError.layerDoesNotFit(let name, let input, let rule) {
                throw BackpropError.layerDoesNotFit(layer: "layer \(index) (\(name))", inputShape: input, rule: rule)
            }
        }
        return Plan(steps: steps, outputShape: shape)
    }

    /// One layer with the shapes it receives and produces.
    struct Step {
        let layer: LayerSpec
        let input: Shape
        let output: Shape
    }

    /// `layers` applied in turn to `input` (already checked by ``plan()``).
    static func steps(_ layers: [LayerSpec], from input: Shape) -> [Step] {
        var shape = input
        return layers.map { layer in
            let output = (try? layer.plan(for: shape).output) ?? shape
            defer { shape = output }
            return Step(layer: layer, input: shape, output: output)
        }
    }

    /// Builds the model (weights initialized from the global generator).
    public func makeModel() throws -> Model {
        let plan = try plan()
        let layers = plan.steps.map { $0.layer.makeLayer(for: $0.input) }
        // A network that is one graph is that graph (its nodes are `layers.i`, as a Sequential's).
        let network: any Layer = layers.count == 1 && layers[0] is Graph ? layers[0] : Sequential(layers)
        let model = Model(inputShape: inputShape, network)
        model.architecture = self
        return model
    }
}

extension Architecture {
    static func saturatingSum(_ a: Int, _ b: Int) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}

extension LayerSpec {
    /// Scalars a forward pass keeps for one sample of `input`: the output, plus every node's output
    /// inside a graph and every layer's inside a residual block's branches.
    func activationCount(for input: Shape, output: Shape) -> Int {
        switch self {
        case .graph(let graph):
            guard let planned = try? graph.plan(for: input) else { return output.elementCount }
            return planned.nodes.reduce(output.elementCount) { total, node in
                Architecture.saturatingSum(
                    total,
                    node.node.layer.isMerge || node.inputs.count != 1
                        ? node.output.elementCount : node.node.layer.activationCount(for: node.inputs[0], output: node.output))
            }
        case .residual(let body, let shortcut):
            return (Architecture.steps(body, from: input) + Architecture.steps(shortcut, from: input)).reduce(output.elementCount) {
                Architecture.saturatingSum($0, $1.layer.activationCount(for: $1.input, output: $1.output))
            }
        default:
            return output.elementCount
        }
    }
}
