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
    public let tokenizer: WordPieceTokenizer
    public let model: BertModel
    public let pooling: Pooling
    public let normalizes: Bool
    /// Tokens per text, special tokens included; longer texts are truncated.
    public let maxSequenceLength: Int

    public init(directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ModelLoadingError(file: directory, reason: "no such model folder (run `attend model fetch`, or pass --model)")
        }
        tokenizer = try WordPieceTokenizer.load(modelDirectory: directory)
        model = try BertModel.load(directory: directory)
        let modules = try SentenceEmbedder.readJSON(directory + "/modules.json", required: false) as? [[String: Any]] ?? []
        let types = modules.compactMap { $0["type"] as? String }
        normalizes = types.contains { $0.hasSuffix("Normalize") }
        var pooling = Pooling.mean
        let poolingPath = modules.first { ($0["type"] as? String)?.hasSuffix("Pooling") == true }
            .flatMap { $0["path"] as? String }.map { directory + "/" + $0 + "/config.json" } ?? directory + "/1_Pooling/config.json"
        if let settings = try SentenceEmbedder.readJSON(poolingPath, required: false) as? [String: Any] {
            if settings["pooling_mode_cls_token"] as? Bool == true { pooling = .classToken }
            else if settings["pooling_mode_max_tokens"] as? Bool == true { pooling = .max }
            else if settings["pooling_mode_mean_tokens"] as? Bool != true {
                throw ModelLoadingError(file: poolingPath, reason: "no supported pooling mode (mean, cls or max tokens)")
            }
        }
        self.pooling = pooling
        let sentenceConfig = try SentenceEmbedder.readJSON(directory + "/sentence_bert_config.json", required: false) as? [String: Any]
        let length = (sentenceConfig?["max_seq_length"] as? NSNumber)?.intValue ?? model.configuration.maxPositionEmbeddings
        guard length > 2 && length <= model.configuration.maxPositionEmbeddings else {
            throw ModelLoadingError(file: directory + "/sentence_bert_config.json",
                                    reason: "max_seq_length \(length) must be in 3...\(model.configuration.maxPositionEmbeddings)")
        }
        maxSequenceLength = length
        guard tokenizer.tokens.count <= model.configuration.vocabularySize else {
            throw ModelLoadingError(file: directory, reason: "the tokenizer has \(tokenizer.tokens.count) tokens, the model only \(model.configuration.vocabularySize)")
        }
    }

    /// The width of the embeddings.
    public var dimension: Int { model.configuration.hiddenSize }

    /// Token ids as the pipeline sees them: `[CLS] … [SEP]`, truncated to ``maxSequenceLength``.
    public func tokenize(_ text: String) -> [Int] {
        tokenizer.encode(text, maxLength: maxSequenceLength).ids
    }

    /// One embedding per text, in order. Texts are sorted by length and run in batches of
    /// `batchSize`, so padding stays short; padding never changes a result.
    public func embed(_ texts: [String], batchSize: Int = 32) -> [[Float]] {
        let encodings = texts.map { tokenizer.encode($0, maxLength: maxSequenceLength) }
        let order = encodings.indices.sorted { encodings[$0].ids.count > encodings[$1].ids.count }
        var results = [[Float]](repeating: [], count: texts.count)
        for start in stride(from: 0, to: order.count, by: Swift.max(batchSize, 1)) {
            let batch = Array(order[start..<Swift.min(start + batchSize, order.count)])
            // Each thread runs the whole model on its share of the batch: no synchronization per
            // operation, and each share is padded only to its own longest text.
            let shares = Swift.min(Parallelism.threadCount, batch.count)
            var pooled = [[Float]](repeating: [], count: shares)
            pooled.withUnsafeMutableBufferPointer { pooled in
                let slots = UncheckedSendableBox(pooled)
                Parallelism.forEachItem(count: shares) { share in
                    let rows = batch[(batch.count * share / shares)..<(batch.count * (share + 1) / shares)]
                    slots.value[share] = self.embed(encodings: rows.map { encodings[$0] })
                }
            }
            for share in 0..<shares {
                let rows = batch[(batch.count * share / shares)..<(batch.count * (share + 1) / shares)]
                for (row, index) in rows.enumerated() {
                    results[index] = Array(pooled[share][(row * dimension)..<((row + 1) * dimension)])
                }
            }
        }
        return results
    }

    /// Every layer's attention weights `[1, H, L, L]` for one text or sentence pair, with its
    /// tokens (the visualizer's view of the model).
    public func attention(for text: String, pair: String? = nil) -> (tokens: [String], attentions: [Tensor]) {
        let encoding = tokenizer.encode(text, pair: pair, maxLength: maxSequenceLength)
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
        let mask = Tensor(shape: [encodings.count, length, 1],
                          scalars: lengths.flatMap { n in (0..<length).map { $0 < n ? 1 : 0 } })
        var pooled: Tensor
        switch pooling {
        case .mean:
            pooled = (hidden * mask).sum(alongAxes: [1]) / maximum(mask.sum(alongAxes: [1]), Tensor(1e-9))
        case .classToken:
            pooled = hidden.selecting(axis: 1, index: 0)
        case .max:
            pooled = Tensor.where(mask, hidden, Tensor(-1e9)).max(alongAxes: [1])
        }
        if normalizes { pooled = normalizedRows(pooled) }
        return pooled.scalars
    }

    static func readJSON(_ path: String, required: Bool) throws -> Any? {
        guard let data = FileManager.default.contents(atPath: path) else {
            if required { throw ModelLoadingError(file: path, reason: "missing") }
            return nil
        }
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ModelLoadingError(file: path, reason: "is not valid JSON")
        }
    }
}

/// Hands a buffer to the parallel loop; each chunk writes only its own slot.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
