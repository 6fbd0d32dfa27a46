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

    /// Logits `[1, V]` for `token` at position `cache.length`; appends its keys and values to `cache`.
    func callAsFunction(_ token: Int, embedding: Tensor, configuration c: LlamaConfiguration, precision: ActivationPrecision,
                        cache: inout LlamaCache) -> Tensor {
        let (width, heads, keyValueHeads, headWidth, hidden) = (c.hiddenSize, c.headCount, c.keyValueHeadCount, c.headDimension, c.intermediateSize)
        let position = cache.length
        // One arena for every intermediate vector of the step.
        let sizes = [width, width, heads * headWidth, keyValueHeads * headWidth, keyValueHeads * headWidth, heads * headWidth,
                     width, hidden, hidden, heads * (position + 1)]
        let arena = UnsafeMutablePointer<Float>.allocate(capacity: sizes.reduce(0, +))
        defer { arena.deallocate() }
        var offsets = sizes.reduce(into: [0]) { $0.append($0.last! + $1) }
        offsets.removeLast()
        let (x, normalized, query, key, value, attended, projected, gate, up, scores) =
            (arena + offsets[0], arena + offsets[1], arena + offsets[2], arena + offsets[3], arena + offsets[4],
             arena + offsets[5], arena + offsets[6], arena + offsets[7], arena + offsets[8], arena + offsets[9])
        embedding.withUnsafeScalars { x.update(from: $0.baseAddress!, count: width) }
        let (cos, sin) = rotary.angles(length: 1, offset: position)
        var input = QuantizedVector(count: width, precision: precision), hiddenInput = QuantizedVector(count: hidden, precision: precision)

        for (index, layer) in layers.enumerated() {
            // h = x + attention(rmsNorm(x))
            layer.attentionNorm.withUnsafeScalars { VectorKernels.rmsNorm(x, weight: $0.baseAddress, epsilon: c.rmsNormEpsilon, count: width, into: normalized) }
            input.quantize(normalized, count: width)
            BlockQuantizedMatrix.multiply([(layer.query, query), (layer.key, key), (layer.value, value)], by: input)
            cos.withUnsafeScalars { cos in
                sin.withUnsafeScalars { sin in
                    let adjacent = rotary.pairing == .interleaved
                    VectorKernels.rotate(query, heads: heads, width: headWidth, cos: cos.baseAddress!, sin: sin.baseAddress!, adjacentPairs: adjacent)
                    VectorKernels.rotate(key, heads: keyValueHeads, width: headWidth, cos: cos.baseAddress!, sin: sin.baseAddress!, adjacentPairs: adjacent)
                }
            }
            cache.layers[index].appendPosition(keys: key, values: value, heads: keyValueHeads, width: headWidth) { keys, values, headStride in
                VectorKernels.attention(query: query, keys: keys, values: values, headStride: headStride, length: position + 1,
                                        heads: heads, keyValueHeads: keyValueHeads, width: headWidth, scores: scores, output: attended)
            }
            input.quantize(attended, count: heads * headWidth)
            BlockQuantizedMatrix.multiply([(layer.output, projected)], by: input)
            VectorKernels.add(projected, to: x, count: width)
            // x = h + down(silu(gate(rmsNorm(h))) ⊙ up(rmsNorm(h)))
            layer.feedForwardNorm.withUnsafeScalars { VectorKernels.rmsNorm(x, weight: $0.baseAddress, epsilon: c.rmsNormEpsilon, count: width, into: normalized) }
            input.quantize(normalized, count: width)
            BlockQuantizedMatrix.multiply([(layer.gate, gate), (layer.up, up)], by: input)
            VectorKernels.gatedSiLU(gate: gate, up: up, count: hidden, into: gate)
            hiddenInput.quantize(gate, count: hidden)
            BlockQuantizedMatrix.multiply([(layer.down, projected)], by: hiddenInput)
            VectorKernels.add(projected, to: x, count: width)
        }
        finalNorm.withUnsafeScalars { VectorKernels.rmsNorm(x, weight: $0.baseAddress, epsilon: c.rmsNormEpsilon, count: width, into: normalized) }
        input.quantize(normalized, count: width)
        var logits = Tensor.zeros([1, outputMatrix.rows])
        logits.withUnsafeMutableScalars { BlockQuantizedMatrix.multiply([(outputMatrix, $0.baseAddress!)], by: input) }
        return logits
    }
}
