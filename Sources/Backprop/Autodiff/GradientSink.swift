/// Hands a pullback the gradient buffers of an operation's inputs.
///
/// A pullback asks for input `i`'s buffer with ``target(_:)`` and writes its contribution: it
/// overwrites when `accumulate` is false and adds when true (the input already received gradient
/// from another use). Parameters' buffers are views into the optimizer's flat gradient buffer, so a
/// weight gradient is written there directly (a GEMM with β = 1 when accumulating), with no copy.
public struct GradientSink {
    let inputs: [TapeNode?]

    /// Whether input `index` needs a gradient at all; pullbacks skip work for inputs that do not.
    public func needsGradient(_ index: Int) -> Bool { inputs[index] != nil }

    /// The buffer to write input `index`'s gradient into, and whether to add to it; nil when the
    /// input needs no gradient. Request each target right before writing it.
    public mutating func target(_ index: Int) -> (tensor: Tensor, accumulate: Bool)? {
        guard let node = inputs[index] else { return nil }
        if let leaf = node.leaf {
            let accumulate = !leaf.isZero
            leaf.isZero = false
            return (leaf.tensor, accumulate)
        }
        if let existing = node.gradient {
            if node.gradientIsBorrowed {
                let copy = Tensor(uninitializedShape: node.shape)
                Backends.current.copy(existing.storage, into: copy.storage, count: node.shape.elementCount)
                node.gradient = copy
                node.gradientIsBorrowed = false
                return (copy, true)
            }
            return (existing, true)
        }
        let fresh = Tensor(uninitializedShape: node.shape)
        node.gradient = fresh
        return (fresh, false)
    }

    /// Passes `gradient` to input `index` unchanged (identity pullbacks such as reshape), without a
    /// copy when it is the first contribution.
    public mutating func pass(_ index: Int, _ gradient: Tensor) {
        guard let node = inputs[index] else { return }
        precondition(
            gradient.elementCount == node.shape.elementCount,
            "pullback: gradient of shape \(gradient.shape) for input of shape \(node.shape)")
        if node.leaf == nil && node.gradient == nil {
            node.gradient = Tensor(shape: node.shape, storage: gradient.storage)
            node.gradientIsBorrowed = true
            return
        }
        guard let (target, accumulate) = target(index) else { return }
        Backends.current.scale(gradient.storage, by: 1, into: target.storage, count: node.shape.elementCount, accumulate: accumulate)
    }
}
