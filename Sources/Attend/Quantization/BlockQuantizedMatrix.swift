import AttendKernels

/// A weight matrix `W` `[rows, columns]` kept in a ggml block format (Q4_0, Q4_1 or Q8_0) exactly
/// as a GGUF file stores it — never expanded to Float32 in memory; ``blockQuantizedProduct(_:_:)``
/// reads the blocks directly.
///
/// Each row is `columns / 32` consecutive blocks; a Q4_1 block holds 32 weights in 20 bytes,
/// `wⱼ = d·qⱼ + m` with 4-bit `qⱼ`. The matrix keeps its owner (the mapped file) alive.
public struct BlockQuantizedMatrix: @unchecked Sendable {
    /// The block format.
    public let type: GGMLType
    /// Output features (rows of `W`).
    public let rows: Int
    /// Input features (columns of `W`), a multiple of 32.
    public let columns: Int
    /// Bytes per row.
    public let rowByteCount: Int
    let base: UnsafeRawPointer
    private let owner: AnyObject

    /// The matrix tensor `name` of a GGUF file (row-major shape `[rows, columns]`).
    ///
    /// - Throws: ``GGUFError`` when the tensor is missing, not a matrix or of a type without a quantized product.
    public init(file: GGUFFile, tensor name: String) throws {
        let info = try file.info(named: name)
        guard info.dimensions.count == 2, info.type.hasQuantizedProduct else {
            throw GGUFError(file: file.path, reason: "tensor '\(name)' (\(info.type), \(info.shape)) is not a Q4_0, Q4_1 or Q8_0 matrix")
        }
        type = info.type
        (rows, columns) = (info.shape[0], info.shape[1])
        rowByteCount = type.byteCount(elements: columns)!
        base = file.bytes(of: info).baseAddress!
        owner = file
    }

    /// Bytes the matrix occupies.
    public var byteCount: Int { rows * rowByteCount }

    /// The whole matrix as Float32 `[rows, columns]` (what the blocks mean; for tests and gradients).
    public func dequantized() -> Tensor { dequantizedRows(Array(0..<rows)) }

    /// Rows `ids` as Float32 `[ids.count, columns]`: an embedding lookup.
    public func dequantizedRows(_ ids: [Int]) -> Tensor {
        let result = Tensor(uninitializedShape: [ids.count, columns])
        for (index, row) in ids.enumerated() {
            precondition(row >= 0 && row < rows, "row \(row) is outside 0..<\(rows)")
            GGUFFile.dequantize(base + row * rowByteCount, type: type, count: columns, into: result.storage.base + index * columns)
        }
        return result
    }
}

/// `x·Wᵀ` for `x` `[…, columns]` and a block-quantized `W` `[rows, columns]`: `[…, rows]`.
///
/// Each row of `x` is first quantized to 8 bits per block of 32 (`d = max|x|/127`, llama.cpp's
/// Q8_1 scheme, which keeps each block's sum for Q4_1's offset term); the kernels then take
/// integer dot products of whole blocks (AVX-512 VNNI, AVX2 or portable) and scale them:
/// `Σ_blocks d_w·d_x·Σ q_w·q_x (+ m_w·s_x)`. Threads split the rows of `W`.
/// The gradient flows to `x` only (`∂x = g·W`, with `W` dequantized); `W` is frozen.
public func blockQuantizedProduct(_ x: Tensor, _ weight: BlockQuantizedMatrix) -> Tensor {
    let k = weight.columns
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == k,
                 "blockQuantizedProduct: input \(x.shape) does not end in the matrix's \(k) columns")
    let tokens = x.scalarCount / Swift.max(k, 1)
    let input = x.detached.contiguous()
    let blocksPerRow = k / 32
    var activations = [attend_block_q8](repeating: attend_block_q8(), count: tokens * blocksPerRow)
    let kernels = Kernels.active
    activations.withUnsafeMutableBufferPointer { blocks in
        for t in 0..<tokens { kernels.quantize_row_q8(input.basePointer + t * k, blocks.baseAddress! + t * blocksPerRow, k) }
    }
    let output = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [weight.rows])
    let target = UncheckedSendable(output.storage.base)
    activations.withUnsafeBufferPointer { blocks in
        let source = UncheckedSendable(blocks.baseAddress!)
        // Chunks of whole 16-row groups, at least ~64 KiB of weights each.
        let groups = (weight.rows + 15) / 16
        Parallelism.forEachChunk(of: groups, minimumChunk: Swift.max(1, 65_536 / Swift.max(16 * weight.rowByteCount, 1))) { range in
            let first = range.lowerBound * 16, last = Swift.min(range.upperBound * 16, weight.rows)
            let rowBase = weight.base + first * weight.rowByteCount
            let (x, y, n) = (source.value, target.value + first, last - first)
            switch (weight.type, tokens == 1) {
            case (.q4_0, true): kernels.matvec_q4_0_q8(rowBase, weight.rowByteCount, x, y, n, k)
            case (.q4_1, true): kernels.matvec_q4_1_q8(rowBase, weight.rowByteCount, x, y, n, k)
            case (_, true): kernels.matvec_q8_0_q8(rowBase, weight.rowByteCount, x, y, n, k)
            case (.q4_0, false): kernels.matmul_q4_0_q8(rowBase, weight.rowByteCount, x, blocksPerRow, y, weight.rows, n, k, tokens)
            case (.q4_1, false): kernels.matmul_q4_1_q8(rowBase, weight.rowByteCount, x, blocksPerRow, y, weight.rows, n, k, tokens)
            case (_, false): kernels.matmul_q8_0_q8(rowBase, weight.rowByteCount, x, blocksPerRow, y, weight.rows, n, k, tokens)
            }
        }
    }
    return output.recordingGradient(from: [x]) { g in
        [matmul(g, weight.dequantized())]
    }
}
