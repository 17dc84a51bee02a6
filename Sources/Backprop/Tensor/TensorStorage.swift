/// A block of Float32 elements in host memory, shared by tensors that view it.
///
/// Storage comes from the ``BufferPool``, so a training step that creates tensors of the same sizes
/// as the previous one reuses that memory instead of touching fresh pages. A storage may also be a
/// view into a larger one (a parameter inside the flat parameter buffer); it then keeps that
/// buffer alive.
public final class TensorStorage: @unchecked Sendable {
    /// First element.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int
    private let parent: TensorStorage?
    private let pooled: Bool

    /// Allocates `count` uninitialized elements from the pool.
    init(uninitializedCount count: Int) {
        self.pointer = BufferPool.shared.take(count)
        self.count = count
        self.parent = nil
        self.pooled = true
    }

    /// A view of `count` elements starting at `offset` in `parent`.
    init(viewing parent: TensorStorage, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count, "TensorStorage: view out of range")
        self.pointer = parent.pointer + offset
        self.count = count
        self.parent = parent
        self.pooled = false
    }

    deinit {
        if pooled { BufferPool.shared.recycle(pointer, count: count) }
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
}
