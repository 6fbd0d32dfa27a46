import Attend

/// Multi-head self-attention for models that keep their query, key and value projections as
/// three `Linear` layers (BERT's `query`/`key`/`value`, ViT's `q_proj`/`k_proj`/`v_proj`): one
/// product with the stacked weights, views per head, then attention, with the heads merged back.
///
/// - Parameters:
///   - x: `[B, L, E]`.
///   - returningWeights: also return the weights `[B, H, L, L]` (the reference kernel runs then).
///   - headGate: `[H]` factors multiplying each head's output before the merge (Michel et al.'s
///     gates ξ: 1 keeps a head, 0 removes it; differentiable, for head importance).
/// - Returns: the merged heads `[B, L, E]`, before any output projection.
public func selfAttention(_ x: Tensor, query: Linear, key: Linear, value: Linear, headCount: Int,
                          mask: AttentionMask = .none, returningWeights: Bool = false,
                          headGate: Tensor? = nil) -> (output: Tensor, weights: Tensor?) {
    let e = query.outputDimension
    precondition(e % headCount == 0, "selfAttention: width \(e) is not a multiple of \(headCount) heads")
    if query.isQuantized || key.isQuantized || value.isQuantized {
        // Each int8 projection runs in its own kernel call (their packed weights are separate).
        return attendHeads(query: query(x), key: key(x), value: value(x), headCount: headCount, mask: mask,
                           returningWeights: returningWeights, headGate: headGate)
    }
    let biases = [query.bias, key.bias, value.bias].compactMap { $0 }
    precondition(biases.isEmpty || biases.count == 3, "selfAttention: query, key and value must all have biases or none")
    var qkv = matmul(x, Tensor.concatenate([query.weight, key.weight, value.weight]).transposed())     // [B, L, 3E]
    if !biases.isEmpty { qkv = qkv + Tensor.concatenate(biases) }
    return attendHeads(query: qkv.sliced(axis: 2, 0..<e), key: qkv.sliced(axis: 2, e..<(2 * e)),
                       value: qkv.sliced(axis: 2, (2 * e)..<(3 * e)), headCount: headCount, mask: mask,
                       returningWeights: returningWeights, headGate: headGate)
}

/// Multi-head attention of `x` over `context` through three `Linear` projections (LXMERT's
/// cross-modality attention, BERT-style cross-attention): queries from `x` `[B, Lq, E]`, keys
/// and values from `context` `[B, Lk, Ec]`.
///
/// - Returns: the merged heads `[B, Lq, E]`, before any output projection, and on request the
///   weights `[B, H, Lq, Lk]`.
public func attention(_ x: Tensor, over context: Tensor, query: Linear, key: Linear, value: Linear, headCount: Int,
                      mask: AttentionMask = .none, returningWeights: Bool = false) -> (output: Tensor, weights: Tensor?) {
    attendHeads(query: query(x), key: key(context), value: value(context), headCount: headCount, mask: mask,
                returningWeights: returningWeights)
}

/// Splits projected `[B, L, E]` queries, keys and values into heads (views), attends, and
/// merges the heads back to `[B, Lq, E]`.
private func attendHeads(query: Tensor, key: Tensor, value: Tensor, headCount: Int, mask: AttentionMask,
                         returningWeights: Bool, headGate: Tensor? = nil) -> (output: Tensor, weights: Tensor?) {
    let e = query.shape[2]
    precondition(e % headCount == 0 && key.shape[2] == e && value.shape[2] == e,
                 "attention: projections \(query.shape), \(key.shape), \(value.shape) do not split into \(headCount) heads")
    let (q, k, v) = (splitHeads(query, heads: headCount), splitHeads(key, heads: headCount), splitHeads(value, heads: headCount))
    var weights: Tensor?
    let attended: Tensor
    if returningWeights {
        (attended, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: mask)
    } else {
        attended = scaledDotProductAttention(query: q, key: k, value: v, mask: mask)
    }
    var gated = attended                                                        // [B, H, Lq, D]
    if let headGate {
        precondition(headGate.shape == [headCount], "attention: head gate \(headGate.shape) for \(headCount) heads")
        gated = attended * headGate.reshaped([1, headCount, 1, 1])
    }
    return (mergeHeads(gated), weights)                                         // [B, Lq, E]
}
