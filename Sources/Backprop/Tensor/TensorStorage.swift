import Synchronization

/// A block of Float32 elements in host memory, shared by tensors that view it.
///
/// Storage comes from the ``BufferPool``, so a training step that creates tensors of the same sizes
/// as the previous one reuses that memory instead of touching fresh pages. A storage may also be a
/// view into a larger one (a parameter inside the flat parameter buffer); it then keeps that
/// buffer alive.
///
/// A backend may hold a storage in a layout of its own (``NativeLayout``, e.g. oneDNN's
/// channel-blocked images), so that its kernels hand activations to each other without converting.
/// Everything outside the backend reads ``pointer``, which is always row-major: the first such read
/// converts the storage to row-major for good. Only the backend reads ``nativePointer``.
public final class TensorStorage: @unchecked Sendable {
    /// Number of elements.
    public let count: Int
    private let parent: TensorStorage?
    private let pooled: Bool
    /// First element, in ``nativeLayout`` while that is set.
    private nonisolated(unsafe) var base: UnsafeMutablePointer<Float>
    /// Set while the elements are in a backend layout; the lock orders the one-way change to row-major.
    private let native = Mutex<(any NativeLayout)?>(nil)
    private let isNative = Atomic<Bool>(false)

    /// Allocates `count` uninitialized elements from the pool.
    init(uninitializedCount count: Int) {
        self.base = BufferPool.shared.take(count)
        self.count = count
        self.parent = nil
        self.pooled = true
    }

    /// A view of `count` elements starting at `offset` in `parent` (row-major).
    init(viewing parent: TensorStorage, offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= parent.count, "TensorStorage: view out of range")
        self.base = parent.pointer + offset
        self.count = count
        self.parent = parent
        self.pooled = false
    }

    deinit {
        if pooled { BufferPool.shared.recycle(base, count: count) }
    }

    /// First element, row-major. Converts a storage the backend holds in its own layout first.
    public var pointer: UnsafeMutablePointer<Float> {
        if isNative.load(ordering: .acquiring) { convertToRowMajor() }
        return base
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The backend layout the elements are in; nil when row-major. For backends only.
    public var nativeLayout: (any NativeLayout)? {
        guard isNative.load(ordering: .acquiring) else { return nil }
        return native.withLock { $0 }
    }

    /// First element in whatever layout the storage is in (see ``nativeLayout``), without
    /// converting. For backends only: a kernel that reads this must understand that layout.
    public var nativePointer: UnsafeMutablePointer<Float> { base }

    /// Whether ``adopt(_:)`` may be called: a pooled storage of its own (not a view), row-major.
    public var canAdopt: Bool { pooled && parent == nil && !isNative.load(ordering: .acquiring) }

    /// Declares that a backend kernel has just written the elements in `layout` (which must use
    /// exactly `count` elements). Only for a fresh storage nobody else has read yet (``canAdopt``).
    public func adopt(_ layout: any NativeLayout) {
        precondition(pooled && parent == nil, "TensorStorage: only a fresh storage can take a backend layout")
        native.withLock { $0 = layout }
        isNative.store(true, ordering: .releasing)
    }

    private func convertToRowMajor() {
        native.withLock { layout in
            guard let current = layout else { return }
            let rowMajor = BufferPool.shared.take(count)
            current.convertToRowMajor(from: base, into: rowMajor)
            BufferPool.shared.recycle(base, count: count)
            base = rowMajor
            layout = nil
            isNative.store(false, ordering: .releasing)
        }
    }
}
