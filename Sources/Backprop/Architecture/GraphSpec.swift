/// A graph of layer specs (``LayerSpec/graph(_:)``): named inputs, nodes that each apply a layer
/// to earlier inputs or nodes, and named outputs. Merge specs (`add`, `subtract`, `multiply`,
/// `concatenate`) take several inputs; every other layer takes one. Built as a ``Graph``.
///
/// ```swift
/// let graph = GraphSpec(
///     inputs: [.init("image", [28, 28, 1]), .init("size", [1])],
///     nodes: [
///         .init("conv", .conv2D(filters: 8, kernelSize: 3, activation: .relu), from: ["image"]),
///         .init("flat", .flatten, from: ["conv"]),
///         .init("joined", .concatenate(axis: -1), from: ["flat", "size"]),
///         .init("class", .dense(units: 10), from: ["joined"]),
///     ],
///     outputs: ["class"])
/// let architecture = Architecture(graph: graph)
/// ```
public struct GraphSpec: Sendable, Equatable {
    /// A named input; a nil shape (one input only) takes whatever reaches the graph.
    public struct Input: Sendable, Equatable {
        public var name: String
        public var shape: Shape?

        public init(_ name: String, _ shape: Shape? = nil) {
            self.name = name
            self.shape = shape
        }
    }

    /// A named layer and the names of what it reads.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var layer: LayerSpec
        public var inputs: [String]

        public init(_ name: String, _ layer: LayerSpec, from inputs: [String]) {
            self.name = name
            self.layer = layer
            self.inputs = inputs
        }
    }

    public var inputs: [Input]
    public var nodes: [Node]
    public var outputs: [String]

    public init(inputs: [Input], nodes: [Node], outputs: [String]) {
        self.inputs = inputs
        self.nodes = nodes
        self.outputs = outputs
    }

    /// Every value's shape (inputs, then nodes) and each node's parameter count, for the graph
    /// receiving `input` (packed when it has several inputs).
    public struct Plan: Sendable {
        /// The inputs with their resolved shapes.
        public let inputs: [(name: String, shape: Shape)]
        /// Per node: the shapes it receives, its output shape and its parameters.
        public let nodes: [(node: Node, inputs: [Shape], output: Shape, parameters: Int)]
        /// The outputs with their shapes.
        public let outputs: [(name: String, shape: Shape)]
        /// Value indices: each node's inputs, and the outputs (`0..<inputs.count`: the graph's inputs).
        public let connections: [[Int]]
        public let outputIndices: [Int]

        /// What the graph returns as one layer: the one output, or every output packed.
        public var packedOutput: Shape { Graph.packedShape(outputs.map(\.shape)) }
    }

    /// Checks names, order and every node against what reaches it.
    ///
    /// - Throws: ``BackpropError/layerDoesNotFit(layer:inputShape:rule:)`` naming the node.
    public func plan(for input: Shape) throws -> Plan {
        func fail(_ rule: String) -> BackpropError { .layerDoesNotFit(layer: "Graph", inputShape: "\(input)", rule: rule) }
        guard !inputs.isEmpty else { throw fail("it needs at least one input") }
        guard !outputs.isEmpty else { throw fail("it needs at least one output") }
        // Inputs: one takes what arrives (or checks it); several arrive packed as [Σ sizes].
        let shapes: [Shape]
        if inputs.count == 1 {
            if let declared = inputs[0].shape, declared != input {
                throw fail("its input \"\(inputs[0].name)\" is declared \(declared)")
            }
            shapes = [input]
        } else {
            shapes = try inputs.map { item in
                guard let shape = item.shape else { throw fail("with several inputs each needs a shape (\"\(item.name)\" has none)") }
                guard shape.rank >= 1, shape.dimensions.allSatisfy({ $0 > 0 }), Shape.isReasonable(shape.dimensions) else {
                    throw fail("input \"\(item.name)\" needs positive extents, got \(shape)")
                }
                return shape
            }
            let packed = Graph.packedShape(shapes)
            guard input == packed else {
                throw fail(
                    "its inputs \(zip(inputs, shapes).map { "\($0.name) \($1)" }.joined(separator: ", ")) arrive packed as \(packed)")
            }
        }
        var index: [String: Int] = [:]
        for (i, name) in (inputs.map(\.name) + nodes.map(\.name)).enumerated() {
            if let problem = Graph.problem(withName: name, isInput: i < inputs.count) { throw fail(problem) }
            guard index.updateValue(i, forKey: name) == nil else { throw fail("the name \"\(name)\" is used twice") }
        }
        var values = shapes
        var planned: [(Node, [Shape], Shape, Int)] = []
        var connections: [[Int]] = []
        var used = Set<Int>()
        for (j, node) in nodes.enumerated() {
            let position = inputs.count + j
            guard !node.inputs.isEmpty else { throw fail("node \"\(node.name)\" reads nothing (give it \"inputs\")") }
            let sources = try node.inputs.map { name in
                guard let source = index[name] else { throw fail("node \"\(node.name)\" reads \"\(name)\", which is no input or node") }
                guard source < position else {
                    throw fail("node \"\(node.name)\" reads \"\(name)\", which comes after it (list nodes after what they read)")
                }
                return source
            }
            used.formUnion(sources)
            let received = sources.map { values[$0] }
            do {
                let (output, parameters) = try node.layer.plan(receiving: received)
                planned.append((node, received, output, parameters))
                values.append(output)
            } catch BackpropError.layerDoesNotFit(let name, let inputShape, let rule) {
                throw BackpropError.layerDoesNotFit(layer: "node \"\(node.name)\" (\(name))", inputShape: inputShape, rule: rule)
            }
            connections.append(sources)
        }
        if let problem = Graph.problem(withOutputs: outputs) { throw fail(problem) }
        let outputIndices = try outputs.map { name in
            guard let value = index[name] else { throw fail("the output \"\(name)\" is no input or node") }
            return value
        }
        used.formUnion(outputIndices)
        if let unused = (0..<values.count).first(where: { !used.contains($0) }) {
            let name = unused < inputs.count ? "input \"\(inputs[unused].name)\"" : "node \"\(nodes[unused - inputs.count].name)\""
            throw fail("the \(name) leads to no output")
        }
        return Plan(
            inputs: zip(inputs.map(\.name), shapes).map { ($0, $1) }, nodes: planned,
            outputs: zip(outputs, outputIndices).map { ($0, values[$1]) }, connections: connections, outputIndices: outputIndices)
    }

    /// The graph layer for `input` (which ``plan(for:)`` accepted).
    func makeLayer(for input: Shape) -> Graph {
        guard let plan = try? plan(for: input) else { preconditionFailure("GraphSpec.makeLayer: call plan(for:) first") }
        let ports = plan.inputs.map { Graph.Port($0.name, $0.shape) }
        let nodes = plan.nodes.map { item in
            Graph.Node(item.node.name, item.node.layer.makeLayer(receiving: item.inputs), from: item.node.inputs)
        }
        do {
            return try Graph(inputs: ports, nodes: nodes, outputs: outputs)
        } catch {
            preconditionFailure("GraphSpec.makeLayer: a planned graph did not build: \(error)")
        }
    }
}

extension LayerSpec {
    /// Whether the layer combines several inputs (`add`, `subtract`, `multiply`, `concatenate`).
    public var isMerge: Bool {
        switch self {
        case .add, .subtract, .multiply, .concatenate: true
        default: false
        }
    }

    /// The merge layer of a merge spec.
    var mergeLayer: (any MergeLayer)? {
        switch self {
        case .add: Add()
        case .subtract: Subtract()
        case .multiply: Multiply()
        case .concatenate(let axis): Concatenate(axis: axis)
        default: nil
        }
    }

    /// The output shape and parameters for the inputs a graph node receives.
    func plan(receiving shapes: [Shape]) throws -> (output: Shape, parameters: Int) {
        if let merge = mergeLayer { return (try merge.outputShape(merging: shapes), 0) }
        guard shapes.count == 1 else {
            throw BackpropError.layerDoesNotFit(
                layer: name, inputShape: shapes.map(\.description).joined(separator: ", "),
                rule: "it takes one input (merge several with add, concatenate, multiply or subtract first)")
        }
        return try plan(for: shapes[0])
    }

    /// The layer of a graph node.
    func makeLayer(receiving shapes: [Shape]) -> any Layer {
        mergeLayer ?? makeLayer(for: shapes[0])
    }
}

extension Architecture {
    /// A network that is one graph; its input shape is the graph's (packed when it has several).
    public init(graph: GraphSpec) throws {
        let shapes = try graph.inputs.map { input in
            guard let shape = input.shape else {
                throw BackpropError.invalidArgument(
                    name: "graph input \"\(input.name)\"", expected: "a shape (the network's input)", found: "none")
            }
            return shape
        }
        self.init(inputShape: Graph.packedShape(shapes), layers: [.graph(graph)])
    }

    /// The network's named inputs: a leading graph's (after an optional normalization) when it
    /// has several, else one input `"input"`.
    public var inputPorts: [Graph.Port] {
        let first = layers.first { if case .normalization = $0 { false } else { true } }
        if case .graph(let graph) = first, graph.inputs.count > 1 {
            return graph.inputs.map { Graph.Port($0.name, $0.shape ?? []) }
        }
        return [Graph.Port("input", inputShape)]
    }

    /// The network's named outputs: a trailing graph's when it has several (packed as the
    /// network's output), else one `"output"`.
    public var outputPorts: [Graph.Port] {
        guard let plan = try? plan() else { return [] }
        if case .graph(let graph) = layers.last, let step = plan.steps.last, let planned = try? graph.plan(for: step.input),
            planned.outputs.count > 1
        {
            return planned.outputs.map { Graph.Port($0.name, $0.shape) }
        }
        return [Graph.Port("output", plan.outputShape)]
    }
}

// MARK: JSON (the `graph` layer of the architecture file; documented on `Architecture`)

extension GraphSpec {
    init(json reader: FieldReader) throws {
        func list(_ key: String, _ expected: String) throws -> [Any] {
            guard let items = reader.object[key] as? [Any], !items.isEmpty else { throw reader.fail(key, expected) }
            return items
        }
        func object(_ item: Any, _ field: String) throws -> FieldReader {
            guard let object = item as? [String: Any] else {
                throw BackpropError.malformed(path: reader.source, field: reader.prefix + field, expected: "an object", found: "\(item)")
            }
            return FieldReader(object: object, source: reader.source, prefix: reader.prefix + field + ".")
        }
        func names(_ value: FieldReader, _ key: String) throws -> [String] {
            guard let items = value.object[key] as? [Any], !items.isEmpty, items.allSatisfy({ $0 is String }) else {
                throw value.fail(key, "a non-empty list of input or node names")
            }
            return items.map { $0 as! String }
        }
        var inputs = [Input("input")]
        if reader.object["inputs"] != nil {
            inputs = try list("inputs", "a non-empty list of {\"name\", \"shape\"}").enumerated().map { index, item in
                let input = try object(item, "inputs[\(index)]")
                try input.allowOnly(["name", "shape"])
                guard let name = try input.optionalString("name"), !name.isEmpty else { throw input.fail("name", "a non-empty name") }
                guard input.object["shape"] != nil else { return Input(name) }
                let shape = try input.integers("shape")
                guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else { throw input.fail("shape", "positive extents") }
                return Input(name, Shape(shape))
            }
        }
        let nodes = try list("nodes", "a non-empty list of {\"name\", \"layer\", \"inputs\"}").enumerated().map { index, item in
            let node = try object(item, "nodes[\(index)]")
            try node.allowOnly(["name", "layer", "inputs"])
            guard let name = try node.optionalString("name"), !name.isEmpty else { throw node.fail("name", "a non-empty name") }
            return Node(name, try LayerSpec.nested(node, "layer"), from: try names(node, "inputs"))
        }
        self.init(inputs: inputs, nodes: nodes, outputs: try names(reader, "outputs"))
    }

    var jsonObject: [String: Any] {
        [
            "type": "graph",
            "inputs": inputs.map { input -> [String: Any] in
                var object: [String: Any] = ["name": input.name]
                if let shape = input.shape { object["shape"] = shape.dimensions }
                return object
            },
            "nodes": nodes.map { ["name": $0.name, "layer": $0.layer.jsonObject, "inputs": $0.inputs] as [String: Any] },
            "outputs": outputs,
        ]
    }
}

extension Architecture {
    /// The layers as ``Model/layers`` numbers them: a sole graph's nodes, else the chain's layers.
    public var chain: [LayerSpec] { soleGraph?.nodes.map(\.layer) ?? layers }

    /// The graph when the network is one graph (built as that ``Graph``, nodes named `layers.i`).
    public var soleGraph: GraphSpec? {
        if layers.count == 1, case .graph(let graph) = layers[0] { return graph }
        return nil
    }
}
