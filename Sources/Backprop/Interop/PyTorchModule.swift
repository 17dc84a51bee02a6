/// An architecture as PyTorch sees it: the source of a `model.py` defining
/// `class Model(torch.nn.Module)`, and the conversion of weights between Backprop's layouts and
/// that module's `state_dict()`.
///
/// The module takes what the Backprop model takes (NHWC images or `[N, features]`, its own
/// normalization included), runs NCHW inside, flattens in Backprop's (H, W, C) order and returns
/// the same outputs (logits). Layers with parameters are `self.layers["i"]` for Backprop's layer
/// i, so keys read `layers.1.weight` in both; layouts differ: Linear `[out, in]` (Backprop
/// `[in, out]`), Conv2d `[out, in, kh, kw]` (Backprop HWIO), BatchNorm `weight`, `bias`,
/// `running_mean`, `running_var`, `num_batches_tracked` (Backprop `gamma`, `beta`,
/// `runningMean`, `runningVariance`). Backprop's conventions are written out: average pooling that
/// leaves padding out is `count_include_pad=False`, "same" padding is TensorFlow's (extra row and
/// column at the bottom and right), batch norm's momentum is 1 − Backprop's.
public struct PyTorchModule: Sendable {
    public let architecture: Architecture
    let plan: Architecture.Plan

    public init(_ architecture: Architecture) throws {
        self.architecture = architecture
        plan = try architecture.plan()
    }

    /// How activations are laid out at a point of the forward pass.
    enum Layout { case channelsLast, channelsFirst, other }

    /// One Backprop tensor's PyTorch name and how its layout maps.
    struct Mapping {
        enum Transform { case same, transpose2D, hwioToOIHW, channelsLastToFirst, kioToOIK }
        let backprop: String
        let pytorch: String
        let transform: Transform
    }

    /// The tensors of every layer, and the PyTorch-only ones (`num_batches_tracked`).
    var mappings: (tensors: [Mapping], counters: [String]) {
        var tensors: [Mapping] = []
        var counters: [String] = []
        var layout: Layout = architecture.inputShape.rank == 3 ? .channelsLast : .other
        /// A recurrent layer's four tensors: Backprop's names under `inner`, PyTorch's `…_l0` + `suffix`.
        func recurrentMappings(_ prefix: String, _ inner: String, _ suffix: String) {
            for (ours, theirs) in [
                ("inputWeight", "weight_ih_l0"), ("recurrentWeight", "weight_hh_l0"), ("inputBias", "bias_ih_l0"),
                ("recurrentBias", "bias_hh_l0"),
            ] {
                tensors.append(Mapping(backprop: prefix + inner + ours, pytorch: prefix + theirs + suffix, transform: .same))
            }
        }
        /// A graph's nodes under `container` (`layers.`): each node starts from its input's layout;
        /// merges run in Backprop's layout.
        func walkGraph(_ graph: GraphSpec, input: Shape, prefix container: String) {
            guard let planned = try? graph.plan(for: input) else { return }
            let start = layout
            var layouts: [Layout] = planned.inputs.count == 1 ? [start] : planned.inputs.map { $0.shape.rank == 3 ? .channelsLast : .other }
            for (j, node) in planned.nodes.enumerated() {
                if node.node.layer.isMerge {
                    layout = node.output.rank == 3 ? .channelsLast : .other
                } else {
                    layout = layouts[planned.connections[j][0]]
                    walk(
                        [Architecture.Step(layer: node.node.layer, input: node.inputs[0], output: node.output)], prefix: container, first: j
                    )
                }
                layouts.append(layout)
            }
            layout = planned.outputs.count == 1 ? layouts[planned.outputIndices[0]] : .other
        }
        func walk(_ steps: [Architecture.Step], prefix container: String, first: Int = 0) {
            for (offset, step) in steps.enumerated() {
                let index = first + offset
                let prefix = "\(container)\(index)."
                /// `weight` (mapped by `transform`) and `bias` of the module at `prefix + inner`; the same keys in both.
                func weightAndBias(_ inner: String, _ transform: Mapping.Transform) {
                    tensors.append(Mapping(backprop: prefix + inner + "weight", pytorch: prefix + inner + "weight", transform: transform))
                    tensors.append(Mapping(backprop: prefix + inner + "bias", pytorch: prefix + inner + "bias", transform: .same))
                }
                switch step.layer {
                case .residual(let body, let shortcut):
                    let start = layout
                    walk(Architecture.steps(body, from: step.input), prefix: prefix + "body.layers.")
                    layout = start
                    walk(Architecture.steps(shortcut, from: step.input), prefix: prefix + "shortcut.layers.")
                    layout = step.output.rank == 3 ? .channelsFirst : (start == .channelsFirst ? .channelsLast : start)
                case .dense:
                    weightAndBias("", .transpose2D)
                    if layout == .channelsFirst { layout = .channelsLast }
                case .conv2D:
                    weightAndBias("", .hwioToOIHW)
                    layout = .channelsFirst
                case .conv1D:
                    weightAndBias("", .kioToOIK)
                    if layout == .channelsFirst { layout = .channelsLast }
                case .maxout:
                    weightAndBias("linear.", .transpose2D)
                    if layout == .channelsFirst { layout = .channelsLast }
                case .locallyConnected2D, .locallyConnected1D:
                    // The module keeps Backprop's layout: [positions, patch, filters] and [positions, filters].
                    let inner = { if case .locallyConnected1D = step.layer { "layer." } else { "" } }()
                    weightAndBias(inner, .same)
                    if layout == .channelsFirst { layout = .channelsLast }
                case .maxPool2D, .avgPool2D:
                    layout = .channelsFirst
                case .batchNorm:
                    if step.input.rank == 3 { layout = .channelsFirst }
                    for (ours, theirs) in [
                        ("gamma", "weight"), ("beta", "bias"), ("runningMean", "running_mean"), ("runningVariance", "running_var"),
                    ] {
                        tensors.append(Mapping(backprop: prefix + ours, pytorch: prefix + theirs, transform: .same))
                    }
                    counters.append(prefix + "num_batches_tracked")
                case .normalization(_, let perChannel):
                    let transform: Mapping.Transform = layout == .channelsFirst && !perChannel ? .channelsLastToFirst : .same
                    tensors.append(Mapping(backprop: prefix + "offset", pytorch: prefix + "offset", transform: transform))
                    tensors.append(Mapping(backprop: prefix + "scale", pytorch: prefix + "scale", transform: transform))
                case .flatten:
                    layout = .other
                case .conv2DTranspose:
                    // Backprop [kh, kw, out, in] → ConvTranspose2d [in, out, kh, kw].
                    weightAndBias("", .hwioToOIHW)
                    layout = .channelsFirst
                case .zeroPadding2D:
                    layout = .channelsFirst
                case .globalAveragePooling2D, .reshape:
                    layout = step.output.rank == 3 ? .channelsLast : .other
                case .recurrent:
                    recurrentMappings(prefix, "", "")
                    layout = .other
                case .bidirectional:
                    recurrentMappings(prefix, "forward.", "")
                    recurrentMappings(prefix, "backward.", "_reverse")
                    layout = .other
                case .embedding, .layerNorm:
                    weightAndBias("", .same)
                    layout = .other
                case .timeDistributed(let inner):
                    // The architecture file allows dense, layer_norm, activation and dropout inside.
                    if case .dense = inner { weightAndBias("layer.", .transpose2D) }
                    if case .layerNorm = inner { weightAndBias("layer.", .same) }
                    layout = .other
                case .masking:
                    layout = .other
                case .graph(let graph):
                    walkGraph(graph, input: step.input, prefix: prefix + "layers.")
                case .activation, .dropout, .add, .subtract, .multiply, .concatenate:
                    break
                }
            }
        }
        if let graph = architecture.soleGraph {
            walkGraph(graph, input: architecture.inputShape, prefix: "layers.")
        } else {
            walk(plan.steps.map { Architecture.Step(layer: $0.layer, input: $0.input, output: $0.output) }, prefix: "layers.")
        }
        return (tensors, counters)
    }

    /// The model's parameters and buffers in the module's keys and layouts (what
    /// `load_state_dict(strict=True)` takes).
    public func stateDict(of model: Model) -> [String: SafeTensors.Entry] {
        let values = Dictionary(model.namedParameters.map { ($0.name, $0.parameter.value) }, uniquingKeysWith: { first, _ in first })
        var entries: [String: SafeTensors.Entry] = [:]
        let (tensors, counters) = mappings
        for mapping in tensors {
            guard let value = values[mapping.backprop] else { continue }  // a layer without bias
            let converted = Self.convert(value, mapping.transform, forward: true)
            entries[mapping.pytorch] = SafeTensors.Entry(shape: converted.shape.dimensions, values: converted.scalars)
        }
        for name in counters { entries[name] = SafeTensors.Entry(shape: [], values: [0], dataType: .i64) }
        return entries
    }

    /// Loads a PyTorch state dict (keys and layouts of the module) into `model`, built from this
    /// architecture. Every key, shape and element type is checked before anything changes: F32,
    /// F16, BF16 and F64 are converted, `num_batches_tracked` must be an integer and is not kept.
    ///
    /// - Throws: ``BackpropError`` naming `source` and the tensor.
    public func load(_ entries: [String: SafeTensors.Entry], into model: Model, source: String) throws {
        let parameters = Dictionary(model.namedParameters.map { ($0.name, $0.parameter) }, uniquingKeysWith: { first, _ in first })
        let (tensors, counters) = mappings
        var state: [String: Tensor] = [:]
        var known = Set(counters)
        for mapping in tensors {
            guard let parameter = parameters[mapping.backprop] else { continue }
            known.insert(mapping.pytorch)
            guard let entry = entries[mapping.pytorch] else {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(mapping.pytorch)", expected: "present (the architecture has it)", found: "nothing")
            }
            guard [.f32, .f16, .bf16, .f64].contains(entry.dataType) else {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(mapping.pytorch)", expected: "floating point (F32, F16, BF16 or F64)",
                    found: entry.dataType.rawValue)
            }
            let expected = Self.convert(Tensor.zeros(parameter.shape), mapping.transform, forward: true).shape
            guard entry.shape == expected.dimensions else {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(mapping.pytorch)", expected: "shape \(expected)", found: "shape \(Shape(entry.shape))")
            }
            state[mapping.backprop] = Self.convert(entry.tensor, mapping.transform, forward: false)
        }
        for name in counters {
            guard let entry = entries[name] else { continue }  // optional: only PyTorch's bookkeeping
            guard [.i64, .i32].contains(entry.dataType), entry.values.count == 1 else {
                throw BackpropError.malformed(
                    path: source, field: "tensor \(name)", expected: "one integer (I64)", found: "\(entry.dataType.rawValue) \(entry.shape)"
                )
            }
        }
        if let extra = entries.keys.sorted().first(where: { !known.contains($0) }) {
            throw BackpropError.malformed(
                path: source, field: "tensor \(extra)", expected: "a key of the architecture's module", found: "a tensor it does not have")
        }
        try model.load(state, strict: true, source: source)
    }

    static func convert(_ value: Tensor, _ transform: Mapping.Transform, forward: Bool) -> Tensor {
        switch transform {
        case .same: return value
        case .transpose2D: return value.transposed().copy()
        case .hwioToOIHW: return value.permuted(forward ? [3, 2, 0, 1] : [2, 3, 1, 0]).copy()
        case .channelsLastToFirst: return value.permuted(forward ? [2, 0, 1] : [1, 2, 0]).copy()
        case .kioToOIK: return value.permuted([2, 1, 0]).copy()
        }
    }
}
