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
    /// `AvgPool2D(size, stride:, padding:)`.
    case avgPool2D(size: Int, stride: Int? = nil, padding: Padding = .valid)
    /// `BatchNorm(channels:)` over the input's last axis.
    case batchNorm(momentum: Float = 0.99, epsilon: Float = 1e-3)
    /// `Activation(function)`.
    case activation(ActivationFunction)
    /// `Dropout(rate:)`.
    case dropout(rate: Float)
    /// `Flatten()`.
    case flatten

    /// The layer's name in summaries and errors.
    public var name: String {
        switch self {
        case .dense(let units, _, _): "Dense(\(units))"
        case .conv2D(let filters, let k, let s, _, _, _): "Conv2D(\(filters), \(k)×\(k), stride \(s))"
        case .maxPool2D(let size, _, _): "MaxPool2D(\(size)×\(size))"
        case .avgPool2D(let size, _, _): "AvgPool2D(\(size)×\(size))"
        case .batchNorm: "BatchNorm"
        case .activation(let function): "Activation(\(function))"
        case .dropout(let rate): "Dropout(\(rate))"
        case .flatten: "Flatten"
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
        case .maxPool2D(let size, let stride, let padding), .avgPool2D(let size, let stride, let padding):
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
        case .flatten:
            return ([input.elementCount], 0)
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
        case .avgPool2D(let size, let stride, let padding): return AvgPool2D(size, stride: stride, padding: padding)
        case .batchNorm(let momentum, let epsilon): return BatchNorm(channels: input.last!, momentum: momentum, epsilon: epsilon)
        case .activation(let function): return Activation(function)
        case .dropout(let rate): return Dropout(rate: rate)
        case .flatten: return Flatten()
        }
    }
}
