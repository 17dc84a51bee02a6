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
        /// A row per layer; a residual block's branches follow it, indented (the tree of the model walk).
        func add(_ layer: any Layer, _ x: Tensor, indent: String) -> Tensor {
            // Keras-style: the leading capitals in lower case (lstm, gru, conv2D, simpleRNN).
            let type = layer.typeName
            let capitals = type.prefix { $0.isUppercase }.count
            let lowered = capitals == type.count || capitals <= 1 ? capitals : capitals - 1
            let base = type.prefix(lowered).lowercased() + type.dropFirst(lowered)
            let index = counts[base, default: 0]
            counts[base] = index + 1
            let name = index == 0 ? base : "\(base)_\(index)"
            let y = layer(x)
            rows.append(("\(indent)\(name) (\(layer.typeName))", shape(y), layer.parameterCount))
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
            for layer in layers { x = add(layer, x, indent: "") }
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
