/// Which implementation of scaled dot-product attention to run.
public enum AttentionKernel: Sendable {
    /// The fused kernel unless weights are requested or an additive mask needs gradients.
    case automatic
    /// The tiled, online-softmax kernel: O(L) extra memory, masked tiles skipped.
    case fused
    /// Materializes scores and weights with tensor ops; the oracle the fused kernel is tested against.
    case reference
}

/// Scaled dot-product attention: `softmax(Q·Kᵀ·scale + mask) · V`, per batch entry and head.
///
/// - Parameters:
///   - query: `[B, H, Lq, D]`.
///   - key: `[B, Hkv, Lk, D]`, where `H` is a multiple of `Hkv`: query head `h` uses key/value
///     head `h / (H / Hkv)` (grouped-query and multi-query attention, without copying K/V).
///   - value: `[B, Hkv, Lk, Dv]`.
///   - mask: which keys each query may attend to (nonzero/true = may attend).
///   - scale: multiplies the scores; `1/√D` by default.
///   - dropout: probability of zeroing each attention weight (kept weights scale by `1/(1−p)`).
///   - dropoutSeed: keys the counter-based dropout stream; the same seed drops the same weights.
///   - kernel: which implementation to run (both compute the same function).
/// - Returns: `[B, H, Lq, Dv]`. A query whose every key is masked gets exact zeros and a zero
///   gradient (PyTorch's `nn.MultiheadAttention` gives NaN there); NaN or infinite keys and
///   values at masked positions never reach the output.
///
/// In plain code, as PyTorch documents its `F.scaled_dot_product_attention`:
/// ```swift
/// let scores = matmul(query, key.transposed()) * scale + bias   // bias: 0 or -∞ per mask
/// let output = matmul(softmax(scores), value)
/// ```
public func scaledDotProductAttention(
    query: Tensor, key: Tensor, value: Tensor,
    mask: AttentionMask = .none, scale: Float? = nil,
    dropout: Float = 0, dropoutSeed: UInt64 = 0,
    kernel: AttentionKernel = .automatic
) -> Tensor {
    let shapes = AttentionShapes(query: query, key: key, value: value, scale: scale, function: "scaledDotProductAttention")
    let resolved = ResolvedAttentionMask(mask, batch: shapes.batch, heads: shapes.heads,
                                         queryLength: shapes.queryLength, keyLength: shapes.keyLength)
    let dropout = AttentionDropout(probability: dropout, seed: dropoutSeed)
    let useReference = kernel == .reference || (kernel == .automatic && resolved.bias?.isTrackingGradient == true)
    if useReference {
        return ReferenceAttention.compute(query: query, key: key, value: value, shapes: shapes,
                                          mask: resolved, dropout: dropout).output
    }
    return FusedAttention.attention(query: query, key: key, value: value, shapes: shapes,
                                    mask: resolved, dropout: dropout)
}

/// Scaled dot-product attention that also returns the attention weights `[B, H, Lq, Lk]`
/// (after dropout, as applied to the values), per head. Always runs the reference path,
/// which materializes the `Lq × Lk` weights.
///
/// See ``scaledDotProductAttention(query:key:value:mask:scale:dropout:dropoutSeed:kernel:)``
/// for the parameters.
public func scaledDotProductAttentionWithWeights(
    query: Tensor, key: Tensor, value: Tensor,
    mask: AttentionMask = .none, scale: Float? = nil,
    dropout: Float = 0, dropoutSeed: UInt64 = 0
) -> (output: Tensor, weights: Tensor) {
    let shapes = AttentionShapes(query: query, key: key, value: value, scale: scale,
                                 function: "scaledDotProductAttentionWithWeights")
    let resolved = ResolvedAttentionMask(mask, batch: shapes.batch, heads: shapes.heads,
                                         queryLength: shapes.queryLength, keyLength: shapes.keyLength)
    return ReferenceAttention.compute(query: query, key: key, value: value, shapes: shapes, mask: resolved,
                                      dropout: AttentionDropout(probability: dropout, seed: dropoutSeed))
}
