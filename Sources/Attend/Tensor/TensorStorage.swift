/// The reference-counted buffer behind one or more ``Tensor`` views.
///
/// Storage is written only while it is uniquely referenced (right after allocation, or
/// through copy-on-write), so sharing it across threads is safe.
final class TensorStorage: @unchecked Sendable {
    let base: UnsafeMutablePointer<Float>
    let capacity: Int

    /// Uninitialized storage for `count` floats, from the buffer pool.
    init(count: Int) {
        (base, capacity) = BufferPool.shared.allocate(floats: count)
    }

    deinit {
        BufferPool.shared.release(base, capacity: capacity)
    }
}
