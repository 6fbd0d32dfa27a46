/// Attention as plain, differentiable tensor operations: scores and weights are materialized.
/// Used when the weights are wanted, when an additive mask needs gradients, and as the oracle
/// the fused kernel is tested against.
enum ReferenceAttention {
    static func compute(
        query: Tensor, key: Tensor, value: Tensor, shapes s: AttentionShapes,
        mask: ResolvedAttentionMask, dropout: AttentionDropout?
    ) -> (output: Tensor, weights: Tensor) {
        var weights = softmax(masked(scores(query: query, key: key, shapes: s), by: mask), axis: -1)   // [B, H, Lq, Lk]
        if let dropout {
            weights = weights * dropout.factors(shape: weights.shape)
        }
        return (weightedValues(weights: weights, value: value, shapes: s), weights)
    }

    /// `scale · Q Kᵀ` per head, `[B, H, Lq, Lk]`. Query heads are grouped by their key/value
    /// head, and K broadcasts over the group without a copy.
    static func scores(query: Tensor, key: Tensor, shapes s: AttentionShapes) -> Tensor {
        let (b, h, g, hkv) = (s.batch, s.heads, s.groupSize, s.keyValueHeads)
        let groupedQuery = query.reshaped([b, hkv, g, s.queryLength, s.headDimension])
        let cleanKey = finiteValues(key)
        let groupedKey = (cleanKey ?? key).unsqueezed(axis: 2)                           // [B, Hkv, 1, Lk, D]
        var scores = (matmul(groupedQuery, groupedKey.transposed()) * s.scale)
            .reshaped([b, h, s.queryLength, s.keyLength])                                 // [B, H, Lq, Lk]
        if cleanKey != nil {
            // Values from the raw keys (NaN where a non-finite key is attended), gradients through
            // the cleaned ones, so a masked NaN key cannot reach dQ as 0·NaN.
            let raw = (matmul(groupedQuery.detached, key.detached.unsqueezed(axis: 2).transposed()) * s.scale)
                .reshaped([b, h, s.queryLength, s.keyLength])
            scores = scores + (raw - scores.detached)
        }
        return scores
    }

    /// Scores with the mask applied: the bias added, and `-∞` wherever attention is not allowed
    /// (selected, not added, so NaN scores at blocked keys stay blocked).
    static func masked(_ scores: Tensor, by mask: ResolvedAttentionMask) -> Tensor {
        var scores = scores
        if let bias = mask.bias {
            let open = ElementwiseKernels.map(bias.detached) { $0 == -.infinity ? 0 : 1 }
            scores = Tensor.where(open, scores + bias, Tensor(-.infinity))
        }
        if let allowed = mask.structuralAllowance() {
            scores = Tensor.where(allowed, scores, Tensor(-.infinity))
        }
        return scores
    }

    /// `weights · V` per head, `[B, H, Lq, Dv]`, with masked non-finite values kept out.
    static func weightedValues(weights: Tensor, value: Tensor, shapes s: AttentionShapes) -> Tensor {
        let groupedWeights = weights.reshaped([s.batch, s.keyValueHeads, s.groupSize * s.queryLength, s.keyLength])
        let cleanValue = finiteValues(value)
        let output = matmul(groupedWeights, cleanValue ?? value)                          // [B, Hkv, G·Lq, Dv]
            .reshaped([s.batch, s.heads, s.queryLength, s.valueDimension])
        guard cleanValue != nil else { return output }
        return addNonFiniteContributions(output, weights: weights, value: value, shapes: s)
    }

    /// True when every element is finite.
    static func isFinite(_ tensor: Tensor) -> Bool {
        tensor.withUnsafeScalars { scalars in
            var probe: Float = 0
            for x in scalars { probe += x * 0 }   // 0 for finite x, NaN otherwise; vectorizes
            return probe == 0
        }
    }

    /// `value` with its non-finite entries replaced by 0, so that a zero weight times a NaN value
    /// at a masked key cannot poison the product; nil when every entry is finite already.
    static func finiteValues(_ value: Tensor) -> Tensor? {
        guard !isFinite(value) else { return nil }
        let finite = ElementwiseKernels.map(value.detached) { $0.isFinite ? 1 : 0 }
        return Tensor.where(finite, value, Tensor(0))
    }

    /// Adds `w·v` for the non-finite value entries that a query really attends to (weight ≠ 0),
    /// so that attended garbage still shows as NaN or ∞, exactly as an unmasked product would.
    static func addNonFiniteContributions(
        _ output: Tensor, weights: Tensor, value: Tensor, shapes s: AttentionShapes
    ) -> Tensor {
        let values = value.scalars
        let w = weights.scalars
        var result = output.scalars
        for b in 0..<s.batch {
            for head in 0..<s.heads {
                let kvHead = head / s.groupSize
                for j in 0..<s.keyLength {
                    let row = ((b * s.keyValueHeads + kvHead) * s.keyLength + j) * s.valueDimension
                    for d in 0..<s.valueDimension where !values[row + d].isFinite {
                        for i in 0..<s.queryLength {
                            let weight = w[((b * s.heads + head) * s.queryLength + i) * s.keyLength + j]
                            if weight != 0 {
                                result[((b * s.heads + head) * s.queryLength + i) * s.valueDimension + d] += weight * values[row + d]
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: output.shape, scalars: result).recordingGradient(from: [output]) { g in [g] }
    }
}
