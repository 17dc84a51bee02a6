/// Inverted dropout (Srivastava et al. 2014): in training mode each element is zeroed with
/// probability `rate` and the survivors are scaled by 1/(1 − rate), so inference needs no
/// rescaling. Outside training mode it is the identity.
public final class Dropout: Layer {
    /// Probability of dropping an element, in [0, 1).
    public let rate: Float

    public init(rate: Float) {
        precondition(rate >= 0 && rate < 1, "Dropout: rate must be in [0, 1), got \(rate)")
        self.rate = rate
    }

    public func callAsFunction(_ input: Tensor) -> Tensor {
        guard isTrainingMode, rate > 0 else { return input }
        let keep = 1 - rate
        let mask = Tensor(uninitializedShape: input.shape)
        GlobalRandom.withGenerator { generator in
            Backends.current.fillRandom(
                mask.storage, count: input.elementCount, .bernoulli(probability: keep, value: 1 / keep), generator: &generator)
        }
        return input * mask
    }
}
