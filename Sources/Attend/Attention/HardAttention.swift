/// How gradients pass through the discrete choice of hard attention.
public enum HardAttentionGradient: Sendable {
    /// Gradients flow through the renormalized softmax of the kept entries only; the choice of
    /// which entries to keep is treated as constant (it is piecewise constant). With one kept
    /// entry its weight is the constant 1, so no gradient reaches the scores.
    case keptEntries
    /// Straight-through estimator: the forward pass uses the hard weights, the backward pass
    /// the gradient of the full soft attention (`w = soft + stopGradient(hard − soft)`).
    case straightThrough
}

/// Top-k hard attention: each query keeps only its `k` highest-scoring allowed keys (ties go to
/// the lower key index), and the softmax is renormalized over them.
///
/// - Parameters: as ``scaledDotProductAttention(query:key:value:mask:scale:dropout:dropoutSeed:kernel:)``;
///   `k ≥ 1` keys per query (all allowed keys when fewer are allowed).
/// - Returns: the output `[B, H, Lq, Dv]` and the (sparse) weights `[B, H, Lq, Lk]`.
public func topKAttention(
    query: Tensor, key: Tensor, value: Tensor, k: Int, mask: AttentionMask = .none, scale: Float? = nil,
    gradient: HardAttentionGradient = .keptEntries
) -> (output: Tensor, weights: Tensor) {
    precondition(k >= 1, "topKAttention needs k ≥ 1, got \(k)")
    let shapes = AttentionShapes(query: query, key: key, value: value, scale: scale, function: "topKAttention")
    let resolved = ResolvedAttentionMask(mask, batch: shapes.batch, heads: shapes.heads,
                                         queryLength: shapes.queryLength, keyLength: shapes.keyLength)
    let scores = ReferenceAttention.masked(ReferenceAttention.scores(query: query, key: key, shapes: shapes), by: resolved)
    let kept = topEntries(of: scores.detached, k: k)                                   // 1 = kept, [B, H, Lq, Lk]
    let hard = softmax(Tensor.where(kept, scores, Tensor(-.infinity)), axis: -1)
    let weights: Tensor
    switch gradient {
    case .keptEntries:
        weights = hard
    case .straightThrough:
        let soft = softmax(scores, axis: -1)
        weights = soft + (hard - soft).detached
    }
    return (ReferenceAttention.weightedValues(weights: weights, value: value, shapes: shapes), weights)
}

/// Argmax (top-1) hard attention: each query takes the value of its best-scoring allowed key.
/// Straight-through gradients by default, since the single kept weight is the constant 1.
public func argmaxAttention(
    query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask = .none, scale: Float? = nil,
    gradient: HardAttentionGradient = .straightThrough
) -> (output: Tensor, weights: Tensor) {
    topKAttention(query: query, key: key, value: value, k: 1, mask: mask, scale: scale, gradient: gradient)
}

/// 1 at the `k` largest finite-or-`+∞` entries of each last-axis row (lower index first on
/// ties; `-∞` entries are never kept), 0 elsewhere.
func topEntries(of scores: Tensor, k: Int) -> Tensor {
    let length = scores.shape[scores.rank - 1]
    var values = scores.scalars
    let rows = length == 0 ? 0 : values.count / length
    for row in 0..<rows {
        let base = row * length
        let order = (0..<length)
            .filter { values[base + $0] != -.infinity && !values[base + $0].isNaN }
            .sorted { values[base + $0] > values[base + $1] || (values[base + $0] == values[base + $1] && $0 < $1) }
        var keep = [Float](repeating: 0, count: length)
        for j in order.prefix(k) { keep[j] = 1 }
        for j in 0..<length { values[base + j] = keep[j] }
    }
    return Tensor(shape: scores.shape, scalars: values)
}
