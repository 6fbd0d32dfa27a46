import Attend

/// Attention weights of one model over one input, ready to draw: for every layer and head a
/// `queries × keys` matrix, with the tokens that label both axes.
///
/// Self-attention has the same tokens on both axes; cross-attention has decoder tokens against
/// encoder tokens, or text against image patches. Two-stream models give one map per stream
/// (``AttentionView`` shows them side by side).
public struct AttentionMap: Sendable, Codable, Equatable {
    /// What the map shows, e.g. "content stream" or "cross-attention".
    public var title: String
    public var queryTokens: [String]
    public var keyTokens: [String]
    /// `weights[layer][head]`: row-major `queryTokens.count × keyTokens.count`.
    public var weights: [[[Float]]]

    public var layerCount: Int { weights.count }
    public var headCount: Int { weights.first?.count ?? 0 }

    /// - Parameters:
    ///   - layers: one tensor per layer, `[H, Lq, Lk]` or `[1, H, Lq, Lk]` (batch entry 0 is used),
    ///     as ``scaledDotProductAttentionWithWeights(query:key:value:mask:scale:dropout:dropoutSeed:)``
    ///     and the models' `returningAttention` give them.
    public init(title: String, queryTokens: [String], keyTokens: [String]? = nil, layers: [Tensor]) {
        let keys = keyTokens ?? queryTokens
        self.title = title
        self.queryTokens = queryTokens
        self.keyTokens = keys
        weights = layers.map { layer in
            let heads = layer.rank == 4 ? layer.selecting(axis: 0, index: 0) : layer
            precondition(heads.rank == 3 && heads.shape[1] == queryTokens.count && heads.shape[2] == keys.count,
                         "attention weights \(layer.shape) do not match \(queryTokens.count) queries × \(keys.count) keys")
            let values = heads.scalars, size = queryTokens.count * keys.count
            return (0..<heads.shape[0]).map { Array(values[($0 * size)..<(($0 + 1) * size)]) }
        }
    }

    /// The `queries × keys` matrix of one head, or the mean over heads when `head` is nil.
    public func matrix(layer: Int, head: Int?) -> [Float] {
        precondition(weights.indices.contains(layer), "layer \(layer) is outside 0..<\(layerCount)")
        if let head {
            precondition(weights[layer].indices.contains(head), "head \(head) is outside 0..<\(headCount)")
            return weights[layer][head]
        }
        var mean = [Float](repeating: 0, count: queryTokens.count * keyTokens.count)
        for matrix in weights[layer] { for i in mean.indices { mean[i] += matrix[i] } }
        return mean.map { $0 / Float(Swift.max(headCount, 1)) }
    }
}
