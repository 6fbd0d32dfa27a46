import Attend

/// Unidirectional cross-modal attention: one modality's tokens (text, `[B, Lt, Dt]`) attend to
/// another's features (image regions or patches, `[B, Li, Di]`, any width), followed by the
/// residual connection and LayerNorm: `LN(text + MHA(text, image, image))`.
///
/// Padded text rows (beyond `textLengths`) output zeros; image features beyond `regionCounts`
/// are masked out as keys.
public final class CrossModalAttention: Module {
    @Child("attention") public var attention: MultiHeadAttention
    @Child("norm") public var norm: LayerNorm

    public init(queryDimension: Int, contextDimension: Int, headCount: Int, dropout: Float = 0) {
        super.init()
        attention = MultiHeadAttention(embedDimension: queryDimension, headCount: headCount,
                                       keyDimension: contextDimension, valueDimension: contextDimension, dropout: dropout)
        norm = LayerNorm(queryDimension)
    }

    /// - Returns: the updated queries `[B, Lt, Dt]` and the attention weights `[B, H, Lt, Li]`.
    public func callAsFunction(_ queries: Tensor, context: Tensor, queryLengths: [Int]? = nil,
                               contextLengths: [Int]? = nil, returningWeights: Bool = false) -> (output: Tensor, weights: Tensor?) {
        let mask: AttentionMask = .keyPadding(contextLengths)
        var attended: Tensor, weights: Tensor?
        if returningWeights {
            (attended, weights) = attention.attentionWithWeights(queries, key: context, value: context, mask: mask)
        } else {
            attended = attention(queries, key: context, value: context, mask: mask)
        }
        var output = norm(queries + attended)
        if let queryLengths { output = output * CrossModalAttention.rowMask(queryLengths, length: queries.shape[1]) }
        return (output, weights)
    }

    /// `[B, L, 1]` of 1 for rows `< lengths[b]`, 0 after.
    static func rowMask(_ lengths: [Int], length: Int) -> Tensor {
        Tensor(shape: [lengths.count, length, 1], scalars: lengths.flatMap { n in (0..<length).map { $0 < n ? 1 : 0 } })
    }
}

/// Multi-hop attention (text → image → text, repeated): each hop gathers image evidence for
/// every text token, then reads the text again in the light of that evidence, refining the
/// text state residually. Hops share their two attention modules.
public final class MultiHopAttention: Module {
    @Child("text_to_image") public var textToImage: CrossModalAttention
    @Child("image_to_text") public var imageToText: CrossModalAttention
    public let hopCount: Int

    public init(textDimension: Int, imageDimension: Int, headCount: Int, hopCount: Int) {
        precondition(hopCount >= 1, "MultiHopAttention needs at least one hop")
        self.hopCount = hopCount
        super.init()
        textToImage = CrossModalAttention(queryDimension: textDimension, contextDimension: imageDimension, headCount: headCount)
        imageToText = CrossModalAttention(queryDimension: textDimension, contextDimension: textDimension, headCount: headCount)
    }

    /// The refined text `[B, Lt, Dt]` and, per hop, the text → image weights `[B, H, Lt, Li]`.
    public func callAsFunction(text: Tensor, image: Tensor, textLengths: [Int]? = nil,
                               regionCounts: [Int]? = nil) -> (text: Tensor, imageWeights: [Tensor]) {
        var state = text
        var weights: [Tensor] = []
        for _ in 0..<hopCount {
            let (evidence, hopWeights) = textToImage(state, context: image, queryLengths: textLengths,
                                                     contextLengths: regionCounts, returningWeights: true)
            weights.append(hopWeights!)
            state = imageToText(evidence, context: text, queryLengths: textLengths, contextLengths: textLengths).output
        }
        return (state, weights)
    }
}
