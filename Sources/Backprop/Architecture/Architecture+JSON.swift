import Foundation

/// The architecture file: a network described in JSON, so the CLI, model files, PyTorch export and
/// (later) the doctor and search can name one without Swift.
///
/// ```json
/// {"format": "backprop-architecture", "version": 1, "input_shape": [28, 28, 1],
///  "layers": [
///    {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
///    {"type": "max_pool2d", "size": 2},
///    {"type": "flatten"},
///    {"type": "dense", "units": 128, "activation": "relu", "l2": 0.0001},
///    {"type": "dropout", "rate": 0.3},
///    {"type": "dense", "units": 10}
///  ]}
/// ```
///
/// Layer types and their fields (all but the first of each are optional):
/// - `dense`: `units`
/// - `conv2d`: `filters`, `kernel_size`; `stride` (1), `padding` (`"valid"`, `"same"` or
///   `[top, left, bottom, right]`), `dilation` (1)
/// - `conv1d` (over `[length, channels]`): `filters`, `kernel_size`; `stride`, `padding` (`"valid"`,
///   `"same"` or `[left, right]`), `dilation`
/// - `conv2d_transpose`: `filters`, `kernel_size`; `stride` (1), `padding`, `output_padding` (0)
/// - `locally_connected2d`, `locally_connected1d` (unshared weights, valid padding): `filters`,
///   `kernel_size`; `stride`
/// - `maxout`: `units`, `pieces`
/// - `max_pool2d`, `avg_pool2d`: `size`; `stride` (the size), `padding`; for `avg_pool2d`
///   `count_include_pad` (false: padded positions are left out of the average; PyTorch's default is true)
/// - `global_avg_pool2d`; `zero_padding2d`: `padding` `[top, left, bottom, right]`
/// - `batch_norm`: `momentum` (0.99; PyTorch's momentum is 1 − this), `epsilon` (0.001; PyTorch 1e-5),
///   `unbiased_running_variance` (false; PyTorch true)
/// - `activation`: `function`
/// - `dropout`: `rate`
/// - `flatten`; `reshape`: `shape` (one extent may be -1)
/// - `normalization`: `kind` (`"standard"` or `"minmax"`), `per_channel` (false); its statistics
///   are fitted on the training data and kept with the weights
/// - `residual`: `layers` (the body, a list of layers); `shortcut` (a list; empty or absent: the
///   identity): body(x) + shortcut(x), both of the same shape
/// - `graph`: `nodes`, a list of `{"name", "layer": {…}, "inputs": [names]}` in an order where each
///   node comes after what it reads, and `outputs` (names); `inputs` (a list of `{"name", "shape"}`;
///   absent: one input named `"input"` taking what reaches the graph). Several inputs arrive packed:
///   each sample is its inputs flattened and joined in order (a table's columns, say), so the layer
///   before the graph gives `[Σ sizes]`; several outputs leave packed the same way. Every input and
///   node must lead to an output; a sequence mask goes with its value from node to node. Node names: letters, digits,
///   `_`, `-`, `.`; input names: identifiers (they name the exported module's arguments).
/// - `add`, `multiply` (any number of inputs of one shape), `subtract` (two), `concatenate`
///   (`axis` of the sample, -1: the last): merges, only as graph nodes
///
/// Every layer with weights (all above through `maxout`) also takes `activation` (not `maxout`),
/// `l1`, `l2` (kernel penalties), `use_bias` (true), `kernel_initializer` (`glorot_uniform`),
/// `bias_initializer` (`zeros`), `bias_l1`, `bias_l2`. A 2-D `kernel_size`, `stride`, `dilation` or
/// `output_padding` is a whole number or `[rows, columns]`. Initializers: `glorot_uniform`,
/// `glorot_normal`, `xavier` (N(0, 1/fan-in)), `he_normal`, `he_uniform`, `zeros`, `ones`,
/// `normal(STD)`, `uniform(LIMIT)`, `constant(VALUE)`.
///
/// Activations: `identity`, `relu`, `sigmoid`, `tanh`, `softplus`, `softmax`, `log_softmax`,
/// `leaky_relu(SLOPE)`, `elu(ALPHA)`. Unknown types, unknown fields and values of the wrong kind are
/// errors naming the layer index and the field.
extension Architecture {
    /// The `format` field's value.
    public static let formatName = "backprop-architecture"

    /// Reads an architecture file.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw BackpropError.fileNotFound(path: path) }
        try self.init(json: data, source: path)
    }

    /// Parses architecture JSON; `source` names it in errors.
    public init(json data: Data, source: String) throws {
        guard let object = try? JSONSerialization.jsonObject(with: data), let root = object as? [String: Any] else {
            throw BackpropError.malformed(
                path: source, field: "architecture", expected: "a JSON object", found: String(decoding: data.prefix(60), as: UTF8.self))
        }
        let reader = FieldReader(object: root, source: source, prefix: "")
        try reader.allowOnly(["format", "version", "input_shape", "layers"])
        if let format = try reader.optionalString("format"), format != Self.formatName {
            throw BackpropError.malformed(path: source, field: "format", expected: "\"\(Self.formatName)\"", found: "\"\(format)\"")
        }
        if let version = try reader.optionalInteger("version"), version != 1 {
            throw BackpropError.malformed(path: source, field: "version", expected: "1", found: "\(version)")
        }
        let shape = try reader.integers("input_shape")
        guard !shape.isEmpty, shape.allSatisfy({ $0 > 0 }) else {
            throw BackpropError.malformed(path: source, field: "input_shape", expected: "positive extents", found: "\(shape)")
        }
        guard let layers = root["layers"] as? [Any] else {
            throw BackpropError.malformed(
                path: source, field: "layers", expected: "a list of layers", found: "\(root["layers"].map { "\($0)" } ?? "nothing")")
        }
        let specs = try layers.enumerated().map { index, value in
            guard let layer = value as? [String: Any] else {
                throw BackpropError.malformed(
                    path: source, field: "layers[\(index)]", expected: "an object with a \"type\"", found: "\(value)")
            }
            return try LayerSpec(json: FieldReader(object: layer, source: source, prefix: "layers[\(index)]."))
        }
        self.init(inputShape: Shape(shape), layers: specs)
    }

    /// The architecture as JSON (the form ``init(json:source:)`` reads).
    public func jsonData() -> Data {
        let object: [String: Any] = [
            "format": Self.formatName, "version": 1, "input_shape": inputShape.dimensions, "layers": layers.map(\.jsonObject),
        ]
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    }
}

/// Reads typed fields of one JSON object, with errors naming the source and the field.
struct FieldReader {
    let object: [String: Any]
    let source: String
    let prefix: String

    func fail(_ key: String, _ expected: String) -> BackpropError {
        .malformed(path: source, field: prefix + key, expected: expected, found: object[key].map { "\($0)" } ?? "nothing")
    }

    func allowOnly(_ keys: Set<String>) throws {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw BackpropError.malformed(
                path: source, field: prefix + unknown, expected: "one of the fields " + keys.sorted().joined(separator: ", "),
                found: "an unknown field")
        }
    }

    func optionalNumber(_ key: String) throws -> Double? {
        guard let value = object[key] else { return nil }
        guard let number = value as? NSNumber, !(value is String), number.doubleValue.isFinite else { throw fail(key, "a number") }
        return number.doubleValue
    }

    func optionalInteger(_ key: String) throws -> Int? {
        guard let value = try optionalNumber(key) else { return nil }
        guard value == value.rounded(), abs(value) < 0x1p40 else { throw fail(key, "a whole number") }
        return Int(value)
    }

    func integer(_ key: String, atLeast minimum: Int = 1) throws -> Int {
        guard let value = try optionalInteger(key) else { throw fail(key, "a whole number ≥ \(minimum)") }
        guard value >= minimum else { throw fail(key, "a whole number ≥ \(minimum)") }
        return value
    }

    func optionalString(_ key: String) throws -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String else { throw fail(key, "a string") }
        return text
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let value = object[key] else { return nil }
        guard let flag = value as? Bool else { throw fail(key, "true or false") }
        return flag
    }

    func integers(_ key: String) throws -> [Int] {
        guard let values = object[key] as? [Any] else { throw fail(key, "a list of whole numbers") }
        return try values.map { value in
            guard let number = value as? NSNumber, number.doubleValue == number.doubleValue.rounded(), abs(number.doubleValue) < 0x1p40
            else {
                throw fail(key, "a list of whole numbers")
            }
            return Int(number.doubleValue)
        }
    }
}
