/// Attention with other similarity scores than the scaled dot product, and the masked softmax
/// that turns any scores into an attended output.
///
/// Scores are `[B, Lq, Lk]` (one head) or `[B, H, Lq, Lk]`; values `[B, Lk, Dv]` or
/// `[B, H, Lk, Dv]` to match. Masks have ``AttentionMask``'s meaning.

/// Softmax over the last axis of `scores` with `mask` applied, then the weighted sum of `value`.
///
/// `weights = softmax(scores + mask)`, `output = weights · value`; fully masked rows give zeros.
/// - Returns: the output `[…, Lq, Dv]` and the weights `[…, Lq, Lk]`.
public func attention(scores: Tensor, value: Tensor, mask: AttentionMask = .none) -> (output: Tensor, weights: Tensor) {
    let singleHead = scores.rank == 3
    precondition((scores.rank == 3 || scores.rank == 4) && value.rank == scores.rank,
                 "attention(scores:value:) needs scores [B, (H,) Lq, Lk] and value [B, (H,) Lk, Dv] of the same rank, got \(scores.shape) and \(value.shape)")
    let scores4 = singleHead ? scores.unsqueezed(axis: 1) : scores
    let value4 = singleHead ? value.unsqueezed(axis: 1) : value
    let (b, h, lq, lk) = (scores4.shape[0], scores4.shape[1], scores4.shape[2], scores4.shape[3])
    precondition(value4.shape[0] == b && value4.shape[1] == h && value4.shape[2] == lk,
                 "attention(scores:value:): value \(value.shape) does not match scores \(scores.shape)")
    let shapes = AttentionShapes(batch: b, heads: h, keyValueHeads: h, queryLength: lq, keyLength: lk,
                                 headDimension: 1, valueDimension: value4.shape[3], scale: 1)
    let resolved = ResolvedAttentionMask(mask, batch: b, heads: h, queryLength: lq, keyLength: lk)
    let weights = softmax(ReferenceAttention.masked(scores4, by: resolved), axis: -1)
    let output = ReferenceAttention.weightedValues(weights: weights, value: value4, shapes: shapes)
    return singleHead ? (output.squeezed(axis: 1), weights.squeezed(axis: 1)) : (output, weights)
}

/// Cosine-similarity attention: `softmax(s · cos(qᵢ, kⱼ)) · V`, where the scores are cosines
/// of the angle between query and key (`q̂ = q / max(‖q‖, ε)`) multiplied by `scale`.
///
/// Bounded scores make training stable at any width (Swin Transformer v2). Pass `scale` as a
/// parameter tensor to learn the temperature (shape `[]` or one per head, `[H, 1, 1]`); it runs
/// on the fused kernel.
///
/// - Parameters: as ``scaledDotProductAttention(query:key:value:mask:scale:dropout:dropoutSeed:kernel:)``,
///   with `scale` the inverse temperature.
public func cosineAttention(
    query: Tensor, key: Tensor, value: Tensor, scale: Tensor, mask: AttentionMask = .none,
    epsilon: Float = 1e-8, dropout: Float = 0, dropoutSeed: UInt64 = 0
) -> Tensor {
    scaledDotProductAttention(query: normalizedRows(query, epsilon: epsilon) * scale,
                              key: normalizedRows(key, epsilon: epsilon), value: value,
                              mask: mask, scale: 1, dropout: dropout, dropoutSeed: dropoutSeed)
}

/// `x / max(‖x‖, ε)` along the last axis (PyTorch's `F.normalize`), differentiable everywhere.
public func normalizedRows(_ x: Tensor, epsilon: Float = 1e-12) -> Tensor {
    let squaredNorm = (x * x).sum(alongAxes: [-1], keepingDimensions: true)
    return x * rsqrt(maximum(squaredNorm, Tensor(epsilon * epsilon)))
}

/// Additive (Bahdanau) scores `eᵢⱼ = vᵀ tanh(W_q qᵢ + W_k kⱼ + b)`, `[B, Lq, Lk]`.
///
/// - Parameters:
///   - query: `[B, Lq, Dq]`.
///   - key: `[B, Lk, Dk]` (any width: text attending to image regions, say).
///   - queryWeight: `W_q`, `[A, Dq]` (Linear layout `[out, in]`).
///   - keyWeight: `W_k`, `[A, Dk]`.
///   - scoreWeight: `v`, `[A]`.
///   - bias: `b`, `[A]`, or nil.
public func additiveAttentionScores(
    query: Tensor, key: Tensor, queryWeight: Tensor, keyWeight: Tensor, scoreWeight: Tensor, bias: Tensor? = nil
) -> Tensor {
    precondition(query.rank == 3 && key.rank == 3 && query.shape[0] == key.shape[0],
                 "additiveAttentionScores needs query [B, Lq, Dq] and key [B, Lk, Dk], got \(query.shape) and \(key.shape)")
    precondition(queryWeight.rank == 2 && queryWeight.shape[1] == query.shape[2]
                 && keyWeight.rank == 2 && keyWeight.shape == [queryWeight.shape[0], key.shape[2]]
                 && scoreWeight.shape == [queryWeight.shape[0]],
                 "additiveAttentionScores: weights \(queryWeight.shape), \(keyWeight.shape), \(scoreWeight.shape) do not fit query \(query.shape) and key \(key.shape)")
    var projectedQuery = matmul(query, queryWeight.transposed())                     // [B, Lq, A]
    if let bias { projectedQuery = projectedQuery + bias }
    let projectedKey = matmul(key, keyWeight.transposed())                           // [B, Lk, A]
    let hidden = tanh(projectedQuery.unsqueezed(axis: 2) + projectedKey.unsqueezed(axis: 1))   // [B, Lq, Lk, A]
    return matmul(hidden, scoreWeight)                                               // [B, Lq, Lk]
}

/// General (Luong) scores `eᵢⱼ = qᵢᵀ W kⱼ`, `[B, Lq, Lk]`, for query `[B, Lq, Dq]`, key
/// `[B, Lk, Dk]` and `weight` `[Dq, Dk]`.
public func generalAttentionScores(query: Tensor, key: Tensor, weight: Tensor) -> Tensor {
    precondition(query.rank == 3 && key.rank == 3 && weight.shape == [query.shape[2], key.shape[2]],
                 "generalAttentionScores needs query [B, Lq, Dq], key [B, Lk, Dk], weight [Dq, Dk]; got \(query.shape), \(key.shape), \(weight.shape)")
    return matmul(matmul(query, weight), key.transposed())
}
