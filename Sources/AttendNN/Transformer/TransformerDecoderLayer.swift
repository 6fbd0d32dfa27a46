import Attend

/// One Transformer decoder layer, as PyTorch's `nn.TransformerDecoderLayer(batch_first=True)`
/// with the same parameter names (`self_attn`, `multihead_attn`, `linear1`, `linear2`,
/// `norm1`–`norm3`).
///
/// ```
/// post-norm:  x = norm1(x + selfAttention(x));  x = norm2(x + crossAttention(x, memory));  x = norm3(x + feedForward(x))
/// pre-norm:   x = x + selfAttention(norm1(x));  x = x + crossAttention(norm2(x), memory);  x = x + feedForward(norm3(x))
/// ```
public final class TransformerDecoderLayer: Module {
    @Child("self_attn") public var selfAttention: MultiHeadAttention
    @Child("multihead_attn") public var crossAttention: MultiHeadAttention
    @Child("") public var feedForward: FeedForward
    @Child("norm1") public var norm1: LayerNorm
    @Child("norm2") public var norm2: LayerNorm
    @Child("norm3") public var norm3: LayerNorm
    @Child("dropout1") public var dropout1: Dropout
    @Child("dropout2") public var dropout2: Dropout
    @Child("dropout3") public var dropout3: Dropout
    public let normFirst: Bool

    public init(modelDimension: Int, headCount: Int, feedForwardDimension: Int, dropout: Float, normFirst: Bool,
                activation: Activation = .relu, layerNormEpsilon: Float = 1e-5, memoryDimension: Int? = nil) {
        self.normFirst = normFirst
        super.init()
        selfAttention = MultiHeadAttention(embedDimension: modelDimension, headCount: headCount, dropout: dropout)
        crossAttention = MultiHeadAttention(embedDimension: modelDimension, headCount: headCount,
                                            keyDimension: memoryDimension, valueDimension: memoryDimension, dropout: dropout)
        feedForward = FeedForward(modelDimension: modelDimension, hiddenDimension: feedForwardDimension,
                                  activation: activation, dropout: dropout)
        norm1 = LayerNorm(modelDimension, epsilon: layerNormEpsilon)
        norm2 = LayerNorm(modelDimension, epsilon: layerNormEpsilon)
        norm3 = LayerNorm(modelDimension, epsilon: layerNormEpsilon)
        dropout1 = Dropout(dropout)
        dropout2 = Dropout(dropout)
        dropout3 = Dropout(dropout)
    }

    /// `x` `[B, Lt, E]` attends to itself under `mask` and to `memory` `[B, Ls, E]` under `memoryMask`.
    public func callAsFunction(_ x: Tensor, memory: Tensor, mask: AttentionMask = .none,
                               memoryMask: AttentionMask = .none) -> Tensor {
        forward(x, memory: memory, mask: mask, memoryMask: memoryMask, returningCrossAttention: false).output
    }

    /// The layer's output and, on request, its cross-attention weights `[B, H, Lt, Ls]` (which
    /// source tokens each target token reads: an alignment).
    public func forward(_ x: Tensor, memory: Tensor, mask: AttentionMask = .none, memoryMask: AttentionMask = .none,
                        returningCrossAttention: Bool) -> (output: Tensor, crossAttention: Tensor?) {
        var weights: Tensor?
        let output = forward(x, selfAttend: { selfAttention($0, mask: mask) }, crossAttend: { h in
            guard returningCrossAttention else { return crossAttention(h, key: memory, value: memory, mask: memoryMask) }
            let (output, w) = crossAttention.attentionWithWeights(h, key: memory, value: memory, mask: memoryMask)
            weights = w
            return output
        })
        return (output, weights)
    }

    /// The layer around its two attention blocks, shared by full passes and cached decoding steps.
    func forward(_ x: Tensor, selfAttend: (Tensor) -> Tensor, crossAttend: (Tensor) -> Tensor) -> Tensor {
        var h = residualBlock(x, normFirst: normFirst, norm: norm1, dropout: dropout1, selfAttend)
        h = residualBlock(h, normFirst: normFirst, norm: norm2, dropout: dropout2, crossAttend)
        return residualBlock(h, normFirst: normFirst, norm: norm3, dropout: dropout3) { feedForward($0) }
    }
}

/// A stack of decoder layers with an optional final normalization (PyTorch's `nn.TransformerDecoder`).
public final class TransformerDecoder: Module {
    @Child("layers") public var layers: [TransformerDecoderLayer]
    @Child("norm") public var norm: LayerNorm?

    public init(layers: [TransformerDecoderLayer], norm: LayerNorm? = nil) {
        super.init()
        self.layers = layers
        self.norm = norm
    }

    public convenience init(count: Int, finalNorm: LayerNorm? = nil, _ makeLayer: () -> TransformerDecoderLayer) {
        self.init(layers: (0..<count).map { _ in makeLayer() }, norm: finalNorm)
    }

    public func callAsFunction(_ x: Tensor, memory: Tensor, mask: AttentionMask = .none,
                               memoryMask: AttentionMask = .none) -> Tensor {
        let h = layers.reduce(x) { h, layer in layer(h, memory: memory, mask: mask, memoryMask: memoryMask) }
        return norm.map { $0(h) } ?? h
    }

    /// Every layer's cross-attention weights `[B, H, Lt, Ls]` for `x` against `memory`.
    public func crossAttentionWeights(_ x: Tensor, memory: Tensor, mask: AttentionMask = .none,
                                      memoryMask: AttentionMask = .none) -> [Tensor] {
        var h = x
        var weights: [Tensor] = []
        for layer in layers {
            let step = layer.forward(h, memory: memory, mask: mask, memoryMask: memoryMask, returningCrossAttention: true)
            h = step.output
            weights.append(step.crossAttention!)
        }
        return weights
    }
}

/// The encoder–decoder Transformer (PyTorch's `nn.Transformer(batch_first=True)`: keys
/// `encoder.layers.N…`, `encoder.norm`, `decoder.layers.N…`, `decoder.norm`).
public final class Transformer: Module {
    @Child("encoder") public var encoder: TransformerEncoder
    @Child("decoder") public var decoder: TransformerDecoder

    public init(modelDimension: Int = 512, headCount: Int = 8, encoderLayerCount: Int = 6, decoderLayerCount: Int = 6,
                feedForwardDimension: Int = 2048, dropout: Float = 0.1, normFirst: Bool = false,
                activation: Activation = .relu, layerNormEpsilon: Float = 1e-5) {
        super.init()
        encoder = TransformerEncoder(count: encoderLayerCount, finalNorm: LayerNorm(modelDimension, epsilon: layerNormEpsilon)) {
            TransformerEncoderLayer(modelDimension: modelDimension, headCount: headCount,
                                    feedForwardDimension: feedForwardDimension, dropout: dropout, normFirst: normFirst,
                                    activation: activation, layerNormEpsilon: layerNormEpsilon)
        }
        decoder = TransformerDecoder(count: decoderLayerCount, finalNorm: LayerNorm(modelDimension, epsilon: layerNormEpsilon)) {
            TransformerDecoderLayer(modelDimension: modelDimension, headCount: headCount,
                                    feedForwardDimension: feedForwardDimension, dropout: dropout, normFirst: normFirst,
                                    activation: activation, layerNormEpsilon: layerNormEpsilon)
        }
    }

    /// `source` `[B, Ls, E]` and `target` `[B, Lt, E]` → `[B, Lt, E]`.
    public func callAsFunction(source: Tensor, target: Tensor, sourceMask: AttentionMask = .none,
                               targetMask: AttentionMask = .none, memoryMask: AttentionMask = .none) -> Tensor {
        decoder(target, memory: encoder(source, mask: sourceMask), mask: targetMask, memoryMask: memoryMask)
    }
}
