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
/// converts the storage to row-major for good. Only the backend reads ``nativeElements``.
public final class TensorStorage: @unchecked Sendable {
    /// Number of elements.
    public let count: Int
    private let parent: TensorStorage?
    private let pooled: Bool
    /// The elements: row-major, or in the layout `state` names.
    private nonisolated(unsafe) var base: UnsafeMutablePointer<Float>
    /// The backend layout while the storage is held in one; the lock orders the change to row-major.
    private let state = Mutex<(any NativeLayout)?>(nil)
    /// The buffer the storage was held in before it became row-major, kept until deinit so that a
    /// kernel that read it just before the conversion stays safe. Written under `state`'s lock.
    private nonisolated(unsafe) var retired: UnsafeMutablePointer<Float>?
    private let isNative = Atomic<Bool>(false)
    /// Set once a row-major pointer was handed out or a view made: the storage may no longer adopt
    /// a backend layout.
    private let isExposed = Atomic<Bool>(false)

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
        if let retired { BufferPool.shared.recycle(retired, count: count) }
    }

    /// First element, row-major. Converts a storage the backend holds in its own layout first.
    public var pointer: UnsafeMutablePointer<Float> {
        if isNative.load(ordering: .acquiring) { convertToRowMajor() }
        if !isExposed.load(ordering: .relaxed) { isExposed.store(true, ordering: .relaxed) }
        return base
    }

    var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    /// The backend layout the elements are in; nil when row-major. For backends only.
    public var nativeLayout: (any NativeLayout)? { nativeElements?.layout }

    /// The layout and the elements in it, read together, while the storage is held in a backend
    /// layout; nil when row-major. The pointer stays valid (and its contents unchanged) for the
    /// storage's lifetime even if another thread converts the storage meanwhile. For backends only.
    public var nativeElements: (layout: any NativeLayout, pointer: UnsafeMutablePointer<Float>)? {
        guard isNative.load(ordering: .acquiring) else { return nil }
        var elements: (layout: any NativeLayout, pointer: UnsafeMutablePointer<Float>)?
        state.withLock { layout in
            if let layout { elements = (layout, base) }
        }
        return elements
    }

    /// Where a backend kernel writes a fresh output it will then ``adopt(_:)`` (or, when it does not
    /// adopt, the same as ``pointer`` for a storage nobody has read).
    public var outputPointer: UnsafeMutablePointer<Float> { base }

    /// Whether ``adopt(_:)`` may be called: a pooled storage of its own, row-major, that no row-major
    /// pointer or view has been taken from (a converted storage has handed one out, so it stays
    /// row-major).
    public var canAdopt: Bool {
        pooled && parent == nil && !isNative.load(ordering: .acquiring) && !isExposed.load(ordering: .relaxed)
    }

    /// Declares that a backend kernel has just written the elements in `layout`, which must hold
    /// exactly `count` elements. Only for a fresh storage (``canAdopt``).
    public func adopt(_ layout: any NativeLayout) {
        precondition(canAdopt, "TensorStorage: only a fresh storage can take a backend layout")
        precondition(layout.elementCount == count, "TensorStorage: a layout of \(layout.elementCount) elements for \(count)")
        state.withLock { $0 = layout }
        isNative.store(true, ordering: .releasing)
    }

    private func convertToRowMajor() {
        state.withLock { layout in
            guard let current = layout else { return }
            let rowMajor = BufferPool.shared.take(count)
            current.convertToRowMajor(from: base, into: rowMajor)
            retired = base
            base = rowMajor
            layout = nil
            isNative.store(false, ordering: .releasing)
        }
    }
}
