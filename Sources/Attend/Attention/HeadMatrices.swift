/// A `[B, H, L, X]` tensor seen as one `L × X` row-major matrix per (batch entry, head), with
/// unit stride along `X`; other strides are arbitrary, so permuted projections (`[B, L, H, X]`
/// storage) need no copy. Holds the tensor so its storage stays alive.
struct HeadMatrices: @unchecked Sendable {
    let tensor: Tensor
    let base: UnsafeMutablePointer<Float>
    let batchStride: Int, headStride: Int
    /// Floats between consecutive rows: the `lda` handed to sgemm.
    let rowStride: Int

    init(_ tensor: Tensor) {
        let (length, width) = (tensor.shape[2], tensor.shape[3])
        // Usable in place when each row is unit-stride and rows don't overlap (a view broadcast
        // along L has row stride 0, which sgemm's leading dimension cannot express).
        let usable = (width <= 1 || tensor.strides[3] == 1) && (length <= 1 || tensor.strides[2] >= Swift.max(width, 1))
        let viewed = usable ? tensor : tensor.contiguousCopy()
        self.tensor = viewed
        base = viewed.basePointer
        batchStride = viewed.strides[0]
        headStride = viewed.strides[1]
        rowStride = length <= 1 ? Swift.max(width, 1) : viewed.strides[2]
    }

    /// Storage laid out `[B, L, H, X]` (what a following head merge wants), viewed as `[B, H, L, X]`.
    static func interleaved(batch: Int, heads: Int, length: Int, width: Int, zeroed: Bool) -> HeadMatrices {
        let storage = zeroed ? Tensor.zeros([batch, length, heads, width]) : Tensor(uninitializedShape: [batch, length, heads, width])
        return HeadMatrices(storage.permuted([0, 2, 1, 3]))
    }

    @inline(__always)
    func rows(batch: Int, head: Int, from row: Int = 0) -> UnsafeMutablePointer<Float> {
        base + batch * batchStride + head * headStride + row * rowStride
    }
}

/// For each (batch entry, head) of a `[B, H, L, X]` tensor, the rows that hold NaN or ∞, so that
/// kernels can keep masked garbage out of their products. Empty lists in the usual case.
struct NonFiniteRows: Sendable {
    let rows: [[Int]]
    let isEmpty: Bool

    /// No bad rows anywhere (when nothing is masked, nothing needs checking).
    static let none = NonFiniteRows(rows: [], isEmpty: true)

    private init(rows: [[Int]], isEmpty: Bool) {
        self.rows = rows
        self.isEmpty = isEmpty
    }

    init(_ matrices: HeadMatrices) {
        let shape = matrices.tensor.shape
        let (batch, heads, length, width) = (shape[0], shape[1], shape[2], shape[3])
        var found = [[Int]](repeating: [], count: batch * heads)
        found.withUnsafeMutableBufferPointer { found in
            let lists = UncheckedSendable(found)
            Parallelism.forEachChunk(of: batch * heads, minimumChunk: Swift.max(1, 65_536 / Swift.max(length * width, 1))) { range in
                for pair in range {
                    let start = matrices.rows(batch: pair / heads, head: pair % heads)
                    for row in 0..<length {
                        let values = start + row * matrices.rowStride
                        // x·0 is 0 for finite x and NaN otherwise; the loop vectorizes.
                        var probe: Float = 0
                        for d in 0..<width { probe += values[d] * 0 }
                        if probe != 0 || probe.isNaN { lists.value[pair].append(row) }
                    }
                }
            }
        }
        rows = found
        isEmpty = found.allSatisfy(\.isEmpty)
    }

    /// The bad rows of (batch entry, head) inside `range`.
    func rows(batch: Int, head: Int, heads: Int, in range: Range<Int>) -> [Int] {
        rows[batch * heads + head].filter { range.contains($0) }
    }
}
