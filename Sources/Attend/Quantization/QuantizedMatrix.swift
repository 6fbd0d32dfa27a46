import AttendKernels

/// A weight matrix `W` (`[outputs, inputs]`, PyTorch's Linear layout) stored as int8 per output
/// channel and packed once for the int8 product kernels — PyTorch's dynamic quantization
/// (`torch.ao.quantization.quantize_dynamic` with `per_channel_dynamic_qconfig`):
///
/// `scaleⱼ = max(maxₖ |Wⱼₖ| / 127.5, ε)` (ε = `Float.ulpOfOne`, the observer's floor), and
/// `qⱼₖ = clamp(nearbyint(Wⱼₖ · (1/scaleⱼ)), −128, 127)`, so `Wⱼₖ ≈ qⱼₖ · scaleⱼ`.
///
/// ``quantizedLinear(_:_:bias:)`` multiplies by it; the values and scales are what a quantized
/// model folder stores (`weight` as I8, `weight_scale` as F32).
public struct QuantizedMatrix: Sendable {
    /// `[outputs, inputs]`: the int8 values (held as exact Float32 integers).
    public let values: Tensor
    /// `[outputs]`: each output channel's scale.
    public let scales: Tensor
    public var outputCount: Int { values.shape[0] }
    public var inputCount: Int { values.shape[1] }

    /// The values in the kernels' layout (blocks of 16 channels × 4 inputs) and each channel's Σₖ q.
    let packed: [Int8]
    let columnSums: [Int32]

    /// Quantizes `weight` (`[outputs, inputs]`) per output channel, symmetric, as PyTorch does.
    ///
    /// - Throws: ``QuantizationError/nonFinite(index:)`` when the weight holds NaN or ∞.
    public init(quantizing weight: Tensor) throws {
        let (values, scales) = try Self.symmetricInt8(weight)
        try self.init(values: values, scales: scales)
    }

    /// Symmetric int8 per row of a `[rows, columns]` matrix (the quantization above, without
    /// packing — what an int8 embedding table stores): `values` are exact integers in −128…127.
    ///
    /// - Throws: ``QuantizationError/nonFinite(index:)`` when the matrix holds NaN or ∞.
    public static func symmetricInt8(_ weight: Tensor) throws -> (values: Tensor, scales: Tensor) {
        precondition(weight.rank == 2, "int8 quantization needs a [rows, columns] matrix, got \(weight.shape)")
        let (n, k) = (weight.shape[0], weight.shape[1])
        let source = weight.detached.contiguous().scalars
        if let index = source.firstIndex(where: { !$0.isFinite }) { throw QuantizationError.nonFinite(index: index) }
        var values = [Float](repeating: 0, count: n * k), scales = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let row = source[(j * k)..<((j + 1) * k)]
            let largest = row.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
            let scale = Swift.max(largest / 127.5, Float.ulpOfOne)
            let inverse = 1 / scale
            for (index, value) in row.enumerated() {
                values[j * k + index] = Swift.min(Swift.max((value * inverse).rounded(.toNearestOrEven), -128), 127)
            }
            scales[j] = scale
        }
        return (Tensor(shape: [n, k], scalars: values), Tensor(shape: [n], scalars: scales))
    }

    /// Checks stored int8 values (`[rows, columns]`) and their per-row scales (`[rows]`).
    ///
    /// - Throws: ``QuantizationError`` when the shapes disagree, a value is not an int8 integer
    ///   or a scale is not a positive finite number.
    public static func validate(values: Tensor, scales: Tensor) throws {
        guard values.rank == 2, scales.shape == [values.shape[0]] else {
            throw QuantizationError.shapeMismatch(values: values.shape, scales: scales.shape)
        }
        for (index, value) in values.contiguous().scalars.enumerated() where !(value >= -128 && value <= 127 && value.rounded() == value) {
            throw QuantizationError.notInt8(index: index, value: value)
        }
        for (row, scale) in scales.scalars.enumerated() where !(scale > 0 && scale.isFinite) {
            throw QuantizationError.invalidScale(channel: row, value: scale)
        }
    }

    /// A matrix from stored int8 values (`[outputs, inputs]`) and per-channel scales (`[outputs]`),
    /// as a quantized model folder holds them.
    ///
    /// - Throws: ``QuantizationError`` when the shapes disagree, a value is not an int8 integer
    ///   or a scale is not a positive finite number.
    public init(values: Tensor, scales: Tensor) throws {
        try Self.validate(values: values, scales: scales)
        let (n, k) = (values.shape[0], values.shape[1])
        let stored = values.detached.contiguous().scalars
        let bytes = stored.map { Int8($0) }
        var packed = [Int8](repeating: 0, count: attend_packed_weights_size(n, k))
        var sums = [Int32](repeating: 0, count: n)
        bytes.withUnsafeBufferPointer { w in
            packed.withUnsafeMutableBufferPointer { p in
                sums.withUnsafeMutableBufferPointer { s in
                    Kernels.active.pack_weights_s8(w.baseAddress!, k, n, k, p.baseAddress!, s.baseAddress!)
                }
            }
        }
        self.values = Tensor(shape: [n, k], scalars: stored)
        self.scales = scales.detached.contiguous()
        self.packed = packed
        self.columnSums = sums
    }

    /// `W ≈ q · scale` as Float32 (`[outputs, inputs]`).
    public var dequantized: Tensor { values * scales.reshaped([-1, 1]) }

    /// Bytes the quantized form takes (values, scales), against 4 bytes a weight in Float32.
    public var byteCount: Int { values.scalarCount + 4 * outputCount }
}

/// Why stored quantized weights could not be used.
public enum QuantizationError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(values: [Int], scales: [Int])
    case notInt8(index: Int, value: Float)
    case invalidScale(channel: Int, value: Float)
    case nonFinite(index: Int)
    /// A layer of a model could not be quantized: its dotted name and why.
    case inLayer(String, String)

    public var description: String {
        switch self {
        case let .shapeMismatch(values, scales):
            "quantized weight of shape \(values) needs scales of shape [\(values.first ?? 0)], got \(scales)"
        case let .notInt8(index, value): "quantized weight element \(index) is \(value), not an int8 value"
        case let .invalidScale(channel, value): "quantized weight scale of channel \(channel) is \(value), not a positive number"
        case let .nonFinite(index): "cannot quantize a weight holding NaN or ∞ (element \(index))"
        case let .inLayer(name, reason): "\(name): \(reason)"
        }
    }
}

/// `y = x·Wᵀ + b` with `W` int8 (``QuantizedMatrix``) and `x` quantized per row to uint8 at run
/// time (dynamic quantization): each row's `scale = (max(0, max x) − min(0, min x)) / 255` and
/// zero point make 0 exact; the products accumulate exactly in int32 (AVX-512 VNNI where the
/// CPU has it), then `y = (acc − zp·Σq)·(scaleₓ·scale_w) + b` in float. Every kernel path gives
/// the same bits.
///
/// PyTorch's fbgemm quantizes the activation per tensor (one scale for the whole input); Attend
/// per row, which is never less accurate and lets rows run independently. Inference only: when
/// `x` tracks a gradient the product runs in Float32 on the dequantized weights instead.
///
/// - Parameters: `x` `[…, inputs]`; `bias` `[outputs]` or nil. Returns `[…, outputs]`.
public func quantizedLinear(_ x: Tensor, _ weight: QuantizedMatrix, bias: Tensor?) -> Tensor {
    let (n, k) = (weight.outputCount, weight.inputCount)
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == k, "quantizedLinear(\(k) → \(n)) got input \(x.shape)")
    precondition(bias == nil || bias!.shape == [n], "quantizedLinear bias has shape \(bias!.shape), expected [\(n)]")
    if x.isTrackingGradient {
        let y = matmul(x, weight.dequantized.transposed())
        return bias.map { y + $0 } ?? y
    }
    let input = x.contiguous()
    let rows = k == 0 ? 0 : input.scalarCount / k
    let result = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [n])
    if rows == 0 || n == 0 { return result }
    let ldq = (k + 3) / 4 * 4
    let biasValues = bias?.detached.contiguous()
    let (from, to) = (input.basePointer, result.storage.base)
    let biasPointer = UncheckedSendable(biasValues?.basePointer)
    weight.packed.withUnsafeBufferPointer { packed in
        weight.columnSums.withUnsafeBufferPointer { sums in
            let (packedBase, sumsBase, scalesBase) = (packed.baseAddress!, sums.baseAddress!, weight.scales.basePointer)
            let blockBytes = ((k + 3) / 4) * 64          // one block of 16 channels in the packed layout
            let threads = Parallelism.threadCount
            // Many rows: each thread quantizes and multiplies its own rows. Few rows (a short
            // sentence, a decoding step): every thread takes a share of the 16-channel blocks.
            let splitRows = rows >= 4 * threads
            let blocks = (n + 15) / 16
            let work = splitRows ? rows : blocks
            Parallelism.forEachChunk(of: work, minimumChunk: splitRows ? Swift.max(1, 16_384 / Swift.max(n, 1)) : 1) { range in
                let (firstRow, rowCount) = splitRows ? (range.lowerBound, range.count) : (0, rows)
                let (firstChannel, channelCount) = splitRows ? (0, n)
                    : (range.lowerBound * 16, Swift.min(n, range.upperBound * 16) - range.lowerBound * 16)
                let quantized = UnsafeMutablePointer<UInt8>.allocate(capacity: rowCount * ldq)
                let rowScales = UnsafeMutablePointer<Float>.allocate(capacity: rowCount)
                let zeroPoints = UnsafeMutablePointer<Int32>.allocate(capacity: rowCount)
                defer { quantized.deallocate(); rowScales.deallocate(); zeroPoints.deallocate() }
                Kernels.active.quantize_rows_u8(from + firstRow * k, k, rowCount, k, quantized, ldq, rowScales, zeroPoints)
                Kernels.active.quantized_linear(
                    quantized, ldq, rowScales, zeroPoints, rowCount, k,
                    packedBase + (firstChannel / 16) * blockBytes, sumsBase + firstChannel, scalesBase + firstChannel,
                    biasPointer.value.map { $0 + firstChannel }, channelCount,
                    to + firstRow * n + firstChannel, n)
            }
        }
    }
    return result
}
