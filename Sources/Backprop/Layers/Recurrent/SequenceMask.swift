/// A layer that reads which steps of a [batch, steps, …] input are real (a [batch, steps] mask of
/// 1s and 0s). ``Sequential`` hands it the mask made by the last ``SequenceMaskProducing`` layer
/// while the time axis lasts, as Keras propagates masks.
public protocol SequenceMaskConsuming: Layer {
    func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor
}

/// A layer that decides which steps of its input are padding (``Masking``, ``Embedding`` with
/// `maskZero`).
public protocol SequenceMaskProducing: Layer {
    /// [batch, steps]: 1 for real steps, 0 for padding, computed from the layer's input; nil when
    /// this layer masks nothing.
    func sequenceMask(for input: Tensor) -> Tensor?
}

/// Marks the steps whose features all equal `value` as padding for the recurrent layers after
/// it, and sets them to zero (Keras' `Masking`).
///
/// ```swift
/// Sequential { Masking(value: 0); LSTM(3, 16); Dense(16, 1) }
/// ```
public final class Masking: Layer, SequenceMaskProducing {
    public let value: Float

    public init(value: Float = 0) { self.value = value }

    public func sequenceMask(for input: Tensor) -> Tensor? { mask(input) }

    private func mask(_ input: Tensor) -> Tensor {
        precondition(input.rank == 3, "Masking: input must be [batch, steps, features], got \(input.shape)")
        return withoutGradient { (input - value).abs().max(alongAxis: 2) }.nonzeroMask()
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        input * mask(input).reshaped([input.shape[0], input.shape[1], 1])
    }
}
