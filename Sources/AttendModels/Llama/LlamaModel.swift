import Attend
import AttendNN

/// A Llama-family decoder-only language model (Llama 2/3, SmolLM2, TinyLlama, …), readable top to
/// bottom:
///
/// ```
/// h = embed(tokens)                                         [B, L, E]
/// for each block:
///     h = h + attention(rmsNorm(h))      grouped-query, RoPE, causal (with a KV cache when decoding)
///     h = h + swiGLU(rmsNorm(h))
/// logits = rmsNorm(h) · Wₒᵤₜᵀ                                [B, L, V]   (Wₒᵤₜ = the embedding when tied)
/// ```
/// Parameter names are Hugging Face's (`model.layers.N.self_attn.q_proj.weight`, …); GGUF files
/// are renamed to them as they load (``LlamaModel/load(gguf:)``). Projections are `any LinearLayer`,
/// so a model from a GGUF file keeps its 4-bit weights and one from safetensors is Float32.
public final class LlamaModel: Module {
    public let configuration: LlamaConfiguration
    @Child("model.embed_tokens") public var tokenEmbedding: any TokenEmbeddingTable
    @Child("model.layers") public var layers: [LlamaDecoderLayer]
    @Child("model.norm") public var norm: RMSNorm
    /// The output projection, nil when it is tied to ``tokenEmbedding``.
    @Child("lm_head") public var outputProjection: (any LinearLayer)?
    /// How a decoding step's activations meet block-quantized weights: 16-bit blocks by default
    /// (logits within ~1e-4 of Float32's); `.int8` is llama.cpp's scheme (faster, 1–8% off on SmolLM2).
    public var decodingPrecision: ActivationPrecision = .int16 {
        didSet { precondition(decodingPrecision != .float32, "decoding steps quantize their activations: .int16 or .int8") }
    }

    /// The raw-buffer decoding step, for models whose projections are all block-quantized
    /// (built per call from the current layers: a few microseconds).
    var decodingStep: LlamaDecodingStep? { LlamaDecodingStep(self) }

    /// A model whose every projection `makeProjection(name, in, out)` builds (Float32 ``Linear`` by
    /// default: randomly initialized, for tests and training), with the given token table.
    public init(configuration: LlamaConfiguration, tokenEmbedding: (any TokenEmbeddingTable)? = nil,
                makeProjection: (String, Int, Int) throws -> any LinearLayer = { _, input, output in Linear(input, output, bias: false) })
        rethrows {
        let c = configuration
        self.configuration = c
        super.init()
        self.tokenEmbedding = tokenEmbedding ?? Embedding(count: c.vocabularySize, dimension: c.hiddenSize)
        let rotary = RotaryEmbedding(dimension: c.headDimension, base: c.ropeBase, pairing: c.ropePairing,
                                     maximumPositions: Swift.min(c.contextLength, 8192))
        layers = try (0..<c.layerCount).map { index in
            try LlamaDecoderLayer(configuration: c, rotary: rotary) { name, input, output in
                try makeProjection("model.layers.\(index).\(name)", input, output)
            }
        }
        norm = RMSNorm(c.hiddenSize, epsilon: c.rmsNormEpsilon)
        outputProjection = c.tiesWordEmbeddings ? nil : try makeProjection("lm_head", c.hiddenSize, c.vocabularySize)
    }

    /// Logits `[B, L, V]` for equally long sequences, every position attending causally to the
    /// ones before it (training, evaluation).
    public func callAsFunction(_ tokens: [[Int]]) -> Tensor {
        var caches: [KeyValueCache]? = nil
        return logits(hiddenStates(tokens, caches: &caches))
    }

    /// Logits for `tokens` (one sequence) continuing what `cache` holds: `[1, V]` for the last
    /// position, or `[n, V]` for every position with `allPositions`. Appends the tokens' keys
    /// and values to the cache, so the next call continues after them (the prompt in one
    /// batched pass, then one token per call).
    public func logits(for tokens: [Int], cache: inout LlamaCache, allPositions: Bool = false) -> Tensor {
        precondition(!tokens.isEmpty, "LlamaModel.logits needs at least one token")
        if tokens.count == 1, !isTraining, let step = decodingStep {
            return step(embedding: tokenEmbedding(tokens), configuration: configuration,
                        precision: decodingPrecision, cache: &cache)
        }
        var caches: [KeyValueCache]? = cache.layers
        cache.layers = []                                                    // unique: appends stay in place
        let hidden = hiddenStates([tokens], caches: &caches)                  // [1, n, E]
        cache.layers = caches!
        let rows = allPositions ? hidden : hidden.sliced(axis: 1, (tokens.count - 1)..<tokens.count)
        return logits(rows).reshaped([-1, configuration.vocabularySize])
    }

    /// One decoding step for N independent sequences — continuous batching: sequence `i` reads
    /// `tokens[i]` at its own position `caches[i].length` and appends it to `caches[i]`; returns the
    /// logits `[N, V]` of the next token of each. The projections of a block-quantized model run
    /// once for all N (each weight is read from memory once per step, whatever N), so N sequences
    /// cost far less than N steps; attention runs per sequence over its own cache. Each row equals
    /// ``logits(for:cache:allPositions:)`` for that sequence alone up to float rounding (exactly,
    /// for N = 1).
    public func logits(nextTokens tokens: [Int], caches: inout [LlamaCache]) -> Tensor {
        precondition(!tokens.isEmpty && tokens.count == caches.count, "LlamaModel.logits(nextTokens:caches:) needs one token per cache")
        if !isTraining, let step = decodingStep {
            return step(embeddings: tokenEmbedding(tokens), configuration: configuration, precision: decodingPrecision, caches: &caches)
        }
        // Float32 projections: one sequence at a time (the tensor path is the reference).
        let rows = tokens.indices.map { index in logits(for: [tokens[index]], cache: &caches[index]) }
        return Tensor.concatenate(rows, axis: 0)
    }

    /// Logits `[B, L, V]` from input vectors `[B, L, E]` instead of ids, causal, no cache — what
    /// attributions differentiate through. `attentionGates` (one `[B, H, L, L]` per layer) multiply
    /// each layer's attention weights before they meet the values; at 1 the output is unchanged and
    /// `∂f/∂gate = A ⊙ ∂f/∂A`, the product gradient-weighted attention needs.
    public func logits(embeddings: Tensor, attentionGates: [Tensor]? = nil) -> Tensor {
        precondition(embeddings.rank == 3 && embeddings.shape[2] == configuration.hiddenSize,
                     "LlamaModel.logits(embeddings:) needs [B, L, \(configuration.hiddenSize)], got \(embeddings.shape)")
        precondition(attentionGates.map { $0.count == layers.count } ?? true, "one attention gate per layer")
        var h = embeddings
        for (index, layer) in layers.enumerated() {
            if let gate = attentionGates?[index] {
                h = h + layer.attention.gated(layer.attentionNorm(h), gate: gate)
                h = h + layer.feedForward(layer.feedForwardNorm(h))
            } else {
                var none: KeyValueCache? = nil
                h = layer(h, cache: &none)
            }
        }
        return logits(h)
    }

    /// Token vectors `[1, L, E]` for `tokens` (the input ``logits(embeddings:attentionGates:)`` takes).
    public func embeddings(_ tokens: [Int]) -> Tensor { embed([tokens]) }

    /// A cache for this model's layers, empty; with `capacity`, room for that many positions is
    /// allocated now (no growth, no copies, memory known up front).
    public func makeCache(capacity: Int = 0) -> LlamaCache {
        var cache = LlamaCache(layerCount: layers.count)
        if capacity > 0 { cache.reserveCapacity(capacity, configuration: configuration) }
        return cache
    }

    /// Every layer's attention weights `[B, H, L, L]` for `tokens` (the view `attend visualize` draws).
    public func attentionWeights(_ tokens: [[Int]]) -> [Tensor] {
        var h = embed(tokens)
        var weights: [Tensor] = []
        for layer in layers {
            let (output, layerWeights) = layer.returningWeights(h)
            h = output
            weights.append(layerWeights)
        }
        return weights
    }

    /// `[B, L]` ids → `[B, L, E]`.
    func embed(_ tokens: [[Int]]) -> Tensor {
        let length = tokens.first?.count ?? 0
        precondition(tokens.allSatisfy { $0.count == length }, "LlamaModel: sequences in a batch must have equal lengths")
        return tokenEmbedding(tokens.flatMap { $0 }).reshaped([tokens.count, length, configuration.hiddenSize])
    }

    /// The residual stream after the last block, before the final norm.
    func hiddenStates(_ tokens: [[Int]], caches: inout [KeyValueCache]?) -> Tensor {
        var h = embed(tokens)                                                 // [B, L, E]
        for (index, layer) in layers.enumerated() {
            if caches == nil {
                var none: KeyValueCache? = nil
                h = layer(h, cache: &none)
            } else {
                var layerCache: KeyValueCache? = caches![index]
                caches![index] = KeyValueCache()                              // unique while appending
                h = layer(h, cache: &layerCache)
                caches![index] = layerCache!
            }
        }
        return h
    }

    /// Final norm and output projection: `[…, E]` → `[…, V]`.
    func logits(_ hidden: Tensor) -> Tensor {
        let normalized = norm(hidden)
        return outputProjection.map { $0(normalized) } ?? tokenEmbedding.scores(normalized)
    }
}

/// What a ``LlamaModel`` keeps between calls while it generates: each layer's keys and values.
public struct LlamaCache: Sendable {
    public var layers: [KeyValueCache]
    public init(layerCount: Int) { layers = Array(repeating: KeyValueCache(), count: layerCount) }
    /// Tokens cached so far (the position the next token gets).
    public var length: Int { layers.first?.length ?? 0 }

    /// Makes room for `positions` positions in every layer.
    public mutating func reserveCapacity(_ positions: Int, configuration c: LlamaConfiguration) {
        for index in layers.indices {
            layers[index].reserveCapacity(positions, heads: c.keyValueHeadCount, width: c.headDimension)
        }
    }
}

/// One Llama block: pre-norm grouped-query attention and a pre-norm SwiGLU feed-forward, each
/// added to the residual stream.
public final class LlamaDecoderLayer: Module {
    @Child("input_layernorm") public var attentionNorm: RMSNorm
    @Child("self_attn") public var attention: LlamaAttention
    @Child("post_attention_layernorm") public var feedForwardNorm: RMSNorm
    @Child("mlp") public var feedForward: GatedFeedForward

    init(configuration c: LlamaConfiguration, rotary: RotaryEmbedding,
         makeProjection: (String, Int, Int) throws -> any LinearLayer) rethrows {
        super.init()
        attentionNorm = RMSNorm(c.hiddenSize, epsilon: c.rmsNormEpsilon)
        attention = try LlamaAttention(configuration: c, rotary: rotary) { try makeProjection("self_attn." + $0, $1, $2) }
        feedForwardNorm = RMSNorm(c.hiddenSize, epsilon: c.rmsNormEpsilon)
        feedForward = GatedFeedForward(gate: try makeProjection("mlp.gate_proj", c.hiddenSize, c.intermediateSize),
                                       up: try makeProjection("mlp.up_proj", c.hiddenSize, c.intermediateSize),
                                       down: try makeProjection("mlp.down_proj", c.intermediateSize, c.hiddenSize))
    }

    /// `[B, L, E]` → `[B, L, E]`; with a cache, the positions continue after what it holds.
    public func callAsFunction(_ x: Tensor, cache: inout KeyValueCache?) -> Tensor {
        let h = x + attention(attentionNorm(x), cache: &cache)
        return h + feedForward(feedForwardNorm(h))
    }

    /// The block's output and its attention weights `[B, H, L, L]` (no cache).
    func returningWeights(_ x: Tensor) -> (Tensor, Tensor) {
        let (attended, weights) = attention.returningWeights(attentionNorm(x))
        let h = x + attended
        return (h + feedForward(feedForwardNorm(h)), weights)
    }
}

/// Llama's self-attention: separate q/k/v/o projections without biases, RoPE on queries and keys,
/// `H` query heads sharing `Hkv` key/value heads, causal.
///
/// ```
/// q = rope(split(x·W_qᵀ, H))      k = rope(split(x·W_kᵀ, Hkv))      v = split(x·W_vᵀ, Hkv)
/// y = merge(softmax(q·kᵀ/√Dh + causal) · v) · W_oᵀ
/// ```
public final class LlamaAttention: Module {
    @Child("q_proj") public var queryProjection: any LinearLayer
    @Child("k_proj") public var keyProjection: any LinearLayer
    @Child("v_proj") public var valueProjection: any LinearLayer
    @Child("o_proj") public var outputProjection: any LinearLayer
    public let headCount: Int
    public let keyValueHeadCount: Int
    public let rotary: RotaryEmbedding

    init(configuration c: LlamaConfiguration, rotary: RotaryEmbedding,
         makeProjection: (String, Int, Int) throws -> any LinearLayer) rethrows {
        headCount = c.headCount
        keyValueHeadCount = c.keyValueHeadCount
        self.rotary = rotary
        super.init()
        let keyValueWidth = c.keyValueHeadCount * c.headDimension
        queryProjection = try makeProjection("q_proj", c.hiddenSize, c.hiddenSize)
        keyProjection = try makeProjection("k_proj", c.hiddenSize, keyValueWidth)
        valueProjection = try makeProjection("v_proj", c.hiddenSize, keyValueWidth)
        outputProjection = try makeProjection("o_proj", c.hiddenSize, c.hiddenSize)
    }

    /// `x` `[B, L, E]` → `[B, L, E]`. With a cache, `x` sits at positions `cache.length…` and attends
    /// to everything cached (causal lower-right); its keys and values are appended.
    public func callAsFunction(_ x: Tensor, cache: inout KeyValueCache?) -> Tensor {
        let offset = cache?.length ?? 0
        let q = rotary(splitHeads(queryProjection(x), heads: headCount), offset: offset)            // [B, H, L, Dh]
        var k = rotary(splitHeads(keyProjection(x), heads: keyValueHeadCount), offset: offset)       // [B, Hkv, L, Dh]
        var v = splitHeads(valueProjection(x), heads: keyValueHeadCount)                             // [B, Hkv, L, Dh]
        if cache != nil { (k, v) = cache!.append(keys: k, values: v) }                              // [B, Hkv, T, Dh]
        let heads = scaledDotProductAttention(query: q, key: k, value: v, mask: cache == nil ? .causal : .causalLowerRight)
        return outputProjection(mergeHeads(heads))                                                   // [B, L, E]
    }

    /// Causal self-attention with the weights multiplied by `gate` `[B, H, L, L]` before they meet the
    /// values (explicit weights: the reference path), for gradient-weighted attention.
    func gated(_ x: Tensor, gate: Tensor) -> Tensor {
        let q = rotary(splitHeads(queryProjection(x), heads: headCount))
        let k = rotary(splitHeads(keyProjection(x), heads: keyValueHeadCount))
        let v = splitHeads(valueProjection(x), heads: keyValueHeadCount)
        let (_, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: .causal)   // [B, H, L, L]
        let group = headCount / keyValueHeadCount
        let values = v.indexSelect((0..<headCount).map { $0 / group }, axis: 1)                              // [B, H, L, Dh]
        return outputProjection(mergeHeads(matmul(weights * gate, values)))
    }

    /// The output and the attention weights `[B, H, L, L]` (no cache; the reference path).
    func returningWeights(_ x: Tensor) -> (Tensor, Tensor) {
        let q = rotary(splitHeads(queryProjection(x), heads: headCount))
        let k = rotary(splitHeads(keyProjection(x), heads: keyValueHeadCount))
        let v = splitHeads(valueProjection(x), heads: keyValueHeadCount)
        let (heads, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: .causal)
        return (outputProjection(mergeHeads(heads)), weights)
    }
}
