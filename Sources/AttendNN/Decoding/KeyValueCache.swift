import Attend

/// The keys and values one attention layer has seen so far, `[B, Hkv, T, Dh]`, grown in place
/// (capacity doubles when full) so that a decoding step costs O(T), not a copy of the cache.
public struct KeyValueCache: Sendable {
    private var keyStorage: Tensor?
    private var valueStorage: Tensor?
    /// Tokens cached.
    public private(set) var length = 0

    public init() {}

    /// The cached keys, `[B, Hkv, length, Dh]` (a view).
    public var keys: Tensor? { keyStorage?.sliced(axis: 2, 0..<length) }
    /// The cached values, `[B, Hkv, length, Dv]` (a view).
    public var values: Tensor? { valueStorage?.sliced(axis: 2, 0..<length) }

    /// Appends `keys` `[B, Hkv, n, Dh]` and `values` `[B, Hkv, n, Dv]` and returns everything cached.
    public mutating func append(keys: Tensor, values: Tensor) -> (keys: Tensor, values: Tensor) {
        let added = keys.shape[2]
        precondition(values.shape[2] == added && keys.shape[0] == values.shape[0] && keys.shape[1] == values.shape[1],
                     "KeyValueCache.append: keys \(keys.shape) and values \(values.shape) disagree")
        if let storage = keyStorage {
            precondition(storage.shape[0] == keys.shape[0] && storage.shape[1] == keys.shape[1] && storage.shape[3] == keys.shape[3],
                         "KeyValueCache.append: keys \(keys.shape) do not match the cache \(storage.shape)")
        }
        let needed = length + added
        if needed > (keyStorage?.shape[2] ?? 0) {
            let capacity = Swift.max(needed, 2 * (keyStorage?.shape[2] ?? 0), 16)
            keyStorage = Self.grown(keyStorage, like: keys, length: length, capacity: capacity)
            valueStorage = Self.grown(valueStorage, like: values, length: length, capacity: capacity)
        }
        keyStorage!.assign(keys, alongAxis: 2, at: length)
        valueStorage!.assign(values, alongAxis: 2, at: length)
        length = needed
        return (self.keys!, self.values!)
    }

    /// Makes room for `positions` positions in all (keys and values `[batch, heads, positions, width]`),
    /// so that appends up to that length neither grow nor copy the storage. Does nothing when the
    /// cache already has the room.
    public mutating func reserveCapacity(_ positions: Int, batch: Int = 1, heads: Int, width: Int) {
        guard positions > (keyStorage?.shape[2] ?? 0) else { return }
        let sample = Tensor.zeros([keyStorage?.shape[0] ?? batch, heads, 1, width])
        keyStorage = Self.grown(keyStorage, like: sample, length: length, capacity: positions)
        valueStorage = Self.grown(valueStorage, like: sample, length: length, capacity: positions)
    }

    /// Appends one position of a batch of one from raw `heads × width` keys and values (what a
    /// decoding step computes), then lends `body` the cache's storage: key/value head `g`'s position
    /// `t` at `g·headStride + t·width`, `length` positions (the new one included).
    public mutating func appendPosition<Result>(
        keys: UnsafePointer<Float>, values: UnsafePointer<Float>, heads: Int, width: Int,
        _ body: (_ keys: UnsafePointer<Float>, _ values: UnsafePointer<Float>, _ headStride: Int) -> Result
    ) -> Result {
        if let storage = keyStorage {
            precondition(storage.shape[0] == 1 && storage.shape[1] == heads && storage.shape[3] == width,
                         "KeyValueCache.appendPosition: \(heads) heads of \(width) do not match the cache \(storage.shape)")
        }
        if length + 1 > (keyStorage?.shape[2] ?? 0) {
            let capacity = Swift.max(length + 1, 2 * (keyStorage?.shape[2] ?? 0), 16)
            let sample = Tensor.zeros([1, heads, 1, width])
            keyStorage = Self.grown(keyStorage, like: sample, length: length, capacity: capacity)
            valueStorage = Self.grown(valueStorage, like: sample, length: length, capacity: capacity)
        }
        let capacity = keyStorage!.shape[2], position = length
        func write(_ source: UnsafePointer<Float>, into storage: inout Tensor?) {
            storage!.withUnsafeMutableScalars { target in
                for head in 0..<heads {
                    (target.baseAddress! + (head * capacity + position) * width).update(from: source + head * width, count: width)
                }
            }
        }
        write(keys, into: &keyStorage)
        write(values, into: &valueStorage)
        length += 1
        return keyStorage!.withUnsafeScalars { k in
            valueStorage!.withUnsafeScalars { v in body(k.baseAddress!, v.baseAddress!, capacity * width) }
        }
    }

    /// Keeps batch rows `rows`, in that order (rows may repeat): how beam search follows its beams.
    public func selectingRows(_ rows: [Int]) -> KeyValueCache {
        var copy = KeyValueCache()
        copy.length = length
        copy.keyStorage = keyStorage?.indexSelect(rows, axis: 0)
        copy.valueStorage = valueStorage?.indexSelect(rows, axis: 0)
        return copy
    }

    private static func grown(_ storage: Tensor?, like sample: Tensor, length: Int, capacity: Int) -> Tensor {
        var shape = sample.shape
        shape[2] = capacity
        var fresh = Tensor.zeros(shape)
        if let storage, length > 0 { fresh.assign(storage.sliced(axis: 2, 0..<length), alongAxis: 2, at: 0) }
        return fresh
    }
}

/// What a ``TransformerDecoder`` keeps between incremental steps: each layer's self-attention
/// cache and its cross-attention keys and values, projected from the memory once.
public struct TransformerDecoderCache: Sendable {
    public var selfAttention: [KeyValueCache]
    public var memoryKeys: [Tensor]
    public var memoryValues: [Tensor]
    public var memoryMask: AttentionMask

    /// Tokens decoded so far.
    public var length: Int { selfAttention.first?.length ?? 0 }

    /// Keeps batch rows `rows` (beam search).
    public func selectingRows(_ rows: [Int]) -> TransformerDecoderCache {
        TransformerDecoderCache(selfAttention: selfAttention.map { $0.selectingRows(rows) },
                                memoryKeys: memoryKeys.map { $0.indexSelect(rows, axis: 0) },
                                memoryValues: memoryValues.map { $0.indexSelect(rows, axis: 0) },
                                memoryMask: memoryMask.selectingRows(rows))
    }
}

extension AttentionMask {
    /// The mask for batch rows `rows` (key padding and batch-shaped tensors are reindexed).
    func selectingRows(_ rows: [Int]) -> AttentionMask {
        switch self {
        case .keyPadding(let lengths): .keyPadding(validLengths: rows.map { lengths[$0] })
        case .boolean(let t): .boolean(t.rank == 4 && t.shape[0] > 1 ? t.indexSelect(rows, axis: 0) : t)
        case .additive(let t): .additive(t.rank == 4 && t.shape[0] > 1 ? t.indexSelect(rows, axis: 0) : t)
        case .all(let masks): .all(masks.map { $0.selectingRows(rows) })
        case .none, .causal, .causalLowerRight, .slidingWindow: self
        }
    }
}

extension TransformerDecoder {
    /// A cache for incremental decoding against `memory` `[B, Ls, E]` (the encoder output):
    /// cross-attention keys and values are projected here, once.
    public func makeCache(memory: Tensor, memoryMask: AttentionMask = .none) -> TransformerDecoderCache {
        let projected = layers.map { $0.crossAttention.projectedKeysAndValues(key: memory, value: memory) }
        return TransformerDecoderCache(selfAttention: layers.map { _ in KeyValueCache() },
                                       memoryKeys: projected.map(\.keys), memoryValues: projected.map(\.values),
                                       memoryMask: memoryMask)
    }

    /// Decodes the next `n` positions `x` `[B, n, E]` (usually `n = 1`), attending to everything
    /// cached before them (causally among themselves), and appends them to `cache`.
    /// Gives the same outputs as a full pass with a causal mask.
    public func step(_ x: Tensor, cache: inout TransformerDecoderCache) -> Tensor {
        var h = x
        for (index, layer) in layers.enumerated() {
            h = layer.step(h, cache: &cache.selfAttention[index], memoryKeys: cache.memoryKeys[index],
                           memoryValues: cache.memoryValues[index], memoryMask: cache.memoryMask)
        }
        return norm.map { $0(h) } ?? h
    }
}

extension TransformerDecoderLayer {
    /// One incremental step; see ``TransformerDecoder/step(_:cache:)``.
    public func step(_ x: Tensor, cache: inout KeyValueCache, memoryKeys: Tensor, memoryValues: Tensor,
                     memoryMask: AttentionMask = .none) -> Tensor {
        forward(x, selfAttend: { y in
            let (q, k, v) = selfAttention.projectedHeads(y)      // one packed product when the weights are packed
            let (keys, values) = cache.append(keys: k, values: v)
            return selfAttention.attend(queryHeads: q, keyHeads: keys, valueHeads: values, mask: .causalLowerRight)
        }, crossAttend: { y in
            crossAttention.attend(queryHeads: crossAttention.projectedQuery(y), keyHeads: memoryKeys,
                                  valueHeads: memoryValues, mask: memoryMask)
        })
    }
}
