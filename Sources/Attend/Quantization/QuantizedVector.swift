import AttendKernels

/// A vector quantized per block of 32 for the block-quantized products — 16 bits
/// (`d = max|x|/32767`, the default: logits within ~1e-4 of Float32) or 8 bits (`d = max|x|/127`,
/// llama.cpp's scheme) — ready to be multiplied by several matrices
/// (``BlockQuantizedMatrix/multiply(_:by:)``). Reusable: quantizing again overwrites it without allocating.
public struct QuantizedVector: @unchecked Sendable {
    /// ``ActivationPrecision/int16`` or ``ActivationPrecision/int8``.
    public let precision: ActivationPrecision
    var blocks8: [attend_block_q8] = []
    var blocks16: [attend_block_q16] = []
    /// Floats quantized (a multiple of 32).
    public private(set) var count: Int

    /// Room for `count` floats (a multiple of 32), all zero.
    public init(count: Int, precision: ActivationPrecision = .int16) {
        precondition(count >= 0 && count % 32 == 0, "QuantizedVector needs a multiple of 32 floats, got \(count)")
        precondition(precision != .float32, "QuantizedVector holds 8- or 16-bit blocks; Float32 activations need no quantizing")
        self.precision = precision
        self.count = count
        reserve(count / 32)
    }

    private mutating func reserve(_ blocks: Int) {
        if precision == .int8, blocks8.count < blocks { blocks8 = .init(repeating: attend_block_q8(), count: blocks) }
        if precision == .int16, blocks16.count < blocks { blocks16 = .init(repeating: attend_block_q16(), count: blocks) }
    }

    /// Quantizes `x` (`count` finite floats, a multiple of 32) into this vector.
    public mutating func quantize(_ x: UnsafePointer<Float>, count: Int) {
        precondition(count % 32 == 0, "QuantizedVector needs a multiple of 32 floats, got \(count)")
        reserve(count / 32)
        self.count = count
        if precision == .int8 {
            blocks8.withUnsafeMutableBufferPointer { Kernels.active.quantize_row_q8(x, $0.baseAddress!, count) }
        } else {
            blocks16.withUnsafeMutableBufferPointer { Kernels.active.quantize_row_q16(x, $0.baseAddress!, count) }
        }
    }
}

extension BlockQuantizedMatrix {
    /// `yᵢ = Wᵢ·x` for several matrices that read the same quantized input, in one parallel region
    /// (rows of all the matrices are split among the threads together): e.g. a layer's query, key
    /// and value projections for one token. Each `output` must hold the matrix's `rows` floats.
    ///
    /// With `tokens` > 1, `x` holds that many rows of `columns` floats quantized one after the
    /// other (one ``QuantizedVector`` of `tokens·columns` floats has exactly that layout) — a
    /// prompt, or one token of each sequence of a batch — and `output` receives `tokens` rows of
    /// `rows` floats (`Y = X·Wᵀ`). Every weight is then read once for all the tokens (the register
    /// tile with AVX-512 VNNI); the integer sums are the ones the single-token product takes.
    public static func multiply(_ products: [(matrix: BlockQuantizedMatrix, output: UnsafeMutablePointer<Float>)],
                                by x: QuantizedVector, tokens: Int = 1) {
        precondition(tokens >= 1, "BlockQuantizedMatrix.multiply needs at least one token")
        for product in products {
            precondition(product.matrix.columns * tokens == x.count,
                         "BlockQuantizedMatrix.multiply: a \(product.matrix.rows)×\(product.matrix.columns) matrix cannot take \(tokens) × \(x.count / tokens) inputs")
        }
        // Work items of 16 rows across all matrices, dealt to threads in contiguous runs of at
        // least ~32 KiB of weights per token.
        let groupCounts = products.map { ($0.matrix.rows + 15) / 16 }
        let starts = groupCounts.reduce(into: [0]) { $0.append($0.last! + $1) }
        let total = starts.last!
        let bytes = products.map { 16 * $0.matrix.rowByteCount }.max() ?? 1
        x.withBlocks { blocks in
            let source = UncheckedSendable(blocks)
            let outputs = UncheckedSendable(products.map(\.output))
            Parallelism.forEachChunk(of: total, minimumChunk: Swift.max(1, 32_768 / (bytes * tokens))) { range in
                var group = range.lowerBound
                var index = starts.lastIndex { $0 <= group }!
                while group < range.upperBound {
                    let matrix = products[index].matrix
                    let last = Swift.min(range.upperBound, starts[index + 1])
                    let firstRow = (group - starts[index]) * 16
                    let endRow = Swift.min((last - starts[index]) * 16, matrix.rows)
                    matrix.multiplyRows(firstRow..<endRow, source.value, outputs.value[index] + firstRow, tokens: tokens)
                    group = last
                    index += 1
                }
            }
        }
    }

    /// `y = W[rows]·x` for `tokens` quantized rows (outputs `self.rows` apart), on the calling thread.
    func multiplyRows(_ rows: Range<Int>, _ x: QuantizedBlocks, _ y: UnsafeMutablePointer<Float>, tokens: Int = 1) {
        guard !rows.isEmpty else { return }
        let w = base + rows.lowerBound * rowByteCount, (n, k, stride) = (rows.count, columns, rowByteCount)
        let kernels = Kernels.active
        if tokens == 1 {
            switch (type, x) {
            case (.q4_0, .int8(let x)): kernels.matvec_q4_0_q8(w, stride, x, y, n, k)
            case (.q4_1, .int8(let x)): kernels.matvec_q4_1_q8(w, stride, x, y, n, k)
            case (_, .int8(let x)): kernels.matvec_q8_0_q8(w, stride, x, y, n, k)
            case (.q4_0, .int16(let x)): kernels.matvec_q4_0_q16(w, stride, x, y, n, k)
            case (.q4_1, .int16(let x)): kernels.matvec_q4_1_q16(w, stride, x, y, n, k)
            case (_, .int16(let x)): kernels.matvec_q8_0_q16(w, stride, x, y, n, k)
            }
            return
        }
        let (blocksPerToken, ldy) = (k / 32, self.rows)
        switch (type, x) {
        case (.q4_0, .int8(let x)): kernels.matmul_q4_0_q8(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        case (.q4_1, .int8(let x)): kernels.matmul_q4_1_q8(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        case (_, .int8(let x)): kernels.matmul_q8_0_q8(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        case (.q4_0, .int16(let x)): kernels.matmul_q4_0_q16(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        case (.q4_1, .int16(let x)): kernels.matmul_q4_1_q16(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        case (_, .int16(let x)): kernels.matmul_q8_0_q16(w, stride, x, blocksPerToken, y, ldy, n, k, tokens)
        }
    }
}

/// A pointer to quantized activation blocks of either width.
enum QuantizedBlocks {
    case int8(UnsafePointer<attend_block_q8>)
    case int16(UnsafePointer<attend_block_q16>)
}

extension QuantizedVector {
    func withBlocks<Result>(_ body: (QuantizedBlocks) -> Result) -> Result {
        precision == .int8 ? blocks8.withUnsafeBufferPointer { body(.int8($0.baseAddress!)) }
                           : blocks16.withUnsafeBufferPointer { body(.int16($0.baseAddress!)) }
    }
}
