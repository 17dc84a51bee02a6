/// A maxout unit layer (Goodfellow et al. 2013): `units` outputs, each the maximum of `pieces`
/// affine functions of the input.
///
/// Shapes: [..., inputSize] → [..., units]; `weight` is [inputSize, units·pieces].
public final class Maxout: Layer {
    /// The affine map producing units·pieces values.
    public let linear: Dense
    /// Affine pieces per unit.
    public let pieces: Int

    public init(
        _ inputSize: Int, units: Int, pieces: Int, useBias: Bool = true, weightInitializer: Initializer = .glorotUniform,
        biasInitializer: Initializer = .zeros, kernelRegularizer: Regularizer? = nil, biasRegularizer: Regularizer? = nil
    ) {
        precondition(units > 0 && pieces > 0, "Maxout: units and pieces must be positive, got \(units) and \(pieces)")
        linear = Dense(
            inputSize, units * pieces, useBias: useBias, weightInitializer: weightInitializer, biasInitializer: biasInitializer,
            kernelRegularizer: kernelRegularizer, biasRegularizer: biasRegularizer)
        self.pieces = pieces
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { linear(input).maxout(pieces: pieces) }
}
