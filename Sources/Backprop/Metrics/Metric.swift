/// A quality measure computed per batch and averaged over samples (weighted by batch size).
public protocol Metric: Sendable {
    /// Name shown in progress lines and logs (validation values get a `val_` prefix).
    var name: String { get }
    /// The metric's mean over the batch.
    func value(predictions: Tensor, targets: Tensor) -> Double
}

/// Fraction of samples whose predicted class is the target class. Predictions [N, C] are compared
/// by argmax with integer labels [N] or one-hot rows [N, C]; predictions [N] or [N, 1] are binary
/// logits, counted as class 1 when > 0.
public struct Accuracy: Metric {
    public init() {}
    public var name: String { "accuracy" }

    public func value(predictions: Tensor, targets: Tensor) -> Double {
        let rows = predictions.shape.first ?? 1
        guard rows > 0 else { return 0 }
        let predicted: [Float]
        if predictions.rank == 1 || predictions.shape[predictions.rank - 1] == 1 {
            predicted = predictions.scalars.map { $0 > 0 ? 1 : 0 }
        } else {
            predicted = predictions.argmax(alongAxis: -1).scalars
        }
        let expected =
            targets.shape == predictions.shape && predictions.rank == 2 && predictions.shape[1] > 1
            ? targets.argmax(alongAxis: -1).scalars : targets.scalars
        let correct = zip(predicted, expected).reduce(0) { $0 + ($1.0 == $1.1 ? 1 : 0) }
        return Double(correct) / Double(rows)
    }
}

/// Fraction of samples whose target class is among the `k` highest-scoring predictions.
public struct TopKAccuracy: Metric {
    /// How many top predictions count as a hit.
    public let k: Int

    public init(k: Int) {
        precondition(k > 0, "TopKAccuracy: k must be positive, got \(k)")
        self.k = k
    }

    public var name: String { "top\(k)_accuracy" }

    public func value(predictions: Tensor, targets: Tensor) -> Double {
        precondition(predictions.rank == 2, "TopKAccuracy: predictions must be [N, C], got \(predictions.shape)")
        let rows = predictions.shape[0]
        let classes = predictions.shape[1]
        guard rows > 0 else { return 0 }
        let labels = targets.shape == predictions.shape ? targets.argmax(alongAxis: -1).scalars : targets.scalars
        let scores = predictions.scalars
        var hits = 0
        for row in 0..<rows {
            let label = Int(labels[row])
            let score = scores[row * classes + label]
            // Rank = how many classes score strictly higher; ties count in the label's favour.
            var higher = 0
            for c in 0..<classes where scores[row * classes + c] > score { higher += 1 }
            if higher < k { hits += 1 }
        }
        return Double(hits) / Double(rows)
    }
}

extension Metric where Self == Accuracy {
    /// Classification accuracy.
    public static var accuracy: Accuracy { Accuracy() }
}

extension Metric where Self == TopKAccuracy {
    /// Top-k accuracy.
    public static func topK(_ k: Int) -> TopKAccuracy { TopKAccuracy(k: k) }
}
