import Attend
import AttendNN
import Foundation

/// The shape of a Llama-family decoder: what a GGUF file's `llama.*` metadata or a Hugging Face
/// `config.json` (`"model_type": "llama"`) says about the network.
public struct LlamaConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    /// Width of the residual stream, `E`.
    public var hiddenSize: Int
    /// Width of the gated feed-forward block.
    public var intermediateSize: Int
    public var layerCount: Int
    /// Query heads `H`.
    public var headCount: Int
    /// Key/value heads `Hkv` (grouped-query attention when below `H`).
    public var keyValueHeadCount: Int
    /// Positions the model was trained for (the generation limit).
    public var contextLength: Int
    /// RoPE's base θ.
    public var ropeBase: Double
    public var rmsNormEpsilon: Float
    /// Whether the output projection reuses the token embedding (no `lm_head` / `output.weight`).
    public var tiesWordEmbeddings: Bool
    /// How RoPE pairs features: GGUF files store q/k rows permuted for adjacent pairs (llama.cpp's
    /// layout); Hugging Face checkpoints rotate halves.
    public var ropePairing: RotaryEmbedding.Pairing

    public var headDimension: Int { hiddenSize / headCount }

    public init(vocabularySize: Int, hiddenSize: Int, intermediateSize: Int, layerCount: Int, headCount: Int,
                keyValueHeadCount: Int, contextLength: Int, ropeBase: Double = 10_000, rmsNormEpsilon: Float = 1e-5,
                tiesWordEmbeddings: Bool = true, ropePairing: RotaryEmbedding.Pairing = .halfSplit) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.keyValueHeadCount = keyValueHeadCount
        self.contextLength = contextLength
        self.ropeBase = ropeBase
        self.rmsNormEpsilon = rmsNormEpsilon
        self.tiesWordEmbeddings = tiesWordEmbeddings
        self.ropePairing = ropePairing
    }

    /// Reads `llama.*` metadata of a GGUF file (`general.architecture` must be `llama`).
    ///
    /// - Throws: ``ModelLoadingError`` naming a missing or invalid key.
    public init(gguf file: GGUFFile) throws {
        let architecture = file.metadata["general.architecture"]?.string ?? "(none)"
        guard architecture == "llama" else {
            throw ModelLoadingError(file: file.path, reason: "architecture '\(architecture)' is not a Llama-family model")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = file.metadata["llama." + key]?.integer, value > 0 else {
                throw ModelLoadingError(file: file.path, reason: "metadata 'llama.\(key)' is missing or not a positive integer")
            }
            return value
        }
        let headCount = try integer("attention.head_count")
        let embedding = try file.info(named: "token_embd.weight")
        self.init(vocabularySize: embedding.shape[0],
                  hiddenSize: try integer("embedding_length"),
                  intermediateSize: try integer("feed_forward_length"),
                  layerCount: try integer("block_count"),
                  headCount: headCount,
                  keyValueHeadCount: file.metadata["llama.attention.head_count_kv"]?.integer ?? headCount,
                  contextLength: try integer("context_length"),
                  ropeBase: file.metadata["llama.rope.freq_base"]?.number ?? 10_000,
                  rmsNormEpsilon: Float(file.metadata["llama.attention.layer_norm_rms_epsilon"]?.number ?? 1e-5),
                  tiesWordEmbeddings: !file.contains("output.weight"),
                  ropePairing: .interleaved)
        try validate(file: file.path)
    }

    /// Reads a Hugging Face `config.json` of a Llama model.
    ///
    /// - Throws: ``ModelLoadingError`` for an unreadable file, another model type or a missing field.
    public init(configurationFile path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelLoadingError(file: path, reason: "not a readable JSON object")
        }
        if let type = json["model_type"] as? String, type != "llama" {
            throw ModelLoadingError(file: path, reason: "model_type '\(type)' is not llama")
        }
        func integer(_ key: String) throws -> Int {
            guard let value = (json[key] as? NSNumber).flatMap({ Int(exactly: $0.doubleValue) }), value > 0 else {
                throw ModelLoadingError(file: path, reason: "'\(key)' is missing or not a positive integer")
            }
            return value
        }
        let headCount = try integer("num_attention_heads")
        // transformers ≥ 5 writes RoPE's settings under "rope_parameters"; earlier versions at the top level.
        let rope = json["rope_parameters"] as? [String: Any] ?? json["rope_scaling"] as? [String: Any] ?? [:]
        if let type = rope["rope_type"] as? String ?? rope["type"] as? String, type != "default" {
            throw ModelLoadingError(file: path, reason: "RoPE scaling '\(type)' is not supported")
        }
        let ropeBase = (rope["rope_theta"] as? NSNumber ?? json["rope_theta"] as? NSNumber)?.doubleValue ?? 10_000
        self.init(vocabularySize: try integer("vocab_size"), hiddenSize: try integer("hidden_size"),
                  intermediateSize: try integer("intermediate_size"), layerCount: try integer("num_hidden_layers"),
                  headCount: headCount,
                  keyValueHeadCount: json["num_key_value_heads"] == nil ? headCount : try integer("num_key_value_heads"),
                  contextLength: (json["max_position_embeddings"] as? NSNumber)?.intValue ?? 2048,
                  ropeBase: ropeBase,
                  rmsNormEpsilon: (json["rms_norm_eps"] as? NSNumber)?.floatValue ?? 1e-6,
                  tiesWordEmbeddings: (json["tie_word_embeddings"] as? Bool) ?? false,
                  ropePairing: .halfSplit)
        if let headDimension = (json["head_dim"] as? NSNumber)?.intValue, headDimension != self.headDimension {
            throw ModelLoadingError(file: path, reason: "head_dim \(headDimension) differs from hidden_size / num_attention_heads = \(self.headDimension); not supported")
        }
        try validate(file: path)
    }

    /// Checks that the sizes fit together.
    func validate(file: String) throws {
        // Every count divides or is divided by another below: none may be 0 (a fuzzed config.json
        // with "num_key_value_heads": false once trapped here on a remainder by zero).
        for (name, value) in [("vocabulary size", vocabularySize), ("hidden size", hiddenSize), ("intermediate size", intermediateSize),
                              ("layer count", layerCount), ("head count", headCount), ("key/value head count", keyValueHeadCount)]
        where value <= 0 {
            throw ModelLoadingError(file: file, reason: "the \(name) is \(value); it must be positive")
        }
        guard hiddenSize % headCount == 0, headCount % keyValueHeadCount == 0, headDimension % 2 == 0 else {
            throw ModelLoadingError(file: file, reason: "width \(hiddenSize) with \(headCount) heads and \(keyValueHeadCount) key/value heads does not split into even heads")
        }
        guard contextLength > 0, ropeBase > 0, rmsNormEpsilon >= 0 else {
            throw ModelLoadingError(file: file, reason: "context length \(contextLength), RoPE base \(ropeBase) and RMS ε \(rmsNormEpsilon) must be positive")
        }
    }
}
