/// Collapses every axis after the batch axis: [N, d1, d2, …] → [N, d1·d2·…]. No copy.
public final class Flatten: Layer {
    public init() {}

    public func callAsFunction(_ input: Tensor) -> Tensor { input.flattenedBatch() }
}
