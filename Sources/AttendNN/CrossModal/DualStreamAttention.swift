import Attend

/// The simple dual-stream form of attention: a content stream `C` `[B, Lc, Dc]` and a query
/// stream `Q` `[B, Lq, Dq]` of different widths are projected to one attention width `A`,
/// scored, and the query stream reads the content it attends to:
///
/// ```
/// weights = softmax(score(Q W_q, C W_c))      score: q·c/√A, or s·cos(q, c)
/// output  = weights · C                       [B, Lq, Dc]
/// ```
public final class DualStreamAttention: Module {
    /// How projected queries and content are compared.
    public enum Scoring: Sendable {
        /// `q·c / √A`.
        case dotProduct
        /// `scale · cos(q, c)`.
        case cosine(scale: Float)
    }

    @Child("query_proj") public var queryProjection: Linear
    @Child("content_proj") public var contentProjection: Linear
    public let scoring: Scoring

    public init(queryDimension: Int, contentDimension: Int, attentionDimension: Int, scoring: Scoring = .dotProduct) {
        self.scoring = scoring
        super.init()
        queryProjection = Linear(queryDimension, attentionDimension, bias: false)
        contentProjection = Linear(contentDimension, attentionDimension, bias: false)
    }

    /// The attended content `[B, Lq, Dc]` and the weights `[B, Lq, Lc]`.
    public func callAsFunction(query: Tensor, content: Tensor, mask: AttentionMask = .none) -> (output: Tensor, weights: Tensor) {
        precondition(query.rank == 3 && content.rank == 3 && query.shape[0] == content.shape[0],
                     "DualStreamAttention needs query [B, Lq, Dq] and content [B, Lc, Dc], got \(query.shape) and \(content.shape)")
        var q = queryProjection(query), c = contentProjection(content)
        let scale: Float
        switch scoring {
        case .dotProduct:
            scale = 1 / Float(q.shape[2]).squareRoot()
        case .cosine(let s):
            (q, c) = (normalizedRows(q), normalizedRows(c))
            scale = s
        }
        return attention(scores: matmul(q, c.transposed()) * scale, value: content, mask: mask)
    }
}
