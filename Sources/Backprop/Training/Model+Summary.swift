import Foundation

extension Model {
    /// A Keras-style table: each layer, its output shape and parameter count, then the totals.
    ///
    /// Output shapes come from running one zero sample through the network (no tape), so they are
    /// exactly what training will see.
    public func summary() -> String {
        let layers: [any Layer] = (network as? Sequential)?.layers ?? [network]
        var rows: [(String, String, Int)] = []
        var counts: [String: Int] = [:]
        func shape(_ x: Tensor) -> String { "(None, " + x.shape.dimensions.dropFirst().map(String.init).joined(separator: ", ") + ")" }
        /// A graph's inputs and nodes, each node with what it reads (`← a, b`); nested blocks and
        /// graphs indented below their node.
        func addGraph(_ graph: Graph, _ x: Tensor, indent: String) -> Tensor {
            var values = Graph.unpack(x, shapes: graph.inputs.map(\.shape))
            for (port, value) in zip(graph.inputs, values) { rows.append(("\(indent)\(port.name) (Input)", shape(value), 0)) }
            let names = graph.inputs.map(\.name) + graph.nodeNames
            for (j, layer) in graph.layers.enumerated() {
                let arguments = graph.connections[j].map { values[$0] }
                let reads = " ← " + graph.connections[j].map { names[$0] }.joined(separator: ", ")
                if let merge = layer as? any MergeLayer {
                    values.append(merge(arguments))
                    rows.append(("\(indent)\(graph.nodeNames[j]) (\(layer.typeName))\(reads)", shape(values.last!), 0))
                } else {
                    values.append(add(layer, arguments[0], indent: indent, name: graph.nodeNames[j], suffix: reads))
                }
            }
            return Graph.pack(graph.outputIndices.map { values[$0] })
        }
        /// A row per layer; a residual block's branches follow it, indented (the tree of the model walk).
        func add(_ layer: any Layer, _ x: Tensor, indent: String, name given: String? = nil, suffix: String = "") -> Tensor {
            // Keras-style: the leading capitals in lower case (lstm, gru, conv2D, simpleRNN).
            let type = layer.typeName
            let capitals = type.prefix { $0.isUppercase }.count
            let lowered = capitals == type.count || capitals <= 1 ? capitals : capitals - 1
            let base = type.prefix(lowered).lowercased() + type.dropFirst(lowered)
            let index = counts[base, default: 0]
            if given == nil { counts[base] = index + 1 }
            let name = given ?? (index == 0 ? base : "\(base)_\(index)")
            if let graph = layer as? Graph {
                rows.append(("\(indent)\(name) (Graph)\(suffix)", "", layer.parameterCount))
                let y = addGraph(graph, x, indent: indent + "  │ ")
                rows.append(("\(indent)  └ outputs " + graph.outputNames.joined(separator: ", "), shape(y), 0))
                return y
            }
            let y = layer(x)
            rows.append(("\(indent)\(name) (\(layer.typeName))\(suffix)", shape(y), layer.parameterCount))
            if let block = layer as? Residual {
                var h = x
                for inner in block.body.layers { h = add(inner, h, indent: indent + "  │ ") }
                if let shortcut = block.shortcut {
                    var skip = x
                    for inner in shortcut.layers { skip = add(inner, skip, indent: indent + "  ↳ ") }
                }
            }
            return y
        }
        withoutGradient {
            var x = Tensor.zeros(Shape([1] + inputShape.dimensions))
            if let graph = network as? Graph {
                x = addGraph(graph, x, indent: "")
                for port in graph.outputs {
                    rows.append(
                        ("→ output \(port.name)", "(None, " + port.shape.dimensions.map(String.init).joined(separator: ", ") + ")", 0))
                }
            } else {
                for layer in layers { x = add(layer, x, indent: "") }
            }
        }
        let trainable = network.parameters.filter(\.isTrainable).reduce(0) { $0 + $1.elementCount }
        let total = network.parameterCount
        let widths = (max(28, rows.map(\.0.count).max() ?? 0) + 2, max(22, rows.map(\.1.count).max() ?? 0) + 2, 14)
        func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
            let space = String(repeating: " ", count: max(0, width - text.count))
            return right ? space + text : text + space
        }
        let rule = String(repeating: "─", count: widths.0 + widths.1 + widths.2)
        var lines = [
            "Model: \"\(network.typeName.lowercased())\"", rule,
            pad("Layer (type)", widths.0) + pad("Output Shape", widths.1) + pad("Param #", widths.2, right: true), rule,
        ]
        for row in rows {
            lines.append(pad(row.0, widths.0) + pad(row.1, widths.1) + pad(grouped(row.2), widths.2, right: true))
        }
        lines += [
            rule,
            "Total params: \(grouped(total)) (\(megabytes(total)))",
            "Trainable params: \(grouped(trainable)) (\(megabytes(trainable)))",
            "Non-trainable params: \(grouped(total - trainable)) (\(megabytes(total - trainable)))",
        ]
        return lines.joined(separator: "\n")
    }
}

/// 535818 → "535,818".
func grouped(_ value: Int) -> String {
    let digits = String(value)
    var result = ""
    for (i, character) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { result.append(",") }
        result.append(character)
    }
    return result
}

private func megabytes(_ parameters: Int) -> String {
    let bytes = Double(parameters * 4)
    if bytes >= 1024 * 1024 { return String(format: "%.2f MB", bytes / 1024 / 1024) }
    if bytes >= 1024 { return String(format: "%.2f KB", bytes / 1024) }
    return "\(Int(bytes)) B"
}
