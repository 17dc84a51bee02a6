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
        var (sum, squares, low, high) = (0.0, 0.0, Double.infinity, -Double.infinity)
        var (finite, zeros) = (0, 0)
        for value in values {
            guard value.isFinite else { continue }
            let v = Double(value)
            finite += 1
            sum += v
            squares += v * v
            if value == 0 { zeros += 1 }
            if v < low { low = v }
            if v > high { high = v }
        }
        count = values.count
        nonFiniteCount = values.count - finite
        mean = finite > 0 ? sum / Double(finite) : .nan
        standardDeviation = finite > 0 ? max(squares / Double(finite) - mean * mean, 0).squareRoot() : .nan
        minimum = finite > 0 ? low : .nan
        maximum = finite > 0 ? high : .nan
        sumOfSquares = squares
        zeroFraction = values.isEmpty ? 0 : Double(zeros) / Double(values.count)
        let buckets = max(bins, 1)
        guard finite > 0 else {
            histogram = Histogram(edges: [0, 0], counts: [0])
            return
        }
        let width = high > low ? (high - low) / Double(buckets) : 1
        var counts = [Double](repeating: 0, count: buckets)
        for value in values where value.isFinite {
            let bucket = Int((Double(value) - low) / width)
            counts[min(max(bucket, 0), buckets - 1)] += 1
        }
        let edges = high > low ? (0...buckets).map { low + Double($0) * width } : [low - 0.5, low + 0.5]
        histogram = Histogram(edges: edges, counts: high > low ? counts : [Double(finite)])
    }
}

extension TensorStatistics {
    /// Share of values outside the activation's responsive range: |tanh| > 0.99, sigmoid outside
    /// (0.01, 0.99); nil for other functions.
    static func saturatedFraction(_ tensor: Tensor, for function: ActivationFunction) -> Double? {
        let values = UnsafeBufferPointer(start: tensor.storage.pointer, count: tensor.elementCount)
        guard !values.isEmpty else { return nil }
        let saturated: Int
        switch function {
        case .tanh: saturated = values.reduce(0) { $0 + (abs($1) > 0.99 ? 1 : 0) }
        case .sigmoid: saturated = values.reduce(0) { $0 + ($1 < 0.01 || $1 > 0.99 ? 1 : 0) }
        default: return nil
        }
        return Double(saturated) / Double(values.count)
    }

    /// Share of units (the last axis: features or channels) that are 0 for every sample and
    /// position of the batch: dead ReLUs.
    static func deadUnitFraction(_ tensor: Tensor) -> Double? {
        guard tensor.rank >= 2, let units = tensor.shape.last, units > 0 else { return nil }
        var alive = [Bool](repeating: false, count: units)
        let values = UnsafeBufferPointer(start: tensor.storage.pointer, count: tensor.elementCount)
        for (index, value) in values.enumerated() where value != 0 { alive[index % units] = true }
        return Double(alive.filter { !$0 }.count) / Double(units)
    }
}
