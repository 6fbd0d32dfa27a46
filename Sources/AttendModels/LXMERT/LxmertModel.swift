import Attend
import AttendNN
import Foundation

/// The sizes of an LXMERT model (Hugging Face's `LxmertConfig`).
public struct LxmertConfiguration: Sendable, Equatable {
    /// The language side's BERT sizes (width, heads, FFN, vocabulary, positions).
    public var bert: BertConfiguration
    public var languageLayerCount: Int
    public var crossLayerCount: Int
    public var visionLayerCount: Int
    public var visualFeatureDimension: Int
    public var visualPositionDimension: Int

    public init(bert: BertConfiguration, languageLayerCount: Int = 9, crossLayerCount: Int = 5, visionLayerCount: Int = 5,
                visualFeatureDimension: Int = 2048, visualPositionDimension: Int = 4) {
        self.bert = bert
        (self.languageLayerCount, self.crossLayerCount, self.visionLayerCount) = (languageLayerCount, crossLayerCount, visionLayerCount)
        (self.visualFeatureDimension, self.visualPositionDimension) = (visualFeatureDimension, visualPositionDimension)
    }
}

/// LXMERT (Tan & Bansal 2019) with Hugging Face's `LxmertModel` names: a language encoder
/// (BERT layers), an object-relationship encoder over region features, and cross-modality
/// layers where one cross-attention module serves both directions before each modality's own
/// self-attention and feed-forward blocks.
public final class LxmertModel: Module {
    public let configuration: LxmertConfiguration
    @Child("embeddings") public var embeddings: BertEmbeddings
    @Child("encoder") public var encoder: LxmertEncoder
    @Child("pooler") public var pooler: LxmertPooler

    public init(configuration c: LxmertConfiguration) {
        configuration = c
        super.init()
        embeddings = BertEmbeddings(c.bert)
        encoder = LxmertEncoder(c)
        pooler = LxmertPooler(c.bert)
    }

    /// Everything the model computes for one batch.
    public struct Output {
        public var language: Tensor          // [B, Lt, E]
        public var vision: Tensor            // [B, Lv, E]
        public var pooled: Tensor            // [B, E]: tanh(dense(language[:, 0]))
        public var languageAttentions: [Tensor]
        public var visionAttentions: [Tensor]
        /// Per cross-modality layer, the language → vision weights `[B, H, Lt, Lv]`.
        public var crossAttentions: [Tensor]
    }

    /// - Parameters:
    ///   - ids: `[B][Lt]` token ids; `typeIds` defaults to zeros.
    ///   - textLengths: real tokens per row (the rest is padding).
    ///   - visualFeatures: `[B, Lv, visualFeatureDimension]` region features.
    ///   - visualPositions: `[B, Lv, visualPositionDimension]` normalized boxes.
    ///   - regionCounts: real regions per row.
    public func callAsFunction(ids: [[Int]], typeIds: [[Int]]? = nil, textLengths: [Int], visualFeatures: Tensor,
                               visualPositions: Tensor, regionCounts: [Int]? = nil, returningAttention: Bool = false) -> Output {
        let text = embeddings(ids: ids, typeIds: typeIds)
        let encoded = encoder(text: text, textMask: .keyPadding(validLengths: textLengths), visualFeatures: visualFeatures,
                              visualPositions: visualPositions,
                              visionMask: .keyPadding(regionCounts),
                              returningAttention: returningAttention)
        return Output(language: encoded.language, vision: encoded.vision, pooled: pooler(encoded.language),
                      languageAttentions: encoded.languageAttentions, visionAttentions: encoded.visionAttentions,
                      crossAttentions: encoded.crossAttentions)
    }
}

/// Region features and boxes, each projected and normalized, then averaged (`encoder.visn_fc`).
public final class LxmertVisualFeatureEncoder: Module {
    @Child("visn_fc") public var featureProjection: Linear
    @Child("visn_layer_norm") public var featureNorm: LayerNorm
    @Child("box_fc") public var boxProjection: Linear
    @Child("box_layer_norm") public var boxNorm: LayerNorm

    init(_ c: LxmertConfiguration) {
        super.init()
        featureProjection = Linear(c.visualFeatureDimension, c.bert.hiddenSize)
        featureNorm = LayerNorm(c.bert.hiddenSize, epsilon: 1e-12)
        boxProjection = Linear(c.visualPositionDimension, c.bert.hiddenSize)
        boxNorm = LayerNorm(c.bert.hiddenSize, epsilon: 1e-12)
    }

    func callAsFunction(features: Tensor, positions: Tensor) -> Tensor {
        (featureNorm(featureProjection(features)) + boxNorm(boxProjection(positions))) / 2
    }
}

/// The three encoders (`encoder.layer.N`, `encoder.r_layers.N`, `encoder.x_layers.N`).
public final class LxmertEncoder: Module {
    @Child("visn_fc") public var visualEncoder: LxmertVisualFeatureEncoder
    @Child("layer") public var languageLayers: [BertLayer]
    @Child("x_layers") public var crossLayers: [LxmertCrossModalityLayer]
    @Child("r_layers") public var visionLayers: [BertLayer]

    init(_ c: LxmertConfiguration) {
        super.init()
        visualEncoder = LxmertVisualFeatureEncoder(c)
        languageLayers = (0..<c.languageLayerCount).map { _ in BertLayer(c.bert) }
        crossLayers = (0..<c.crossLayerCount).map { _ in LxmertCrossModalityLayer(c.bert) }
        visionLayers = (0..<c.visionLayerCount).map { _ in BertLayer(c.bert) }
    }

    /// Both modalities through their own stacks, then the cross-modality layers.
    func callAsFunction(text: Tensor, textMask: AttentionMask, visualFeatures: Tensor, visualPositions: Tensor,
                        visionMask: AttentionMask, returningAttention: Bool)
        -> (language: Tensor, vision: Tensor, languageAttentions: [Tensor], visionAttentions: [Tensor], crossAttentions: [Tensor]) {
        var (language, languageAttentions) = BertEncoder.run(languageLayers, text, mask: textMask,
                                                             returningAttention: returningAttention)
        var (vision, visionAttentions) = BertEncoder.run(visionLayers, visualEncoder(features: visualFeatures, positions: visualPositions),
                                                         mask: visionMask, returningAttention: returningAttention)
        var crossAttentions: [Tensor] = []
        for layer in crossLayers {
            let (l, v, weights) = layer(language: language, languageMask: textMask, vision: vision, visionMask: visionMask,
                                        returningAttention: returningAttention)
            (language, vision) = (l, v)
            if let weights { crossAttentions.append(weights) }
        }
        return (language, vision, languageAttentions, visionAttentions, crossAttentions)
    }
}

/// One cross-modality layer: the shared cross-attention both ways, then per-modality
/// self-attention and feed-forward blocks.
public final class LxmertCrossModalityLayer: Module {
    @Child("visual_attention") public var crossAttention: LxmertCrossAttention
    @Child("lang_self_att") public var languageSelfAttention: BertAttention
    @Child("visn_self_att") public var visionSelfAttention: BertAttention
    @Child("lang_inter") public var languageIntermediate: BertIntermediate
    @Child("lang_output") public var languageOutput: BertOutput
    @Child("visn_inter") public var visionIntermediate: BertIntermediate
    @Child("visn_output") public var visionOutput: BertOutput

    init(_ c: BertConfiguration) {
        super.init()
        crossAttention = LxmertCrossAttention(c)
        languageSelfAttention = BertAttention(c)
        visionSelfAttention = BertAttention(c)
        languageIntermediate = BertIntermediate(c)
        languageOutput = BertOutput(inputSize: c.intermediateSize, c)
        visionIntermediate = BertIntermediate(c)
        visionOutput = BertOutput(inputSize: c.intermediateSize, c)
    }

    func callAsFunction(language: Tensor, languageMask: AttentionMask, vision: Tensor, visionMask: AttentionMask,
                        returningAttention: Bool) -> (Tensor, Tensor, Tensor?) {
        let (crossLanguage, weights) = crossAttention(language, context: vision, contextMask: visionMask,
                                                      returningWeights: returningAttention)
        let (crossVision, _) = crossAttention(vision, context: language, contextMask: languageMask, returningWeights: false)
        let l = languageSelfAttention(crossLanguage, mask: languageMask, returningAttention: false).0
        let v = visionSelfAttention(crossVision, mask: visionMask, returningAttention: false).0
        return (languageOutput(languageIntermediate(l), residual: l), visionOutput(visionIntermediate(v), residual: v), weights)
    }
}

/// Cross-attention and its output block (`visual_attention.att`, `visual_attention.output`).
public final class LxmertCrossAttention: Module {
    @Child("att") public var projections: BertSelfAttention
    @Child("output") public var output: BertOutput
    let headCount: Int

    init(_ c: BertConfiguration) {
        headCount = c.headCount
        super.init()
        projections = BertSelfAttention(c)
        output = BertOutput(inputSize: c.hiddenSize, c)
    }

    func callAsFunction(_ x: Tensor, context: Tensor, contextMask: AttentionMask,
                        returningWeights: Bool) -> (Tensor, Tensor?) {
        let p = projections
        let (attended, weights) = attention(x, over: context, query: p.query, key: p.key, value: p.value,
                                            headCount: headCount, mask: contextMask, returningWeights: returningWeights)
        return (output(attended, residual: x), weights)
    }
}

/// `tanh(dense(h[:, 0]))`.
public final class LxmertPooler: Module {
    @Child("dense") public var dense: Linear

    init(_ c: BertConfiguration) {
        super.init()
        dense = Linear(c.hiddenSize, c.hiddenSize)
    }

    func callAsFunction(_ language: Tensor) -> Tensor { tanh(dense(language.selecting(axis: 1, index: 0))) }
}
