import Foundation

/// How well predictions fit numeric targets: mean absolute error, root mean squared error and the
/// coefficient of determination R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², over all outputs together and per
/// output column. Computed in Double over the whole set (RMSE and R² are not means of batches).
public struct RegressionReport: Sendable, Equatable {
    /// Samples.
    public let count: Int
    /// Mean |y − ŷ| over every value.
    public let meanAbsoluteError: Double
    /// √(mean (y − ŷ)²) over every value.
    public let rootMeanSquaredError: Double
    /// R² per output column (targets [N] have one column).
    public let rSquaredPerOutput: [Double]
    /// The mean of the per-output R² (scikit-learn's `uniform_average`).
    public var rSquared: Double { rSquaredPerOutput.isEmpty ? .nan : rSquaredPerOutput.reduce(0, +) / Double(rSquaredPerOutput.count) }

    /// Compares `predictions` [N, K] (or [N]) with `targets` of the same element count.
    public init(predictions: Tensor, targets: Tensor) {
        precondition(
            predictions.elementCount == targets.elementCount,
            "RegressionReport: predictions \(predictions.shape) and targets \(targets.shape) differ in size")
        let rows = predictions.shape.first ?? 0
        let columns = rows == 0 ? 1 : predictions.elementCount / rows
        let p = predictions.scalars.map(Double.init)
        let t = targets.scalars.map(Double.init)
        var absolute = 0.0
        var squared = 0.0
        for (a, b) in zip(p, t) {
            absolute += abs(a - b)
            squared += (a - b) * (a - b)
        }
        let values = Double(max(p.count, 1))
        count = rows
        meanAbsoluteError = absolute / values
        rootMeanSquaredError = (squared / values).squareRoot()
        rSquaredPerOutput = (0..<columns).map { column in
            let indices = stride(from: column, to: p.count, by: columns)
            let mean = indices.reduce(0) { $0 + t[$1] } / Double(max(rows, 1))
            let residual = indices.reduce(0) { $0 + (t[$1] - p[$1]) * (t[$1] - p[$1]) }
            let total = indices.reduce(0) { $0 + (t[$1] - mean) * (t[$1] - mean) }
            return total == 0 ? (residual == 0 ? 1 : 0) : 1 - residual / total
        }
    }
}

/// Mean absolute error as a metric reported during training (`mae`); exact as a sample-weighted
/// mean of batches.
public struct MeanAbsoluteErrorMetric: Metric {
    public init() {}
    public var name: String { "mae" }

    public func value(predictions: Tensor, targets: Tensor) -> Double {
        let p = predictions.scalars
        let t = targets.scalars
        guard !p.isEmpty, p.count == t.count else { return p.isEmpty ? 0 : .nan }
        return zip(p, t).reduce(0.0) { $0 + Double(abs($1.0 - $1.1)) } / Double(p.count)
    }
}

extension Metric where Self == MeanAbsoluteErrorMetric {
    /// Mean absolute error.
    public static var meanAbsoluteError: MeanAbsoluteErrorMetric { MeanAbsoluteErrorMetric() }
}
