/// A trainable tensor owned by a layer. Declared as `let` in a layer; optimizers and checkpoints
/// find parameters by reflection and name them by path (`layers.0.weight`), so none can be
/// forgotten in a hand-written list.
public final class Parameter {
    let accumulator: GradientAccumulator
    private var storage: TensorStorage
    /// Whether optimizers update it and gradients flow to it (false freezes it, e.g. for
    /// transfer learning).
    public var isTrainable: Bool
    /// A norm penalty on this parameter added to the training loss, if any.
    public var regularizer: Regularizer?

    /// The current value; operations on it are recorded when the parameter is trainable.
    public var value: Tensor {
        Tensor(shape: accumulator.shape, storage: storage, node: isTrainable ? node : nil)
    }
    private let node: TapeNode

    /// The accumulated gradient (zeros until a backward pass reaches this parameter): a copy
    /// that later steps do not change.
    public var gradient: Tensor { accumulator.currentGradient }

    /// Reads the gradient where it lives, without a copy (in ``Callback/gradientsReady(_:)``:
    /// the buffer the optimizer and a gradient allreduce use). Valid only during `body`.
    public func withGradient<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        if accumulator.isZero { accumulator.materializeZero() }
        return try body(UnsafeBufferPointer(start: accumulator.storage.pointer, count: elementCount))
    }
    /// Extent of each axis.
    public var shape: Shape { accumulator.shape }
    /// Number of scalars.
    public var elementCount: Int { accumulator.shape.elementCount }

    /// Creates a parameter holding a copy of `initialValue`.
    public init(_ initialValue: Tensor, isTrainable: Bool = true, regularizer: Regularizer? = nil) {
        self.regularizer = regularizer
        accumulator = GradientAccumulator(shape: initialValue.shape)
        storage = initialValue.copy().storage
        node = TapeNode(leaf: accumulator)
        self.isTrainable = isTrainable
    }

    /// Overwrites the value with `newValue` (same shape).
    public func assign(_ newValue: Tensor) {
        precondition(newValue.shape == shape, "Parameter.assign: value of shape \(newValue.shape) for a parameter of shape \(shape)")
        // A copy (row-major): the parameter's storage keeps its layout, whatever newValue's is.
        Backends.current.copy(
            shape: [elementCount], from: newValue.storage, offset: 0, strides: [1], into: storage, offset: 0, strides: [1],
            accumulate: false)
    }

    /// Moves value and gradient into views of flat buffers (keeping the current value), so an
    /// optimizer updates all parameters in one pass and an allreduce can sum all gradients at once.
    func rebind(value: TensorStorage, gradient: TensorStorage) {
        let backend = Backends.current
        backend.copy(storage, into: value, count: elementCount)
        if !accumulator.isZero { backend.copy(accumulator.storage, into: gradient, count: elementCount) }
        storage = value
        accumulator.storage = gradient
    }

    /// Marks the gradient as zero (lazily: no memory is written).
    public func zeroGradient() { accumulator.markZero() }
}
