import Foundation

/// How a parameter's initial values are drawn. Fans follow Keras: for a weight of shape
/// [..., fanIn-axis, fanOut-axis] the leading axes (a convolution's kernel window) multiply both.
public enum Initializer: Sendable, Equatable, Codable {
    /// U(±√(6 / (fanIn + fanOut))) — Glorot & Bengio 2010; Keras's default.
    case glorotUniform
    /// N(0, 2 / (fanIn + fanOut)).
    case glorotNormal
    /// N(0, 1 / fanIn): the course's "Xavier" (σ = 1/√fanIn).
    case xavier
    /// N(0, 2 / fanIn) — He et al. 2015, for ReLU networks.
    case heNormal
    /// U(±√(6 / fanIn)).
    case heUniform
    /// N(0, σ²) with a fixed σ (the course's 0.01 and 0.05 examples).
    case normal(standardDeviation: Float)
    /// U(±limit).
    case uniform(limit: Float)
    /// A random matrix with orthonormal rows or columns (whichever are fewer) over the last axis
    /// and the product of the others, times `gain` — Saxe et al. 2014; Keras's recurrent default.
    case orthogonal(gain: Float = 1)
    /// All zeros.
    case zeros
    /// Every element equal to the value.
    case constant(Float)

    /// A tensor of `shape` drawn from this distribution with `generator`.
    public func makeTensor(_ shape: Shape, generator: inout RandomGenerator) -> Tensor {
        let (fanIn, fanOut) = Initializer.fans(of: shape)
        switch self {
        case .glorotUniform:
            return .randomUniform(shape, lower: -limit(6, fanIn + fanOut), upper: limit(6, fanIn + fanOut), generator: &generator)
        case .glorotNormal:
            return .randomNormal(shape, standardDeviation: limit(2, fanIn + fanOut), generator: &generator)
        case .xavier:
            return .randomNormal(shape, standardDeviation: limit(1, fanIn), generator: &generator)
        case .heNormal:
            return .randomNormal(shape, standardDeviation: limit(2, fanIn), generator: &generator)
        case .heUniform:
            return .randomUniform(shape, lower: -limit(6, fanIn), upper: limit(6, fanIn), generator: &generator)
        case .normal(let standardDeviation):
            return .randomNormal(shape, standardDeviation: standardDeviation, generator: &generator)
        case .uniform(let bound):
            return .randomUniform(shape, lower: -bound, upper: bound, generator: &generator)
        case .orthogonal(let gain):
            return Initializer.orthogonalMatrix(shape, gain: gain, generator: &generator)
        case .zeros:
            return .zeros(shape)
        case .constant(let value):
            return Tensor(repeating: value, shape: shape)
        }
    }

    /// A tensor of `shape` drawn with the global generator (see ``seedGlobalRandom(_:)``).
    public func makeTensor(_ shape: Shape) -> Tensor {
        GlobalRandom.withGenerator { makeTensor(shape, generator: &$0) }
    }

    /// (fanIn, fanOut) of a weight shape.
    public static func fans(of shape: Shape) -> (Int, Int) {
        switch shape.rank {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        default:
            let receptive = shape.dimensions.dropLast(2).reduce(1, *)
            return (receptive * shape[shape.rank - 2], receptive * shape[shape.rank - 1])
        }
    }

    /// Modified Gram–Schmidt (in double precision) over the fewer of the rows and columns of a
    /// normal random matrix; a vector that comes out degenerate is drawn again.
    private static func orthogonalMatrix(_ shape: Shape, gain: Float, generator: inout RandomGenerator) -> Tensor {
        let columns = shape.rank == 0 ? 1 : shape[shape.rank - 1]
        let rows = columns == 0 ? 0 : shape.elementCount / columns
        let (count, length) = rows < columns ? (rows, columns) : (columns, rows)
        var vectors: [[Double]] = []
        while vectors.count < count {
            var v = Tensor.randomNormal([length], generator: &generator).scalars.map(Double.init)
            for u in vectors {
                let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                for i in v.indices { v[i] -= dot * u[i] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 1e-6 else { continue }
            vectors.append(v.map { $0 / norm })
        }
        var values = [Float](repeating: 0, count: rows * columns)
        for (k, v) in vectors.enumerated() {
            for (i, x) in v.enumerated() {
                // Fewer rows: vector k is row k; fewer columns: vector k is column k.
                values[rows < columns ? k * columns + i : i * columns + k] = gain * Float(x)
            }
        }
        return Tensor(values, shape: shape)
    }

    private func limit(_ numerator: Float, _ denominator: Int) -> Float {
        (numerator / Float(Swift.max(denominator, 1))).squareRoot()
    }
}
