/// Runs a recurrent layer forward and a copy of it (own weights) backward over the sequence and
/// merges the two: concatenated along the features by default (PyTorch's `bidirectional=True`
/// order: the forward half first).
///
/// ```swift
/// Bidirectional(LSTM(28, 64, returnSequences: true))    // [batch, steps, 128]
/// ```
public final class Bidirectional: Layer, SequenceMaskConsuming {
    /// How the two directions' outputs are combined.
    public enum Merge: String, Sendable, CaseIterable {
        case concatenate = "concat"
        case sum
        case average = "ave"
        case multiply = "mul"
    }

    /// The left-to-right layer.
    public let forward: any RecurrentLayer
    /// The right-to-left layer (same configuration, its own weights).
    public let backward: any RecurrentLayer
    public let merge: Merge

    /// - Parameter layer: the forward layer; the backward one is a fresh copy running in reverse.
    public init(_ layer: any RecurrentLayer, merge: Merge = .concatenate) {
        precondition(!layer.reverse, "Bidirectional: give the forward layer (reverse: false); the reversed copy is made here")
        forward = layer
        backward = layer.freshCopy(reverse: true)
        self.merge = merge
    }

    /// Features of the output.
    public var outputSize: Int { merge == .concatenate ? 2 * forward.units : forward.units }

    public func callAsFunction(_ input: Tensor, mask: Tensor?) -> Tensor {
        let a = forward(input, mask: mask)
        let b = backward(input, mask: mask)
        switch merge {
        case .concatenate: return Tensor.concatenate([a, b], alongAxis: a.rank - 1)
        case .sum: return a + b
        case .average: return (a + b) * 0.5
        case .multiply: return a * b
        }
    }

    public func callAsFunction(_ input: Tensor) -> Tensor { callAsFunction(input, mask: nil) }
}
