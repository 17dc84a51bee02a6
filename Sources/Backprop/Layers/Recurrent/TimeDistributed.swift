/// Applies a layer to every step of a sequence: [batch, steps, …] → [batch, steps, …′], the layer
/// seeing [batch·steps, …] (Keras' `TimeDistributed`).
public final class TimeDistributed: Layer, SequenceMaskConsuming {
    public let layer: any Layer

    public init(_ layer: any Layer) { self.layer = layer }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 3, "TimeDistributed: input must be [batch, steps, …], got \(input.shape)")
        let (batch, steps) = (input.shape[0], input.shape[1])
        let output = layer(input.reshaped([batch * steps] + input.shape.dimensions.dropFirst(2)))
        return output.reshaped([batch, steps] + output.shape.dimensions.dropFirst())
    }

    /// The mask does not change what each step computes; it passes on to the layers after.
    public func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor { callAsFunction(input) }
}
