import Attend

/// One Transformer encoder layer, as PyTorch's `nn.TransformerEncoderLayer(batch_first=True)`
/// with the same parameter names (`self_attn.*`, `linear1`, `linear2`, `norm1`, `norm2`).
///
/// ```
/// post-norm:  x = norm1(x + dropout(selfAttention(x)));  x = norm2(x + dropout(feedForward(x)))
/// pre-norm:   x = x + dropout(selfAttention(norm1(x)));   x = x + dropout(feedForward(norm2(x)))
/// ```
public final class TransformerEncoderLayer: Module {
    @Child("self_attn") public var selfAttention: MultiHeadAttention
    @Child("") public var feedForward: FeedForward
    @Child("norm1") public var norm1: LayerNorm
    @Child("norm2") public var norm2: LayerNorm
    @Child("dropout1") public var dropout1: Dropout
    @Child("dropout2") public var dropout2: Dropout
    /// Normalize before each block (pre-norm) instead of after the residual sum (post-norm).
    public let normFirst: Bool

    public init(modelDimension: Int, headCount: Int, feedForwardDimension: Int, dropout: Float, normFirst: Bool,
                activation: Activation = .relu, layerNormEpsilon: Float = 1e-5, keyValueHeadCount: Int? = nil) {
        self.normFirst = normFirst
        super.init()
        selfAttention = MultiHeadAttention(embedDimension: modelDimension, headCount: headCount,
                                           keyValueHeadCount: keyValueHeadCount, dropout: dropout)
        feedForward = FeedForward(modelDimension: modelDimension, hiddenDimension: feedForwardDimension,
                                  activation: activation, dropout: dropout)
        norm1 = LayerNorm(modelDimension, epsilon: layerNormEpsilon)
        norm2 = LayerNorm(modelDimension, epsilon: layerNormEpsilon)
        dropout1 = Dropout(dropout)
        dropout2 = Dropout(dropout)
    }

    /// `[B, L, E]` → `[B, L, E]`; `mask` restricts self-attention.
    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none) -> Tensor {
        let h = residualBlock(x, normFirst: normFirst, norm: norm1, dropout: dropout1) { selfAttention($0, mask: mask) }
        return residualBlock(h, normFirst: normFirst, norm: norm2, dropout: dropout2) { feedForward($0) }
    }
}

/// A stack of encoder layers with an optional final normalization (PyTorch's
/// `nn.TransformerEncoder`: keys `layers.N.…` and `norm.…`).
public final class TransformerEncoder: Module {
    @Child("layers") public var layers: [TransformerEncoderLayer]
    @Child("norm") public var norm: LayerNorm?

    public init(layers: [TransformerEncoderLayer], norm: LayerNorm? = nil) {
        super.init()
        self.layers = layers
        self.norm = norm
    }

    /// `count` layers built by `makeLayer` (each with its own weights).
    public convenience init(count: Int, finalNorm: LayerNorm? = nil, _ makeLayer: () -> TransformerEncoderLayer) {
        self.init(layers: (0..<count).map { _ in makeLayer() }, norm: finalNorm)
    }

    public func callAsFunction(_ x: Tensor, mask: AttentionMask = .none) -> Tensor {
        let h = layers.reduce(x) { h, layer in layer(h, mask: mask) }
        return norm.map { $0(h) } ?? h
    }
}
