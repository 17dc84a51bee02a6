/// One recorded operation on the tape: its inputs and the pullback that maps the gradient of its
/// output to gradients of its inputs. Leaves (parameters, tensors made with `requiringGradient()`)
/// have no pullback and accumulate their gradient in a persistent buffer instead.
final class TapeNode {
    /// Called with the gradient of the output and a sink that hands out the inputs' gradient
    /// buffers. Set to nil once run, which frees the saved tensors.
    typealias Pullback = (Tensor, inout GradientSink) -> Void

    let inputs: [TapeNode?]
    let shape: Shape
    var pullback: Pullback?
    /// The operation's name, for error messages and diagnostics.
    let operation: StaticString
    let leaf: GradientAccumulator?

    /// Gradient of the final output with respect to this node's output, accumulated during backward.
    var gradient: Tensor?
    /// True when `gradient` aliases a tensor owned elsewhere and must be copied before adding to it.
    var gradientIsBorrowed = false
    var visitMark = 0

    init(operation: StaticString, shape: Shape, inputs: [TapeNode?], pullback: @escaping Pullback) {
        self.operation = operation
        self.shape = shape
        self.inputs = inputs
        self.pullback = pullback
        self.leaf = nil
    }

    init(leaf: GradientAccumulator) {
        self.operation = "leaf"
        self.shape = leaf.shape
        self.inputs = []
        self.pullback = nil
        self.leaf = leaf
    }
}

/// The persistent gradient of a leaf. Zeroing is lazy: after ``markZero()`` the first write
/// overwrites instead of adding, so clearing gradients between steps costs nothing.
final class GradientAccumulator {
    let shape: Shape
    /// Where the gradient lives; for parameters, a view into the optimizer's flat gradient buffer.
    var storage: TensorStorage
    /// True while the buffer's contents are stale and the gradient is logically zero.
    var isZero = true

    init(shape: Shape) {
        self.shape = shape
        self.storage = TensorStorage(uninitializedCount: shape.elementCount)
    }

    var tensor: Tensor { Tensor(shape: shape, storage: storage) }

    /// A snapshot of the gradient (zeros if nothing was accumulated since the last reset); later
    /// backward passes and optimizer steps do not change it.
    var currentGradient: Tensor {
        if isZero { materializeZero() }
        return tensor.copy()
    }

    func markZero() { isZero = true }

    /// Writes real zeros into the buffer when it is logically zero (before an optimizer reads it).
    func materializeZero() {
        guard isZero else { return }
        Backends.current.fill(storage, value: 0, count: shape.elementCount)
        isZero = false
    }
}
