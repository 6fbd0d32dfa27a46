import Foundation

/// Reuses large scalar buffers so that steady-state loops don't page-fault.
///
/// A fresh allocation of many pages costs about 1.5 µs per 4 KiB page when first touched on
/// these machines; a recycled buffer costs nothing. Buffers of at least
/// ``minimumPooledBytes`` are rounded up to a size class (four classes per power of two, so at
/// most 25% slack) and kept, up to ``maximumCachedBytes`` in all, when their tensor dies.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()

    /// Buffers smaller than this go straight to `malloc`, which already recycles them well.
    static let minimumPooledBytes = 64 * 1024
    /// The most memory kept idle in the pool: a quarter of physical memory, at most 4 GiB (a
    /// training step frees its activations all at once and needs them again in the next).
    static let maximumCachedBytes = Swift.min(4 << 30, Int(ProcessInfo.processInfo.physicalMemory / 4))
    static let alignment = 64

    private struct State {
        /// Idle buffers by size class, as addresses (plain integers cross the lock boundary).
        var free: [Int: [UInt]] = [:]
        var cachedBytes = 0
    }
    /// Guards `state`. A pthread mutex (NSLock) rather than Synchronization's `Mutex`: on Linux
    /// `Mutex` locks with raw futexes, which ThreadSanitizer cannot see, so every pooled allocation
    /// was reported as a race under `--sanitize=thread`.
    private let lock = NSLock()
    private var state = State()

    private func withLock<Result>(_ body: (inout State) -> Result) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }

    /// The byte count a request of `byteCount` is rounded up to.
    static func sizeClass(for byteCount: Int) -> Int {
        guard byteCount > minimumPooledBytes else { return byteCount }
        let highBit = Int.bitWidth - 1 - byteCount.leadingZeroBitCount
        let step = 1 << (highBit - 2)
        return (byteCount + step - 1) / step * step
    }

    /// Returns memory for at least `count` floats, 64-byte aligned, and its true capacity in floats.
    func allocate(floats count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = BufferPool.sizeClass(for: max(count, 1) * MemoryLayout<Float>.stride)
        if bytes >= BufferPool.minimumPooledBytes {
            let address: UInt? = withLock { state in
                guard let address = state.free[bytes]?.popLast() else { return nil }
                state.cachedBytes -= bytes
                return address
            }
            if let address, let reused = UnsafeMutableRawPointer(bitPattern: address) {
                return (reused.assumingMemoryBound(to: Float.self), bytes / 4)
            }
        }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: BufferPool.alignment)
        return (raw.bindMemory(to: Float.self, capacity: bytes / 4), bytes / 4)
    }

    /// Takes back memory from ``allocate(floats:)``; keeps it for reuse while the pool has room.
    func release(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let bytes = capacity * MemoryLayout<Float>.stride
        if bytes >= BufferPool.minimumPooledBytes {
            let address = UInt(bitPattern: pointer)
            let kept = withLock { state -> Bool in
                guard state.cachedBytes + bytes <= BufferPool.maximumCachedBytes else { return false }
                state.free[bytes, default: []].append(address)
                state.cachedBytes += bytes
                return true
            }
            if kept { return }
        }
        UnsafeMutableRawPointer(pointer).deallocate()
    }
}
