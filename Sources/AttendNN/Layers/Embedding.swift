import Attend

/// A lookup table of vectors, one row per token id (PyTorch's `nn.Embedding`, weight `[count, dimension]`).
///
/// ``quantize()`` stores the table as int8 per row (symmetric, a `weight_scale` per row) to cut
/// its size on disk by four; rows are scaled back to Float32 as they are looked up.
public final class Embedding: Module {
    @Parameter("weight") public var weight: Tensor
    /// Each row's scale when the table is int8 (nil in Float32).
    @Parameter("weight_scale") public var weightScale: Tensor?
    /// The id whose row gets no gradient (PyTorch's `padding_idx`); its row starts at zero.
    public let paddingIndex: Int?

    public init(count: Int, dimension: Int, paddingIndex: Int? = nil) {
        precondition(paddingIndex.map { (0..<count).contains($0) } ?? true,
                     "Embedding padding index \(paddingIndex!) is outside 0..<\(count)")
        var table = Initialization.normal([count, dimension])
        if let paddingIndex {
            table.withUnsafeMutableScalars { $0.baseAddress!.advanced(by: paddingIndex * dimension).initialize(repeating: 0, count: dimension) }
        }
        self.paddingIndex = paddingIndex
        super.init()
        weight = table
    }

    public var count: Int { weight.shape[0] }
    public var dimension: Int { weight.shape[1] }

    /// True once the table is int8 (``quantize()`` or a quantized checkpoint).
    public var isQuantized: Bool { weightScale != nil }

    /// Stores the table as symmetric int8 per row (``QuantizedMatrix/symmetricInt8(_:)``), frozen.
    ///
    /// - Throws: `QuantizationError` when the table holds NaN or ∞ (it is left as it was).
    public func quantize() throws {
        guard !isQuantized else { return }
        (weight, weightScale) = try QuantizedMatrix.symmetricInt8(weight)
        markQuantized()
    }

    /// Gives the table a quantized checkpoint's parameters (int8 `weight`, `weight_scale`), so
    /// that its state dict loads into it.
    public func prepareForQuantizedWeights() {
        guard !isQuantized else { return }
        weightScale = .ones([count])
        markQuantized()
    }

    public override func didLoadStateDict() throws {
        if let weightScale { try QuantizedMatrix.validate(values: weight, scales: weightScale) }
    }

    private func markQuantized() {
        $weight.storedType = .int8
        $weight.isFrozen = true
        $weightScale.isFrozen = true
    }

    /// Rows for `ids`, shaped `[ids.count, dimension]`.
    public func callAsFunction(_ ids: [Int]) -> Tensor {
        for id in ids { precondition(id >= 0 && id < count, "Embedding: token id \(id) is outside 0..<\(count)") }
        if let weightScale { return weight.indexSelect(ids) * weightScale.indexSelect(ids).unsqueezed(axis: 1) }
        let rows = weight.indexSelect(ids)
        guard let paddingIndex, ids.contains(paddingIndex) else { return rows }
        // Padding rows come from the detached table: same values, no gradient.
        let isPadding = Tensor(shape: [ids.count, 1], scalars: ids.map { $0 == paddingIndex ? 1 : 0 })
        return Tensor.where(isPadding, weight.detached.indexSelect(ids), rows)
    }

    /// Rows for a batch of equally long id sequences, `[B, L, dimension]`.
    public func callAsFunction(_ batch: [[Int]]) -> Tensor {
        let length = batch.first?.count ?? 0
        precondition(batch.allSatisfy { $0.count == length }, "Embedding: sequences in a batch must have equal lengths (pad them)")
        return self(batch.flatMap { $0 }).reshaped([batch.count, length, dimension])
    }
}
