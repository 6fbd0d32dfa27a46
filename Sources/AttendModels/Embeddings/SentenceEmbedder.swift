import Attend
import AttendNN
import Foundation

/// How token vectors become one sentence vector (sentence-transformers' `Pooling`).
public enum Pooling: String, Sendable {
    /// The mean over real (unpadded) tokens.
    case mean
    /// The `[CLS]` token's vector.
    case classToken
    /// The elementwise maximum over real tokens.
    case max
}

/// Sentence embeddings from a sentence-transformers model folder (all-MiniLM-L6-v2, BGE, E5, …):
/// tokenizer → BERT → pooling (from `1_Pooling/config.json`) → L2 normalization (when
/// `modules.json` lists it), with the pipeline's truncation (`sentence_bert_config.json`).
///
/// ```swift
/// let embedder = try SentenceEmbedder(directory: ModelStore.defaultModelDirectory)
/// let vectors = embedder.embed(["A man is eating food.", "Someone is having lunch."])   // [[Float]], 384 each
/// ```
///
/// One embedder can serve many threads (a server's requests): embedding only reads the model.
public final class SentenceEmbedder: @unchecked Sendable {
    /// Tokenizer, pooling, normalization and truncation (everything but the weights).
    public let pipeline: SentenceEmbeddingPipeline
    public let model: BertModel

    public var tokenizer: WordPieceTokenizer { pipeline.tokenizer }
    public var pooling: Pooling { pipeline.pooling }
    public var normalizes: Bool { pipeline.normalizes }
    /// Tokens per text, special tokens included; longer texts are truncated.
    public var maxSequenceLength: Int { pipeline.maxSequenceLength }

    public init(directory: String) throws {
        pipeline = try SentenceEmbeddingPipeline(directory: directory)
        model = try BertModel.load(directory: directory, configuration: pipeline.configuration)
    }

    /// The width of the embeddings.
    public var dimension: Int { model.configuration.hiddenSize }

    /// Token ids as the pipeline sees them: `[CLS] … [SEP]`, truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String) -> [Int] { pipeline.encode(text).ids }

    /// One embedding per text, in order. Texts are sorted by length and run in batches of
    /// `batchSize`, so padding stays short; padding never changes a result.
    /// `batchSize` below 1 counts as 1.
    public func embed(_ texts: [String], batchSize: Int = 32) -> [[Float]] {
        embed(encodings: texts.map { pipeline.encode($0) }, batchSize: batchSize)
    }

    /// One embedding per already tokenized sequence (``tokenize(_:)``'s ids, `[CLS] … [SEP]`
    /// included, or an ``Encoding`` of a sentence pair), in order, batched as ``embed(_:batchSize:)``
    /// batches texts. Ids must be below the model's vocabulary size and sequences no longer than
    /// its position table (a server validates them first).
    public func embed(encodings: [Encoding], batchSize: Int = 32) -> [[Float]] {
        let batchSize = Swift.max(batchSize, 1)
        let order = encodings.indices.sorted { encodings[$0].ids.count > encodings[$1].ids.count }
        var results = [[Float]](repeating: [], count: encodings.count)
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let batch = Array(order[start..<Swift.min(start + batchSize, order.count)])
            // Each thread runs the whole model on its share of the batch: no synchronization per
            // operation, and each share is padded only to its own longest text.
            let shares = Swift.min(Parallelism.threadCount, batch.count)
            func rows(of share: Int) -> ArraySlice<Int> {
                batch[(batch.count * share / shares)..<(batch.count * (share + 1) / shares)]
            }
            var pooled = [[Float]](repeating: [], count: shares)
            pooled.withUnsafeMutableBufferPointer { pooled in
                let slots = UncheckedSendable(pooled)
                Parallelism.forEachItem(count: shares) { share in
                    slots.value[share] = self.embed(encodings: rows(of: share).map { encodings[$0] })
                }
            }
            for share in 0..<shares {
                for (row, index) in rows(of: share).enumerated() {
                    results[index] = Array(pooled[share][(row * dimension)..<((row + 1) * dimension)])
                }
            }
        }
        return results
    }

    /// Every layer's attention weights `[1, H, L, L]` for one text or sentence pair, with its
    /// tokens (the visualizer's view of the model). A pair needs a model with two token types.
    public func attention(for text: String, pair: String? = nil) -> (tokens: [String], attentions: [Tensor]) {
        precondition(pair == nil || model.configuration.typeVocabularySize >= 2,
                     "sentence pairs need type_vocab_size ≥ 2, this model has \(model.configuration.typeVocabularySize)")
        let encoding = pipeline.encode(text, pair: pair)
        let (_, attentions) = model(ids: [encoding.ids], typeIds: [encoding.typeIds], validLengths: [encoding.ids.count],
                                    returningAttention: true)
        return (encoding.tokens, attentions)
    }

    /// Runs one padded batch; returns the row-major `[B × dimension]` pooled vectors.
    private func embed(encodings: [Encoding]) -> [Float] {
        let length = encodings.map(\.ids.count).max() ?? 0
        let pad = tokenizer.paddingTokenId
        let ids = encodings.map { $0.ids + [Int](repeating: pad, count: length - $0.ids.count) }
        let types = encodings.map { $0.typeIds + [Int](repeating: 0, count: length - $0.typeIds.count) }
        let lengths = encodings.map(\.ids.count)
        let hidden = model(ids: ids, typeIds: types, validLengths: lengths).hiddenStates     // [B, L, E]
        let pooled = pool(hidden, lengths: lengths)
        return pooled.scalars
    }

    /// The folder's pooling (and normalization) of hidden states `[B, L, E]` with `lengths` real tokens per row: `[B, E]`.
    func pool(_ hidden: Tensor, lengths: [Int]) -> Tensor {
        let (batch, length) = (hidden.shape[0], hidden.shape[1])
        let mask = Tensor(shape: [batch, length, 1], scalars: lengths.flatMap { n in (0..<length).map { $0 < n ? 1 : 0 } })
        var pooled: Tensor
        switch pooling {
        case .mean:
            pooled = (hidden * mask).sum(alongAxes: [1]) / maximum(mask.sum(alongAxes: [1]), Tensor(1e-9))
        case .classToken:
            pooled = hidden.selecting(axis: 1, index: 0)
        case .max:
            pooled = Tensor.where(mask, hidden, Tensor(-1e9)).max(alongAxes: [1])
        }
        return normalizes ? normalizedRows(pooled) : pooled
    }
}
