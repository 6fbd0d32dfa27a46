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

/// How activations meet block-quantized weights in ``blockQuantizedProduct(_:_:precision:)``.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    /// Float32 activations: weight panels are expanded to Float32 in cache-sized pieces and
    /// multiplied with oneDNN's sgemm — the exact arithmetic of the file's weights (for prompts,
    /// where each weight is reused by every token).
    case float32
    /// 16 bits per block of 32 activations (`d = max|x|/32767`) and exact integer dot products
    /// (VNNI `vpdpwssd`/`vpmaddwd`): on SmolLM2 the logits stay within ~1e-4 of Float32's, at the
    /// speed of the memory the weights stream from (decoding).
    case int16
    /// 8 bits per block of 32 activations (`d = max|x|/127`, llama.cpp's Q8_1 scheme) and integer
    /// dot products: the fastest, but on a real model the logits move by 1–8% (relative L2).
    case int8
}

/// `x·Wᵀ` for `x` `[…, columns]` and a block-quantized `W` `[rows, columns]`: `[…, rows]`.
///
/// With ``ActivationPrecision/int8`` each row of `x` is quantized to 8 bits per block of 32 and the
/// kernels take integer dot products of whole blocks (AVX-512 VNNI, AVX2 or portable), scaled as
/// `Σ_blocks d_w·d_x·Σ q_w·q_x (+ m_w·s_x)`; with ``ActivationPrecision/float32`` panels of 64 rows of
/// `W` are dequantized (exactly as ggml does) and multiplied in Float32 — which is also how prompts
/// run on CPUs without AVX-512 VNNI, where it is the faster of the two. Threads split the rows of `W`.
/// The gradient flows to `x` only (`∂x = g·W`, with `W` dequantized); `W` is frozen.
public func blockQuantizedProduct(_ x: Tensor, _ weight: BlockQuantizedMatrix, precision: ActivationPrecision = .float32) -> Tensor {
    let k = weight.columns
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == k,
                 "blockQuantizedProduct: input \(x.shape) does not end in the matrix's \(k) columns")
    let tokens = x.scalarCount / Swift.max(k, 1)
    let input = x.detached.contiguous()
    let output = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [weight.rows])
    // Without AVX-512 VNNI the prompt kernels fall back to a matvec per token, slower than
    // expanding panels for sgemm (57 vs 100 GFLOP/s on one Zen 4 core): prompts take the panels there.
    if precision == .float32 || (tokens > 1 && !hasIntegerTile) {
        multiplyDequantizingPanels(input.basePointer, tokens: tokens, weight, into: output.storage.base)
    } else {
        multiplyQuantizingActivations(input.basePointer, tokens: tokens, weight, precision: precision, into: output.storage.base)
    }
    return output.recordingGradient(from: [x]) { g in
        [matmul(g, weight.dequantized())]
    }
}

/// Whether the prompt kernels have their register tile here (the AVX-512 path with VNNI).
private let hasIntegerTile = Hardware.instructionSet == .avx512 && Hardware.cpu.features.contains("avx512vnni")

/// `y = x·Wᵀ` with Float32 activations: per thread, panels of 64 rows of `W` are dequantized into a
/// 64 × k scratch (L2-resident) and multiplied by all tokens with sgemm.
private func multiplyDequantizingPanels(_ x: UnsafePointer<Float>, tokens: Int, _ weight: BlockQuantizedMatrix,
                                        into y: UnsafeMutablePointer<Float>) {
    let (k, rows, panelRows) = (weight.columns, weight.rows, 64)
    let (source, target) = (UncheckedSendable(x), UncheckedSendable(y))
    let panels = (rows + panelRows - 1) / panelRows
    // A panel costs ~2·tokens·64·k flops; one per thread at least.
    Parallelism.forEachChunk(of: panels, minimumChunk: Swift.max(1, 4_000_000 / Swift.max(2 * tokens * panelRows * k, 1))) { range in
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * k)
        defer { scratch.deallocate() }
        for panel in range {
            let first = panel * panelRows, count = Swift.min(panelRows, rows - first)
            GGUFFile.dequantize(weight.base + first * weight.rowByteCount, type: weight.type, count: count * k, into: scratch)
            BLAS.gemm(transposeA: false, transposeB: true, m: tokens, n: count, k: k, alpha: 1,
                      a: source.value, lda: k, b: scratch, ldb: k, beta: 0, c: target.value + first, ldc: rows)
        }
    }
}

/// `y = x·Wᵀ` with 8- or 16-bit activations: every token's row quantized once (the rows one
/// after the other in one vector), then the integer kernels — a matrix–vector product for one
/// token, the register-tiled product for several.
private func multiplyQuantizingActivations(_ x: UnsafePointer<Float>, tokens: Int, _ weight: BlockQuantizedMatrix,
                                           precision: ActivationPrecision, into y: UnsafeMutablePointer<Float>) {
    let count = tokens * weight.columns
    var rows = QuantizedVector(count: count, precision: precision)
    rows.quantize(x, count: count)
    BlockQuantizedMatrix.multiply([(weight, y)], by: rows, tokens: tokens)
}
