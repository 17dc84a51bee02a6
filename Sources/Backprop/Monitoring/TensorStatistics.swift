import CBackpropKernels
import Foundation

/// Counts of values in equal-width buckets between a low and a high edge.
public struct Histogram: Sendable, Codable, Equatable {
    /// The bucket edges, `counts.count + 1` of them, increasing.
    public var edges: [Double]
    /// Values per bucket (the last bucket includes its upper edge).
    public var counts: [Double]
}

/// Summary statistics of one tensor's finite values, with how many were not finite.
public struct TensorStatistics: Sendable, Codable, Equatable {
    public var count: Int
    public var mean: Double
    public var standardDeviation: Double
    public var minimum: Double
    public var maximum: Double
    public var sumOfSquares: Double
    /// NaN and ±∞ values (left out of everything else).
    public var nonFiniteCount: Int
    /// Share of values exactly 0 (after ReLU: the inactive units).
    public var zeroFraction: Double
    public var histogram: Histogram

    /// The L2 norm of the finite values.
    public var norm: Double { sumOfSquares.squareRoot() }

    /// Statistics of `tensor`'s values with a histogram of `bins` buckets over [min, max].
    public init(_ tensor: Tensor, bins: Int = 30) {
        self.init(UnsafeBufferPointer(start: tensor.storage.pointer, count: tensor.elementCount), bins: bins)
    }

    init(_ values: UnsafeBufferPointer<Float>, bins: Int) {
        let n = Int64(values.count)
        let summary = values.baseAddress.map { bp_summarize($0, n) } ?? bp_summary()
        let finite = Int(summary.finite)
        count = values.count
        nonFiniteCount = values.count - finite
        mean = finite > 0 ? summary.sum / Double(finite) : .nan
        standardDeviation = finite > 0 ? max(summary.sum_squares / Double(finite) - mean * mean, 0).squareRoot() : .nan
        minimum = finite > 0 ? summary.min : .nan
        maximum = finite > 0 ? summary.max : .nan
        sumOfSquares = summary.sum_squares
        zeroFraction = values.isEmpty ? 0 : Double(summary.zeros) / Double(values.count)
        let buckets = max(bins, 1)
        guard finite > 0, let base = values.baseAddress else {
            histogram = Histogram(edges: [0, 0], counts: [0])
            return
        }
        let (low, high) = (summary.min, summary.max)
        guard high > low else {
            histogram = Histogram(edges: [low - 0.5, low + 0.5], counts: [Double(finite)])
            return
        }
        var counts = [Double](repeating: 0, count: buckets)
        bp_histogram(base, n, low, high, Int64(buckets), &counts)
        let width = (high - low) / Double(buckets)
        histogram = Histogram(edges: (0...buckets).map { low + Double($0) * width }, counts: counts)
    }
}

extension TensorStatistics {
    /// Share of values outside the activation's responsive range: |tanh| > 0.99, sigmoid outside
    /// (0.01, 0.99); nil for other functions.
    static func saturatedFraction(_ tensor: Tensor, for function: ActivationFunction) -> Double? {
        let n = tensor.elementCount
        guard n > 0 else { return nil }
        let saturated: Int64
        switch function {
        case .tanh: saturated = bp_count_outside(tensor.storage.pointer, Int64(n), -0.99, 0.99)
        case .sigmoid: saturated = bp_count_outside(tensor.storage.pointer, Int64(n), 0.01, 0.99)
        default: return nil
        }
        return Double(saturated) / Double(n)
    }

    /// Share of units (the last axis: features or channels) that are 0 for every sample and
    /// position of the batch: dead ReLUs.
    static func deadUnitFraction(_ tensor: Tensor) -> Double? {
        guard tensor.rank >= 2, let units = tensor.shape.last, units > 0 else { return nil }
        return Double(bp_dead_columns(tensor.storage.pointer, Int64(tensor.elementCount), Int64(units))) / Double(units)
    }
}
