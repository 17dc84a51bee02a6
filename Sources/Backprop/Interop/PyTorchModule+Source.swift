import Foundation

/// The `model.py` text.
extension PyTorchModule {
    /// A Python module defining `class Model(torch.nn.Module)`, built with no arguments.
    public var source: String {
        var modules: [String] = []
        var forward: [String] = []
        var layout: Layout = architecture.inputShape.rank == 3 ? .channelsLast : .other
        func toChannelsFirst() {
            if layout == .channelsLast { forward.append("x = x.permute(0, 3, 1, 2)  # NHWC → NCHW") }
            layout = .channelsFirst
        }
        func toChannelsLast() {
            if layout == .channelsFirst { forward.append("x = x.permute(0, 2, 3, 1)  # NCHW → NHWC") }
            layout = .channelsLast
        }
        // Where the modules of the layers being written live: the model's, or a residual block's branch.
        var container = "self.layers"
        func call(_ index: Int) -> String { "\(container)[\"\(index)\"](x)" }
        func activation(_ function: ActivationFunction) {
            let axis = layout == .channelsFirst ? 1 : -1
            switch function {
            case .identity: break
            case .relu: forward.append("x = torch.relu(x)")
            case .sigmoid: forward.append("x = torch.sigmoid(x)")
            case .tanh: forward.append("x = torch.tanh(x)")
            case .softplus: forward.append("x = F.softplus(x)")
            case .softmax: forward.append("x = torch.softmax(x, dim=\(axis))")
            case .logSoftmax: forward.append("x = torch.log_softmax(x, dim=\(axis))")
            case .leakyRelu(let slope): forward.append("x = F.leaky_relu(x, \(Self.number(slope)))")
            case .elu(let alpha): forward.append("x = F.elu(x, \(Self.number(alpha)))")
            }
        }
        var blocks = 0
        var maskedSteps: Int? = nil
        forward.append("mask = None  # [N, steps], True where a step is real (Masking, Embedding(mask_zero))")
        var graphs = 0
        func dictionary(_ lines: [String]) -> String {
            "{" + (lines.isEmpty ? "" : "\n" + lines.map { "    " + $0 }.joined(separator: "\n") + "\n") + "}"
        }
        /// A graph's forward pass: each value in a variable `gK_V` with its own layout; merges and
        /// packing run in Backprop's layout (channels last). Several outputs end packed, or as a
        /// tuple when `asTuple` (the model's own outputs).
        func emitGraph(_ graph: GraphSpec, input: Shape, asTuple: Bool) {
            guard let planned = try? graph.plan(for: input) else { return }
            graphs += 1
            let g = "_g\(graphs)"
            var names: [String] = []
            var layouts: [Layout] = []
            // Each value's sequence mask (a variable, or nil) and its steps, as Graph.run hands them on.
            let outer = maskedSteps
            var masks: [(name: String, steps: Int)?] = planned.inputs.map { _ in nil }
            if let steps = outer, planned.inputs.count == 1, input.rank >= 2, input[0] == steps {
                forward.append("\(g)_m0 = mask")
                masks[0] = ("\(g)_m0", steps)
            }
            if asTuple && planned.inputs.count > 1 {
                // The model's own inputs: forward's arguments.
                names = planned.inputs.map(\.name)
                layouts = planned.inputs.map { $0.shape.rank == 3 ? .channelsLast : .other }
            } else if planned.inputs.count == 1 {
                forward.append("\(g)_0 = x  # graph input \"\(planned.inputs[0].name)\"")
                names.append("\(g)_0")
                layouts.append(layout)
            } else {
                var start = 0
                for (i, port) in planned.inputs.enumerated() {
                    let size = port.shape.elementCount
                    forward.append(
                        "\(g)_\(i) = x[:, \(start):\(start + size)].reshape(-1, \(port.shape.dimensions.map(String.init).joined(separator: ", ")))  # graph input \"\(port.name)\""
                    )
                    names.append("\(g)_\(i)")
                    layouts.append(port.shape.rank == 3 ? .channelsLast : .other)
                    start += size
                }
            }
            func plain(_ value: Int) -> String { layouts[value] == .channelsFirst ? "\(names[value]).permute(0, 2, 3, 1)" : names[value] }
            for (j, node) in planned.nodes.enumerated() {
                let name = "\(g)_\(planned.inputs.count + j)"
                let arguments = planned.connections[j].map(plain)
                let carried = planned.connections[j].lazy.compactMap { masks[$0] }.first
                func keeps(_ mask: (name: String, steps: Int)?) -> (name: String, steps: Int)? {
                    guard let mask, node.output.rank >= 2, node.output[0] == mask.steps else { return nil }
                    return mask
                }
                if node.node.layer.isMerge { masks.append(keeps(carried)) }
                switch node.node.layer {
                case .add: forward.append("\(name) = " + arguments.joined(separator: " + ") + "  # \"\(node.node.name)\"")
                case .subtract: forward.append("\(name) = \(arguments[0]) - \(arguments[1])  # \"\(node.node.name)\"")
                case .multiply: forward.append("\(name) = " + arguments.joined(separator: " * ") + "  # \"\(node.node.name)\"")
                case .concatenate(let axis):
                    let resolved = axis < 0 ? axis + node.output.rank : axis
                    forward.append(
                        "\(name) = torch.cat([\(arguments.joined(separator: ", "))], dim=\(resolved + 1))  # \"\(node.node.name)\"")
                default:
                    let source = planned.connections[j][0]
                    forward.append("x = \(names[source])")
                    if masks.contains(where: { $0 != nil }) || Self.startsMask(node.node.layer) {
                        forward.append("mask = \(carried?.name ?? "None")")
                    }
                    maskedSteps = carried?.steps
                    layout = layouts[source]
                    emit([Architecture.Step(layer: node.node.layer, input: node.inputs[0], output: node.output)], first: j)
                    forward.append("\(name) = x  # \"\(node.node.name)\"")
                    if let steps = maskedSteps {
                        forward.append("\(g)_m\(planned.inputs.count + j) = mask")
                        masks.append(("\(g)_m\(planned.inputs.count + j)", steps))
                    } else {
                        masks.append(nil)
                    }
                    names.append(name)
                    layouts.append(layout)
                    continue
                }
                names.append(name)
                layouts.append(node.output.rank == 3 ? .channelsLast : .other)
            }
            // After the graph the mask is the one before it, as the Sequential around it keeps it.
            if masks.contains(where: { $0 != nil }) { forward.append("mask = \(masks[0]?.name ?? "None")") }
            maskedSteps = outer
            let outputs = planned.outputIndices
            if outputs.count == 1 {
                forward.append("x = \(names[outputs[0]])")
                layout = layouts[outputs[0]]
            } else if asTuple {
                forward.append(
                    "x = (\(outputs.map(plain).joined(separator: ", ")))  # \(planned.outputs.map(\.name).joined(separator: ", "))")
                layout = .other
            } else {
                forward.append(
                    "x = torch.cat([\(outputs.map { plain($0) + ".flatten(1)" }.joined(separator: ", "))], dim=1)  # packed outputs")
                layout = .other
            }
        }
        func emit(_ steps: [Architecture.Step], first: Int = 0) {
            for (offset, step) in steps.enumerated() {
                let index = first + offset
                let input = step.input
                switch step.layer {
                case .residual(let body, let shortcut):
                    // skip = x; x = body(x); x = skip-branch(skip) + x, both branches ending in one layout.
                    blocks += 1
                    let (saved, savedModules, savedContainer, start) = ("_skip\(blocks)", modules, container, layout)
                    let end: Layout = step.output.rank == 3 ? .channelsFirst : (start == .channelsFirst ? .channelsLast : start)
                    func settle() {
                        if end == .channelsFirst { toChannelsFirst() } else if end == .channelsLast { toChannelsLast() }
                    }
                    forward.append("\(saved) = x  # residual block \(savedContainer)[\"\(index)\"]")
                    // Both branches start with the block's sequence mask; after it, the chain's goes on.
                    let outerMask = maskedSteps
                    func restoreMask() {
                        if let outerMask, maskedSteps != outerMask { forward.append("mask = \(saved)_mask") }
                        maskedSteps = outerMask
                    }
                    if outerMask != nil { forward.append("\(saved)_mask = mask") }
                    modules = []
                    container = "\(savedContainer)[\"\(index)\"].body.layers"
                    emit(Architecture.steps(body, from: input))
                    settle()
                    restoreMask()
                    let bodyModules = modules
                    forward.append("x, \(saved) = \(saved), x")
                    layout = start
                    modules = []
                    container = "\(savedContainer)[\"\(index)\"].shortcut.layers"
                    emit(Architecture.steps(shortcut, from: input))
                    settle()
                    restoreMask()
                    let shortcutModules = modules
                    forward.append("x = \(saved) + x")
                    container = savedContainer
                    modules = savedModules
                    modules.append("\"\(index)\": Block(\(dictionary(bodyModules)), \(dictionary(shortcutModules))),")
                case .normalization(_, let perChannel):
                    let shape: [Int] =
                        perChannel
                        ? (layout == .channelsFirst ? [input.last ?? 1, 1, 1] : [input.last ?? 1])
                        : (layout == .channelsFirst ? [input[2], input[0], input[1]] : input.dimensions)
                    modules.append("\"\(index)\": Normalization(\(Self.tuple(shape))),")
                    if perChannel && layout == .channelsFirst {
                        forward.append(
                            "x = (x - \(container)[\"\(index)\"].offset.view(-1, 1, 1)) * \(container)[\"\(index)\"].scale.view(-1, 1, 1)")
                    } else {
                        forward.append("x = \(call(index))")
                    }
                case .dense(let units, let function, _, let weights):
                    toChannelsLast()
                    modules.append("\"\(index)\": torch.nn.Linear(\(input.last!), \(units)\(Self.bias(weights))),")
                    forward.append("x = \(call(index))")
                    activation(function)
                case .maxout(let units, let pieces, _, let weights):
                    toChannelsLast()
                    modules.append("\"\(index)\": Maxout(\(input.last!), \(units), \(pieces)\(Self.bias(weights))),")
                    forward.append("x = \(call(index))")
                case .conv2D(let filters, let k, let s, let padding, let d, let function, _, let weights):
                    toChannelsFirst()
                    let window = Extent2D(d.rows * (k.rows - 1) + 1, d.columns * (k.columns - 1) + 1)
                    let (rows, columns) = Self.pads(padding, input: input, window: window, stride: s)
                    let options = "\(input[2]), \(filters), \(k), stride=\(s)\(d == 1 ? "" : ", dilation=\(d)")\(Self.bias(weights))"
                    if rows.0 == rows.1 && columns.0 == columns.1 {
                        modules.append("\"\(index)\": torch.nn.Conv2d(\(options), padding=(\(rows.0), \(columns.0))),")
                    } else {
                        modules.append(
                            "\"\(index)\": PaddedConv2d(\(options), pads=(\(columns.0), \(columns.1), \(rows.0), \(rows.1))),")
                    }
                    forward.append("x = \(call(index))")
                    activation(function)
                case .conv1D(let filters, let k, let s, let padding, let d, let function, _, let weights):
                    toChannelsLast()
                    let side = padding.resolve(size: input[0], window: d * (k - 1) + 1, stride: s, axis: 1)!
                    let options = "\(input[1]), \(filters), \(k), stride=\(s)\(d == 1 ? "" : ", dilation=\(d)")\(Self.bias(weights))"
                    if side.before == side.after {
                        modules.append("\"\(index)\": torch.nn.Conv1d(\(options), padding=\(side.before)),")
                    } else {
                        modules.append("\"\(index)\": PaddedConv1d(\(options), pads=(\(side.before), \(side.after))),")
                    }
                    forward.append("x = \(container)[\"\(index)\"](x.transpose(1, 2)).transpose(1, 2)  # [N, L, C] → [N, C, L] and back")
                    activation(function)
                case .locallyConnected2D(let filters, let k, let s, let function, _, let weights):
                    toChannelsLast()
                    modules.append(
                        "\"\(index)\": LocallyConnected2d(\(Self.tuple(input.dimensions)), \(filters), (\(k.rows), \(k.columns)), (\(s.rows), \(s.columns))\(Self.bias(weights))),"
                    )
                    forward.append("x = \(call(index))")
                    activation(function)
                case .locallyConnected1D(let filters, let k, let s, let function, _, let weights):
                    modules.append(
                        "\"\(index)\": LocallyConnected1d(\(Self.tuple(input.dimensions)), \(filters), \(k), \(s)\(Self.bias(weights))),")
                    forward.append("x = \(call(index))")
                    activation(function)
                case .maxPool2D(let size, let stride, let padding):
                    toChannelsFirst()
                    let s = stride ?? size
                    let (rows, columns) = Self.pads(padding, input: input, window: Extent2D(size), stride: Extent2D(s))
                    if rows.0 == rows.1 && columns.0 == columns.1 && 2 * max(rows.0, columns.0) <= size {
                        modules.append("\"\(index)\": torch.nn.MaxPool2d(\(size), stride=\(s), padding=(\(rows.0), \(columns.0))),")
                    } else {
                        modules.append(
                            "\"\(index)\": torch.nn.Sequential(torch.nn.ConstantPad2d((\(columns.0), \(columns.1), \(rows.0), \(rows.1)), float(\"-inf\")), torch.nn.MaxPool2d(\(size), stride=\(s))),"
                        )
                    }
                    forward.append("x = \(call(index))")
                case .avgPool2D(let size, let stride, let padding, let includes):
                    toChannelsFirst()
                    let s = stride ?? size
                    let (rows, columns) = Self.pads(padding, input: input, window: Extent2D(size), stride: Extent2D(s))
                    let flag = includes ? "True" : "False"
                    if rows.0 == rows.1 && columns.0 == columns.1 && 2 * max(rows.0, columns.0) <= size {
                        modules.append(
                            "\"\(index)\": torch.nn.AvgPool2d(\(size), stride=\(s), padding=(\(rows.0), \(columns.0)), count_include_pad=\(flag)),"
                        )
                    } else {
                        modules.append(
                            "\"\(index)\": PaddedAvgPool2d(\(size), stride=\(s), pads=(\(columns.0), \(columns.1), \(rows.0), \(rows.1)), count_include_pad=\(flag)),"
                        )
                    }
                    forward.append("x = \(call(index))")
                case .batchNorm(let momentum, let epsilon, _):
                    let channels = input.last!
                    let options = "eps=\(Self.number(epsilon)), momentum=\(Self.number(1 - momentum))"
                    if input.rank == 3 {
                        toChannelsFirst()
                        modules.append("\"\(index)\": torch.nn.BatchNorm2d(\(channels), \(options)),")
                        forward.append("x = \(call(index))")
                    } else if input.rank == 1 {
                        modules.append("\"\(index)\": torch.nn.BatchNorm1d(\(channels), \(options)),")
                        forward.append("x = \(call(index))")
                    } else {
                        modules.append("\"\(index)\": torch.nn.BatchNorm1d(\(channels), \(options)),")
                        forward.append("x = \(container)[\"\(index)\"](x.reshape(-1, \(channels))).reshape(x.shape)")
                    }
                case .activation(let function):
                    activation(function)
                case .dropout(let rate):
                    modules.append("\"\(index)\": torch.nn.Dropout(\(Self.number(rate))),")
                    forward.append("x = \(call(index))")
                case .conv2DTranspose(let filters, let k, let s, let padding, let extra, let function, _, let weights):
                    toChannelsFirst()
                    let crop: [Int]  // top, bottom, left, right cut from the full transposed convolution
                    var outputPadding = extra
                    switch padding {
                    case .valid: crop = [0, 0, 0, 0]
                    case .same:
                        let rows = max(k.rows - s.rows, 0)
                        let columns = max(k.columns - s.columns, 0)
                        crop = [rows / 2, rows - rows / 2, columns / 2, columns - columns / 2]
                        // "same" gives input × stride: cut K − S from the full output, or (K < S) add S − K
                        // rows or columns at the bottom and right, as PyTorch's output_padding does.
                        outputPadding = Extent2D(max(s.rows - k.rows, 0), max(s.columns - k.columns, 0))
                    case .explicit(let top, let left, let bottom, let right): crop = [top, bottom, left, right]
                    }
                    let extraOption = outputPadding == 0 ? "" : ", output_padding=\(outputPadding)"
                    modules.append(
                        "\"\(index)\": CroppedConvTranspose2d(\(input[2]), \(filters), \(k), stride=\(s)\(extraOption)\(Self.bias(weights)), crop=(\(crop.map(String.init).joined(separator: ", ")))),"
                    )
                    forward.append("x = \(call(index))")
                    activation(function)
                case .zeroPadding2D(let top, let left, let bottom, let right):
                    toChannelsFirst()
                    forward.append("x = F.pad(x, (\(left), \(right), \(top), \(bottom)))")
                case .globalAveragePooling2D:
                    forward.append(layout == .channelsFirst ? "x = x.mean(dim=(2, 3))" : "x = x.mean(dim=(1, 2))")
                    layout = .other
                case .reshape(let shape):
                    toChannelsLast()
                    forward.append("x = x.reshape(x.shape[0], \(shape.map(String.init).joined(separator: ", ")))")
                    layout = step.output.rank == 3 ? .channelsLast : .other
                case .flatten:
                    toChannelsLast()
                    forward.append("x = torch.flatten(x, 1)  # in Backprop's (H, W, C) order")
                    layout = .other
                case .recurrent, .bidirectional:
                    toChannelsLast()
                    // A bidirectional layer is one nn.LSTM/GRU/RNN with bidirectional=True.
                    var (inner, merge): (LayerSpec, Bidirectional.Merge?) = (step.layer, nil)
                    if case .bidirectional(let layer, let mode) = step.layer { (inner, merge) = (layer, mode) }
                    guard case .recurrent(let cell, let units, let sequences, let reverse, _, let weights) = inner else { break }
                    modules.append("\"\(index)\": \(Self.recurrentModule(cell, input[1], units, weights, bidirectional: merge != nil)),")
                    let direction = merge.map { "merge=\"\($0.rawValue)\"" } ?? "reverse=\(Self.flag(reverse))"
                    forward.append(
                        "x = recurrent(\(container)[\"\(index)\"], x, mask, return_sequences=\(Self.flag(sequences)), \(direction))")
                    layout = .other
                case .embedding(let vocabulary, let dimension, let maskZero):
                    modules.append("\"\(index)\": torch.nn.Embedding(\(vocabulary), \(dimension)),")
                    if maskZero { forward.append("mask = x != 0") }
                    forward.append("x = \(container)[\"\(index)\"](x.long())")
                    layout = .other
                case .layerNorm(let epsilon):
                    toChannelsLast()
                    modules.append("\"\(index)\": torch.nn.LayerNorm(\(input.last!), eps=\(Self.number(epsilon))),")
                    forward.append("x = \(call(index))")
                    layout = .other
                case .timeDistributed(let inner):
                    toChannelsLast()
                    let features = input.last!
                    switch inner {
                    case .dense(let units, let function, _, let weights):
                        modules.append("\"\(index)\": TimeDistributed(torch.nn.Linear(\(features), \(units)\(Self.bias(weights)))),")
                        forward.append("x = \(call(index))")
                        activation(function)
                    case .layerNorm(let epsilon):
                        modules.append("\"\(index)\": TimeDistributed(torch.nn.LayerNorm(\(features), eps=\(Self.number(epsilon)))),")
                        forward.append("x = \(call(index))")
                    case .dropout(let rate):
                        modules.append("\"\(index)\": torch.nn.Dropout(\(Self.number(rate))),")
                        forward.append("x = \(call(index))")
                    case .activation(let function):
                        activation(function)
                    default:
                        break  // plan() admits nothing else inside time_distributed
                    }
                    layout = .other
                case .graph(let graph):
                    let (savedModules, savedContainer) = (modules, container)
                    modules = []
                    container = "\(savedContainer)[\"\(index)\"].layers"
                    emitGraph(graph, input: input, asTuple: false)
                    let nodeModules = modules
                    (modules, container) = (savedModules, savedContainer)
                    modules.append("\"\(index)\": Graph(\(dictionary(nodeModules))),")
                case .add, .subtract, .multiply, .concatenate:
                    break  // plan() admits merges only as graph nodes
                case .masking(let value):
                    toChannelsLast()
                    forward.append("mask = (x != \(Self.number(value))).any(dim=-1)")
                    forward.append("x = x * mask.unsqueeze(-1)")
                    layout = .other
                }
                // The sequence mask lasts while the time axis does (as in Backprop's Sequential).
                if maskedSteps == nil, Self.startsMask(step.layer) { maskedSteps = step.output.first }
                if let steps = maskedSteps, !(step.output.rank >= 2 && step.output[0] == steps) {
                    forward.append("mask = None")
                    maskedSteps = nil
                }
            }
        }
        let ports = architecture.inputPorts
        if ports.count > 1 && architecture.soleGraph == nil {
            forward.append(
                "x = torch.cat([t.reshape(t.shape[0], -1) for t in (\(ports.map(\.name).joined(separator: ", ")))], dim=1)  # packed inputs"
            )
        }
        if let graph = architecture.soleGraph {
            emitGraph(graph, input: architecture.inputShape, asTuple: true)
        } else {
            emit(plan.steps.map { Architecture.Step(layer: $0.layer, input: $0.input, output: $0.output) })
            let outputs = architecture.outputPorts
            if outputs.count > 1 {
                // A trailing graph's outputs arrived packed: the model returns them as a tuple.
                toChannelsLast()
                let sizes = outputs.map { String($0.shape.elementCount) }.joined(separator: ", ")
                let shapes = outputs.map { Self.tuple($0.shape.dimensions) }.joined(separator: ", ")
                forward.append("x = tuple(t.reshape(-1, *s) for t, s in zip(torch.split(x, [\(sizes)], dim=1), (\(shapes),)))")
                layout = .other
            }
        }
        toChannelsLast()
        let header = """
            # Written by `backprop export --format pytorch`: the architecture below as a PyTorch module.
            # Input: \(architecture.inputShape.rank == 3 ? "NHWC images [N, \(architecture.inputShape.dimensions.map(String.init).joined(separator: ", "))]" : "[N, \(architecture.inputShape.dimensions.map(String.init).joined(separator: ", "))]"), as Backprop takes it. Output: [N, \(plan.outputShape.dimensions.map(String.init).joined(separator: ", "))].
            #   model = Model()
            #   model.load_state_dict(safetensors.torch.load_file("model.safetensors"), strict=True)
            #   model.eval()
            import torch
            import torch.nn.functional as F


            class Normalization(torch.nn.Module):
                \"\"\"(x - offset) * scale, with statistics fitted on the training data.\"\"\"

                def __init__(self, shape):
                    super().__init__()
                    self.register_buffer("offset", torch.zeros(shape))
                    self.register_buffer("scale", torch.ones(shape))

                def forward(self, x):
                    return (x - self.offset) * self.scale


            class PaddedConv2d(torch.nn.Conv2d):
                \"\"\"A convolution with different padding on each side (left, right, top, bottom).\"\"\"

                def __init__(self, *args, pads, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.pads = pads

                def forward(self, x):
                    return super().forward(F.pad(x, self.pads))


            class PaddedConv1d(torch.nn.Conv1d):
                \"\"\"A 1-D convolution with different padding on each side (left, right).\"\"\"

                def __init__(self, *args, pads, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.pads = pads

                def forward(self, x):
                    return super().forward(F.pad(x, self.pads))


            class LocallyConnected2d(torch.nn.Module):
                \"\"\"Unshared weights per output position over NHWC input, valid padding. Backprop's layout:
                weight [positions, kh * kw * channels, filters] with patches in (kh, kw, channels) order,
                bias [positions, filters].\"\"\"

                def __init__(self, shape, filters, kernel, stride, bias=True):
                    super().__init__()
                    height, width, channels = shape
                    self.kernel, self.stride = kernel, stride
                    self.rows = (height - kernel[0]) // stride[0] + 1
                    self.columns = (width - kernel[1]) // stride[1] + 1
                    positions = self.rows * self.columns
                    self.weight = torch.nn.Parameter(torch.zeros(positions, kernel[0] * kernel[1] * channels, filters))
                    if bias:
                        self.bias = torch.nn.Parameter(torch.zeros(positions, filters))
                    else:
                        self.register_parameter("bias", None)

                def forward(self, x):
                    n = x.shape[0]
                    patches = x.unfold(1, self.kernel[0], self.stride[0]).unfold(2, self.kernel[1], self.stride[1])
                    patches = patches.permute(0, 1, 2, 4, 5, 3).reshape(n, self.rows * self.columns, -1)
                    y = torch.einsum("npk,pko->npo", patches, self.weight)
                    if self.bias is not None:
                        y = y + self.bias
                    return y.reshape(n, self.rows, self.columns, -1)


            class LocallyConnected1d(torch.nn.Module):
                \"\"\"LocallyConnected2d over [N, L, C] sequences (a height of 1).\"\"\"

                def __init__(self, shape, filters, kernel, stride, bias=True):
                    super().__init__()
                    self.layer = LocallyConnected2d((1,) + tuple(shape), filters, (1, kernel), (1, stride), bias)

                def forward(self, x):
                    return self.layer(x.unsqueeze(1)).squeeze(1)


            class Maxout(torch.nn.Module):
                \"\"\"units outputs, each the maximum of pieces affine maps (consecutive columns).\"\"\"

                def __init__(self, features, units, pieces, bias=True):
                    super().__init__()
                    self.units, self.pieces = units, pieces
                    self.linear = torch.nn.Linear(features, units * pieces, bias=bias)

                def forward(self, x):
                    y = self.linear(x)
                    return y.reshape(*y.shape[:-1], self.units, self.pieces).amax(-1)


            class CroppedConvTranspose2d(torch.nn.ConvTranspose2d):
                \"\"\"A transposed convolution with (top, bottom, left, right) cut from its full output.\"\"\"

                def __init__(self, *args, crop, **kwargs):
                    super().__init__(*args, **kwargs)
                    self.crop = crop

                def forward(self, x):
                    y = super().forward(x)
                    top, bottom, left, right = self.crop
                    return y[:, :, top:y.shape[2] - bottom, left:y.shape[3] - right]


            class PaddedAvgPool2d(torch.nn.Module):
                \"\"\"Average pooling with different padding on each side; padded positions counted or not.\"\"\"

                def __init__(self, size, stride, pads, count_include_pad):
                    super().__init__()
                    self.size, self.stride, self.pads, self.count_include_pad = size, stride, pads, count_include_pad

                def forward(self, x):
                    total = F.avg_pool2d(F.pad(x, self.pads), self.size, self.stride)
                    if self.count_include_pad:
                        return total
                    ones = torch.ones_like(x[:1, :1])
                    return total / F.avg_pool2d(F.pad(ones, self.pads), self.size, self.stride)


            def recurrent(rnn, x, mask, return_sequences, reverse=False, merge=None):
                \"\"\"Runs rnn (batch_first, one layer) as Backprop does: a masked step keeps the state and
                outputs zeros, so the last state is that of the last real step; reverse runs each sequence's
                real steps from the last to the first; outputs stay aligned with the inputs. The real steps
                are gathered to the front, packed, run and scattered back.\"\"\"
                n, steps = x.shape[0], x.shape[1]
                if mask is None:
                    mask = torch.ones(n, steps, dtype=torch.bool, device=x.device)
                lengths = mask.sum(dim=1)
                order = torch.argsort((~mask).to(torch.int8), dim=1, stable=True)
                positions = torch.arange(steps, device=x.device).expand(n, steps)
                real = positions < lengths.unsqueeze(1)
                if reverse:
                    flipped = (lengths.unsqueeze(1) - 1 - positions).clamp(min=0)
                    order = order.gather(1, torch.where(real, flipped, positions))
                gathered = x.gather(1, order.unsqueeze(-1).expand(-1, -1, x.shape[2]))
                packed = torch.nn.utils.rnn.pack_padded_sequence(
                    gathered, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
                out, hidden = rnn(packed)
                out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=steps)
                out = out * (real & (lengths > 0).unsqueeze(1)).unsqueeze(-1)
                if isinstance(hidden, tuple):
                    hidden = hidden[0]
                half = out.shape[2] // 2
                if return_sequences:
                    y = torch.zeros_like(out).scatter(1, order.unsqueeze(-1).expand(-1, -1, out.shape[2]), out)
                elif rnn.bidirectional:
                    # Last states: the forward direction's after the last real step, the backward one's after the first.
                    y = torch.cat([hidden[0], hidden[1]], dim=1) * (lengths > 0).unsqueeze(1)
                else:
                    y = hidden[0] * (lengths > 0).unsqueeze(1)
                if merge is None or merge == "concat":
                    return y
                a, b = y[..., :half], y[..., half:]
                return {"sum": a + b, "ave": (a + b) / 2, "mul": a * b}[merge]


            class TimeDistributed(torch.nn.Module):
                \"\"\"Applies a layer to each step of [N, steps, ...].\"\"\"

                def __init__(self, layer):
                    super().__init__()
                    self.layer = layer

                def forward(self, x):
                    n, steps = x.shape[0], x.shape[1]
                    y = self.layer(x.reshape(n * steps, *x.shape[2:]))
                    return y.reshape(n, steps, *y.shape[1:])


            class Block(torch.nn.Module):
                \"\"\"A residual block's branches, body.layers and shortcut.layers (empty: the identity).\"\"\"

                def __init__(self, body, shortcut):
                    super().__init__()
                    self.body = torch.nn.Module()
                    self.body.layers = torch.nn.ModuleDict(body)
                    self.shortcut = torch.nn.Module()
                    self.shortcut.layers = torch.nn.ModuleDict(shortcut)


            class Graph(torch.nn.Module):
                \"\"\"A graph's nodes, layers["i"] for node i (Model.forward writes out how they connect).\"\"\"

                def __init__(self, layers):
                    super().__init__()
                    self.layers = torch.nn.ModuleDict(layers)


            class Model(torch.nn.Module):
                input_names = \(Self.pythonList(ports.map { "\"\($0.name)\"" }))
                input_shapes = \(Self.pythonList(ports.map { Self.tuple($0.shape.dimensions) }))
                output_names = \(Self.pythonList(architecture.outputPorts.map { "\"\($0.name)\"" }))
                output_shapes = \(Self.pythonList(architecture.outputPorts.map { Self.tuple($0.shape.dimensions) }))

                def __init__(self):
                    super().__init__()
                    self.layers = torch.nn.ModuleDict({

            """
        let body = modules.map { "            " + $0 }.joined(separator: "\n")
        let tail =
            "\n        })\n\n    def forward(self, \(ports.count > 1 ? ports.map(\.name).joined(separator: ", ") : "x")):\n"
            + forward.map { "        " + $0 }.joined(separator: "\n") + "\n        return x\n"
        return header + body + tail
    }

    /// (before, after) padding along rows and columns.
    static func pads(_ padding: Padding, input: Shape, window: Extent2D, stride: Extent2D) -> ((Int, Int), (Int, Int)) {
        let rows = padding.resolve(size: input[0], window: window.rows, stride: stride.rows, axis: 0)!
        let columns = padding.resolve(size: input[1], window: window.columns, stride: stride.columns, axis: 1)!
        return ((rows.before, rows.after), (columns.before, columns.after))
    }

    /// `torch.nn.LSTM(…)`, `GRU` or `RNN`, batch first, one layer.
    static func recurrentModule(
        _ cell: RecurrentGeometry.Cell, _ features: Int, _ units: Int, _ weights: WeightOptions, bidirectional: Bool
    )
        -> String
    {
        let kind: String
        switch cell {
        case .lstm: kind = "LSTM"
        case .gru: kind = "GRU"
        case .tanh: kind = "RNN"
        case .relu: kind = "RNN"
        }
        let nonlinearity = cell == .relu ? ", nonlinearity=\"relu\"" : ""
        return
            "torch.nn.\(kind)(\(features), \(units), batch_first=True\(nonlinearity)\(Self.bias(weights))\(bidirectional ? ", bidirectional=True" : ""))"
    }

    /// Whether the layer starts a sequence mask.
    static func startsMask(_ layer: LayerSpec) -> Bool {
        switch layer {
        case .masking: true
        case .embedding(_, _, let maskZero): maskZero
        default: false
        }
    }

    static func flag(_ value: Bool) -> String { value ? "True" : "False" }

    static func pythonList(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }

    /// `, bias=False` for a layer without bias.
    static func bias(_ weights: WeightOptions) -> String { weights.useBias ? "" : ", bias=False" }

    static func number(_ value: Float) -> String { String(format: "%.7g", Double(value)) }
    static func tuple(_ values: [Int]) -> String {
        "(" + values.map(String.init).joined(separator: ", ") + (values.count == 1 ? ",)" : ")")
    }
}
