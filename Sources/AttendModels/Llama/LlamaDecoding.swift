import Attend
import AttendNN

/// The token-at-a-time step of a ``LlamaModel`` whose projections are all block-quantized (a GGUF
/// model): the same arithmetic as the tensor path — the same quantized products, RMSNorm, RoPE and
/// attention kernels — on raw buffers, so that a step costs its ~200 products and little else.
/// The model's tensor path remains the reference; tests compare the two.
struct LlamaDecodingStep {
    struct Layer {
        let attentionNorm: Tensor, feedForwardNorm: Tensor
        let query: BlockQuantizedMatrix, key: BlockQuantizedMatrix, value: BlockQuantizedMatrix, output: BlockQuantizedMatrix
        let gate: BlockQuantizedMatrix, up: BlockQuantizedMatrix, down: BlockQuantizedMatrix
    }
    let layers: [Layer]
    let finalNorm: Tensor
    let outputMatrix: BlockQuantizedMatrix
    let rotary: RotaryEmbedding

    /// The plan for `model`, or nil when a projection is not block-quantized (a Float32 model).
    init?(_ model: LlamaModel) {
        func blocks(_ layer: Any) -> BlockQuantizedMatrix? { (layer as? BlockQuantizedLinear).flatMap { $0.bias == nil ? $0.matrix : nil } }
        var layers: [Layer] = []
        for layer in model.layers {
            let attention = layer.attention, ffn = layer.feedForward
            guard let q = blocks(attention.queryProjection), let k = blocks(attention.keyProjection),
                  let v = blocks(attention.valueProjection), let o = blocks(attention.outputProjection),
                  let g = blocks(ffn.gate), let u = blocks(ffn.up), let d = blocks(ffn.down) else { return nil }
            layers.append(Layer(attentionNorm: layer.attentionNorm.weight.contiguous(), feedForwardNorm: layer.feedForwardNorm.weight.contiguous(),
                                query: q, key: k, value: v, output: o, gate: g, up: u, down: d))
        }
        guard let output = model.outputProjection.map(blocks) ?? blocks(model.tokenEmbedding) else { return nil }
        self.layers = layers
        finalNorm = model.norm.weight.contiguous()
        outputMatrix = output
        rotary = model.layers.first?.attention.rotary ?? RotaryEmbedding(dimension: model.configuration.headDimension)
    }

    /// Logits `[1, V]` for one token (its `embedding` `[1, E]`) at position `cache.length`; appends its keys and values to `cache`.
    func callAsFunction(embedding: Tensor, configuration c: LlamaConfiguration, precision: ActivationPrecision,
                        cache: inout LlamaCache) -> Tensor {
        var caches = [cache]
        cache = LlamaCache(layerCount: 0)                        // the array holds the only reference: appends stay in place
        defer { cache = caches.removeLast() }
        return self(embeddings: embedding, configuration: c, precision: precision, caches: &caches)
    }

    /// Logits `[N, V]` for N sequences that each read one more token (row `i` of `embeddings`
    /// `[N, E]`) at its own position `caches[i].length`, appending to its own cache: continuous
    /// batching. The projections run once for all N rows (every weight read once per step, not once
    /// per sequence); RoPE and attention run per sequence over its own cache. With N = 1 this is
    /// the single-sequence step, to the bit.
    func callAsFunction(embeddings: Tensor, configuration c: LlamaConfiguration, precision: ActivationPrecision,
                        caches: inout [LlamaCache]) -> Tensor {
        let (width, heads, keyValueHeads, headWidth, hidden) = (c.hiddenSize, c.headCount, c.keyValueHeadCount, c.headDimension, c.intermediateSize)
        let n = caches.count
        precondition(n >= 1 && embeddings.shape == [n, width], "LlamaDecodingStep: \(n) caches need embeddings [\(n), \(width)], got \(embeddings.shape)")
        let positions = caches.map(\.length)
        let (queryWidth, keyValueWidth) = (heads * headWidth, keyValueHeads * headWidth)
        // One arena for every intermediate matrix of the step (N rows each).
        let sizes = [n * width, n * width, n * queryWidth, n * keyValueWidth, n * keyValueWidth, n * queryWidth,
                     n * width, n * hidden, n * hidden, heads * ((positions.max() ?? 0) + 1)]
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: sizes.reduce(0, +))
        defer { arena.deallocate() }
        var offsets = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
        offsets.removeLast()
        let (x, normalized, query, key, value, attended, projected, gate, up, scores) =
            (arena + offsets[0], arena + offsets[1], arena + offsets[2], arena + offsets[3], arena + offsets[4],
             arena + offsets[5], arena + offsets[6], arena + offsets[7], arena + offsets[8], arena + offsets[9])
        embeddings.withUnsafeScalars { x.update(from: $0.baseAddress!, count: n * width) }
        let angles = positions.map { rotary.angles(length: 1, offset: $0) }
        var input = QuantizedVector(count: n * width, precision: precision)
        var hiddenInput = QuantizedVector(count: n * hidden, precision: precision)
        /// RMSNorm of each of the N rows of `x` into `normalized`, quantized into `input`.
        func normalizeRows(_ weight: Tensor) {
            weight.withUnsafeScalars { weight in
                for row in 0..<n {
                    VectorKernels.rmsNorm(x + row * width, weight: weight.baseAddress, epsilon: c.rmsNormEpsilon, count: width,
                                          into: normalized + row * width)
                }
            }
            input.quantize(normalized, count: n * width)
        }

        for (index, layer) in layers.enumerated() {
            // h = x + attention(rmsNorm(x))
            normalizeRows(layer.attentionNorm)
            BlockQuantizedMatrix.multiply([(layer.query, query), (layer.key, key), (layer.value, value)], by: input, tokens: n)
            for row in 0..<n {
                let (q, k, v) = (query + row * queryWidth, key + row * keyValueWidth, value + row * keyValueWidth)
                let (cos, sin) = angles[row]
                cos.withUnsafeScalars { cos in
                    sin.withUnsafeScalars { sin in
                        let adjacent = rotary.pairing == .interleaved
                        VectorKernels.rotate(q, heads: heads, width: headWidth, cos: cos.baseAddress!, sin: sin.baseAddress!, adjacentPairs: adjacent)
                        VectorKernels.rotate(k, heads: keyValueHeads, width: headWidth, cos: cos.baseAddress!, sin: sin.baseAddress!, adjacentPairs: adjacent)
                    }
                }
                let length = positions[row] + 1
                caches[row].layers[index].appendPosition(keys: k, values: v, heads: keyValueHeads, width: headWidth) { keys, values, headStride in
                    VectorKernels.attention(query: q, keys: keys, values: values, headStride: headStride, length: length,
                                            heads: heads, keyValueHeads: keyValueHeads, width: headWidth, scores: scores,
                                            output: attended + row * queryWidth)
                }
            }
            input.quantize(attended, count: n * queryWidth)
            BlockQuantizedMatrix.multiply([(layer.output, projected)], by: input, tokens: n)
            VectorKernels.add(projected, to: x, count: n * width)
            // x = h + down(silu(gate(rmsNorm(h))) ⊙ up(rmsNorm(h)))
            normalizeRows(layer.feedForwardNorm)
            BlockQuantizedMatrix.multiply([(layer.gate, gate), (layer.up, up)], by: input, tokens: n)
            VectorKernels.gatedSiLU(gate: gate, up: up, count: n * hidden, into: gate)
            hiddenInput.quantize(gate, count: n * hidden)
            BlockQuantizedMatrix.multiply([(layer.down, projected)], by: hiddenInput, tokens: n)
            VectorKernels.add(projected, to: x, count: n * width)
        }
        normalizeRows(finalNorm)
        var logits = Tensor.zeros([n, outputMatrix.rows])
        logits.withUnsafeMutableScalars { BlockQuantizedMatrix.multiply([(outputMatrix, $0.baseAddress!)], by: input, tokens: n) }
        return logits
    }
}
