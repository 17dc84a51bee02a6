/// An n-dimensional array of Float32 values that records the operations applied to it, so that
/// gradients can flow back through them (reverse-mode automatic differentiation).
///
/// Tensors are immutable values: every operation returns a new tensor. Images are channels-last
/// (NHWC). A tensor takes part in differentiation when it is a ``Parameter``'s value or was made
/// with ``requiringGradient()``; operations on it are then recorded on the tape until
/// ``backward(seed:)`` runs.
///
/// ```swift
/// let x = Tensor([1, 2, 3], shape: [3]).requiringGradient()
/// let y = (x * x).sum()
/// y.backward()
/// x.gradient   // [2, 4, 6]
/// ```
public struct Tensor: @unchecked Sendable {
    /// Extent of each axis.
    public let shape: Shape
    /// The elements, row-major.
    let storage: TensorStorage
    /// The tape entry that produced this tensor; nil for constants.
    let node: TapeNode?

    init(shape: Shape, storage: TensorStorage, node: TapeNode? = nil) {
        precondition(storage.count >= shape.elementCount, "Tensor: storage of \(storage.count) elements is too small for shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor with uninitialized contents, for kernels that overwrite every element.
    init(uninitializedShape shape: Shape) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: shape.elementCount))
    }

    /// Number of axes.
    public var rank: Int { shape.rank }
    /// Number of elements.
    public var elementCount: Int { shape.elementCount }
    /// Whether gradients flow back through this tensor.
    public var requiresGradient: Bool { node != nil }

    /// The same values, detached from the tape: operations on it are not recorded.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A leaf of the tape with its own gradient: after `backward()`, ``gradient`` holds
    /// ∂output/∂self.
    public func requiringGradient() -> Tensor {
        Tensor(shape: shape, storage: storage, node: TapeNode(leaf: GradientAccumulator(shape: shape)))
    }

    /// The gradient accumulated by `backward()` for a leaf made with ``requiringGradient()`` or a
    /// parameter's value; zeros before any backward pass, nil for tensors that are not leaves.
    public var gradient: Tensor? { node?.leaf?.currentGradient }

    /// Reads the elements as an array (row-major).
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: elementCount)) }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(elementCount == 1, "item: tensor of shape \(shape) has \(elementCount) elements, expected 1")
        return storage.pointer[0]
    }

    /// Runs `body` with read access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: elementCount))
    }

    /// Element at a multi-dimensional index.
    public subscript(index: Int...) -> Float {
        precondition(index.count == rank, "subscript: \(index.count) indices for a tensor of rank \(rank)")
        var offset = 0
        for (axis, (i, stride)) in zip(index, shape.strides).enumerated() {
            precondition(i >= 0 && i < shape[axis], "subscript: index \(i) out of range for axis \(axis) of shape \(shape)")
            offset += i * stride
        }
        return storage.pointer[offset]
    }
}
