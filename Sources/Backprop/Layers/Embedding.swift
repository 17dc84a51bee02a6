/// A table of learned vectors looked up by integer ids: [batch, steps] ids (as floats) →
/// [batch, steps, dimension]. With `maskZero`, id 0 is padding for the recurrent layers after it
/// (Keras' `mask_zero`); the table then still has a row for it.
///
/// ```swift
/// Sequential { Embedding(vocabulary: 10_000, dimension: 64, maskZero: true); LSTM(64, 64); Dense(64, 2) }
/// ```
public final class Embedding: Layer, SequenceMaskProducing {
    /// [vocabulary, dimension] (PyTorch's `nn.Embedding.weight`).
    public let weight: Parameter
    public let maskZero: Bool

    public var vocabulary: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// - Parameter initializer: U(±0.05) by default, as Keras.
    public init(vocabulary: Int, dimension: Int, maskZero: Bool = false, initializer: Initializer = .uniform(limit: 0.05)) {
        precondition(vocabulary > 0 && dimension > 0, "Embedding: sizes must be positive, got \(vocabulary) × \(dimension)")
        weight = Parameter(initializer.makeTensor([vocabulary, dimension]))
        self.maskZero = maskZero
    }

    public func sequenceMask(for input: Tensor) -> Tensor? {
        guard maskZero else { return nil }
        return input.nonzeroMask()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        let ids = input.scalars
        let indices = ids.map { Int(exactly: $0) ?? -1 }
        if let bad = indices.firstIndex(where: { $0 < 0 || $0 >= vocabulary }) {
            preconditionFailure(
                "Embedding(\(vocabulary) × \(dimension)): id \(ids[bad]) at position \(bad) is not an integer in 0..<\(vocabulary)")
        }
        return weight.value.gathering(indices, alongAxis: 0).reshaped(input.shape.dimensions + [dimension])
    }
}
