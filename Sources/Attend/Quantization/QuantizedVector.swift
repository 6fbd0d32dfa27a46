import AttendKernels

/// A vector quantized to 8 bits per block of 32 (`d = max|x|/127`, `q = round(x/d)`, and the
/// block's `d·Σq`), ready for the block-quantized products: quantize a layer's input once and
/// multiply it by several matrices (``BlockQuantizedMatrix/multiply(_:by:)``). Reusable: quantizing
/// again overwrites it without allocating.
public struct QuantizedVector: @unchecked Sendable {
    var blocks: [attend_block_q8]
    /// Floats quantized (a multiple of 32).
    public private(set) var count: Int

    /// Room for `count` floats (a multiple of 32), all zero.
    public init(count: Int) {
        precondition(count >= 0 && count % 32 == 0, "QuantizedVector needs a multiple of 32 floats, got \(count)")
        blocks = [attend_block_q8](repeating: attend_block_q8(), count: count / 32)
        self.count = count
    }

    /// Quantizes `x` (`count` finite floats, a multiple of 32) into this vector.
    public mutating func quantize(_ x: UnsafePointer<Float>, count: Int) {
        precondition(count % 32 == 0, "QuantizedVector needs a multiple of 32 floats, got \(count)")
        if blocks.count < count / 32 { blocks = [attend_block_q8](repeating: attend_block_q8(), count: count / 32) }
        self.count = count
        blocks.withUnsafeMutableBufferPointer { Kernels.active.quantize_row_q8(x, $0.baseAddress!, count) }
    }
}

extension BlockQuantizedMatrix {
    /// `yᵢ = Wᵢ·x` for several matrices that read the same quantized input, in one parallel region
    /// (rows of all the matrices are split among the threads together): e.g. a layer's query, key
    /// and value projections for one token. Each `output` must hold the matrix's `rows` floats.
    public static func multiply(_ products: [(matrix: BlockQuantizedMatrix, output: UnsafeMutablePointer<Float>)],
                                by x: QuantizedVector) {
        for product in products {
            precondition(product.matrix.columns == x.count,
                         "BlockQuantizedMatrix.multiply: a \(product.matrix.rows)×\(product.matrix.columns) matrix cannot take \(x.count) inputs")
        }
        // Work items of 16 rows across all matrices, dealt to threads in contiguous runs.
        let groupCounts = products.map { ($0.matrix.rows + 15) / 16 }
        let starts = groupCounts.reduce(into: [0]) { $0.append($0.last! + $1) }
        let total = starts.last!
        let bytes = products.map { 16 * $0.matrix.rowByteCount }.max() ?? 1
        x.blocks.withUnsafeBufferPointer { blocks in
            let source = UncheckedSendable(blocks.baseAddress!)
            let outputs = UncheckedSendable(products.map(\.output))
            Parallelism.forEachChunk(of: total, minimumChunk: Swift.max(1, 32_768 / bytes)) { range in
                var group = range.lowerBound
                var index = starts.lastIndex { $0 <= group }!
                while group < range.upperBound {
                    let matrix = products[index].matrix
                    let last = Swift.min(range.upperBound, starts[index + 1])
                    let firstRow = (group - starts[index]) * 16
                    let endRow = Swift.min((last - starts[index]) * 16, matrix.rows)
                    matrix.multiplyRows(firstRow..<endRow, source.value, outputs.value[index] + firstRow)
                    group = last
                    index += 1
                }
            }
        }
    }

    /// `y = W[rows]·x` for one quantized vector, on the calling thread.
    func multiplyRows(_ rows: Range<Int>, _ x: UnsafePointer<attend_block_q8>, _ y: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        let w = base + rows.lowerBound * rowByteCount
        switch type {
        case .q4_0: Kernels.active.matvec_q4_0_q8(w, rowByteCount, x, y, rows.count, columns)
        case .q4_1: Kernels.active.matvec_q4_1_q8(w, rowByteCount, x, y, rows.count, columns)
        default: Kernels.active.matvec_q8_0_q8(w, rowByteCount, x, y, rows.count, columns)
        }
    }
}
