/// Layers applied one after another.
///
/// ```swift
/// let mlp = Sequential {
///     Flatten()
///     Dense(784, 512, activation: .relu)
///     Dense(512, 10)
/// }
/// ```
public final class Sequential: SequenceMaskConsuming {
    /// The layers, in order.
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public init(@LayerBuilder _ build: () -> [any Layer]) { self.layers = build() }

    public func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, mask: nil) }

    /// Runs the layers with the sequence mask of the layers before (a residual block's branches
    /// inside a masked chain get it this way).
    public func callAsFunction(_ input: Tensor, mask initial: Tensor?) -> Tensor {
        var x = input
        var index = 0
        var mask: Tensor? = initial
        // Monitors read every layer's own output: no fusion then (the same function, bit for bit).
        if LayerOutputRecording.isActive {
            for layer in layers {
                x = apply(layer, x, mask: &mask)
                LayerOutputRecording.record(layer, x)
            }
            return x
        }
        while index < layers.count {
            // max(relu(a), relu(b), …) = relu(max(a, b, …)): a ReLU (or linear) convolution followed
            // by max pooling runs as one convolution-and-pooling op, then the ReLU, so the ReLU and
            // its backward mask touch the pooled map (4× smaller for 2×2 pooling) and a backend may
            // fuse the pair (the CPU backend does for first layers). Same function, same gradients
            // (both are zero wherever the window's maximum is ≤ 0).
            if index + 1 < layers.count, let conv = layers[index] as? Conv2D, conv.activation == .relu || conv.activation == .identity,
                let pool = layers[index + 1] as? MaxPool2D
            {
                let pooled = conv.pooled(x, by: pool)
                x = conv.activation == .relu ? pooled.relu() : pooled
                index += 2
                continue
            }
            x = apply(layers[index], x, mask: &mask)
            index += 1
        }
        return x
    }

    /// Applies one layer, handing on the sequence mask: made by a ``SequenceMaskProducing`` layer
    /// from its input, read by ``SequenceMaskConsuming`` layers, dropped once the time axis is gone.
    private func apply(_ layer: any Layer, _ x: Tensor, mask: inout Tensor?) -> Tensor {
        if let producer = layer as? any SequenceMaskProducing, let made = producer.sequenceMask(for: x) { mask = made }
        guard let current = mask else { return layer(x) }
        let y = (layer as? any SequenceMaskConsuming)?.callAsFunction(x, mask: current) ?? layer(x)
        if !(y.rank >= 3 && y.shape[0] == current.shape[0] && y.shape[1] == current.shape[1]) { mask = nil }
        return y
    }
}

/// Builds a list of layers from a block of layer expressions, with `if`, `if/else` and `for`.
@resultBuilder
public enum LayerBuilder {
    public static func buildExpression(_ layer: any Layer) -> [any Layer] { [layer] }
    public static func buildExpression(_ layers: [any Layer]) -> [any Layer] { layers }
    public static func buildBlock(_ parts: [any Layer]...) -> [any Layer] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [any Layer]?) -> [any Layer] { part ?? [] }
    public static func buildEither(first part: [any Layer]) -> [any Layer] { part }
    public static func buildEither(second part: [any Layer]) -> [any Layer] { part }
    public static func buildArray(_ parts: [[any Layer]]) -> [any Layer] { parts.flatMap { $0 } }
}
