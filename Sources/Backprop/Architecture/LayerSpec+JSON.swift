// MARK: JSON (the architecture file; the schema is documented on `Architecture`)

extension LayerSpec {
    init(json reader: FieldReader) throws {
        guard let type = try reader.optionalString("type") else { throw reader.fail("type", "a layer type") }
        func activation(_ key: String = "activation") throws -> ActivationFunction {
            guard let text = try reader.optionalString(key) else { return .identity }
            guard let function = ActivationFunction(jsonName: text) else {
                throw reader.fail(key, "identity, relu, sigmoid, tanh, softplus, softmax, log_softmax, leaky_relu(SLOPE) or elu(ALPHA)")
            }
            return function
        }
        func regularizer(_ prefix: String = "") throws -> Regularizer? {
            let l1 = Float(try reader.optionalNumber(prefix + "l1") ?? 0)
            let l2 = Float(try reader.optionalNumber(prefix + "l2") ?? 0)
            guard l1 >= 0 else { throw reader.fail(prefix + "l1", "a number ≥ 0") }
            guard l2 >= 0 else { throw reader.fail(prefix + "l2", "a number ≥ 0") }
            switch (l1 > 0, l2 > 0) {
            case (true, true): return .l1l2(l1: l1, l2: l2)
            case (true, false): return .l1(l1)
            case (false, true): return .l2(l2)
            case (false, false): return nil
            }
        }
        func initializer(_ key: String, _ fallback: Initializer) throws -> Initializer {
            guard let text = try reader.optionalString(key) else { return fallback }
            guard let initializer = Initializer(jsonName: text) else { throw reader.fail(key, Initializer.jsonNames) }
            return initializer
        }
        func weights() throws -> WeightOptions {
            WeightOptions(
                useBias: try reader.optionalBool("use_bias") ?? true,
                kernelInitializer: try initializer("kernel_initializer", .glorotUniform),
                biasInitializer: try initializer("bias_initializer", .zeros), biasRegularizer: try regularizer("bias_"))
        }
        func extent(_ key: String, _ fallback: Extent2D? = nil, atLeast minimum: Int = 1) throws -> Extent2D {
            let expected = "a whole number ≥ \(minimum) or [rows, columns]"
            switch reader.object[key] {
            case nil:
                guard let fallback else { throw reader.fail(key, expected) }
                return fallback
            case is [Any]:
                let pair = try reader.integers(key)
                guard pair.count == 2, pair.allSatisfy({ $0 >= minimum && $0 <= 1 << 24 }) else { throw reader.fail(key, expected) }
                return Extent2D(pair[0], pair[1])
            default:
                let value = try reader.integer(key, atLeast: minimum)
                guard value <= 1 << 24 else { throw reader.fail(key, expected) }
                return Extent2D(value)
            }
        }
        func integer(_ key: String, _ fallback: Int) throws -> Int {
            try reader.optionalInteger(key).map { _ in try reader.integer(key) } ?? fallback
        }
        func padding(oneDimensional: Bool = false) throws -> Padding {
            let expected = oneDimensional ? "\"valid\", \"same\" or [left, right]" : "\"valid\", \"same\" or [top, left, bottom, right]"
            switch reader.object["padding"] {
            case nil: return .valid
            case let text as String where text == "valid": return .valid
            case let text as String where text == "same": return .same
            case is [Any]:
                let sides = try reader.integers("padding")
                guard sides.count == (oneDimensional ? 2 : 4), sides.allSatisfy({ $0 >= 0 && $0 <= 1 << 24 }) else {
                    throw reader.fail("padding", expected)
                }
                if oneDimensional { return .explicit(top: 0, left: sides[0], bottom: 0, right: sides[1]) }
                return .explicit(top: sides[0], left: sides[1], bottom: sides[2], right: sides[3])
            default: throw reader.fail("padding", expected)
            }
        }
        let common: Set<String> = ["type"]
        let weighted: Set<String> = ["activation", "l1", "l2", "use_bias", "kernel_initializer", "bias_initializer", "bias_l1", "bias_l2"]
        switch type {
        case "dense":
            try reader.allowOnly(common.union(weighted).union(["units"]))
            self = .dense(
                units: try reader.integer("units"), activation: try activation(), regularizer: try regularizer(), weights: try weights())
        case "conv2d":
            try reader.allowOnly(common.union(weighted).union(["filters", "kernel_size", "stride", "padding", "dilation"]))
            self = .conv2D(
                filters: try reader.integer("filters"), kernelSize: try extent("kernel_size"), stride: try extent("stride", 1),
                padding: try padding(), dilation: try extent("dilation", 1), activation: try activation(),
                regularizer: try regularizer(), weights: try weights())
        case "conv1d":
            try reader.allowOnly(common.union(weighted).union(["filters", "kernel_size", "stride", "padding", "dilation"]))
            self = .conv1D(
                filters: try reader.integer("filters"), kernelSize: try reader.integer("kernel_size"), stride: try integer("stride", 1),
                padding: try padding(oneDimensional: true), dilation: try integer("dilation", 1), activation: try activation(),
                regularizer: try regularizer(), weights: try weights())
        case "locally_connected2d":
            try reader.allowOnly(common.union(weighted).union(["filters", "kernel_size", "stride"]))
            self = .locallyConnected2D(
                filters: try reader.integer("filters"), kernelSize: try extent("kernel_size"), stride: try extent("stride", 1),
                activation: try activation(), regularizer: try regularizer(), weights: try weights())
        case "locally_connected1d":
            try reader.allowOnly(common.union(weighted).union(["filters", "kernel_size", "stride"]))
            self = .locallyConnected1D(
                filters: try reader.integer("filters"), kernelSize: try reader.integer("kernel_size"), stride: try integer("stride", 1),
                activation: try activation(), regularizer: try regularizer(), weights: try weights())
        case "maxout":
            try reader.allowOnly(common.union(weighted.subtracting(["activation"])).union(["units", "pieces"]))
            self = .maxout(
                units: try reader.integer("units"), pieces: try reader.integer("pieces"), regularizer: try regularizer(),
                weights: try weights())
        case "max_pool2d", "avg_pool2d":
            try reader.allowOnly(common.union(["size", "stride", "padding"] + (type == "avg_pool2d" ? ["count_include_pad"] : [])))
            let size = try reader.integer("size")
            let stride = try reader.optionalInteger("stride").map { _ in try reader.integer("stride") }
            self =
                type == "max_pool2d"
                ? .maxPool2D(size: size, stride: stride, padding: try padding())
                : .avgPool2D(
                    size: size, stride: stride, padding: try padding(),
                    countIncludesPadding: try reader.optionalBool("count_include_pad") ?? false)
        case "batch_norm":
            try reader.allowOnly(common.union(["momentum", "epsilon", "unbiased_running_variance"]))
            let momentum = Float(try reader.optionalNumber("momentum") ?? 0.99)
            let epsilon = Float(try reader.optionalNumber("epsilon") ?? 1e-3)
            guard momentum >= 0 && momentum < 1 else { throw reader.fail("momentum", "a number in [0, 1)") }
            guard epsilon > 0 else { throw reader.fail("epsilon", "a positive number") }
            self = .batchNorm(
                momentum: momentum, epsilon: epsilon, unbiasedRunningVariance: try reader.optionalBool("unbiased_running_variance") ?? false
            )
        case "activation":
            try reader.allowOnly(common.union(["function"]))
            guard reader.object["function"] != nil else { throw reader.fail("function", "an activation name") }
            self = .activation(try activation("function"))
        case "dropout":
            try reader.allowOnly(common.union(["rate"]))
            guard let rate = try reader.optionalNumber("rate"), rate >= 0, rate < 1 else { throw reader.fail("rate", "a number in [0, 1)") }
            self = .dropout(rate: Float(rate))
        case "flatten":
            try reader.allowOnly(common)
            self = .flatten
        case "conv2d_transpose":
            try reader.allowOnly(common.union(weighted).union(["filters", "kernel_size", "stride", "padding", "output_padding"]))
            self = .conv2DTranspose(
                filters: try reader.integer("filters"), kernelSize: try extent("kernel_size"), stride: try extent("stride", 1),
                padding: try padding(), outputPadding: try extent("output_padding", 0, atLeast: 0), activation: try activation(),
                regularizer: try regularizer(), weights: try weights())
        case "global_avg_pool2d":
            try reader.allowOnly(common)
            self = .globalAveragePooling2D
        case "zero_padding2d":
            try reader.allowOnly(common.union(["padding"]))
            let sides = try reader.integers("padding")
            guard sides.count == 4, sides.allSatisfy({ $0 >= 0 && $0 <= 65_536 }) else {
                throw reader.fail("padding", "[top, left, bottom, right], each in 0…65536")
            }
            self = .zeroPadding2D(top: sides[0], left: sides[1], bottom: sides[2], right: sides[3])
        case "reshape":
            try reader.allowOnly(common.union(["shape"]))
            let shape = try reader.integers("shape")
            guard !shape.isEmpty, shape.count <= 4, shape.filter({ $0 == -1 }).count <= 1,
                shape.allSatisfy({ ($0 > 0 && $0 <= 1 << 26) || $0 == -1 })
            else { throw reader.fail("shape", "1 to 4 positive extents, at most one -1") }
            self = .reshape(shape)
        case "normalization":
            try reader.allowOnly(common.union(["kind", "per_channel"]))
            let kind: Normalization.Kind
            switch try reader.optionalString("kind") ?? "standard" {
            case "standard": kind = .standardization
            case "minmax": kind = .minMax
            default: throw reader.fail("kind", "\"standard\" or \"minmax\"")
            }
            self = .normalization(kind: kind, perChannel: try reader.optionalBool("per_channel") ?? false)
        case "residual":
            try reader.allowOnly(common.union(["layers", "shortcut"]))
            let body = try Self.layers(reader, "layers")
            guard !body.isEmpty else { throw reader.fail("layers", "a non-empty list of layers (the residual branch)") }
            self = .residual(body: body, shortcut: try Self.layers(reader, "shortcut"))
        case "simple_rnn", "lstm", "gru":
            try reader.allowOnly(
                common.union(weighted.subtracting(["bias_initializer", "bias_l1", "bias_l2"])).union([
                    "units", "return_sequences", "reverse",
                ]))
            var cell: RecurrentGeometry.Cell = type == "lstm" ? .lstm : .gru
            if type == "simple_rnn" {
                switch try reader.optionalString("activation") ?? "tanh" {
                case "tanh": cell = .tanh
                case "relu": cell = .relu
                default: throw reader.fail("activation", "\"tanh\" or \"relu\"")
                }
            } else if reader.object["activation"] != nil {
                throw reader.fail("activation", "no activation: the \(type) cell fixes its own (remove the field)")
            }
            self = .recurrent(
                cell: cell, units: try reader.integer("units"), returnSequences: try reader.optionalBool("return_sequences") ?? false,
                reverse: try reader.optionalBool("reverse") ?? false, regularizer: try regularizer(), weights: try weights())
        case "bidirectional":
            try reader.allowOnly(common.union(["layer", "merge"]))
            let merge = try reader.optionalString("merge") ?? "concat"
            guard let mode = Bidirectional.Merge(rawValue: merge) else { throw reader.fail("merge", "concat, sum, ave or mul") }
            let layer = try Self.nested(reader, "layer")
            guard case .recurrent(_, _, _, false, _, _) = layer else {
                throw reader.fail("layer", "a simple_rnn, lstm or gru layer without \"reverse\"")
            }
            self = .bidirectional(layer, merge: mode)
        case "embedding":
            try reader.allowOnly(common.union(["vocabulary", "dimension", "mask_zero"]))
            self = .embedding(
                vocabulary: try reader.integer("vocabulary"), dimension: try reader.integer("dimension"),
                maskZero: try reader.optionalBool("mask_zero") ?? false)
        case "layer_norm":
            try reader.allowOnly(common.union(["epsilon"]))
            let epsilon = try reader.optionalNumber("epsilon") ?? 1e-5
            guard epsilon >= 0, epsilon.isFinite else { throw reader.fail("epsilon", "a number ≥ 0") }
            self = .layerNorm(epsilon: Float(epsilon))
        case "time_distributed":
            try reader.allowOnly(common.union(["layer"]))
            self = .timeDistributed(try Self.nested(reader, "layer"))
        case "masking":
            try reader.allowOnly(common.union(["value"]))
            let value = try reader.optionalNumber("value") ?? 0
            guard value.isFinite else { throw reader.fail("value", "a finite number") }
            self = .masking(value: Float(value))
        case "add", "subtract", "multiply":
            try reader.allowOnly(common)
            self = type == "add" ? .add : type == "subtract" ? .subtract : .multiply
        case "concatenate":
            try reader.allowOnly(common.union(["axis"]))
            let axis = try reader.optionalInteger("axis") ?? -1
            guard abs(axis) <= 64 else { throw reader.fail("axis", "an axis of the sample, e.g. -1 (the last)") }
            self = .concatenate(axis: axis)
        case "graph":
            try reader.allowOnly(common.union(["inputs", "nodes", "outputs"]))
            self = .graph(try GraphSpec(json: reader))
        default:
            throw reader.fail("type", Self.typeNames.joined(separator: ", "))
        }
    }

    /// The list of layers under `key` (empty when absent), each read with its own field prefix.
    private static func layers(_ reader: FieldReader, _ key: String) throws -> [LayerSpec] {
        guard let value = reader.object[key] else { return [] }
        guard let list = value as? [Any] else { throw reader.fail(key, "a list of layers") }
        return try list.enumerated().map { index, item in
            guard let object = item as? [String: Any] else {
                throw BackpropError.malformed(
                    path: reader.source, field: reader.prefix + "\(key)[\(index)]", expected: "an object with a \"type\"",
                    found: "\(item)")
            }
            return try LayerSpec(json: FieldReader(object: object, source: reader.source, prefix: reader.prefix + "\(key)[\(index)]."))
        }
    }

    /// The one layer under `key`.
    static func nested(_ reader: FieldReader, _ key: String) throws -> LayerSpec {
        guard let object = reader.object[key] as? [String: Any] else { throw reader.fail(key, "a layer object with a \"type\"") }
        return try LayerSpec(json: FieldReader(object: object, source: reader.source, prefix: reader.prefix + key + "."))
    }

    /// Every `type` of the architecture file.
    public static let typeNames = [
        "dense", "conv2d", "conv1d", "conv2d_transpose", "locally_connected2d", "locally_connected1d", "maxout", "max_pool2d",
        "avg_pool2d", "global_avg_pool2d", "zero_padding2d", "batch_norm", "activation", "dropout", "flatten", "reshape",
        "normalization", "residual", "simple_rnn", "lstm", "gru", "bidirectional", "embedding", "layer_norm", "time_distributed",
        "masking", "add", "subtract", "multiply", "concatenate", "graph",
    ]

    /// The layer's `type` in the architecture file: `dense`, `conv2d`, `flatten`…
    public var typeName: String { jsonObject["type"] as? String ?? "" }

    var jsonObject: [String: Any] {
        func regularizerFields(_ regularizer: Regularizer?, prefix: String = "") -> [String: Any] {
            switch regularizer {
            case .l1(let l1): [prefix + "l1": l1]
            case .l2(let l2): [prefix + "l2": l2]
            case .l1l2(let l1, let l2): [prefix + "l1": l1, prefix + "l2": l2]
            case nil: [:]
            }
        }
        /// The weight fields, those that differ from the defaults only.
        func weightFields(_ activation: ActivationFunction?, _ regularizer: Regularizer?, _ weights: WeightOptions) -> [String: Any] {
            var fields = regularizerFields(regularizer).merging(regularizerFields(weights.biasRegularizer, prefix: "bias_")) { a, _ in a }
            if let activation { fields["activation"] = activation.jsonName }
            if !weights.useBias { fields["use_bias"] = false }
            if weights.kernelInitializer != .glorotUniform { fields["kernel_initializer"] = weights.kernelInitializer.jsonName }
            if weights.biasInitializer != .zeros { fields["bias_initializer"] = weights.biasInitializer.jsonName }
            return fields
        }
        func extentValue(_ extent: Extent2D) -> Any { extent.isSquare ? extent.rows : [extent.rows, extent.columns] }
        func paddingValue(_ padding: Padding, oneDimensional: Bool = false) -> Any {
            switch padding {
            case .valid: "valid"
            case .same: "same"
            case .explicit(let t, let l, let b, let r): oneDimensional ? [l, r] : [t, l, b, r]
            }
        }
        func merged(_ object: [String: Any], _ fields: [String: Any]) -> [String: Any] { object.merging(fields) { a, _ in a } }
        switch self {
        case .dense(let units, let activation, let regularizer, let weights):
            return merged(["type": "dense", "units": units], weightFields(activation, regularizer, weights))
        case .conv2D(let filters, let k, let s, let padding, let d, let activation, let regularizer, let weights):
            var object: [String: Any] = [
                "type": "conv2d", "filters": filters, "kernel_size": extentValue(k), "stride": extentValue(s),
                "padding": paddingValue(padding),
            ]
            if d != 1 { object["dilation"] = extentValue(d) }
            return merged(object, weightFields(activation, regularizer, weights))
        case .conv1D(let filters, let k, let s, let padding, let d, let activation, let regularizer, let weights):
            var object: [String: Any] = [
                "type": "conv1d", "filters": filters, "kernel_size": k, "stride": s, "padding": paddingValue(padding, oneDimensional: true),
            ]
            if d != 1 { object["dilation"] = d }
            return merged(object, weightFields(activation, regularizer, weights))
        case .locallyConnected2D(let filters, let k, let s, let activation, let regularizer, let weights):
            return merged(
                ["type": "locally_connected2d", "filters": filters, "kernel_size": extentValue(k), "stride": extentValue(s)],
                weightFields(activation, regularizer, weights))
        case .locallyConnected1D(let filters, let k, let s, let activation, let regularizer, let weights):
            return merged(
                ["type": "locally_connected1d", "filters": filters, "kernel_size": k, "stride": s],
                weightFields(activation, regularizer, weights))
        case .maxout(let units, let pieces, let regularizer, let weights):
            return merged(["type": "maxout", "units": units, "pieces": pieces], weightFields(nil, regularizer, weights))
        case .maxPool2D(let size, let stride, let padding), .avgPool2D(let size, let stride, let padding, _):
            var object: [String: Any] = [
                "type": { if case .maxPool2D = self { "max_pool2d" } else { "avg_pool2d" } }(), "size": size,
                "padding": paddingValue(padding),
            ]
            if let stride { object["stride"] = stride }
            if case .avgPool2D(_, _, _, true) = self { object["count_include_pad"] = true }
            return object
        case .batchNorm(let momentum, let epsilon, let unbiased):
            var object: [String: Any] = ["type": "batch_norm", "momentum": momentum, "epsilon": epsilon]
            if unbiased { object["unbiased_running_variance"] = true }
            return object
        case .activation(let function): return ["type": "activation", "function": function.jsonName]
        case .dropout(let rate): return ["type": "dropout", "rate": rate]
        case .flatten: return ["type": "flatten"]
        case .conv2DTranspose(let filters, let k, let s, let padding, let extra, let activation, let regularizer, let weights):
            var object: [String: Any] = [
                "type": "conv2d_transpose", "filters": filters, "kernel_size": extentValue(k), "stride": extentValue(s),
                "padding": paddingValue(padding),
            ]
            if extra != 0 { object["output_padding"] = extentValue(extra) }
            return merged(object, weightFields(activation, regularizer, weights))
        case .globalAveragePooling2D: return ["type": "global_avg_pool2d"]
        case .zeroPadding2D(let top, let left, let bottom, let right):
            return ["type": "zero_padding2d", "padding": [top, left, bottom, right]]
        case .reshape(let shape): return ["type": "reshape", "shape": shape]
        case .normalization(let kind, let perChannel):
            return ["type": "normalization", "kind": kind == .standardization ? "standard" : "minmax", "per_channel": perChannel]
        case .residual(let body, let shortcut):
            var object: [String: Any] = ["type": "residual", "layers": body.map(\.jsonObject)]
            if !shortcut.isEmpty { object["shortcut"] = shortcut.map(\.jsonObject) }
            return object
        case .recurrent(let cell, let units, let sequences, let reverse, let regularizer, let weights):
            var object: [String: Any] = [
                "type": cell.jsonType, "units": units, "return_sequences": sequences, "reverse": reverse,
            ]
            if cell == .relu { object["activation"] = "relu" }
            return merged(object, weightFields(nil, regularizer, weights))
        case .bidirectional(let layer, let merge): return ["type": "bidirectional", "layer": layer.jsonObject, "merge": merge.rawValue]
        case .embedding(let vocabulary, let dimension, let maskZero):
            return ["type": "embedding", "vocabulary": vocabulary, "dimension": dimension, "mask_zero": maskZero]
        case .layerNorm(let epsilon): return ["type": "layer_norm", "epsilon": epsilon]
        case .timeDistributed(let layer): return ["type": "time_distributed", "layer": layer.jsonObject]
        case .masking(let value): return ["type": "masking", "value": value]
        case .add: return ["type": "add"]
        case .subtract: return ["type": "subtract"]
        case .multiply: return ["type": "multiply"]
        case .concatenate(let axis): return ["type": "concatenate", "axis": axis]
        case .graph(let graph): return graph.jsonObject
        }
    }
}

extension ActivationFunction {
    /// The architecture file's name: `relu`, `log_softmax`, `leaky_relu(0.1)`, `elu(1.0)`.
    var jsonName: String {
        switch self {
        case .identity: "identity"
        case .relu: "relu"
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .softplus: "softplus"
        case .softmax: "softmax"
        case .logSoftmax: "log_softmax"
        case .leakyRelu(let slope): "leaky_relu(\(slope))"
        case .elu(let alpha): "elu(\(alpha))"
        }
    }

    init?(jsonName text: String) {
        let simple: [String: ActivationFunction] = [
            "identity": .identity, "linear": .identity, "relu": .relu, "sigmoid": .sigmoid, "tanh": .tanh, "softplus": .softplus,
            "softmax": .softmax, "log_softmax": .logSoftmax,
        ]
        if let function = simple[text] {
            self = function
            return
        }
        for (prefix, make) in [
            ("leaky_relu(", { ActivationFunction.leakyRelu(slope: $0) }), ("elu(", { ActivationFunction.elu(alpha: $0) }),
        ]
        where text.hasPrefix(prefix) && text.hasSuffix(")") {
            guard let value = Float(text.dropFirst(prefix.count).dropLast()), value.isFinite else { return nil }
            self = make(value)
            return
        }
        return nil
    }
}

extension RecurrentGeometry.Cell {
    /// The architecture file's `type`.
    var jsonType: String {
        switch self {
        case .tanh, .relu: "simple_rnn"
        case .lstm: "lstm"
        case .gru: "gru"
        }
    }
}
