/// One layer of an ``Architecture``, described by its options rather than built: input sizes are
/// inferred from the shape that reaches it (as in Keras), so a spec can be checked, counted and
/// sized before any weight is allocated. Layers with weights take a kernel `regularizer` and
/// ``WeightOptions`` (bias, initializers, bias regularizer).
public enum LayerSpec: Sendable, Equatable {
    /// `Dense(in, units)`; `in` is the last axis of its input.
    case dense(
        units: Int, activation: ActivationFunction = .identity, regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `Conv2D(in, filters, kernelSize:, strides:, padding:, dilation:)`; `in` is the input's channels.
    case conv2D(
        filters: Int, kernelSize: Extent2D, stride: Extent2D = 1, padding: Padding = .valid, dilation: Extent2D = 1,
        activation: ActivationFunction = .identity, regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `Conv1D(in, filters, kernelSize:, stride:, padding:, dilation:)` over [L, C] sequences; explicit
    /// padding uses its `left` and `right`.
    case conv1D(
        filters: Int, kernelSize: Int, stride: Int = 1, padding: Padding = .valid, dilation: Int = 1,
        activation: ActivationFunction = .identity, regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `LocallyConnected2D` (unshared weights per position, valid padding) over [H, W, C].
    case locallyConnected2D(
        filters: Int, kernelSize: Extent2D, stride: Extent2D = 1, activation: ActivationFunction = .identity,
        regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `LocallyConnected1D` over [L, C].
    case locallyConnected1D(
        filters: Int, kernelSize: Int, stride: Int = 1, activation: ActivationFunction = .identity, regularizer: Regularizer? = nil,
        weights: WeightOptions = .init())
    /// `Maxout(in, units:, pieces:)`: each unit the maximum of `pieces` affine maps.
    case maxout(units: Int, pieces: Int, regularizer: Regularizer? = nil, weights: WeightOptions = .init())
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
    /// `Conv2DTranspose(in, filters, kernelSize:, strides:, padding:, outputPadding:)` (upsampling).
    case conv2DTranspose(
        filters: Int, kernelSize: Extent2D, stride: Extent2D = 1, padding: Padding = .valid, outputPadding: Extent2D = 0,
        activation: ActivationFunction = .identity, regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `GlobalAveragePooling2D()`: [H, W, C] → [C].
    case globalAveragePooling2D
    /// `ZeroPadding2D(top:left:bottom:right:)`.
    case zeroPadding2D(top: Int, left: Int, bottom: Int, right: Int)
    /// `Reshape(shape)`; one extent may be -1.
    case reshape([Int])
    /// `Normalization(inputShape:kind:perChannel:)`; its statistics are fitted on training data.
    case normalization(kind: Normalization.Kind = .standardization, perChannel: Bool = false)
    /// `Residual(body:shortcut:)`: body(x) + shortcut(x); an empty shortcut is the identity.
    case residual(body: [LayerSpec], shortcut: [LayerSpec] = [])
    /// `SimpleRNN` (cell `.tanh`/`.relu`), `LSTM` or `GRU` over [steps, features]: [steps, units]
    /// with `returnSequences`, else [units]. The kernel initializer is Wᵢₕ's; Wₕₕ is orthogonal.
    case recurrent(
        cell: RecurrentGeometry.Cell, units: Int, returnSequences: Bool = false, reverse: Bool = false,
        regularizer: Regularizer? = nil, weights: WeightOptions = .init())
    /// `Bidirectional(layer, merge:)` around a recurrent spec.
    indirect case bidirectional(LayerSpec, merge: Bidirectional.Merge = .concatenate)
    /// `Embedding(vocabulary:dimension:maskZero:)`: [steps] of ids → [steps, dimension].
    case embedding(vocabulary: Int, dimension: Int, maskZero: Bool = false)
    /// `LayerNorm(features:epsilon:)` over the last axis.
    case layerNorm(epsilon: Float = 1e-5)
    /// `TimeDistributed(layer)`: the layer applied to each step of [steps, …].
    indirect case timeDistributed(LayerSpec)
    /// `Masking(value:)`: steps whose features all equal `value` are padding for the recurrent layers.
    case masking(value: Float = 0)
    /// `Add()`: the sum of a graph node's inputs (one shape).
    case add
    /// `Subtract()`: a graph node's first input minus its second.
    case subtract
    /// `Multiply()`: the element-wise product of a graph node's inputs.
    case multiply
    /// `Concatenate(axis:)`: a graph node's inputs joined along a sample axis (negative: from the end).
    case concatenate(axis: Int = -1)
    /// `Graph`: named inputs, nodes and outputs (``GraphSpec``).
    case graph(GraphSpec)

    /// The layer's name in summaries and errors.
    public var name: String {
        switch self {
        case .dense(let units, _, _, _): "Dense(\(units))"
        case .conv2D(let filters, let k, let s, _, _, _, _, _): "Conv2D(\(filters), \(k.window), stride \(s))"
        case .conv1D(let filters, let k, let s, _, _, _, _, _): "Conv1D(\(filters), \(k), stride \(s))"
        case .locallyConnected2D(let filters, let k, let s, _, _, _): "LocallyConnected2D(\(filters), \(k.window), stride \(s))"
        case .locallyConnected1D(let filters, let k, let s, _, _, _): "LocallyConnected1D(\(filters), \(k), stride \(s))"
        case .maxout(let units, let pieces, _, _): "Maxout(\(units) × \(pieces))"
        case .maxPool2D(let size, _, _): "MaxPool2D(\(size)×\(size))"
        case .avgPool2D(let size, _, _, _): "AvgPool2D(\(size)×\(size))"
        case .batchNorm: "BatchNorm"
        case .activation(let function): "Activation(\(function))"
        case .dropout(let rate): "Dropout(\(rate))"
        case .flatten: "Flatten"
        case .conv2DTranspose(let filters, let k, let s, _, _, _, _, _): "Conv2DTranspose(\(filters), \(k.window), stride \(s))"
        case .globalAveragePooling2D: "GlobalAveragePooling2D"
        case .zeroPadding2D: "ZeroPadding2D"
        case .reshape(let shape): "Reshape(\(shape))"
        case .normalization: "Normalization"
        case .residual(let body, let shortcut): "Residual(\(body.count) layers\(shortcut.isEmpty ? "" : ", projection"))"
        case .recurrent(let cell, let units, let sequences, let reverse, _, _):
            "\(cell.layerName)(\(units)\(sequences ? ", sequences" : "")\(reverse ? ", reverse" : ""))"
        case .bidirectional(let layer, let merge): "Bidirectional(\(layer.name), \(merge.rawValue))"
        case .embedding(let vocabulary, let dimension, _): "Embedding(\(vocabulary) × \(dimension))"
        case .layerNorm: "LayerNorm"
        case .timeDistributed(let layer): "TimeDistributed(\(layer.name))"
        case .masking(let value): "Masking(\(value))"
        case .add: "Add"
        case .subtract: "Subtract"
        case .multiply: "Multiply"
        case .concatenate(let axis): "Concatenate(axis \(axis))"
        case .graph(let graph):
            "Graph(\(graph.inputs.map(\.name).joined(separator: ", ")) → \(graph.outputs.joined(separator: ", ")), \(graph.nodes.count) nodes)"
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
        func positive(_ values: Int...) throws {
            guard values.allSatisfy({ $0 > 0 && $0 <= 1 << 24 }) else {
                throw fail("filters, units, kernel sizes, strides and dilations must be positive")
            }
        }
        switch self {
        case .dense(let units, _, _, let weights):
            try positive(units)
            guard let features = input.last, input.rank >= 1, features > 0 else { throw fail("the input needs a last axis of features") }
            return (Shape(input.dimensions.dropLast() + [units]), weights.parameterCount(kernel: try product(features, units), bias: units))
        case .conv2D(let filters, let k, let s, let padding, let d, _, _, let weights):
            try positive(filters, k.rows, k.columns, s.rows, s.columns, d.rows, d.columns)
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            let height = try extent(input[0], window: d.rows * (k.rows - 1) + 1, stride: s.rows, padding: padding, axis: 0, fail)
            let width = try extent(input[1], window: d.columns * (k.columns - 1) + 1, stride: s.columns, padding: padding, axis: 1, fail)
            return (
                [height, width, filters], weights.parameterCount(kernel: try product(k.rows, k.columns, input[2], filters), bias: filters)
            )
        case .conv1D(let filters, let k, let s, let padding, let d, _, _, let weights):
            try positive(filters, k, s, d)
            guard input.rank == 2 else { throw fail("input must be [L, C] (a sequence of L steps of C channels)") }
            let length = try extent(input[0], window: d * (k - 1) + 1, stride: s, padding: padding, axis: 1, fail)
            return ([length, filters], weights.parameterCount(kernel: try product(k, input[1], filters), bias: filters))
        case .locallyConnected2D(let filters, let k, let s, _, _, let weights):
            try positive(filters, k.rows, k.columns, s.rows, s.columns)
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            let height = try extent(input[0], window: k.rows, stride: s.rows, padding: .valid, axis: 0, fail)
            let width = try extent(input[1], window: k.columns, stride: s.columns, padding: .valid, axis: 1, fail)
            let positions = try product(height, width)
            return (
                [height, width, filters],
                weights.parameterCount(
                    kernel: try product(positions, k.rows, k.columns, input[2], filters), bias: try product(positions, filters))
            )
        case .locallyConnected1D(let filters, let k, let s, _, _, let weights):
            try positive(filters, k, s)
            guard input.rank == 2 else { throw fail("input must be [L, C] (a sequence of L steps of C channels)") }
            let length = try extent(input[0], window: k, stride: s, padding: .valid, axis: 1, fail)
            return (
                [length, filters],
                weights.parameterCount(kernel: try product(length, k, input[1], filters), bias: try product(length, filters))
            )
        case .maxout(let units, let pieces, _, let weights):
            try positive(units, pieces)
            guard let features = input.last, input.rank >= 1, features > 0 else { throw fail("the input needs a last axis of features") }
            let outputs = try product(units, pieces)
            return (
                Shape(input.dimensions.dropLast() + [units]), weights.parameterCount(kernel: try product(features, outputs), bias: outputs)
            )
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
        case .conv2DTranspose(let filters, let k, let s, let padding, let extra, _, _, let weights):
            try positive(filters, k.rows, k.columns, s.rows, s.columns)
            guard extra.rows >= 0, extra.columns >= 0, extra.rows < s.rows, extra.columns < s.columns else {
                throw fail("output padding must be ≥ 0 and smaller than the stride")
            }
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            func extent(_ size: Int, axis: Int) throws -> Int {
                let output: Int
                switch padding {
                case .same: output = try product(size, s[axis])
                case .valid: output = try product(size - 1, s[axis]) + k[axis] + extra[axis]
                case .explicit(let top, let left, let bottom, let right):
                    output = try product(size - 1, s[axis]) + k[axis] + extra[axis] - (axis == 0 ? top + bottom : left + right)
                }
                guard output > 0 else { throw fail("padding \(padding) leaves no output") }
                return output
            }
            return (
                [try extent(input[0], axis: 0), try extent(input[1], axis: 1), filters],
                weights.parameterCount(kernel: try product(k.rows, k.columns, input[2], filters), bias: filters)
            )
        case .globalAveragePooling2D:
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            return ([input[2]], 0)
        case .zeroPadding2D(let top, let left, let bottom, let right):
            guard input.rank == 3 else { throw fail("input must be [H, W, C]") }
            guard min(top, left, bottom, right) >= 0 else { throw fail("padding must be ≥ 0") }
            return ([try product(1, input[0]) + top + bottom, input[1] + left + right, input[2]], 0)
        case .residual(let body, let shortcut):
            guard !body.isEmpty else { throw fail("the body needs at least one layer") }
            let (output, bodyParameters) = try Self.chain(body, from: input, branch: "body")
            let (skip, shortcutParameters) = try Self.chain(shortcut, from: input, branch: "shortcut")
            guard output == skip else {
                throw fail("the body gives \(output) but the shortcut \(skip); add a projection shortcut (a strided 1×1 conv2d)")
            }
            return (output, bodyParameters + shortcutParameters)
        case .recurrent(let cell, let units, let sequences, _, _, let weights):
            try positive(units)
            guard input.rank == 2, input[1] > 0 else { throw fail("input must be [steps, features] (a sequence)") }
            let width = try product(cell.gateCount, units)
            return (
                sequences ? [input[0], units] : [units],
                weights.parameterCount(kernel: try product(width, input[1] + units), bias: try product(2, width))
            )
        case .bidirectional(let layer, let merge):
            guard case .recurrent(_, _, _, false, _, _) = layer else {
                throw fail("the wrapped layer must be a forward simple_rnn, lstm or gru")
            }
            let (output, parameters) = try layer.plan(for: input)
            var merged = output.dimensions
            if merge == .concatenate { merged[merged.count - 1] *= 2 }
            return (Shape(merged), try product(2, parameters))
        case .embedding(let vocabulary, let dimension, _):
            try positive(vocabulary, dimension)
            guard input.rank == 1 else { throw fail("input must be [steps] of integer ids") }
            return ([input[0], dimension], try product(vocabulary, dimension))
        case .layerNorm(let epsilon):
            guard epsilon >= 0 else { throw fail("epsilon must be ≥ 0") }
            guard let features = input.last, features > 0 else { throw fail("the input needs a last axis of features") }
            return (input, try product(2, features))
        case .timeDistributed(let layer):
            guard input.rank >= 2 else { throw fail("input must be [steps, …]") }
            switch layer {
            case .dense, .layerNorm, .activation, .dropout: break
            default: throw fail("time_distributed takes a dense, layer_norm, activation or dropout layer (others act per step already)")
            }
            let (output, parameters) = try layer.plan(for: Shape(Array(input.dimensions.dropFirst())))
            return (Shape([input[0]] + output.dimensions), parameters)
        case .masking:
            guard input.rank == 2 else { throw fail("input must be [steps, features]") }
            return (input, 0)
        case .add, .subtract, .multiply, .concatenate:
            throw fail("a merge layer joins branches: use it as a node of a graph, reading two or more nodes")
        case .graph(let graph):
            let planned = try graph.plan(for: input)
            let parameters = try planned.nodes.reduce(0) { total, node in
                let (sum, overflow) = total.addingReportingOverflow(node.parameters)
                guard !overflow else { throw fail("the graph's size overflows") }
                return sum
            }
            return (planned.packedOutput, parameters)
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

    /// The output shape and parameters of `layers` applied in turn to `input`; errors name the
    /// branch and the layer's index in it.
    static func chain(_ layers: [LayerSpec], from input: Shape, branch: String) throws -> (Shape, Int) {
        var shape = input
        var parameters = 0
        for (index, layer) in layers.enumerated() {
            do {
                let (output, count) = try layer.plan(for: shape)
                shape = output
                parameters += count
            } catch BackpropError.layerDoesNotFit(let name, let inputShape, let rule) {
                throw BackpropError.layerDoesNotFit(layer: "\(branch) layer \(index) (\(name))", inputShape: inputShape, rule: rule)
            }
        }
        return (shape, parameters)
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
        case .dense(let units, let activation, let regularizer, let w):
            return Dense(
                input.last!, units, activation: activation, useBias: w.useBias, weightInitializer: w.kernelInitializer,
                biasInitializer: w.biasInitializer, kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .conv2D(let filters, let k, let s, let padding, let d, let activation, let regularizer, let w):
            return Conv2D(
                input[2], filters, kernelSize: k.pair, strides: s.pair, padding: padding, dilation: d.pair, activation: activation,
                useBias: w.useBias, weightInitializer: w.kernelInitializer, biasInitializer: w.biasInitializer,
                kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .conv1D(let filters, let k, let s, let padding, let d, let activation, let regularizer, let w):
            return Conv1D(
                input[1], filters, kernelSize: k, stride: s, padding: padding, dilation: d, activation: activation, useBias: w.useBias,
                weightInitializer: w.kernelInitializer, biasInitializer: w.biasInitializer, kernelRegularizer: regularizer,
                biasRegularizer: w.biasRegularizer)
        case .locallyConnected2D(let filters, let k, let s, let activation, let regularizer, let w):
            return LocallyConnected2D(
                inputShape: input, outputChannels: filters, kernelSize: k.pair, strides: s.pair, activation: activation,
                useBias: w.useBias, weightInitializer: w.kernelInitializer, biasInitializer: w.biasInitializer,
                kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .locallyConnected1D(let filters, let k, let s, let activation, let regularizer, let w):
            return LocallyConnected1D(
                inputLength: input[0], inputChannels: input[1], outputChannels: filters, kernelSize: k, stride: s,
                activation: activation, useBias: w.useBias, weightInitializer: w.kernelInitializer, biasInitializer: w.biasInitializer,
                kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .maxout(let units, let pieces, let regularizer, let w):
            return Maxout(
                input.last!, units: units, pieces: pieces, useBias: w.useBias, weightInitializer: w.kernelInitializer,
                biasInitializer: w.biasInitializer, kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .maxPool2D(let size, let stride, let padding): return MaxPool2D(size, stride: stride, padding: padding)
        case .avgPool2D(let size, let stride, let padding, let includes):
            return AvgPool2D(size, stride: stride, padding: padding, countIncludesPadding: includes)
        case .batchNorm(let momentum, let epsilon, let unbiased):
            return BatchNorm(channels: input.last!, momentum: momentum, epsilon: epsilon, unbiasedRunningVariance: unbiased)
        case .activation(let function): return Activation(function)
        case .dropout(let rate): return Dropout(rate: rate)
        case .flatten: return Flatten()
        case .conv2DTranspose(let filters, let k, let s, let padding, let extra, let activation, let regularizer, let w):
            return Conv2DTranspose(
                input[2], filters, kernelSize: k.pair, strides: s.pair, padding: padding, outputPadding: extra.pair,
                activation: activation, useBias: w.useBias, weightInitializer: w.kernelInitializer, biasInitializer: w.biasInitializer,
                kernelRegularizer: regularizer, biasRegularizer: w.biasRegularizer)
        case .globalAveragePooling2D: return GlobalAveragePooling2D()
        case .zeroPadding2D(let top, let left, let bottom, let right):
            return ZeroPadding2D(top: top, left: left, bottom: bottom, right: right)
        case .reshape(let shape): return Reshape(shape)
        case .normalization(let kind, let perChannel): return Normalization(inputShape: input, kind: kind, perChannel: perChannel)
        case .residual(let body, let shortcut):
            func build(_ layers: [LayerSpec]) -> Sequential {
                var shape = input
                return Sequential(
                    layers.map { layer in
                        let built = layer.makeLayer(for: shape)
                        shape = (try? layer.plan(for: shape).output) ?? shape
                        return built
                    })
            }
            return Residual(body: build(body), shortcut: shortcut.isEmpty ? nil : build(shortcut))
        case .recurrent(let cell, let units, let sequences, let reverse, let regularizer, let w):
            return Self.recurrentLayer(cell, input[1], units, sequences, reverse, regularizer, w)
        case .bidirectional(let layer, let merge):
            guard case .recurrent(let cell, let units, let sequences, _, let regularizer, let w) = layer else {
                preconditionFailure("plan(for:) accepts only recurrent layers inside bidirectional")
            }
            return Bidirectional(Self.recurrentLayer(cell, input[1], units, sequences, false, regularizer, w), merge: merge)
        case .embedding(let vocabulary, let dimension, let maskZero):
            return Embedding(vocabulary: vocabulary, dimension: dimension, maskZero: maskZero)
        case .layerNorm(let epsilon): return LayerNorm(features: input.last!, epsilon: epsilon)
        case .timeDistributed(let layer): return TimeDistributed(layer.makeLayer(for: Shape(Array(input.dimensions.dropFirst()))))
        case .masking(let value): return Masking(value: value)
        case .add, .subtract, .multiply, .concatenate: return mergeLayer!
        case .graph(let graph): return graph.makeLayer(for: input)
        }
    }

    private static func recurrentLayer(
        _ cell: RecurrentGeometry.Cell, _ inputSize: Int, _ units: Int, _ sequences: Bool, _ reverse: Bool,
        _ regularizer: Regularizer?, _ w: WeightOptions
    ) -> any RecurrentLayer {
        switch cell {
        case .lstm:
            LSTM(
                inputSize, units, returnSequences: sequences, reverse: reverse, useBias: w.useBias, inputInitializer: w.kernelInitializer,
                kernelRegularizer: regularizer)
        case .gru:
            GRU(
                inputSize, units, returnSequences: sequences, reverse: reverse, useBias: w.useBias, inputInitializer: w.kernelInitializer,
                kernelRegularizer: regularizer)
        case .tanh, .relu:
            SimpleRNN(
                inputSize, units, relu: cell == .relu, returnSequences: sequences, reverse: reverse, useBias: w.useBias,
                inputInitializer: w.kernelInitializer, kernelRegularizer: regularizer)
        }
    }
}

extension RecurrentGeometry.Cell {
    /// The layer's name: SimpleRNN, LSTM, GRU.
    var layerName: String {
        switch self {
        case .tanh, .relu: "SimpleRNN"
        case .lstm: "LSTM"
        case .gru: "GRU"
        }
    }
}
