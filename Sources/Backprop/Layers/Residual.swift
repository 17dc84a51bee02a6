/// A block with a skip connection (He et al. 2016): y = body(x) + shortcut(x), the shortcut being
/// the identity unless a projection is given (a strided 1×1 convolution when the body changes the
/// shape). Its layers are stored properties, so the model walk, summaries, monitors and model
/// files see inside it (`layers.3.body.layers.0.weight`).
///
/// ```swift
/// Residual {
///     BatchNorm(channels: 16); Activation(.relu)
///     Conv2D(16, 16, kernelSize: 3, padding: .same)
/// }
/// ```
public final class Residual: Layer {
    /// The residual branch.
    public let body: Sequential
    /// The skip branch; nil is the identity.
    public let shortcut: Sequential?

    public init(body: Sequential, shortcut: Sequential? = nil) {
        self.body = body
        self.shortcut = shortcut
    }

    public convenience init(shortcut: Sequential? = nil, @LayerBuilder _ body: () -> [any Layer]) {
        self.init(body: Sequential(body()), shortcut: shortcut)
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, mask: nil) }
}

extension Residual: SequenceMaskConsuming {
    /// Both branches start from the input with its sequence mask (the recurrent layers of a block
    /// inside a masked chain skip the padding).
    public func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor {
        let residual = body(input, mask: mask)
        let skip = shortcut?(input, mask: mask) ?? input
        precondition(
            residual.shape == skip.shape,
            "Residual: the body gives \(residual.shape) but the shortcut \(skip.shape); add a projection shortcut")
        return residual + skip
    }
}
