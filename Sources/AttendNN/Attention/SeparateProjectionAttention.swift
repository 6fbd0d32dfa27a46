import Attend

/// Multi-head self-attention for models that keep their query, key and value projections as
/// three `Linear` layers (BERT's `query`/`key`/`value`, ViT's `q_proj`/`k_proj`/`v_proj`): one
/// product with the stacked weights, views per head, then attention, with the heads merged back.
///
/// - Parameters:
///   - x: `[B, L, E]`.
///   - returningWeights: also return the weights `[B, H, L, L]` (the reference kernel runs then).
/// - Returns: the merged heads `[B, L, E]`, before any output projection.
public func selfAttention(_ x: Tensor, query: Linear, key: Linear, value: Linear, headCount: Int,
                          mask: AttentionMask = .none, returningWeights: Bool = false) -> (output: Tensor, weights: Tensor?) {
    let (b, l, e) = (x.shape[0], x.shape[1], x.shape[2])
    precondition(e % headCount == 0, "selfAttention: width \(e) is not a multiple of \(headCount) heads")
    var qkv = matmul(x, Tensor.concatenate([query.weight, key.weight, value.weight]).transposed())     // [B, L, 3E]
    if let qb = query.bias, let kb = key.bias, let vb = value.bias { qkv = qkv + Tensor.concatenate([qb, kb, vb]) }
    func heads(_ range: Range<Int>) -> Tensor {
        qkv.sliced(axis: 2, range).reshaped([b, l, headCount, e / headCount]).permuted([0, 2, 1, 3])
    }
    let (q, k, v) = (heads(0..<e), heads(e..<(2 * e)), heads((2 * e)..<(3 * e)))
    var weights: Tensor?
    let attended: Tensor
    if returningWeights {
        (attended, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: mask)
    } else {
        attended = scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
    }
    return (attended.permuted([0, 2, 1, 3]).reshaped([b, l, e]), weights)
}
