import Backprop
import Foundation
import Testing

/// The graph layer and its merges: values by hand, errors that name the node, and the graph in the
/// architecture file (round trip, malformed files).
struct GraphTests {
    static let a = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])
    static let b = Tensor([10, 20, 30, 40, 50, 60], shape: [2, 3])

    @Test func mergesComputeWhatTheySay() {
        #expect(Add()([Self.a, Self.b, Self.a]).scalars == [12, 24, 36, 48, 60, 72])
        #expect(Subtract()([Self.b, Self.a]).scalars == [9, 18, 27, 36, 45, 54])
        #expect(Multiply()([Self.a, Self.b]).scalars == [10, 40, 90, 160, 250, 360])
        #expect(Concatenate()([Self.a, Self.b]).scalars == [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
        #expect(Concatenate(axis: 0)([Self.a.reshaped([2, 3, 1]), Self.b.reshaped([2, 3, 1])]).shape == [2, 6, 1])
        // Applied to one tensor a merge returns it.
        #expect(Add()(Self.a).scalars == Self.a.scalars)
    }

    @Test func mergeShapesAreChecked() throws {
        #expect(try Concatenate().outputShape(merging: [[4, 4, 3], [4, 4, 5]]) == [4, 4, 8])
        #expect(try Concatenate(axis: 0).outputShape(merging: [[4, 2], [3, 2]]) == [7, 2])
        #expect(throws: BackpropError.self) { try Concatenate().outputShape(merging: [[4, 4, 3], [4, 5, 3]]) }
        #expect(throws: BackpropError.self) { try Concatenate(axis: 3).outputShape(merging: [[4, 4, 3]]) }
        #expect(throws: BackpropError.self) { try Add().outputShape(merging: [[3], [4]]) }
        #expect(throws: BackpropError.self) { try Subtract().outputShape(merging: [[3], [3], [3]]) }
    }

    /// y = relu(x·W₁) + x·W₂ and [x, y] computed by the graph and by hand from the same weights.
    @Test func aGraphRunsItsNodesInOrder() throws {
        seedGlobalRandom(1)
        let first = Dense(3, 3, activation: .relu)
        let second = Dense(3, 3, useBias: false)
        let graph = try Graph(
            inputs: [.init("features", [3])],
            nodes: [
                .init("first", first, from: ["features"]), .init("second", second, from: ["features"]),
                .init("sum", Add(), from: ["first", "second"]), .init("joined", Concatenate(), from: ["features", "sum"]),
            ],
            outputs: ["joined", "second"])
        #expect(graph.outputs == [.init("joined", [6]), .init("second", [3])])
        #expect(graph.packedOutputShape == [9])
        #expect(graph.namedParameters.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight"])
        let x = Tensor([0.5, -1, 2, -0.25, 0.75, 1.5], shape: [2, 3])
        let outputs = graph([x])
        let sum = first(x) + second(x)
        #expect(outputs[0].scalars == Tensor.concatenate([x, sum], alongAxis: 1).scalars)
        #expect(outputs[1].scalars == second(x).scalars)
        // The plain form returns the same, packed.
        #expect(graph(x).scalars == Graph.pack(outputs).scalars)
    }

    @Test func badGraphsAreRefusedNamingTheNode() {
        func refusal(_ nodes: [Graph.Node], outputs: [String] = ["out"], inputs: [Graph.Port] = [.init("features", [4])]) -> String {
            do {
                _ = try Graph(inputs: inputs, nodes: nodes, outputs: outputs)
                return "built"
            } catch { return "\(error)" }
        }
        let dense = { Dense(4, 2) }
        #expect(refusal([.init("out", dense(), from: ["nothing"])]).contains("unknown \"nothing\""))
        #expect(refusal([.init("out", dense(), from: ["later"]), .init("later", dense(), from: ["features"])]).contains("comes later"))
        #expect(refusal([.init("out", dense(), from: ["features"]), .init("out", dense(), from: ["features"])]).contains("twice"))
        #expect(refusal([.init("out", Add(), from: ["features", "half"]), .init("half", dense(), from: ["features"])]).contains("later"))
        let mismatch = refusal([.init("half", dense(), from: ["features"]), .init("out", Add(), from: ["features", "half"])])
        #expect(mismatch.contains("node \"out\"") && mismatch.contains("same shape"))
        let twoIntoDense = refusal([.init("out", dense(), from: ["features", "features"])])
        #expect(twoIntoDense.contains("node \"out\"") && twoIntoDense.contains("one input"))
        let wrongWidth = refusal([.init("out", Dense(5, 2), from: ["features"])])
        #expect(wrongWidth.contains("node \"out\"") && wrongWidth.contains("5 features"))
        #expect(refusal([.init("out", dense(), from: ["features"])], outputs: ["missing"]).contains("unknown \"missing\""))
        #expect(refusal([.init("out", dense(), from: ["self"])], inputs: [.init("self", [4])]).contains("reserved"))
        #expect(refusal([.init("out", dense(), from: ["recurrent"])], inputs: [.init("recurrent", [4])]).contains("reserved"))
        #expect(refusal([.init("out", dense(), from: ["_x"])], inputs: [.init("_x", [4])]).contains("identifier"))
        #expect(refusal([.init("out", dense(), from: ["features"])], outputs: ["out", "out"]).contains("twice"))
        #expect(refusal([.init("val", dense(), from: ["features"])], outputs: ["val"]).contains("validation"))
        #expect(refusal([.init("out\n", dense(), from: ["features"])]).contains("node name"))
    }

    // MARK: The architecture file

    static let branchesJSON = """
        {"format": "backprop-architecture", "version": 1, "input_shape": [8, 8, 1],
         "layers": [
          {"type": "conv2d", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
          {"type": "graph",
           "nodes": [
            {"name": "narrow", "layer": {"type": "conv2d", "filters": 2, "kernel_size": 1}, "inputs": ["input"]},
            {"name": "wide", "layer": {"type": "conv2d", "filters": 2, "kernel_size": 3, "padding": "same"}, "inputs": ["input"]},
            {"name": "joined", "layer": {"type": "concatenate"}, "inputs": ["narrow", "wide"]},
            {"name": "sum", "layer": {"type": "add"}, "inputs": ["joined", "input"]}],
           "outputs": ["sum"]},
          {"type": "max_pool2d", "size": 2}, {"type": "flatten"}, {"type": "dense", "units": 3}
         ]}
        """

    @Test func graphsInTheArchitectureFileRoundTripAndPlan() throws {
        let architecture = try Architecture(json: Data(Self.branchesJSON.utf8), source: "branches.json")
        let plan = try architecture.plan()
        #expect(plan.steps.map(\.output) == [[8, 8, 4], [8, 8, 4], [4, 4, 4], [64], [3]])
        #expect(plan.parameterCount == (9 * 4 + 4) + (4 * 2 + 2) + (9 * 4 * 2 + 2) + (64 * 3 + 3))
        // What a forward pass keeps counts every node (the memory check): conv 256, the graph's
        // output 256 and nodes 128 + 128 + 256 + 256, pool 64, flatten 64, dense 3.
        #expect(plan.activationCount == 256 + 256 + 768 + 64 + 64 + 3)
        #expect(try Architecture(json: architecture.jsonData(), source: "again") == architecture)
        let model = try architecture.makeModel()
        #expect(model.namedParameters.map(\.name).contains("layers.1.layers.1.weight"))
        #expect(model.predict(Tensor.zeros([2, 8, 8, 1])).shape == [2, 3])
        let twoInputs = try Architecture(
            graph: GraphSpec(
                inputs: [.init("image", [2, 2, 1]), .init("extra", [3])],
                nodes: [.init("flat", .flatten, from: ["image"]), .init("joined", .concatenate(), from: ["flat", "extra"])],
                outputs: ["joined", "extra"]))
        #expect(twoInputs.inputShape == [7])
        #expect(twoInputs.inputPorts == [.init("image", [2, 2, 1]), .init("extra", [3])])
        #expect(try twoInputs.plan().outputShape == [10])
        #expect(try Architecture(json: twoInputs.jsonData(), source: "again") == twoInputs)
        #expect(try twoInputs.makeModel().network is Graph)
    }

    /// Each malformed graph names the file, the field or the node, and what was expected.
    @Test(arguments: [
        (#"{"type": "graph", "outputs": ["input"]}"#, "layers[0].nodes"),
        (#"{"type": "graph", "nodes": [], "outputs": ["input"]}"#, "layers[0].nodes"),
        (#"{"type": "graph", "nodes": [{"name": "a", "layer": {"type": "flatten"}, "inputs": ["input"]}]}"#, "layers[0].outputs"),
        (
            #"{"type": "graph", "nodes": [{"name": "a", "layer": {"type": "flatten"}, "inputs": ["input"], "extra": 1}], "outputs": ["a"]}"#,
            "layers[0].nodes[0].extra"
        ),
        (
            #"{"type": "graph", "nodes": [{"name": "a", "layer": {"type": "nope"}, "inputs": ["input"]}], "outputs": ["a"]}"#,
            "layers[0].nodes[0].layer.type"
        ),
        (#"{"type": "graph", "nodes": [{"name": "a", "inputs": ["input"]}], "outputs": ["a"]}"#, "layers[0].nodes[0].layer"),
        (
            #"{"type": "graph", "nodes": [{"name": "a", "layer": {"type": "flatten"}, "inputs": "input"}], "outputs": ["a"]}"#,
            "layers[0].nodes[0].inputs"
        ),
        (
            #"{"type": "graph", "nodes": [{"name": 3, "layer": {"type": "flatten"}, "inputs": ["input"]}], "outputs": ["a"]}"#,
            "layers[0].nodes[0].name"
        ),
        (#"{"type": "graph", "nodes": ["flatten"], "outputs": ["a"]}"#, "layers[0].nodes[0]"),
        (
            #"{"type": "graph", "inputs": [{"name": "x", "shape": [0]}], "nodes": [{"name": "a", "layer": {"type": "flatten"}, "inputs": ["x"]}], "outputs": ["a"]}"#,
            "layers[0].inputs[0].shape"
        ),
        (#"{"type": "concatenate", "axis": 1.5}"#, "layers[0].axis"),
        (#"{"type": "add", "axis": 1}"#, "layers[0].axis"),
        (
            #"{"type": "graph", "nodes": [{"name": "a", "layer": {"type": "flatten"}, "inputs": ["input"]}], "outputs": []}"#,
            "layers[0].outputs"
        ),
    ])
    func malformedGraphsNameTheField(_ layer: String, _ field: String) {
        let json = #"{"input_shape": [4], "layers": ["# + layer + "]}"
        do {
            _ = try Architecture(json: Data(json.utf8), source: "graph.json")
            Issue.record("accepted \(layer)")
        } catch {
            #expect("\(error)".contains("graph.json") && "\(error)".contains(field), "\(error)")
        }
    }

    /// Graphs that read well but do not fit: the plan names the node and the rule.
    @Test(arguments: [
        (#"{"name": "a", "layer": {"type": "dense", "units": 2}, "inputs": ["input", "input"]}"#, "node \"a\"", "one input"),
        (#"{"name": "a", "layer": {"type": "add"}, "inputs": ["input", "b"]}"#, "node \"a\"", "comes after"),
        (#"{"name": "a", "layer": {"type": "conv2d", "filters": 2, "kernel_size": 3}, "inputs": ["input"]}"#, "node \"a\"", "[H, W, C]"),
        (#"{"name": "input", "layer": {"type": "flatten"}, "inputs": ["input"]}"#, "\"input\"", "twice"),
        (#"{"name": "a", "layer": {"type": "flatten"}, "inputs": ["nowhere"]}"#, "node \"a\"", "no input or node"),
        (#"{"name": "a", "layer": {"type": "concatenate", "axis": 2}, "inputs": ["input", "input"]}"#, "node \"a\"", "axis"),
    ])
    func graphsThatDoNotFitNameTheNode(_ node: String, _ name: String, _ rule: String) {
        let json =
            #"{"input_shape": [4], "layers": [{"type": "graph", "nodes": ["# + node
            + #", {"name": "b", "layer": {"type": "flatten"}, "inputs": ["input"]}], "outputs": ["a", "b"]}]}"#
        do {
            _ = try Architecture(json: Data(json.utf8), source: "graph.json").plan()
            Issue.record("planned \(node)")
        } catch {
            #expect("\(error)".contains(name) && "\(error)".contains(rule), "\(error)")
        }
    }

    /// A sequence mask made before a graph goes with its input to the nodes (recurrent nodes skip
    /// the padding), through merges, as a Sequential hands it on: the graph computes what the same
    /// layers do with the mask given by hand.
    @Test func masksFlowThroughGraphs() throws {
        seedGlobalRandom(4)
        let architecture = Architecture(
            inputShape: [5, 3],
            layers: [
                .masking(value: 0),
                .graph(
                    GraphSpec(
                        inputs: [.init("input")],
                        nodes: [
                            .init("a", .recurrent(cell: .lstm, units: 4, returnSequences: true), from: ["input"]),
                            .init("b", .dense(units: 4), from: ["input"]), .init("sum", .add, from: ["b", "a"]),
                            .init("last", .recurrent(cell: .gru, units: 3), from: ["sum"]),
                        ],
                        outputs: ["last"])),
                .dense(units: 2),
            ])
        let model = try architecture.makeModel()
        // Sequences of 5, 2 and 3 real steps, then padding.
        var values = (0..<45).map { (i: Int) -> Float in Float(i % 7) * 0.1 + 0.05 }
        for (sample, length) in [5, 2, 3].enumerated() { for t in length..<5 { for f in 0..<3 { values[(sample * 5 + t) * 3 + f] = 0 } } }
        let x = Tensor(values, shape: [3, 5, 3])
        let layers = try #require((model.network as? Sequential)?.layers)
        let graph = try #require(layers[1] as? Graph)
        let mask = try #require((layers[0] as? Masking)?.sequenceMask(for: x))
        let expected = withoutGradient { () -> Tensor in
            let masked = layers[0](x)
            let a = (graph.layers[0] as! LSTM)(masked, mask: mask)
            let sum = graph.layers[1](masked) + a
            return layers[2]((graph.layers[3] as! GRU)(sum, mask: mask))
        }
        #expect(model.predict(x).scalars == expected.scalars)
        // Without the mask the padded steps would count: the outputs differ.
        let unmasked = withoutGradient { () -> Tensor in
            let a = graph.layers[0](x)
            return layers[2](graph.layers[3](graph.layers[1](x) + a))
        }
        #expect(model.predict(x).scalars != unmasked.scalars)
    }

    /// Transfer learning on a network that is one graph: its dense output node is the head.
    @Test func aGraphGetsANewHead() throws {
        seedGlobalRandom(6)
        let base = try Architecture(
            graph: GraphSpec(
                inputs: [.init("features", [4])],
                nodes: [
                    .init("a", .dense(units: 5, activation: .relu), from: ["features"]), .init("b", .dense(units: 5), from: ["features"]),
                    .init("sum", .add, from: ["a", "b"]), .init("class", .dense(units: 2), from: ["sum"]),
                ],
                outputs: ["class"])
        ).makeModel()
        let (model, head) = try base.transferred(toOutputs: 3)
        #expect(head == 3)
        #expect(model.predict(Tensor.zeros([2, 4])).shape == [2, 3])
        let before = Dictionary(uniqueKeysWithValues: base.stateDict().map { ($0.name, $0.value.scalars) })
        for (name, value) in model.stateDict() where !name.hasPrefix("layers.3.") { #expect(value.scalars == before[name], "\(name)") }
        let frozen = model.freeze(upTo: head - 1)
        #expect(frozen.count == 4)  // a's and b's weights and biases
        #expect(model.namedParameters.filter { $0.parameter.isTrainable }.map(\.name) == ["layers.3.weight", "layers.3.bias"])
    }

    @Test func anUnusedNodeOrAMergeOutsideAGraphIsRefused() {
        let unused = Architecture(
            inputShape: [4],
            layers: [
                .graph(
                    GraphSpec(
                        inputs: [.init("input")],
                        nodes: [.init("a", .dense(units: 2), from: ["input"]), .init("b", .dense(units: 2), from: ["input"])],
                        outputs: ["a"]))
            ])
        do {
            _ = try unused.plan()
            Issue.record("planned a graph with an unused node")
        } catch {
            #expect("\(error)".contains("node \"b\" leads to no output"), "\(error)")
        }
        let chain = Architecture(inputShape: [4], layers: [.dense(units: 4), .add])
        #expect(throws: BackpropError.self) { try chain.plan() }
    }
}
