/// Matrix product with NumPy semantics: the last two axes multiply, leading axes broadcast.
///
/// A 1-d left operand acts as a row vector and a 1-d right operand as a column vector; the
/// added axis is removed from the result. Operands whose last two axes are a transposed view
/// (`x.transposed()`) go to `sgemm` with a transpose flag instead of being copied. When the
/// right operand has no batch axes, the batch axes of a contiguous left operand fold into its
/// rows, so `[B, L, E] · [E, F]` is a single `(B·L)×E·F` product.
///
/// ```swift
/// let scores = matmul(query, key.transposed())   // [B, H, Lq, D] · [B, H, D, Lk] → [B, H, Lq, Lk]
/// ```
///
/// - Precondition: `a.shape[-1] == b.shape[-2]` (or the 1-d equivalents) and the batch axes broadcast.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 1 && b.rank >= 1, "matmul needs operands of rank ≥ 1, got \(a.shape) and \(b.shape)")
    if a.rank == 1 { return matmul(a.unsqueezed(axis: 0), b).squeezed(axis: b.rank == 1 ? -1 : -2) }
    if b.rank == 1 { return matmul(a, b.unsqueezed(axis: -1)).squeezed(axis: -1) }
    precondition(a.shape[a.rank - 1] == b.shape[b.rank - 2],
                 "matmul: inner dimensions differ: \(a.shape) · \(b.shape)")
    let result = MatrixProduct.compute(a.detached, b.detached)
    return result.recordingGradient(from: [a, b]) { g in
        let gradientA = matmul(g, b.transposed()).summed(toShape: a.shape)
        let gradientB: Tensor
        if a.rank > 2 && b.shape.dropLast(2).allSatisfy({ $0 == 1 }) {
            // b is shared by every batch entry (as the forward pass folds it): one
            // (K × B·M)·(B·M × N) product instead of a batch of them.
            let k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
            gradientB = matmul(a.reshaped([-1, k]).transposed(), g.reshaped([-1, n])).reshaped(b.shape)
        } else {
            gradientB = matmul(a.transposed(), g).summed(toShape: b.shape)
        }
        return [gradientA, gradientB]
    }
}

/// The sgemm-backed kernel behind ``matmul(_:_:)`` for operands of rank ≥ 2.
enum MatrixProduct {
    /// How a tensor's last two axes map onto a BLAS matrix argument.
    struct Operand {
        var tensor: Tensor
        var isTransposed: Bool
        var leadingDimension: Int

        init(_ tensor: Tensor) {
            let rows = tensor.shape[tensor.rank - 2], columns = tensor.shape[tensor.rank - 1]
            let rowStride = tensor.strides[tensor.rank - 2], columnStride = tensor.strides[tensor.rank - 1]
            if (columns == 1 || columnStride == 1) && (rows == 1 || rowStride >= Swift.max(columns, 1)) {
                self.init(tensor: tensor, isTransposed: false, leadingDimension: rows == 1 ? Swift.max(columns, 1) : rowStride)
            } else if (rows == 1 || rowStride == 1) && (columns == 1 || columnStride >= Swift.max(rows, 1)) {
                self.init(tensor: tensor, isTransposed: true, leadingDimension: columns == 1 ? Swift.max(rows, 1) : columnStride)
            } else {
                let copy = tensor.contiguousCopy()
                self.init(tensor: copy, isTransposed: false, leadingDimension: Swift.max(columns, 1))
            }
        }

        private init(tensor: Tensor, isTransposed: Bool, leadingDimension: Int) {
            self.tensor = tensor
            self.isTransposed = isTransposed
            self.leadingDimension = leadingDimension
        }
    }

    /// Floating-point operations per thread below which splitting a product costs more than it saves.
    static let minimumFlopsPerChunk = 1 << 21

    static func compute(_ a: Tensor, _ b: Tensor) -> Tensor {
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        let batchShape = broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)))
        let result = Tensor(uninitializedShape: batchShape + [m, n])
        let output = result.storage.base
        if result.scalarCount == 0 { return result }
        if k == 0 {
            output.initialize(repeating: 0, count: result.scalarCount)
            return result
        }

        var left = Operand(a), right = Operand(b)
        var batchCount = batchShape.reduce(1, *)
        var rows = m
        // Fold the batch into rows when the right operand is shared by every batch entry.
        let rightIsShared = b.rank == 2 || b.shape.dropLast(2).allSatisfy { $0 == 1 }
        if batchCount > 1 && rightIsShared && !left.isTransposed && a.isContiguous {
            rows = batchCount * m
            batchCount = 1
            left = Operand(a.reshaped([rows, k]))
        }
        right = Operand(b.rank == 2 || batchCount > 1 ? right.tensor : right.tensor.reshaped([b.shape[b.rank - 2], n]))

        // Batch offsets of each operand, from each entry's index over the broadcast batch shape.
        func batchOffsets(_ operand: Tensor, matrixShape: [Int]) -> [Int] {
            guard batchCount > 1 else { return [0] }
            let strides = operand.broadcastStrides(to: batchShape + matrixShape)
            return (0..<batchCount).map { entry in
                var (rest, offset) = (entry, 0)
                for axis in batchShape.indices.reversed() {
                    offset += rest % batchShape[axis] * strides[axis]
                    rest /= batchShape[axis]
                }
                return offset
            }
        }
        let offsetsA = batchOffsets(left.tensor, matrixShape: [m, k])
        let offsetsB = batchOffsets(right.tensor, matrixShape: [k, n])

        // Work items: each batch entry, cut into one block per thread when the entries don't
        // divide evenly among the threads — by rows, or by columns when there are few rows
        // (a decoding step's vector–matrix products read the weights on every core that way).
        let threads = Parallelism.threadCount
        let flopsPerEntry = 2 * rows * n * k
        var (rowBlocks, columnBlocks) = (1, 1)
        if batchCount % threads != 0 && flopsPerEntry >= 2 * minimumFlopsPerChunk {
            if rows >= 8 * threads {
                rowBlocks = threads
            } else if n >= 64 * threads {
                columnBlocks = threads
            }
        }
        let blocksPerEntry = rowBlocks * columnBlocks
        let itemCount = batchCount * blocksPerEntry
        let flopsPerItem = Swift.max(1, flopsPerEntry / blocksPerEntry)
        let pointerA = left.tensor.basePointer, pointerB = right.tensor.basePointer
        let rowStrideA = left.tensor.strides[left.tensor.rank - 2]
        let columnStrideB = right.tensor.strides[right.tensor.rank - 1]
        let (transposeA, transposeB) = (left.isTransposed, right.isTransposed)
        let (lda, ldb) = (left.leadingDimension, right.leadingDimension)
        offsetsA.withUnsafeBufferPointer { offsetsA in
            offsetsB.withUnsafeBufferPointer { offsetsB in
                let (entriesA, entriesB) = (UncheckedSendable(offsetsA), UncheckedSendable(offsetsB))
                Parallelism.forEachChunk(of: itemCount, minimumChunk: Swift.max(1, minimumFlopsPerChunk / flopsPerItem)) { items in
                    for item in items {
                        let (entry, block) = item.quotientAndRemainder(dividingBy: blocksPerEntry)
                        let (rowBlock, columnBlock) = block.quotientAndRemainder(dividingBy: columnBlocks)
                        let rowStart = rows * rowBlock / rowBlocks, rowEnd = rows * (rowBlock + 1) / rowBlocks
                        let columnStart = n * columnBlock / columnBlocks, columnEnd = n * (columnBlock + 1) / columnBlocks
                        guard rowEnd > rowStart, columnEnd > columnStart else { continue }
                        let a = pointerA + entriesA.value[entry] + rowStart * rowStrideA
                        let b = pointerB + entriesB.value[entry] + columnStart * columnStrideB
                        let c = output + (entry * rows + rowStart) * n + columnStart
                        if rowEnd - rowStart == 1 && (!transposeA || k == 1) {
                            // One row: stream op(B) once instead of letting sgemm pack it.
                            if transposeB {
                                Kernels.active.matvec(b, ldb, a, c, columnEnd - columnStart, k)   // c = B·a
                            } else {
                                Kernels.active.vecmat(a, b, ldb, c, k, columnEnd - columnStart)   // c = aᵀ·B
                            }
                            continue
                        }
                        BLAS.gemm(
                            transposeA: transposeA, transposeB: transposeB,
                            m: rowEnd - rowStart, n: columnEnd - columnStart, k: k, alpha: 1,
                            a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: n)
                    }
                }
            }
        }
        return result
    }
}
