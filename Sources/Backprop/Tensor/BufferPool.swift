import Foundation
import Synchronization

/// A caching allocator for tensor memory, keyed by exact element count.
///
/// Training repeats the same shapes every step, so after the first step every allocation is served
/// from here. First touch of fresh memory costs about 0.35 ms/MB on the project's machines
/// (PLATFORM.md), which would otherwise be paid every step. Blocks are 64-byte aligned for AVX-512.
public final class BufferPool: Sendable {
    /// The process-wide pool.
    public static let shared = BufferPool()

    private struct State {
        var free: [Int: [UInt]] = [:]  // addresses; pointers are not Sendable
        var cachedBytes = 0
        var liveBytes = 0
        var peakLiveBytes = 0
    }

    private let state = Mutex(State())

    /// Bytes held in the cache, not in use by any tensor.
    public var cachedBytes: Int { state.withLock { $0.cachedBytes } }
    /// Bytes in use by live tensors.
    public var liveBytes: Int { state.withLock { $0.liveBytes } }
    /// The largest `liveBytes` seen.
    public var peakLiveBytes: Int { state.withLock { $0.peakLiveBytes } }

    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        // The address crosses the lock as an integer: pointers are not Sendable.
        let cached: UInt = state.withLock { state in
            state.liveBytes += bytes
            state.peakLiveBytes = max(state.peakLiveBytes, state.liveBytes)
            guard let pointer = state.free[count]?.popLast() else { return 0 }
            state.cachedBytes -= bytes
            return pointer
        }
        if let pointer = UnsafeMutablePointer<Float>(bitPattern: cached) { return pointer }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    func recycle(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let address = UInt(bitPattern: pointer)
        state.withLock { state in
            state.liveBytes -= bytes
            state.cachedBytes += bytes
            state.free[count, default: []].append(address)
        }
    }

    /// Fills every cached block with `value` (a debugging aid: with NaN, any kernel that reads
    /// memory it did not write first shows up as NaN in its results).
    /// The blocks are filled under the pool's lock, so another thread cannot take one half-way
    /// (filled after it was handed out, it would corrupt that thread's live tensor).
    public func fillCached(with value: Float) {
        state.withLock { state in
            for (count, list) in state.free {
                for address in list { UnsafeMutablePointer<Float>(bitPattern: address)?.update(repeating: value, count: max(count, 1)) }
            }
        }
    }

    /// Returns every cached block to the system allocator.
    public func releaseCached() {
        let blocks: [UInt] = state.withLock { state in
            let blocks = state.free.values.flatMap { $0 }
            state.free.removeAll()
            state.cachedBytes = 0
            return blocks
        }
        for block in blocks { UnsafeMutableRawPointer(bitPattern: block)?.deallocate() }
    }
}
