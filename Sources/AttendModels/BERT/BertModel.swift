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
        self(wordVectors: words(ids), typeIds: typeIds ?? ids.map { [Int](repeating: 0, count: $0.count) })
    }

    /// The same from word vectors `[B, L, E]` instead of ids (attributions differentiate through them).
    public func callAsFunction(wordVectors: Tensor, typeIds: [[Int]]) -> Tensor {
        let length = wordVectors.shape[1]
        let positionRows = positions(Array(0..<length))                                   // [L, E]
        return norm(wordVectors + positionRows + tokenTypes(typeIds))                     // [B, L, E]
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
    /// Heads left after ``prune(heads:)`` (the configuration's count until then).
    public private(set) var headCount: Int
    /// The original indices of the heads left, in order (`0..<H` until pruned).
    public private(set) var remainingHeads: [Int]
    /// `[headCount]` factors on each head's output (nil: all 1) — Michel et al.'s gates, for
    /// measuring head importance (``HeadImportance``).
    public var headGate: Tensor?

    init(_ c: BertConfiguration) {
        headCount = c.headCount
        remainingHeads = Array(0..<c.headCount)
        super.init()
        projections = BertSelfAttention(c)
        output = BertOutput(inputSize: c.hiddenSize, c)
    }

    public func callAsFunction(_ x: Tensor, mask: AttentionMask, returningAttention: Bool) -> (Tensor, Tensor?) {
        let p = projections
        let (attended, weights) = selfAttention(x, query: p.query, key: p.key, value: p.value, headCount: headCount,
                                                mask: mask, returningWeights: returningAttention, headGate: headGate)
        return (output(attended, residual: x), weights)
    }

    /// Removes `heads` (original indices) from the query, key and value projections' rows and
    /// the output projection's columns, as Hugging Face's `prune_heads`: the layer gets smaller
    /// and faster, and equals the unpruned layer with those heads' outputs set to zero.
    ///
    /// - Precondition: at least one head remains and the projections are not quantized yet
    ///   (prune first, then quantize).
    public func prune(heads: Set<Int>) {
        let p = projections
        guard let pruned = PrunedProjections(removing: heads, from: remainingHeads, query: p.query, key: p.key,
                                             value: p.value, output: output.dense) else { return }
        (p.query, p.key, p.value, output.dense) = (pruned.query, pruned.key, pruned.value, pruned.output)
        remainingHeads = pruned.remainingHeads
        headCount = remainingHeads.count
        headGate = nil
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
