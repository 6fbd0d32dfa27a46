import Attend

/// Bidirectional co-attention as ViLBERT does it (Lu et al. 2019): each stream attends to the
/// other with its own projections, the two results go back onto their own residual streams,
/// and each stream has its own feed-forward block.
///
/// ```
/// t′ = LN(t + MHA_t(t, v, v));   v′ = LN(v + MHA_v(v, t, t))
/// t″ = LN(t′ + FFN_t(t′));       v″ = LN(v′ + FFN_v(v′))
/// ```
public final class ViLBERTCoAttentionLayer: Module {
    @Child("text_attention") public var textAttention: CrossModalAttention
    @Child("image_attention") public var imageAttention: CrossModalAttention
    @Child("text_ffn") public var textFeedForward: FeedForward
    @Child("image_ffn") public var imageFeedForward: FeedForward
    @Child("text_norm") public var textNorm: LayerNorm
    @Child("image_norm") public var imageNorm: LayerNorm

    public init(textDimension: Int, imageDimension: Int, headCount: Int, feedForwardMultiple: Int = 4) {
        super.init()
        textAttention = CrossModalAttention(queryDimension: textDimension, contextDimension: imageDimension, headCount: headCount)
        imageAttention = CrossModalAttention(queryDimension: imageDimension, contextDimension: textDimension, headCount: headCount)
        textFeedForward = FeedForward(modelDimension: textDimension, hiddenDimension: feedForwardMultiple * textDimension, activation: .gelu)
        imageFeedForward = FeedForward(modelDimension: imageDimension, hiddenDimension: feedForwardMultiple * imageDimension, activation: .gelu)
        textNorm = LayerNorm(textDimension)
        imageNorm = LayerNorm(imageDimension)
    }

    public func callAsFunction(text: Tensor, image: Tensor, textLengths: [Int]? = nil,
                               regionCounts: [Int]? = nil) -> (text: Tensor, image: Tensor) {
        // Both directions read the inputs of the layer, then each result joins its own stream.
        let t = textAttention(text, context: image, queryLengths: textLengths, contextLengths: regionCounts).output
        let v = imageAttention(image, context: text, queryLengths: regionCounts, contextLengths: textLengths).output
        return (textNorm(t + textFeedForward(t)), imageNorm(v + imageFeedForward(v)))
    }
}

/// Bidirectional co-attention as LXMERT does it (Tan & Bansal 2019): one cross-attention module
/// shared by both directions (the streams have the same width), then per-modality
/// self-attention and feed-forward blocks.
///
/// ```
/// t′ = X(t, v);  v′ = X(v, t)          X shared: LN(q + MHA(q, c, c))
/// t″ = S_t(t′);  v″ = S_v(v′)          self-attention + FFN per modality
/// ```
public final class LXMERTCoAttentionLayer: Module {
    @Child("cross_attention") public var crossAttention: CrossModalAttention
    @Child("text_layer") public var textLayer: TransformerEncoderLayer
    @Child("image_layer") public var imageLayer: TransformerEncoderLayer

    public init(dimension: Int, headCount: Int, feedForwardDimension: Int) {
        super.init()
        crossAttention = CrossModalAttention(queryDimension: dimension, contextDimension: dimension, headCount: headCount)
        textLayer = TransformerEncoderLayer(modelDimension: dimension, headCount: headCount, feedForwardDimension: feedForwardDimension,
                                            dropout: 0, normFirst: false, activation: .gelu)
        imageLayer = TransformerEncoderLayer(modelDimension: dimension, headCount: headCount, feedForwardDimension: feedForwardDimension,
                                             dropout: 0, normFirst: false, activation: .gelu)
    }

    public func callAsFunction(text: Tensor, image: Tensor, textLengths: [Int]? = nil,
                               regionCounts: [Int]? = nil) -> (text: Tensor, image: Tensor) {
        let t = crossAttention(text, context: image, queryLengths: textLengths, contextLengths: regionCounts).output
        let v = crossAttention(image, context: text, queryLengths: regionCounts, contextLengths: textLengths).output
        let textMask: AttentionMask = .keyPadding(textLengths)
        let imageMask: AttentionMask = .keyPadding(regionCounts)
        return (textLayer(t, mask: textMask), imageLayer(v, mask: imageMask))
    }
}
