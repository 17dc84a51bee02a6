/// Input normalization with statistics fitted on the training split (the course's "data
/// preprocessing"): y = (x − offset) · scale. Its statistics are non-trainable parameters, so they
/// belong to the model — `predict` and `evaluate` apply exactly the training-time transform, and
/// checkpoints keep them.
///
/// ```swift
/// let normalize = Normalization(inputShape: [13], kind: .standardization)
/// try normalize.adapt(trainingInputs)       // never the test split
/// let model = Model(inputShape: [13]) { normalize; Dense(13, 1) }
/// ```
public final class Normalization: Layer {
    /// What is subtracted and what it is divided by.
    public enum Kind: String, Sendable, Codable {
        /// (x − mean) / standard deviation.
        case standardization
        /// (x − min) / (max − min), into [0, 1].
        case minMax
    }

    public let kind: Kind
    /// Statistics per channel (the last axis) instead of per feature.
    public let perChannel: Bool
    /// Subtracted first (mean or minimum).
    public let offset: Parameter
    /// Multiplied after (1/σ or 1/(max − min)).
    public let scale: Parameter
    /// Shape of one sample.
    public let inputShape: Shape
    /// Whether ``adapt(_:)`` has run.
    public private(set) var isAdapted = false

    /// - Parameters:
    ///   - inputShape: shape of one sample, e.g. [28, 28, 1] or [13].
    ///   - perChannel: one statistic per channel (last axis) rather than per feature.
    public init(inputShape: Shape, kind: Kind = .standardization, perChannel: Bool = false) {
        let statShape: Shape = perChannel ? [inputShape.last ?? 1] : inputShape
        self.inputShape = inputShape
        self.kind = kind
        self.perChannel = perChannel
        offset = Parameter(.zeros(statShape), isTrainable: false)
        scale = Parameter(.ones(statShape), isTrainable: false)
    }

    /// Fits the statistics on `inputs` [N, inputShape…] — the training split only.
    public func adapt(_ inputs: Tensor) {
        precondition(
            inputs.rank == inputShape.rank + 1 && Array(inputs.shape.dimensions.dropFirst()) == inputShape.dimensions,
            "Normalization.adapt: inputs \(inputs.shape) are not [N] + \(inputShape)")
        let axes = perChannel ? Array(0..<(inputs.rank - 1)) : [0]
        withoutGradient {
            switch kind {
            case .standardization:
                let mean = inputs.mean(alongAxes: axes)
                let variance = (inputs - mean).squared().mean(alongAxes: axes)
                offset.assign(mean.reshaped(offset.shape))
                scale.assign((1 / (variance.squareRoot() + 1e-7)).reshaped(scale.shape))
            case .minMax:
                let low = -((-inputs).max(alongAxes: axes))
                let high = inputs.max(alongAxes: axes)
                let range = Tensor.maximum(high - low, Tensor(scalar: 1e-7))
                offset.assign(low.reshaped(offset.shape))
                scale.assign((1 / range).reshaped(scale.shape))
            }
        }
        isAdapted = true
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { (input - offset.value) * scale.value }
}
