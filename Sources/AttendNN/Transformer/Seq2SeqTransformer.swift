import Attend

/// A complete encoder–decoder for sequence-to-sequence tasks: token embeddings scaled by √d,
/// sinusoidal positions, ``Transformer``, and an output projection to the target vocabulary.
/// ``makeDecoder(source:sourceLengths:)`` gives an ``IncrementalDecoder`` with a KV cache, for
/// ``greedyDecode(_:startTokens:endToken:maxLength:)`` and ``beamSearch(_:startToken:endToken:beamWidth:maxLength:lengthPenalty:)``.
public final class Seq2SeqTransformer: Module {
    @Child("source_embedding") public var sourceEmbedding: Embedding
    @Child("target_embedding") public var targetEmbedding: Embedding
    @Child("transformer") public var transformer: Transformer
    @Child("output") public var output: Linear
    public let positions: SinusoidalPositionalEncoding
    public let modelDimension: Int

    public init(sourceVocabulary: Int, targetVocabulary: Int, modelDimension: Int = 64, headCount: Int = 4,
                encoderLayers: Int = 2, decoderLayers: Int = 2, feedForwardDimension: Int = 128, dropout: Float = 0.1,
                paddingIndex: Int = 0) {
        self.modelDimension = modelDimension
        positions = SinusoidalPositionalEncoding(dimension: modelDimension)
        super.init()
        sourceEmbedding = Embedding(count: sourceVocabulary, dimension: modelDimension, paddingIndex: paddingIndex)
        targetEmbedding = Embedding(count: targetVocabulary, dimension: modelDimension, paddingIndex: paddingIndex)
        transformer = Transformer(modelDimension: modelDimension, headCount: headCount, encoderLayerCount: encoderLayers,
                                  decoderLayerCount: decoderLayers, feedForwardDimension: feedForwardDimension, dropout: dropout,
                                  normFirst: true)
        output = Linear(modelDimension, targetVocabulary)
    }

    func embed(_ ids: [[Int]], _ table: Embedding, offset: Int = 0) -> Tensor {
        positions(table(ids) * Float(modelDimension).squareRoot(), offset: offset)
    }

    /// The encoder's states for padded `source` `[B][Ls]` with real lengths `sourceLengths`.
    public func encode(source: [[Int]], sourceLengths: [Int]) -> Tensor {
        transformer.encoder(embed(source, sourceEmbedding), mask: .keyPadding(validLengths: sourceLengths))
    }

    /// Teacher-forced logits `[B, Lt, V]` for the decoder inputs `targetInput` `[B][Lt]`.
    public func callAsFunction(source: [[Int]], sourceLengths: [Int], targetInput: [[Int]]) -> Tensor {
        let memory = encode(source: source, sourceLengths: sourceLengths)
        let hidden = transformer.decoder(embed(targetInput, targetEmbedding), memory: memory, mask: .causal,
                                         memoryMask: .keyPadding(validLengths: sourceLengths))
        return output(hidden)
    }

    /// Every decoder layer's cross-attention `[B, H, Lt, Ls]` for teacher-forced `targetInput`.
    public func crossAttention(source: [[Int]], sourceLengths: [Int], targetInput: [[Int]]) -> [Tensor] {
        let memory = encode(source: source, sourceLengths: sourceLengths)
        return transformer.decoder.crossAttentionWeights(embed(targetInput, targetEmbedding), memory: memory, mask: .causal,
                                                        memoryMask: .keyPadding(validLengths: sourceLengths))
    }

    /// An incremental decoder over `source` (encoded once, cross-attention keys cached).
    public func makeDecoder(source: [[Int]], sourceLengths: [Int]) -> Seq2SeqDecoder {
        Seq2SeqDecoder(model: self, memory: encode(source: source, sourceLengths: sourceLengths),
                       memoryMask: .keyPadding(validLengths: sourceLengths))
    }
}

/// Step-by-step decoding of a ``Seq2SeqTransformer`` with a KV cache.
public final class Seq2SeqDecoder: IncrementalDecoder {
    let model: Seq2SeqTransformer
    var cache: TransformerDecoderCache

    init(model: Seq2SeqTransformer, memory: Tensor, memoryMask: AttentionMask) {
        self.model = model
        cache = model.transformer.decoder.makeCache(memory: memory, memoryMask: memoryMask)
    }

    public func nextTokenLogProbabilities(after tokens: [Int]) -> Tensor {
        let x = model.embed(tokens.map { [$0] }, model.targetEmbedding, offset: cache.length)
        let hidden = model.transformer.decoder.step(x, cache: &cache)
        return logSoftmax(model.output(hidden), axis: -1).squeezed(axis: 1)
    }

    public func selectRows(_ rows: [Int]) { cache = cache.selectingRows(rows) }
}
