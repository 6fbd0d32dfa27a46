import Foundation

/// Everything a sentence-transformers folder says besides its weights: the tokenizer, the BERT
/// configuration, pooling (`1_Pooling/config.json`), L2 normalization (when `modules.json`
/// lists it) and truncation (`sentence_bert_config.json`). Cheap to load, and enough to tokenize
/// as the pipeline does.
public struct SentenceEmbeddingPipeline: Sendable {
    public let tokenizer: WordPieceTokenizer
    public let configuration: BertConfiguration
    public let pooling: Pooling
    public let normalizes: Bool
    /// Tokens per text, special tokens included; longer texts are truncated.
    public let maxSequenceLength: Int

    public init(directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw ModelLoadingError(file: directory, reason: "no such model folder (run `attend model fetch`, or pass --model)")
        }
        tokenizer = try WordPieceTokenizer.load(modelDirectory: directory)
        configuration = try BertConfiguration.load(directory + "/config.json")
        let modules = try Self.readJSON(directory + "/modules.json") as? [[String: Any]] ?? []
        let types = modules.compactMap { $0["type"] as? String }
        normalizes = types.contains { $0.hasSuffix("Normalize") }
        var pooling = Pooling.mean
        let poolingPath = modules.first { ($0["type"] as? String)?.hasSuffix("Pooling") == true }
            .flatMap { $0["path"] as? String }.map { directory + "/" + $0 + "/config.json" } ?? directory + "/1_Pooling/config.json"
        if let settings = try Self.readJSON(poolingPath) as? [String: Any] {
            if settings["pooling_mode_cls_token"] as? Bool == true { pooling = .classToken }
            else if settings["pooling_mode_max_tokens"] as? Bool == true { pooling = .max }
            else if settings["pooling_mode_mean_tokens"] as? Bool != true {
                throw ModelLoadingError(file: poolingPath, reason: "no supported pooling mode (mean, cls or max tokens)")
            }
        }
        self.pooling = pooling
        let sentenceConfig = try Self.readJSON(directory + "/sentence_bert_config.json") as? [String: Any]
        let length = (sentenceConfig?["max_seq_length"] as? NSNumber)?.intValue ?? configuration.maxPositionEmbeddings
        guard length > 2 && length <= configuration.maxPositionEmbeddings else {
            throw ModelLoadingError(file: directory + "/sentence_bert_config.json",
                                    reason: "max_seq_length \(length) must be in 3...\(configuration.maxPositionEmbeddings)")
        }
        maxSequenceLength = length
        guard tokenizer.tokens.count <= configuration.vocabularySize else {
            throw ModelLoadingError(file: directory, reason: "the tokenizer has \(tokenizer.tokens.count) tokens, the model only \(configuration.vocabularySize)")
        }
    }

    /// `text` (and `pair`) as the pipeline encodes it: `[CLS] … [SEP]`, truncated to ``maxSequenceLength``.
    public func encode(_ text: String, pair: String? = nil) -> Encoding {
        tokenizer.encode(text, pair: pair, maxLength: maxSequenceLength)
    }

    /// A JSON file's contents, or nil when the (optional) file is absent.
    private static func readJSON(_ path: String) throws -> Any? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ModelLoadingError(file: path, reason: "is not valid JSON")
        }
    }
}
