/// One layer of an ``Architecture``, described by its options rather than built: input sizes are
/// inferred from the shape that reaches it (as in Keras), so a spec can be checked, counted and
/// sized before any weight is allocated.
public enum LayerSpec: Sendable, Equatable {
    /// `Dense(in, units)`; `in` is the last axis of its input.
    case dense(units: Int, activation: ActivationFunction = .identity, regularizer: Regularizer? = nil)
    /// `Conv2D(in, filters, kernelSize: (k, k), strides: (s, s), padding:)`; `in` is the input's channels.
    case conv2D(
        filters: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid, activation: ActivationFunction = .identity,
        regularizer: Regularizer? = nil)
    /// `MaxPool2D(size, stride:, padding:)`.
    case maxPool2D(size: Int, stride: Int? = nil, padding: Padding = .valid)
    /// `AvgPool2D(size, stride:, padding:, countIncludesPadding:)`; padded positions are left out
    /// of the average unless `countIncludesPadding` (PyTorch's default).
    case avgPool2D(size: Int, stride: Int? = nil, padding: Padding = .valid, countIncludesPadding: Bool = false)
    /// `BatchNorm(channels:)` over the input's last axis; `unbiasedRunningVariance` as PyTorch.
    case batchNorm(momentum: Float = 0.99, epsilon: Float = 1e-3, unbiasedRunningVariance: Bool = false)
    /// `Activation(function)`.
    case activation(ActivationFunction)
    /// `Dropout(rate:)`.
    case dropout(rate: Float)
    /// `Flatten()`.
    case flatten
    /// `Conv2DTranspose(in, filters, kernelSize: (k, k), strides: (s, s), padding:)` (upsampling).
    case conv2DTranspose(
        filters: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid, activation: ActivationFunction = .identity)
    /// `GlobalAveragePooling2D()`: [H, W, C] → [C].
    case globalAveragePooling2D
    /// `ZeroPadding2D(top:left:bottom:right:)`.
    case zeroPadding2D(top: Int, left: Int, bottom: Int, right: Int)
    /// `Reshape(shape)`; one extent may be -1.
    case reshape([Int])
    /// `Normalization(inputShape:kind:perChannel:)`; its statistics are fitted on training data.
    case normalization(kind: Normalization.Kind = .standardization, perChannel: Bool = false)

    /// The layer's name in summaries and errors.
    public var name: String {
        switch self {
        case .dense(let units, _, _): "Dense(\(units))"
        case .conv2D(let filters, let k, let s, _, _, _): "Conv2D(\(filters), \(k)×\(k), stride \(s))"
        case .maxPool2D(let size, _, _): "MaxPool2D(\(size)×\(size))"
        case .avgPool2D(let size, _, _, _): "AvgPool2D(\(size)×\(size))"
        case .batchNorm: "BatchNorm"
        case .activation(let function): "Activation(\(function))"
        case .dropout(let rate): "Dropout(\(rate))"
        case .flatten: "Flatten"
        case .conv2DTranspose(let filters, let k, let s, _, _): "Conv2DTranspose(\(filters), \(k)×\(k), stride \(s))"
        case .globalAveragePooling2D: "GlobalAveragePooling2D"
        case .zeroPadding2D: "ZeroPadding2D"
        case .reshape(let shape): "Reshape(\(shape))"
        case .normalization: "Normalization"
        }
    }

    /// The output shape and the parameter count for one sample of `input`, or why it does not fit.
    /// Products that would overflow are errors, not traps.
    func plan(for input: Shape) throws -> (output: Shape, parameters: Int) {
        func fail(_ rule: String) -> BackpropError { .layerDoesNotFit(layer: name, inputShape: "\(input)", rule: rule) }
        func product(_ factors: Int...) throws -> Int {
            try factors.reduce(1) { total, factor in
                let (value, overflow) = total.multipliedReportingOverflow(by: factor)
                guard !overflow else { throw fail("the layer's size overflows (\(factors.map(String.init).joined(separator: " × ")))") }
                return value
            }
        }
        switch self {
        case .dense(let units, _, _):
            guard units > 0 else { throw fail("units must be positive, got \(units)") }
            guard let features = input.last, input.rank >= 1, features > 0 else { throw fail("the input needs a last axis of features") }
            return (Shape(input.dimensions.dropLast() + [units]), try product(features, units) + units)
        case .conv2D(let filters, let k, let s, let padding, _, _):
            guard filters > 0, k > 0, s > 0 else { throw fail("filters, kernel size and stride must be positive") }
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            let height = try extent(input[0], window: k, stride: s, padding: padding, axis: 0, fail)
            let width = try extent(input[1], window: k, stride: s, padding: padding, axis: 1, fail)
            return ([height, width, filters], try product(k, k, input[2], filters) + filters)
        case .maxPool2D(let size, let stride, let padding), .avgPool2D(let size, let stride, let padding, _):
            guard size > 0, (stride ?? size) > 0 else { throw fail("size and stride must be positive") }
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            let height = try extent(input[0], window: size, stride: stride ?? size, padding: padding, axis: 0, fail)
            let width = try extent(input[1], window: size, stride: stride ?? size, padding: padding, axis: 1, fail)
            return ([height, width, input[2]], 0)
        case .batchNorm:
            guard let channels = input.last, channels > 0 else { throw fail("the input needs a last axis of channels") }
            return (input, try product(4, channels))
        case .activation, .dropout:
            return (input, 0)
        case .normalization(_, let perChannel):
            return (input, 2 * (perChannel ? (input.last ?? 1) : input.elementCount))
        case .flatten:
            return ([input.elementCount], 0)
        case .conv2DTranspose(let filters, let k, let s, let padding, _):
            guard filters > 0, k > 0, s > 0 else { throw fail("filters, kernel size and stride must be positive") }
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            func extent(_ size: Int, axis: Int) throws -> Int {
                let output: Int
                switch padding {
                case .same: output = try product(size, s)
                case .valid: output = try product(size - 1, s) + k
                case .explicit(let top, let left, let bottom, let right):
                    output = try product(size - 1, s) + k - (axis == 0 ? top + bottom : left + right)
                }
                guard output > 0 else { throw fail("padding \(padding) leaves no output") }
                return output
            }
            return (
                [try extent(input[0], axis: 0), try extent(input[1], axis: 1), filters], try product(k, k, input[2], filters) + filters
            )
        case .globalAveragePooling2D:
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            return ([input[2]], 0)
        case .zeroPadding2D(let top, let left, let bottom, let right):
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            guard min(top, left, bottom, right) >= 0 else { throw fail("padding must be ≥ 0") }
            return ([try product(1, input[0]) + top + bottom, input[1] + left + right, input[2]], 0)
        case .reshape(let shape):
            guard !shape.isEmpty, shape.filter({ $0 == -1 }).count <= 1, shape.allSatisfy({ $0 > 0 || $0 == -1 }) else {
                throw fail("the shape needs positive extents and at most one -1, got \(shape)")
            }
            let known = try shape.filter { $0 > 0 }.reduce(1) { try product($0, $1) }
            guard input.elementCount % known == 0 else { throw fail("\(input.elementCount) values do not fill \(shape)") }
            let resolved = shape.map { $0 == -1 ? input.elementCount / known : $0 }
            guard resolved.reduce(1, *) == input.elementCount else { throw fail("\(input.elementCount) values do not fill \(shape)") }
            return (Shape(resolved), 0)
        }
    }

    private func extent(
        _ size: Int, window: Int, stride: Int, padding: Padding, axis: Int, _ fail: (String) -> BackpropError
    ) throws -> Int {
        guard let resolved = padding.resolve(size: size, window: window, stride: stride, axis: axis) else {
            throw fail("output size = (N − F + 2P)/S + 1 needs N + 2P ≥ F, but N = \(size), F = \(window), padding \(padding)")
        }
        return resolved.output
    }

    /// The layer itself, for an input of `input` (which ``plan(for:)`` accepted).
    func makeLayer(for input: Shape) -> any Layer {
        switch self {
        case .dense(let units, let activation, let regularizer):
            return Dense(input.last!, units, activation: activation, kernelRegularizer: regularizer)
        case .conv2D(let filters, let k, let s, let padding, let activation, let regularizer):
            return Conv2D(
                input[2], filters, kernelSize: (k, k), strides: (s, s), padding: padding, activation: activation,
                kernelRegularizer: regularizer)
        case .maxPool2D(let size, let stride, let padding): return MaxPool2D(size, stride: stride, padding: padding)
        case .avgPool2D(let size, let stride, let padding, let includes):
            return AvgPool2D(size, stride: stride, padding: padding, countIncludesPadding: includes)
        case .batchNorm(let momentum, let epsilon, let unbiased):
            return BatchNorm(channels: input.last!, momentum: momentum, epsilon: epsilon, unbiasedRunningVariance: unbiased)
        case .activation(let function): return Activation(function)
        case .dropout(let rate): return Dropout(rate: rate)
        case .flatten: return Flatten()
        case .conv2DTranspose(let filters, let k, let s, let padding, let activation):
            return Conv2DTranspose(input[2], filters, kernelSize: (k, k), strides: (s, s), padding: padding, activation: activation)
        case .globalAveragePooling2D: return GlobalAveragePooling2D()
        case .zeroPadding2D(let top, let left, let bottom, let right):
            return ZeroPadding2D(top: top, left: left, bottom: bottom, right: right)
        case .reshape(let shape): return Reshape(shape)
        case .normalization(let kind, let perChannel): return Normalization(inputShape: input, kind: kind, perChannel: perChannel)
        }
    }
}

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
        func regularizer() throws -> Regularizer? {
            let l1 = Float(try reader.optionalNumber("l1") ?? 0)
            let l2 = Float(try reader.optionalNumber("l2") ?? 0)
            guard l1 >= 0 else { throw reader.fail("l1", "a number ≥ 0") }
            guard l2 >= 0 else { throw reader.fail("l2", "a number ≥ 0") }
            switch (l1 > 0, l2 > 0) {
            case (true, true): return .l1l2(l1: l1, l2: l2)
            case (true, false): return .l1(l1)
            case (false, true): return .l2(l2)
            case (false, false): return nil
            }
        }
        func padding() throws -> Padding {
            switch reader.object["padding"] {
            case nil: return .valid
            case let text as String where text == "valid": return .valid
            case let text as String where text == "same": return .same
            case is [Any]:
                let sides = try reader.integers("padding")
                guard sides.count == 4, sides.allSatisfy({ $0 >= 0 }) else {
                    throw reader.fail("padding", "\"valid\", \"same\" or [top, left, bottom, right]")
                }
                return .explicit(top: sides[0], left: sides[1], bottom: sides[2], right: sides[3])
            default: throw reader.fail("padding", "\"valid\", \"same\" or [top, left, bottom, right]")
            }
        }
        let common: Set<String> = ["type"]
        switch type {
        case "dense":
            try reader.allowOnly(common.union(["units", "activation", "l1", "l2"]))
            self = .dense(units: try reader.integer("units"), activation: try activation(), regularizer: try regularizer())
        case "conv2d":
            try reader.allowOnly(common.union(["filters", "kernel_size", "stride", "padding", "activation", "l1", "l2"]))
            self = .conv2D(
                filters: try reader.integer("filters"), kernelSize: try reader.integer("kernel_size"),
                stride: try reader.optionalInteger("stride").map { _ in try reader.integer("stride") } ?? 1, padding: try padding(),
                activation: try activation(), regularizer: try regularizer())
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
            try reader.allowOnly(common.union(["filters", "kernel_size", "stride", "padding", "activation"]))
            self = .conv2DTranspose(
                filters: try reader.integer("filters"), kernelSize: try reader.integer("kernel_size"),
                stride: try reader.optionalInteger("stride").map { _ in try reader.integer("stride") } ?? 1, padding: try padding(),
                activation: try activation())
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
        default:
            throw reader.fail(
                "type",
                "dense, conv2d, conv2d_transpose, max_pool2d, avg_pool2d, global_avg_pool2d, zero_padding2d, batch_norm, activation, dropout, flatten, reshape or normalization"
            )
        }
    }

    /// The layer's `type` in the architecture file: `dense`, `conv2d`, `flatten`…
    public var typeName: String { jsonObject["type"] as? String ?? "" }

    var jsonObject: [String: Any] {
        func regularizerFields(_ regularizer: Regularizer?) -> [String: Any] {
            switch regularizer {
            case .l1(let l1): ["l1": l1]
            case .l2(let l2): ["l2": l2]
            case .l1l2(let l1, let l2): ["l1": l1, "l2": l2]
            case nil: [:]
            }
        }
        func paddingValue(_ padding: Padding) -> Any {
            switch padding {
            case .valid: "valid"
            case .same: "same"
            case .explicit(let t, let l, let b, let r): [t, l, b, r]
            }
        }
        switch self {
        case .dense(let units, let activation, let regularizer):
            return ["type": "dense", "units": units, "activation": activation.jsonName].merging(regularizerFields(regularizer)) { a, _ in a
            }
        case .conv2D(let filters, let k, let s, let padding, let activation, let regularizer):
            return [
                "type": "conv2d", "filters": filters, "kernel_size": k, "stride": s, "padding": paddingValue(padding),
                "activation": activation.jsonName,
            ].merging(regularizerFields(regularizer)) { a, _ in a }
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
        case .conv2DTranspose(let filters, let k, let s, let padding, let activation):
            return [
                "type": "conv2d_transpose", "filters": filters, "kernel_size": k, "stride": s, "padding": paddingValue(padding),
                "activation": activation.jsonName,
            ]
        case .globalAveragePooling2D: return ["type": "global_avg_pool2d"]
        case .zeroPadding2D(let top, let left, let bottom, let right):
            return ["type": "zero_padding2d", "padding": [top, left, bottom, right]]
        case .reshape(let shape): return ["type": "reshape", "shape": shape]
        case .normalization(let kind, let perChannel):
            return ["type": "normalization", "kind": kind == .standardization ? "standard" : "minmax", "per_channel": perChannel]
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
