/// A network whose layers form a directed acyclic graph: several inputs and outputs, branches that
/// meet in ``MergeLayer``s (`Add`, `Concatenate`, `Multiply`, `Subtract`), any layer reused as a
/// node. Node i's layer is `layers[i]`, so the model walk names its parameters `layers.3.weight`
/// as in a ``Sequential``; summaries, monitors, model files and the PyTorch export see every node.
///
/// ```swift
/// let graph = Graph(
///     inputs: [.init("image", [28, 28, 1]), .init("size", [1])],
///     nodes: [
///         .init("features", Sequential { Conv2D(1, 8, kernelSize: 3); Flatten() }, from: ["image"]),
///         .init("joined", Concatenate(), from: ["features", "size"]),
///         .init("class", Dense(26 * 26 * 8 + 1, 10), from: ["joined"]),
///     ],
///     outputs: ["class"])
/// ```
///
/// As a plain ``Layer`` (one tensor in, one out) a graph with several inputs takes them *packed*:
/// each sample is the concatenation of its inputs flattened, in order ([N, Σ sizes]); several
/// outputs come back packed the same way. ``callAsFunction(_:)-([Tensor])`` takes and returns the
/// tensors themselves. One input or one output is never packed.
public final class Graph: Layer {
    /// A named input or output and the shape of one sample.
    public struct Port: Sendable, Equatable {
        public let name: String
        public let shape: Shape

        public init(_ name: String, _ shape: Shape) {
            self.name = name
            self.shape = shape
        }
    }

    /// A layer and the names of the inputs or nodes it reads.
    public struct Node {
        public let name: String
        public let layer: any Layer
        public let inputs: [String]

        public init(_ name: String, _ layer: any Layer, from inputs: [String]) {
            self.name = name
            self.layer = layer
            self.inputs = inputs
        }
    }

    /// The graph's inputs.
    public let inputs: [Port]
    /// Each node's layer, in an order where every node comes after what it reads.
    public let layers: [any Layer]
    /// Each node's name.
    public let nodeNames: [String]
    /// Each node's inputs as value indices: `0..<inputs.count` are the graph's inputs, then
    /// `inputs.count + j` is node j's output.
    public let connections: [[Int]]
    /// The values the graph returns (value indices) and their names.
    public let outputIndices: [Int]
    public let outputNames: [String]
    /// Every value's sample shape (inputs, then nodes), inferred once.
    public let valueShapes: [Shape]

    /// Builds the graph, checking names, order and every node's shapes.
    ///
    /// - Throws: ``BackpropError/invalidArgument(name:expected:found:)`` for an unknown, repeated
    ///   or later name, ``BackpropError/layerDoesNotFit(layer:inputShape:rule:)`` naming the node
    ///   whose layer does not take what reaches it.
    public init(inputs: [Port], nodes: [Node], outputs: [String]) throws {
        var index: [String: Int] = [:]
        func fail(_ name: String, _ expected: String, _ found: String) -> BackpropError {
            .invalidArgument(name: name, expected: expected, found: found)
        }
        guard !inputs.isEmpty else { throw fail("graph inputs", "at least one input", "none") }
        guard !outputs.isEmpty else { throw fail("graph outputs", "at least one output", "none") }
        for (i, name) in (inputs.map(\.name) + nodes.map(\.name)).enumerated() {
            if let problem = Self.problem(withName: name, isInput: i < inputs.count) { throw fail("graph names", "valid names", problem) }
            guard index.updateValue(i, forKey: name) == nil else { throw fail("graph names", "unique names", "\"\(name)\" twice") }
        }
        var shapes = inputs.map(\.shape)
        var connections: [[Int]] = []
        for (j, node) in nodes.enumerated() {
            let position = inputs.count + j
            let sources = try node.inputs.map { name in
                guard let source = index[name], source < position else {
                    throw fail(
                        "inputs of node \"\(node.name)\"", "names of graph inputs or of nodes listed before it",
                        index[name] == nil ? "unknown \"\(name)\"" : "\"\(name)\", which comes later")
                }
                return source
            }
            let received = sources.map { shapes[$0] }
            shapes.append(try Self.outputShape(of: node.layer, named: node.name, for: received))
            connections.append(sources)
        }
        if let problem = Self.problem(withOutputs: outputs) { throw fail("graph outputs", "distinct names", problem) }
        let outputIndices = try outputs.map { name in
            guard let value = index[name] else { throw fail("graph outputs", "names of inputs or nodes", "unknown \"\(name)\"") }
            return value
        }
        self.inputs = inputs
        self.layers = nodes.map(\.layer)
        self.nodeNames = nodes.map(\.name)
        self.connections = connections
        self.outputIndices = outputIndices
        self.outputNames = outputs
        self.valueShapes = shapes
    }

    /// The graph's outputs with their sample shapes.
    public var outputs: [Port] { zip(outputNames, outputIndices).map { Port($0, valueShapes[$1]) } }

    /// The sample shape the plain-layer form takes: the one input's, or the packed [Σ sizes].
    public var packedInputShape: Shape { Self.packedShape(inputs.map(\.shape)) }

    /// The sample shape the plain-layer form returns.
    public var packedOutputShape: Shape { Self.packedShape(outputs.map(\.shape)) }

    /// Runs every node on a batch of each input; returns the outputs in order.
    public func callAsFunction(_ inputs: [Tensor]) -> [Tensor] { run(inputs, mask: nil) }

    /// Runs every node. A sequence mask (`mask`, the first input's; or one a `Masking` or
    /// `Embedding(maskZero: true)` node makes) goes with a value to the nodes that read it while
    /// the time axis lasts, as in a `Sequential`: recurrent nodes skip the padded steps; a merge
    /// passes on the mask of its first input that has one.
    func run(_ inputs: [Tensor], mask: Tensor?) -> [Tensor] {
        precondition(
            inputs.count == self.inputs.count,
            "Graph: \(inputs.count) inputs given for the graph's \(self.inputs.count) (\(self.inputs.map(\.name).joined(separator: ", ")))")
        for (tensor, port) in zip(inputs, self.inputs) {
            precondition(
                Array(tensor.shape.dimensions.dropFirst()) == port.shape.dimensions,
                "Graph: input \"\(port.name)\" must be [N] + \(port.shape), got \(tensor.shape)")
        }
        var values = inputs
        var masks: [Tensor?] = inputs.indices.map { $0 == 0 ? Self.kept(mask, by: inputs[0]) : nil }
        let records = LayerOutputRecording.isActive
        for (layer, sources) in zip(layers, connections) {
            let arguments = sources.map { values[$0] }
            var mask = sources.lazy.compactMap { masks[$0] }.first
            let output: Tensor
            if let merge = layer as? any MergeLayer {
                output = merge(arguments)
            } else {
                if let producer = layer as? any SequenceMaskProducing, let made = producer.sequenceMask(for: arguments[0]) { mask = made }
                if let mask, let consumer = layer as? any SequenceMaskConsuming {
                    output = consumer(arguments[0], mask: mask)
                } else {
                    output = layer(arguments[0])
                }
            }
            if records { LayerOutputRecording.record(layer, output) }
            values.append(output)
            masks.append(Self.kept(mask, by: output))
        }
        return outputIndices.map { values[$0] }
    }

    /// The mask, while `value` still has its time axis ([batch, steps, …]).
    private static func kept(_ mask: Tensor?, by value: Tensor) -> Tensor? {
        guard let mask, value.rank >= 3, value.shape[0] == mask.shape[0], value.shape[1] == mask.shape[1] else { return nil }
        return mask
    }

    /// The plain-layer form: packed inputs in, packed outputs out (see the type's documentation).
    public func callAsFunction(_ input: Tensor) -> Tensor {
        Self.pack(self(Self.unpack(input, shapes: inputs.map(\.shape))))
    }

    /// One tensor for several: each flattened to [N, size] and joined along axis 1; one is kept as is.
    public static func pack(_ tensors: [Tensor]) -> Tensor {
        precondition(!tensors.isEmpty, "Graph.pack: no tensors")
        if tensors.count == 1 { return tensors[0] }
        return Tensor.concatenate(tensors.map { $0.flattenedBatch() }, alongAxis: 1)
    }

    /// The tensors of `shapes` (per sample) that ``pack(_:)`` joined.
    public static func unpack(_ packed: Tensor, shapes: [Shape]) -> [Tensor] {
        shapes.indices.map { unpack(packed, shapes: shapes, at: $0) }
    }

    /// The one tensor at `index` of those of `shapes` that ``pack(_:)`` joined.
    public static func unpack(_ packed: Tensor, shapes: [Shape], at index: Int) -> Tensor {
        if shapes.count == 1 { return packed }
        let count = packed.shape[0]
        precondition(
            packed.rank == 2 && packed.shape[1] == shapes.reduce(0) { $0 + $1.elementCount },
            "Graph: packed values must be [N, \(shapes.reduce(0) { $0 + $1.elementCount })] for \(shapes.map(\.description)), got \(packed.shape)"
        )
        let start = shapes[..<index].reduce(0) { $0 + $1.elementCount }
        return packed.slice([0..<count, start..<(start + shapes[index].elementCount)]).reshaped([count] + shapes[index].dimensions)
    }

    /// The packed sample shape of values of `shapes`.
    public static func packedShape(_ shapes: [Shape]) -> Shape {
        shapes.count == 1 ? shapes[0] : [shapes.reduce(0) { $0 + $1.elementCount }]
    }

    /// Why `name` cannot name an input or a node, or nil: node names are letters, digits, `_`, `-`
    /// and `.`; input names are identifiers that start with a letter (`[A-Za-z][A-Za-z0-9_]*`: they
    /// name the arguments of the exported PyTorch module's `forward`, whose own variables start with
    /// `_`), not Python keywords nor the names `model.py` defines.
    static func problem(withName name: String, isInput: Bool) -> String? {
        let ascii = name.unicodeScalars.allSatisfy { $0.isASCII }
        let allowed = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || (!isInput && ($0 == "-" || $0 == ".")) }
        guard !name.isEmpty, name.count <= 64, ascii, allowed, !(isInput && !name.first!.isLetter) else {
            return isInput
                ? "the input name \"\(name)\" must be an identifier: a letter, then letters, digits or _ (at most 64)"
                : "the node name \"\(name)\" must be 1–64 letters, digits, _, - or ."
        }
        let reserved: Set<String> = [
            "x", "self", "torch", "F", "mask", "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
            "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is",
            "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
            // What model.py defines.
            "Normalization", "PaddedConv2d", "PaddedConv1d", "LocallyConnected2d", "LocallyConnected1d", "Maxout",
            "CroppedConvTranspose2d", "PaddedAvgPool2d", "recurrent", "TimeDistributed", "Block", "Graph", "Model",
        ]
        if isInput && reserved.contains(name) { return "the input name \"\(name)\" is reserved (a Python keyword or a name model.py uses)" }
        return nil
    }

    /// Why `outputs` cannot name a graph's outputs, or nil: each at most once, and none `val` or
    /// `val_…` (per-output logs are `NAME_loss`, and `val_` marks validation figures).
    static func problem(withOutputs outputs: [String]) -> String? {
        if let repeated = outputs.enumerated().first(where: { outputs[..<$0.offset].contains($0.element) })?.element {
            return "the output \"\(repeated)\" is listed twice"
        }
        if let clash = outputs.first(where: { $0 == "val" || $0.hasPrefix("val_") }) {
            return "the output name \"\(clash)\" would read as a validation figure in the logs (val_…)"
        }
        return nil
    }

    /// What `layer` returns for inputs of `shapes`; errors name the node.
    static func outputShape(of layer: any Layer, named name: String, for shapes: [Shape]) throws -> Shape {
        do {
            if let merge = layer as? any MergeLayer { return try merge.outputShape(merging: shapes) }
            guard shapes.count == 1 else {
                throw BackpropError.layerDoesNotFit(
                    layer: layer.typeName, inputShape: shapes.map(\.description).joined(separator: ", "),
                    rule: "it takes one input (merge several with Add, Concatenate, Multiply or Subtract first)")
            }
            return try sampleOutputShape(of: layer, for: shapes[0])
        } catch BackpropError.layerDoesNotFit(let layer, let input, let rule) {
            throw BackpropError.layerDoesNotFit(layer: "node \"\(name)\" (\(layer))", inputShape: input, rule: rule)
        }
    }
}

/// The output shape of one sample: by the layer's own rule where it has one, else by running one
/// zero sample through it (no tape).
func sampleOutputShape(of layer: any Layer, for input: Shape) throws -> Shape {
    if let inferring = layer as? ShapeInferring { return try inferring.outputShape(for: input) }
    return Shape(Array(withoutGradient { layer(Tensor.zeros(Shape([1] + input.dimensions))) }.shape.dimensions.dropFirst()))
}

extension Graph: SequenceMaskConsuming {
    /// The plain-layer form with the sequence mask of the layers before the graph (a `Sequential`
    /// hands it on): it goes with the graph's input to its nodes.
    public func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor {
        Self.pack(run(Self.unpack(input, shapes: inputs.map(\.shape)), mask: mask))
    }
}

extension Graph: ShapeInferring {
    public func outputShape(for input: Shape) throws -> Shape {
        guard input == packedInputShape else {
            throw BackpropError.layerDoesNotFit(
                layer: "Graph(\(inputs.map(\.name).joined(separator: ", ")))", inputShape: "\(input)",
                rule: inputs.count == 1
                    ? "its input \"\(inputs[0].name)\" is \(inputs[0].shape)"
                    : "its inputs \(inputs.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")) arrive packed as \(packedInputShape)")
        }
        return packedOutputShape
    }
}
