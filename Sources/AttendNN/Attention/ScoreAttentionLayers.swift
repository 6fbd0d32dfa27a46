import Attend
import Foundation

/// Cosine-similarity attention with a learnable temperature per head (Swin Transformer v2's
/// scaled cosine attention): `softmax(s_h · cos(qᵢ, kⱼ)) · V` over `[B, L, E]` sequences.
///
/// The learned parameter is `logit_scale` `[H, 1, 1]`, and `s_h = exp(min(logit_scale, log 100))`.
public final class CosineAttention: Module {
    public let headCount: Int
    @Child("qkv") public var projection: Linear
    @Child("proj") public var outputProjection: Linear
    @Parameter("logit_scale") public var logitScale: Tensor

    public init(embedDimension: Int, headCount: Int, initialScale: Float = 10) {
        precondition(embedDimension % headCount == 0, "CosineAttention: \(embedDimension) is not a multiple of \(headCount) heads")
        self.headCount = headCount
        super.init()
        projection = Linear(embedDimension, 3 * embedDimension)
        outputProjection = Linear(embedDimension, embedDimension)
        logitScale = Tensor.full([headCount, 1, 1], value: Foundation.log(initialScale))
    }

    /// `[B, L, E]` → `[B, L, E]`.
    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none) -> Tensor {
        let (b, l, e) = (x.shape[0], x.shape[1], x.shape[2])
        let qkv = projection(x).reshaped([b, l, 3, headCount, e / headCount]).permuted([2, 0, 3, 1, 4])
        let scale = exp(minimum(logitScale, Tensor(Foundation.log(100))))
        let heads = cosineAttention(query: qkv.selecting(axis: 0, index: 0), key: qkv.selecting(axis: 0, index: 1),
                                    value: qkv.selecting(axis: 0, index: 2), scale: scale, mask: mask)
        return outputProjection(mergeHeads(heads))                                          // [B, L, E]
    }
}

/// Additive (Bahdanau) attention: `eᵢⱼ = vᵀ tanh(W_q qᵢ + W_k kⱼ)`, then softmax over keys and
/// the weighted sum of the values. Queries and keys may have different widths (decoder state
/// vs. encoder states, text vs. image regions).
public final class AdditiveAttention: Module {
    @Child("query_proj") public var queryProjection: Linear
    @Child("key_proj") public var keyProjection: Linear
    @Parameter("v") public var scoreVector: Tensor

    public init(queryDimension: Int, keyDimension: Int, hiddenDimension: Int) {
        super.init()
        queryProjection = Linear(queryDimension, hiddenDimension)
        keyProjection = Linear(keyDimension, hiddenDimension, bias: false)
        scoreVector = Initialization.linear([hiddenDimension], fanIn: hiddenDimension)
    }

    /// `query` `[B, Lq, Dq]`, `key` `[B, Lk, Dk]`, `value` `[B, Lk, Dv]` → output `[B, Lq, Dv]` and weights `[B, Lq, Lk]`.
    public func callAsFunction(_ query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask = .none) -> (output: Tensor, weights: Tensor) {
        let scores = additiveAttentionScores(query: query, key: key, queryWeight: queryProjection.weight,
                                             keyWeight: keyProjection.weight, scoreWeight: scoreVector,
                                             bias: queryProjection.bias)
        return attention(scores: scores, value: value, mask: mask)
    }
}

/// General (Luong) attention: `eᵢⱼ = qᵢᵀ W kⱼ`, then softmax over keys and the weighted values.
public final class GeneralAttention: Module {
    @Parameter("weight") public var weight: Tensor

    public init(queryDimension: Int, keyDimension: Int) {
        super.init()
        weight = Initialization.xavierUniform([queryDimension, keyDimension])
    }

    /// `query` `[B, Lq, Dq]`, `key` `[B, Lk, Dk]`, `value` `[B, Lk, Dv]` → output `[B, Lq, Dv]` and weights `[B, Lq, Lk]`.
    public func callAsFunction(_ query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask = .none) -> (output: Tensor, weights: Tensor) {
        attention(scores: generalAttentionScores(query: query, key: key, weight: weight), value: value, mask: mask)
    }
}

