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

    private func limit(_ numerator: Float, _ denominator: Int) -> Float {
        (numerator / Float(Swift.max(denominator, 1))).squareRoot()
    }
}
