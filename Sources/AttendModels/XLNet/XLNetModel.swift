import Attend
import AttendNN

/// The sizes of an XLNet model (Hugging Face's `XLNetConfig`, bidirectional attention, no memory).
public struct XLNetConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var modelDimension: Int
    public var layerCount: Int
    public var headCount: Int
    public var headDimension: Int
    public var innerDimension: Int
    public var activation: Activation
    public var layerNormEpsilon: Float

    public init(vocabularySize: Int, modelDimension: Int, layerCount: Int, headCount: Int, headDimension: Int? = nil,
                innerDimension: Int, activation: Activation = .gelu, layerNormEpsilon: Float = 1e-12) {
        (self.vocabularySize, self.modelDimension, self.layerCount, self.headCount) = (vocabularySize, modelDimension, layerCount, headCount)
        self.headDimension = headDimension ?? modelDimension / headCount
        (self.innerDimension, self.activation, self.layerNormEpsilon) = (innerDimension, activation, layerNormEpsilon)
    }
}

/// XLNet's encoder (Hugging Face's `XLNetModel`: `word_embedding`, `mask_emb`, `layer.N.rel_attn`,
/// `layer.N.ff`), running the content stream and, when targets are given, the query stream.
public final class XLNetModel: Module {
    public let configuration: XLNetConfiguration
    @Child("word_embedding") public var wordEmbedding: Embedding
    /// The query stream's starting state `g⁽⁰⁾`, `[1, 1, D]`.
    @Parameter("mask_emb") public var maskEmbedding: Tensor
    @Child("layer") public var layers: [XLNetLayer]

    public init(configuration c: XLNetConfiguration) {
        configuration = c
        super.init()
        wordEmbedding = Embedding(count: c.vocabularySize, dimension: c.modelDimension)
        maskEmbedding = Initialization.normal([1, 1, c.modelDimension], standardDeviation: 0.02)
        layers = (0..<c.layerCount).map { _ in XLNetLayer(c) }
    }

    /// What one pass computes.
    public struct Output {
        /// The query stream's final state `[B, P, D]` when targets were given, else the content stream's `[B, L, D]`.
        public var lastHiddenState: Tensor
        /// Each layer's input and the final state, `h` then `g` for every step when there are two streams
        /// (Hugging Face's `hidden_states` order).
        public var hiddenStates: [Tensor]
        /// Per layer, the content stream's weights and (with targets) the query stream's, `[B, H, L, L]`.
        public var attentions: [(content: Tensor, query: Tensor?)]
    }

    /// - Parameters:
    ///   - ids: `[B][L]` token ids.
    ///   - attentionMask: `[B][L]`, 1 for real tokens and 0 for padding (default: all real).
    ///   - permutationMask: `[B, L, L]` in XLNet's polarity: 1 where token `i` may **not** attend to `j`
    ///     (see ``PermutationLanguageModeling/permutationMask(order:)``).
    ///   - targetMapping: `[B, P, L]`: row `p` is one-hot at the position that query-stream row `p` predicts.
    ///   - tokenTypeIds: `[B][L]` segment ids.
    public func callAsFunction(ids: [[Int]], attentionMask: [[Int]]? = nil, permutationMask: Tensor? = nil,
                               targetMapping: Tensor? = nil, tokenTypeIds: [[Int]]? = nil,
                               returningAttention: Bool = false) -> Output {
        let (b, l, d) = (ids.count, ids.first?.count ?? 0, configuration.modelDimension)
        precondition(ids.allSatisfy { $0.count == l }, "XLNet: every row of ids needs \(l) tokens")
        precondition(attentionMask.map { $0.count == b && $0.allSatisfy { $0.count == l } } ?? true,
                     "XLNet: attentionMask must be [\(b)][\(l)] like ids")
        precondition(tokenTypeIds.map { $0.count == b && $0.allSatisfy { $0.count == l } } ?? true,
                     "XLNet: tokenTypeIds must be [\(b)][\(l)] like ids")
        precondition(permutationMask.map { $0.shape == [b, l, l] } ?? true,
                     "XLNet: permutationMask must be [\(b), \(l), \(l)], got \(permutationMask?.shape ?? [])")
        precondition(targetMapping.map { $0.rank == 3 && $0.shape[0] == b && $0.shape[2] == l } ?? true,
                     "XLNet: targetMapping must be [\(b), P, \(l)], got \(targetMapping?.shape ?? [])")
        var h = wordEmbedding(ids)                                                               // [B, L, D]
        var g = targetMapping.map { maskEmbedding.expanded(to: [b, $0.shape[1], d]) }           // [B, P, D]
        let (contentMask, queryMask) = XLNetModel.masks(batch: b, length: l, attentionMask: attentionMask, permutationMask: permutationMask)
        let segments = tokenTypeIds.map { types in
            Tensor(shape: [b, 1, l, l], scalars: types.flatMap { row in row.flatMap { a in row.map { $0 == a ? 0 : 1 } } })
        }
        let context = TwoStreamAttention.Context(
            positions: TwoStreamAttention.relativePositionEncoding(queryLength: l, keyLength: l, dimension: d),
            segmentDifference: segments, contentMask: contentMask, queryMask: queryMask, targetMapping: targetMapping)
        var output = Output(lastHiddenState: h, hiddenStates: [], attentions: [])
        for layer in layers {
            output.hiddenStates.append(h)
            if let g { output.hiddenStates.append(g) }
            let step = layer(content: h, query: g, context: context, returningWeights: returningAttention)
            (h, g) = (step.content, step.query)
            if let weights = step.contentWeights { output.attentions.append((weights, step.queryWeights)) }
        }
        output.hiddenStates.append(h)
        if let g { output.hiddenStates.append(g) }
        output.lastHiddenState = g ?? h
        return output
    }

    /// Additive masks `[B, 1, L, L]` (−10³⁰ where blocked) for the content stream (which always
    /// sees itself) and the query stream, from padding and the permutation mask; nil when nothing is masked.
    static func masks(batch b: Int, length l: Int, attentionMask: [[Int]]?, permutationMask: Tensor?) -> (Tensor?, Tensor?) {
        guard attentionMask != nil || permutationMask != nil else { return (nil, nil) }
        let permutation = permutationMask?.scalars
        var content = [Float](repeating: 0, count: b * l * l), query = content
        for batch in 0..<b {
            for i in 0..<l {
                for j in 0..<l {
                    let padding: Float = attentionMask.map { $0[batch][j] == 0 ? 1 : 0 } ?? 0
                    let blocked = padding + (permutation?[(batch * l + i) * l + j] ?? 0) > 0
                    let index = (batch * l + i) * l + j
                    query[index] = blocked ? -1e30 : 0
                    content[index] = blocked && i != j ? -1e30 : 0
                }
            }
        }
        return (Tensor(shape: [b, 1, l, l], scalars: content), Tensor(shape: [b, 1, l, l], scalars: query))
    }
}

/// Two-stream attention, then the position-wise feed-forward block on each stream.
public final class XLNetLayer: Module {
    @Child("rel_attn") public var attention: TwoStreamAttention
    @Child("ff") public var feedForward: XLNetFeedForward

    init(_ c: XLNetConfiguration) {
        super.init()
        attention = TwoStreamAttention(modelDimension: c.modelDimension, headCount: c.headCount, headDimension: c.headDimension,
                                       layerNormEpsilon: c.layerNormEpsilon)
        feedForward = XLNetFeedForward(c)
    }

    func callAsFunction(content h: Tensor, query g: Tensor?, context: TwoStreamAttention.Context, returningWeights: Bool)
        -> (content: Tensor, query: Tensor?, contentWeights: Tensor?, queryWeights: Tensor?) {
        let step = attention(content: h, query: g, context: context, returningWeights: returningWeights)
        return (feedForward(step.content), step.query.map { feedForward($0) }, step.contentWeights, step.queryWeights)
    }
}

/// `LN(x + layer_2(act(layer_1(x))))`.
public final class XLNetFeedForward: Module {
    @Child("layer_norm") public var norm: LayerNorm
    @Child("layer_1") public var layer1: Linear
    @Child("layer_2") public var layer2: Linear
    let activation: Activation

    init(_ c: XLNetConfiguration) {
        activation = c.activation
        super.init()
        norm = LayerNorm(c.modelDimension, epsilon: c.layerNormEpsilon)
        layer1 = Linear(c.modelDimension, c.innerDimension)
        layer2 = Linear(c.innerDimension, c.modelDimension)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { norm(x + layer2(activation(layer1(x)))) }
}

/// XLNet with its language-modelling head (Hugging Face's `XLNetLMHeadModel`: `transformer.…`,
/// `lm_loss.…`, the head's weight tied to the word embedding).
public final class XLNetLMHeadModel: Module {
    @Child("transformer") public var transformer: XLNetModel
    @Child("lm_loss") public var head: Linear

    public init(configuration c: XLNetConfiguration) {
        super.init()
        transformer = XLNetModel(configuration: c)
        head = Linear(c.modelDimension, c.vocabularySize)
    }

    /// Logits `[B, P, V]` (or `[B, L, V]` without targets), with the encoder's output.
    public func callAsFunction(ids: [[Int]], attentionMask: [[Int]]? = nil, permutationMask: Tensor? = nil,
                               targetMapping: Tensor? = nil, tokenTypeIds: [[Int]]? = nil,
                               returningAttention: Bool = false) -> (logits: Tensor, output: XLNetModel.Output) {
        let output = transformer(ids: ids, attentionMask: attentionMask, permutationMask: permutationMask,
                                 targetMapping: targetMapping, tokenTypeIds: tokenTypeIds, returningAttention: returningAttention)
        return (head(output.lastHiddenState), output)
    }

    /// Loads a Hugging Face state dict; a missing `lm_loss.weight` is tied to the word embedding.
    public func loadTiedStateDict(_ state: [String: Tensor]) throws {
        var state = state
        if state["lm_loss.weight"] == nil, let embedding = state["transformer.word_embedding.weight"] {
            state["lm_loss.weight"] = embedding
        }
        try loadStateDict(state, strict: true)
    }
}

/// Permutation language modelling: factorization orders, the masks they imply, and target maps.
public enum PermutationLanguageModeling {
    /// A random order of `0..<length` (Fisher–Yates) from the generator.
    public static func factorizationOrder(length: Int, using generator: inout PhiloxGenerator) -> [Int] {
        generator.permutation(of: length)
    }

    /// `[L, L]` in XLNet's polarity: 1 where token `i` may **not** attend to `j`, i.e. where `j`
    /// comes at or after `i` in `order`. The query stream then sees strictly earlier tokens and
    /// the content stream (which also sees itself) those up to its own.
    public static func permutationMask(order: [Int]) -> Tensor {
        let l = order.count
        var rank = [Int](repeating: 0, count: l)
        for (position, token) in order.enumerated() { rank[token] = position }
        return Tensor(shape: [l, l], scalars: (0..<l).flatMap { i in (0..<l).map { j in rank[j] >= rank[i] ? 1 : 0 } })
    }

    /// `[P, L]` one-hot rows selecting the `positions` to predict.
    public static func targetMapping(positions: [Int], length: Int) -> Tensor {
        Tensor(shape: [positions.count, length], scalars: positions.flatMap { p in (0..<length).map { $0 == p ? 1 : 0 } })
    }
}
