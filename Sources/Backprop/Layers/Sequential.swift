/// Layers applied one after another.
///
/// ```swift
/// let mlp = Sequential {
///     Flatten()
///     Dense(784, 512, activation: .relu)
///     Dense(512, 10)
/// }
/// ```
public final class Sequential: Layer {
    /// The layers, in order.
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) { self.layers = layers }

    public init(@LayerBuilder _ build: () -> [any Layer]) { self.layers = build() }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
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
