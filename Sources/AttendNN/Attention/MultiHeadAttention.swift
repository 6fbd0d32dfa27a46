import Attend

/// Multi-head attention over batch-first `[B, L, E]` sequences, with PyTorch's parameter names
/// and layouts (`nn.MultiheadAttention(batch_first=True)`), so its state dict loads as is.
///
/// ```
/// Q = query·W_qᵀ + b_q    K = key·W_kᵀ + b_k    V = value·W_vᵀ + b_v      (split into heads)
/// output = concat_h(attention(Q_h, K_h, V_h, mask)) · W_oᵀ + b_o
/// ```
/// When the key and value widths equal the embedding width and every head has its own
/// key/value head, the three projections are packed in `in_proj_weight [3E, E]` (PyTorch's
/// layout); otherwise they are `q_proj_weight [E, E]`, `k_proj_weight [Hkv·Dh, kdim]` and
/// `v_proj_weight [Hkv·Dh, vdim]`, with biases packed in `in_proj_bias`. With fewer key/value
/// heads (grouped-query attention) query head `h` reads key/value head `h / (H / Hkv)`.
///
/// The fused attention kernel runs unless weights are requested. Masks use Attend's polarity
/// (true = may attend); ``AttentionMask/pyTorchAttentionMask(_:)`` and
/// ``AttentionMask/pyTorchKeyPaddingMask(_:)`` convert PyTorch's (true = blocked).
public final class MultiHeadAttention: Module, RandomStateful {
    public let embedDimension: Int
    public let headCount: Int
    public let keyValueHeadCount: Int
    public let keyDimension: Int
    public let valueDimension: Int
    /// Attention-weight dropout probability (training mode only).
    public let dropout: Float

    @Parameter("in_proj_weight") public var packedProjectionWeight: Tensor?
    @Parameter("q_proj_weight") public var queryProjectionWeight: Tensor?
    @Parameter("k_proj_weight") public var keyProjectionWeight: Tensor?
    @Parameter("v_proj_weight") public var valueProjectionWeight: Tensor?
    @Parameter("in_proj_bias") public var projectionBias: Tensor?
    @Child("out_proj") public var outputProjection: Linear

    private var dropoutGenerator: PhiloxGenerator

    /// - Parameters:
    ///   - embedDimension: `E`, the query width and the output width.
    ///   - headCount: `H`; `E` must be a multiple of it (head width `Dh = E / H`).
    ///   - keyValueHeadCount: `Hkv` (default `H`); `H` must be a multiple of it.
    ///   - keyDimension: width of the key input (default `E`; e.g. image features in cross-modal attention).
    ///   - valueDimension: width of the value input (default `E`).
    ///   - bias: whether the projections have biases.
    ///   - dropout: attention-weight dropout in training mode.
    public init(embedDimension: Int, headCount: Int, keyValueHeadCount: Int? = nil,
                keyDimension: Int? = nil, valueDimension: Int? = nil, bias: Bool = true, dropout: Float = 0) {
        let keyValueHeads = keyValueHeadCount ?? headCount
        precondition(headCount > 0 && embedDimension % headCount == 0,
                     "MultiHeadAttention: embedDimension \(embedDimension) must be a multiple of headCount \(headCount)")
        precondition(keyValueHeads > 0 && headCount % keyValueHeads == 0,
                     "MultiHeadAttention: headCount \(headCount) must be a multiple of keyValueHeadCount \(keyValueHeads)")
        self.embedDimension = embedDimension
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeads
        self.keyDimension = keyDimension ?? embedDimension
        self.valueDimension = valueDimension ?? embedDimension
        self.dropout = dropout
        dropoutGenerator = PhiloxGenerator(seed: Initialization.nextSeed())
        super.init()
        let kvWidth = keyValueHeads * (embedDimension / headCount)
        if isPacked {
            packedProjectionWeight = Initialization.xavierUniform([3 * embedDimension, embedDimension])
        } else {
            queryProjectionWeight = Initialization.xavierUniform([embedDimension, embedDimension])
            keyProjectionWeight = Initialization.xavierUniform([kvWidth, self.keyDimension])
            valueProjectionWeight = Initialization.xavierUniform([kvWidth, self.valueDimension])
        }
        projectionBias = bias ? .zeros([embedDimension + 2 * kvWidth]) : nil
        outputProjection = Linear(embedDimension, embedDimension, bias: bias)
        if bias { outputProjection.bias = .zeros([embedDimension]) }
    }

    /// Whether the projections live in one `in_proj_weight` (PyTorch's layout for equal widths).
    public var isPacked: Bool {
        keyDimension == embedDimension && valueDimension == embedDimension && keyValueHeadCount == headCount
    }

    public var headDimension: Int { embedDimension / headCount }

    /// Attention of `query` `[B, Lq, E]` over `key` `[B, Lk, kdim]` and `value` `[B, Lk, vdim]`;
    /// nil key/value means self-attention. Returns `[B, Lq, E]`.
    public func callAsFunction(_ query: Tensor, key: Tensor? = nil, value: Tensor? = nil,
                               mask: AttentionMask = .none) -> Tensor {
        let (q, k, v) = projectedHeads(query, key: key, value: value)
        return attend(queryHeads: q, keyHeads: k, valueHeads: v, mask: mask)
    }

    /// Like ``callAsFunction(_:key:value:mask:)`` and also the attention weights: per head
    /// `[B, H, Lq, Lk]` by default, or their mean over heads `[B, Lq, Lk]` (PyTorch's default) with
    /// `averagingHeads`.
    public func attentionWithWeights(_ query: Tensor, key: Tensor? = nil, value: Tensor? = nil,
                                     mask: AttentionMask = .none, averagingHeads: Bool = false) -> (output: Tensor, weights: Tensor) {
        let (q, k, v) = projectedHeads(query, key: key, value: value)
        let (rate, seed) = dropoutSettings()
        let (heads, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, mask: mask,
                                                                     dropout: rate, dropoutSeed: seed)
        return (outputProjection(mergeHeads(heads)), averagingHeads ? weights.mean(alongAxes: [1]) : weights)
    }

    /// Attention over already projected heads (query `[B, H, Lq, Dh]`, key and value
    /// `[B, Hkv, Lk, Dh]`), merged and put through the output projection: `[B, Lq, E]`.
    /// With ``projectedQuery(_:)`` and ``projectedKeysAndValues(key:value:)`` this serves key/value caches.
    public func attend(queryHeads: Tensor, keyHeads: Tensor, valueHeads: Tensor, mask: AttentionMask = .none) -> Tensor {
        let (rate, seed) = dropoutSettings()
        let heads = scaledDotProductAttention(query: queryHeads, key: keyHeads, value: valueHeads, mask: mask,
                                              dropout: rate, dropoutSeed: seed)
        return outputProjection(mergeHeads(heads))
    }

    /// The query projection split into heads, `[B, H, L, Dh]`.
    public func projectedQuery(_ query: Tensor) -> Tensor {
        precondition(query.rank == 3 && query.shape[2] == embedDimension,
                     "MultiHeadAttention(E \(embedDimension)) needs query [B, Lq, \(embedDimension)], got \(query.shape)")
        let e = embedDimension
        let weight = packedProjectionWeight?.sliced(axis: 0, 0..<e) ?? queryProjectionWeight!
        return splitHeads(project(query, weight, biasRange: 0..<e), heads: headCount)
    }

    /// The key and value projections split into heads, `[B, Hkv, L, Dh]` each.
    public func projectedKeysAndValues(key: Tensor, value: Tensor) -> (keys: Tensor, values: Tensor) {
        precondition(key.rank == 3 && key.shape[2] == keyDimension && value.rank == 3 && value.shape[2] == valueDimension
                     && key.shape[0] == value.shape[0] && key.shape[1] == value.shape[1],
                     "MultiHeadAttention(kdim \(keyDimension), vdim \(valueDimension)) got key \(key.shape), value \(value.shape)")
        let e = embedDimension, kv = keyValueHeadCount * headDimension
        let weightK = packedProjectionWeight?.sliced(axis: 0, e..<(2 * e)) ?? keyProjectionWeight!
        let weightV = packedProjectionWeight?.sliced(axis: 0, (2 * e)..<(3 * e)) ?? valueProjectionWeight!
        return (splitHeads(project(key, weightK, biasRange: e..<(e + kv)), heads: keyValueHeadCount),
                splitHeads(project(value, weightV, biasRange: (e + kv)..<(e + 2 * kv)), heads: keyValueHeadCount))
    }

    /// Projects and splits into heads: query `[B, H, Lq, Dh]`, key and value `[B, Hkv, Lk, Dh]`
    /// (views of `[B, L, heads, Dh]` storage; no copies). Self-attention with packed weights
    /// uses one product for all three.
    public func projectedHeads(_ query: Tensor, key: Tensor? = nil, value: Tensor? = nil) -> (Tensor, Tensor, Tensor) {
        let key = key ?? query, value = value ?? key
        precondition(key.shape[0] == query.shape[0], "MultiHeadAttention: batch of key \(key.shape) differs from query \(query.shape)")
        if let packed = packedProjectionWeight, key.isIdenticalView(to: query), value.isIdenticalView(to: query) {
            precondition(query.rank == 3 && query.shape[2] == embedDimension,
                         "MultiHeadAttention(E \(embedDimension)) needs query [B, Lq, \(embedDimension)], got \(query.shape)")
            let e = embedDimension
            let all = project(query, packed, biasRange: 0..<(3 * e))                     // [B, L, 3E]
            return (splitHeads(all.sliced(axis: 2, 0..<e), heads: headCount),
                    splitHeads(all.sliced(axis: 2, e..<(2 * e)), heads: headCount),
                    splitHeads(all.sliced(axis: 2, (2 * e)..<(3 * e)), heads: headCount))
        }
        let (k, v) = projectedKeysAndValues(key: key, value: value)
        return (projectedQuery(query), k, v)
    }

    /// `x·Wᵀ + b[biasRange]`.
    private func project(_ x: Tensor, _ weight: Tensor, biasRange: Range<Int>) -> Tensor {
        let y = matmul(x, weight.transposed())
        return projectionBias.map { y + $0.sliced(axis: 0, biasRange) } ?? y
    }

    public var randomState: PhiloxGenerator.Snapshot {
        get { dropoutGenerator.snapshot }
        set { dropoutGenerator = PhiloxGenerator(snapshot: newValue) }
    }

    private func dropoutSettings() -> (Float, UInt64) {
        guard isTraining && dropout > 0 else { return (0, 0) }
        return (dropout, dropoutGenerator.next())
    }
}

extension AttentionMask {
    /// Converts PyTorch's `attn_mask` for `nn.MultiheadAttention` / `nn.Transformer`: a boolean
    /// `[Lq, Lk]` where true (nonzero) means *may not* attend, or a float mask added to the scores.
    public static func pyTorchAttentionMask(_ mask: Tensor, isBoolean: Bool = true) -> AttentionMask {
        isBoolean ? .boolean(1 - mask.detached) : .additive(mask)
    }

    /// Converts PyTorch's `key_padding_mask` `[B, Lk]`, where true (nonzero) marks padding.
    public static func pyTorchKeyPaddingMask(_ mask: Tensor) -> AttentionMask {
        precondition(mask.rank == 2, "key_padding_mask must be [B, Lk], got \(mask.shape)")
        return .boolean((1 - mask.detached).reshaped([mask.shape[0], 1, 1, mask.shape[1]]))
    }
}
