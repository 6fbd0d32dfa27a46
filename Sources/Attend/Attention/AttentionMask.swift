/// Which keys each query may attend to, for ``scaledDotProductAttention(query:key:value:mask:scale:dropout:dropoutSeed:)``.
///
/// Polarity is *may attend* everywhere: a nonzero boolean entry allows attention, as in
/// PyTorch's `F.scaled_dot_product_attention`, MLX and Keras. (`nn.MultiheadAttention` and
/// XLNet's `perm_mask` use the opposite; layers convert at their boundary.)
///
/// Query `i` and key `j` index a score matrix of `Lq × Lk`. Structural masks (causal,
/// windows, padding) are never materialized: the fused kernel turns them into a key range per
/// query and skips tiles they remove entirely. A row whose every key is masked outputs exact
/// zeros and passes zero gradient (PyTorch's `nn.MultiheadAttention` gives NaN there).
public enum AttentionMask: Sendable {
    /// Every query sees every key.
    case none
    /// Query `i` sees keys `j ≤ i`, aligned at the top-left (PyTorch's `is_causal=True`).
    case causal
    /// Query `i` sees keys `j ≤ i + Lk − Lq`, aligned at the bottom-right (FlashAttention's
    /// `causal=True`, MLX's `.causal`): the last query sees every key, as with a KV cache.
    case causalLowerRight
    /// Query `i` sees keys `i + Lk − Lq − left ≤ j ≤ i + Lk − Lq + right`, inclusive
    /// (FlashAttention's `window_size`). A window of `w` tokens back is `left: w − 1, right: 0`;
    /// a negative bound means unbounded on that side.
    case slidingWindow(left: Int, right: Int)
    /// Batch entry `b` sees keys `j < validLengths[b]` (right padding). One length per batch entry.
    case keyPadding(validLengths: [Int])
    /// Nonzero = may attend. Broadcastable to `[B, H, Lq, Lk]`.
    case boolean(Tensor)
    /// Added to the scaled scores (ALiBi, relative position bias); `-∞` masks. Broadcastable to
    /// `[B, H, Lq, Lk]`. Gradients flow into it when it tracks them.
    case additive(Tensor)
    /// The intersection of several masks; additive terms are summed.
    indirect case all([AttentionMask])

    /// ``keyPadding(validLengths:)`` when lengths are given, else ``none`` (no padding).
    public static func keyPadding(_ validLengths: [Int]?) -> AttentionMask {
        validLengths.map { .keyPadding(validLengths: $0) } ?? .none
    }
}
