/// A training objective: maps a batch of predictions and targets to a scalar to minimize.
public protocol Loss: Sendable {
    /// Name shown in progress lines and logs.
    var name: String { get }
    /// The mean loss over the batch, as a rank-0 tensor.
    func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor
}

/// Cross-entropy of softmax(logits) against targets that are either integer class labels
/// (shape [N], values 0..<C) or probability rows such as one-hot vectors (shape [N, C]).
/// Takes logits, not probabilities: the softmax is applied inside, stably.
public struct SoftmaxCrossEntropy: Loss {
    public init() {}
    public var name: String { "loss" }

    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        if targets.shape == predictions.shape {
            return -(targets * predictions.logSoftmax()).sum(alongAxis: -1).mean()
        }
        return Backprop.softmaxCrossEntropy(logits: predictions, labels: targets)
    }
}

/// Binary cross-entropy from logits: mean of log(1 + eˣ) − x·t, stable for any logit. Targets are
/// in [0, 1] with the predictions' shape.
public struct BinaryCrossEntropy: Loss {
    public init() {}
    public var name: String { "loss" }

    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        precondition(
            predictions.elementCount == targets.elementCount,
            "BinaryCrossEntropy: predictions \(predictions.shape) and targets \(targets.shape) differ in size")
        let targets = targets.reshaped(predictions.shape)
        return (predictions.softplus() - predictions * targets).mean()
    }
}

/// Mean of squared differences.
public struct MeanSquaredError: Loss {
    public init() {}
    public var name: String { "loss" }

    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        (predictions - targets.reshaped(predictions.shape)).squared().mean()
    }
}

/// Mean of absolute differences.
public struct MeanAbsoluteError: Loss {
    public init() {}
    public var name: String { "loss" }

    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        (predictions - targets.reshaped(predictions.shape)).abs().mean()
    }
}

/// Huber loss (smooth L1, Huber 1964): ½d² where |d| ≤ δ and δ(|d| − ½δ) beyond, averaged over
/// every element; quadratic near the target, linear for outliers. PyTorch's `HuberLoss(delta:)`.
public struct HuberLoss: Loss {
    /// Where the loss turns from quadratic to linear.
    public let delta: Float

    public init(delta: Float = 1) {
        precondition(delta > 0 && delta.isFinite, "HuberLoss: delta must be a positive number, got \(delta)")
        self.delta = delta
    }

    public var name: String { "loss" }

    public func callAsFunction(_ predictions: Tensor, _ targets: Tensor) -> Tensor {
        // With a = |d| and q = min(a, δ): ½q² + δ(a − q) is both branches at once, differentiable.
        let distance = (predictions - targets.reshaped(predictions.shape)).abs()
        let quadratic = distance.clamped(to: 0...delta)
        return (quadratic.squared() * 0.5 + (distance - quadratic) * delta).mean()
    }
}

extension Loss where Self == SoftmaxCrossEntropy {
    /// Softmax cross-entropy from logits (integer labels or probability rows).
    public static var softmaxCrossEntropy: SoftmaxCrossEntropy { SoftmaxCrossEntropy() }
}

extension Loss where Self == BinaryCrossEntropy {
    /// Binary cross-entropy from logits.
    public static var binaryCrossEntropy: BinaryCrossEntropy { BinaryCrossEntropy() }
}

extension Loss where Self == MeanSquaredError {
    /// Mean squared error.
    public static var meanSquaredError: MeanSquaredError { MeanSquaredError() }
}

extension Loss where Self == MeanAbsoluteError {
    /// Mean absolute error.
    public static var meanAbsoluteError: MeanAbsoluteError { MeanAbsoluteError() }
}

extension Loss where Self == HuberLoss {
    /// Huber loss with threshold `delta`.
    public static func huber(delta: Float = 1) -> HuberLoss { HuberLoss(delta: delta) }
}
