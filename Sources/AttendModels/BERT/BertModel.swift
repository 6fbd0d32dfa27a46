import Attend
import AttendNN

/// A BERT encoder (Devlin et al. 2019) with Hugging Face's `BertModel` parameter names, so a
/// `model.safetensors` loads as is. Post-norm layers with exact (erf) GELU:
///
/// ```
/// h₀ = LayerNorm(word[ids] + position[0..<L] + tokenType[types])
/// a  = LayerNorm(h + dense(attention(query(h), key(h), value(h), padding mask)))
/// hₗ = LayerNorm(a + dense₂(gelu(dense₁(a))))
/// ```
public final class BertModel: Module {
    public let configuration: BertConfiguration
    @Child("embeddings") public var embeddings: BertEmbeddings
    @Child("encoder") public var encoder: BertEncoder

    public init(configuration: BertConfiguration) {
        self.configuration = configuration
        super.init()
        embeddings = BertEmbeddings(configuration)
        encoder = BertEncoder(configuration)
    }

    /// The encoder's output for a padded batch.
    ///
    /// - Parameters:
    ///   - ids: `[B][L]` token ids, padded to one length.
    ///   - typeIds: `[B][L]` segment ids (zeros when nil).
    ///   - validLengths: real tokens per row (the rest is padding, masked from attention).
    ///   - returningAttention: also return every layer's attention weights `[B, H, L, L]`.
    /// - Returns: hidden states `[B, L, hidden]` and, on request, the attention weights per layer.
    public func callAsFunction(ids: [[Int]], typeIds: [[Int]]? = nil, validLengths: [Int],
                               returningAttention: Bool = false) -> (hiddenStates: Tensor, attentions: [Tensor]) {
        let hidden = embeddings(ids: ids, typeIds: typeIds)
        return encoder(hidden, mask: .keyPadding(validLengths: validLengths), returningAttention: returningAttention)
    }
}

/// Word, position and token-type embeddings, summed and normalized.
public final class BertEmbeddings: Module {
    @Child("word_embeddings") public var words: Embedding
    @Child("position_embeddings") public var positions: Embedding
    @Child("token_type_embeddings") public var tokenTypes: Embedding
    @Child("LayerNorm") public var norm: LayerNorm

    init(_ c: BertConfiguration) {
        super.init()
        words = Embedding(count: c.vocabularySize, dimension: c.hiddenSize)
        positions = Embedding(count: c.maxPositionEmbeddings, dimension: c.hiddenSize)
        tokenTypes = Embedding(count: c.typeVocabularySize, dimension: c.hiddenSize)
        norm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
    }

    public func callAsFunction(ids: [[Int]], typeIds: [[Int]]?) -> Tensor {
        let length = ids.first?.count ?? 0
        let types = typeIds ?? ids.map { [Int](repeating: 0, count: $0.count) }
        let positionRows = positions(Array(0..<length))                                   // [L, E]
        return norm(words(ids) + positionRows + tokenTypes(types))                        // [B, L, E]
    }
}

/// The stack of BERT layers (`encoder.layer.N.…`).
public final class BertEncoder: Module {
    @Child("layer") public var layers: [BertLayer]

    init(_ c: BertConfiguration) {
        super.init()
        layers = (0..<c.layerCount).map { _ in BertLayer(c) }
    }

    func callAsFunction(_ x: Tensor, mask: AttentionMask, returningAttention: Bool) -> (hiddenStates: Tensor, attentions: [Tensor]) {
        Self.run(layers, x, mask: mask, returningAttention: returningAttention)
    }

    /// `x` through `layers` in turn, collecting each layer's attention weights on request
    /// (LXMERT runs its language and vision stacks this way too).
    static func run(_ layers: [BertLayer], _ x: Tensor, mask: AttentionMask,
                    returningAttention: Bool) -> (hiddenStates: Tensor, attentions: [Tensor]) {
        var h = x
        var attentions: [Tensor] = []
        for layer in layers {
            let (next, weights) = layer(h, mask: mask, returningAttention: returningAttention)
            h = next
            if let weights { attentions.append(weights) }
        }
        return (h, attentions)
    }
}

/// One post-norm BERT layer.
public final class BertLayer: Module {
    @Child("attention") public var attention: BertAttention
    @Child("intermediate") public var intermediate: BertIntermediate
    @Child("output") public var output: BertOutput

    init(_ c: BertConfiguration) {
        super.init()
        attention = BertAttention(c)
        intermediate = BertIntermediate(c)
        output = BertOutput(inputSize: c.intermediateSize, c)
    }

    /// One layer: `[B, L, E]` → `[B, L, E]`, and its attention weights on request.
    public func callAsFunction(_ x: Tensor, mask: AttentionMask, returningAttention: Bool) -> (Tensor, Tensor?) {
        let (attended, weights) = attention(x, mask: mask, returningAttention: returningAttention)
        return (output(intermediate(attended), residual: attended), weights)
    }
}

/// Self-attention (`attention.self.{query,key,value}`) and its output block (`attention.output`).
public final class BertAttention: Module {
    @Child("self") public var projections: BertSelfAttention
    @Child("output") public var output: BertOutput
    let headCount: Int

    init(_ c: BertConfiguration) {
        headCount = c.headCount
        super.init()
        projections = BertSelfAttention(c)
        output = BertOutput(inputSize: c.hiddenSize, c)
    }

    public func callAsFunction(_ x: Tensor, mask: AttentionMask, returningAttention: Bool) -> (Tensor, Tensor?) {
        let p = projections
        let (attended, weights) = selfAttention(x, query: p.query, key: p.key, value: p.value, headCount: headCount,
                                                mask: mask, returningWeights: returningAttention)
        return (output(attended, residual: x), weights)
    }
}

/// The query, key and value projections.
public final class BertSelfAttention: Module {
    @Child("query") public var query: Linear
    @Child("key") public var key: Linear
    @Child("value") public var value: Linear

    init(_ c: BertConfiguration) {
        super.init()
        query = Linear(c.hiddenSize, c.hiddenSize)
        key = Linear(c.hiddenSize, c.hiddenSize)
        value = Linear(c.hiddenSize, c.hiddenSize)
    }
}

/// `dense` then the activation (`intermediate.dense`).
public final class BertIntermediate: Module {
    @Child("dense") public var dense: Linear
    let activation: Activation

    init(_ c: BertConfiguration) {
        guard let activation = c.activation else {
            preconditionFailure("BERT hidden activation \(c.hiddenActivation) is not one of \(BertConfiguration.activations.keys.sorted())")
        }
        self.activation = activation
        super.init()
        dense = Linear(c.hiddenSize, c.intermediateSize)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor { activation(dense(x)) }
}

/// `LayerNorm(residual + dense(x))` (`*.output.dense`, `*.output.LayerNorm`).
public final class BertOutput: Module {
    @Child("dense") public var dense: Linear
    @Child("LayerNorm") public var norm: LayerNorm

    init(inputSize: Int, _ c: BertConfiguration) {
        super.init()
        dense = Linear(inputSize, c.hiddenSize)
        norm = LayerNorm(c.hiddenSize, epsilon: c.layerNormEpsilon)
    }

    public func callAsFunction(_ x: Tensor, residual: Tensor) -> Tensor { norm(residual + dense(x)) }
}
