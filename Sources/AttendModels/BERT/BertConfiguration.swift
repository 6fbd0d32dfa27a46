import Foundation
import AttendNN

/// The fields of a Hugging Face BERT `config.json` that define the network.
public struct BertConfiguration: Sendable, Equatable, Decodable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var hiddenActivation: String
    public var maxPositionEmbeddings: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    /// Which layers a compressed folder stores as int8 (`attend compress`), or nil.
    public var quantization: QuantizationConfiguration?
    /// Attention heads removed from each layer (Hugging Face's `pruned_heads`: layer → original
    /// head indices); the folder's weights lack them.
    public var prunedHeads: [Int: [Int]] = [:]

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size", hiddenSize = "hidden_size", layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads", intermediateSize = "intermediate_size", hiddenActivation = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabularySize = "type_vocab_size"
        case layerNormEpsilon = "layer_norm_eps", positionEmbeddingType = "position_embedding_type"
        case quantization, prunedHeads = "pruned_heads"
    }

    public init(vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
                hiddenActivation: String = "gelu", maxPositionEmbeddings: Int = 512, typeVocabularySize: Int = 2,
                layerNormEpsilon: Float = 1e-12) {
        (self.vocabularySize, self.hiddenSize, self.layerCount, self.headCount) = (vocabularySize, hiddenSize, layerCount, headCount)
        (self.intermediateSize, self.hiddenActivation) = (intermediateSize, hiddenActivation)
        (self.maxPositionEmbeddings, self.typeVocabularySize, self.layerNormEpsilon) = (maxPositionEmbeddings, typeVocabularySize, layerNormEpsilon)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        layerCount = try c.decode(Int.self, forKey: .layerCount)
        headCount = try c.decode(Int.self, forKey: .headCount)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? "gelu"
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabularySize = try c.decodeIfPresent(Int.self, forKey: .typeVocabularySize) ?? 2
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-12
        quantization = try c.decodeIfPresent(QuantizationConfiguration.self, forKey: .quantization)
        // JSON keys are strings: {"0": [1, 5]}.
        for (layer, heads) in try c.decodeIfPresent([String: [Int]].self, forKey: .prunedHeads) ?? [:] {
            guard let index = Int(layer) else {
                throw DecodingError.dataCorruptedError(forKey: .prunedHeads, in: c,
                                                       debugDescription: "pruned_heads key \(layer) is not a layer number")
            }
            prunedHeads[index] = heads
        }
        if let type = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType), type != "absolute" {
            throw DecodingError.dataCorruptedError(forKey: .positionEmbeddingType, in: c,
                                                   debugDescription: "position_embedding_type \(type) is not supported (absolute is)")
        }
    }

    /// Reads and checks `config.json`: sizes positive, heads dividing the width, a known activation.
    public static func load(_ path: String) throws -> BertConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelLoadingError(file: path, reason: "cannot read the model configuration")
        }
        let configuration: BertConfiguration
        do {
            configuration = try JSONDecoder().decode(BertConfiguration.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ModelLoadingError(file: path, reason: "missing \"\(key.stringValue)\"")
        } catch let DecodingError.dataCorrupted(context) {
            throw ModelLoadingError(file: path, reason: context.debugDescription)
        } catch let DecodingError.typeMismatch(_, context) {
            throw ModelLoadingError(file: path, reason: "\"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type")
        } catch {
            throw ModelLoadingError(file: path, reason: "not a valid configuration (\(error))")
        }
        try configuration.validate(file: path)
        return configuration
    }

    /// Hugging Face's `hidden_act` names and what each computes.
    static let activations: [String: Activation] = [
        "gelu": .gelu, "gelu_new": .geluTanh, "gelu_pytorch_tanh": .geluTanh, "relu": .relu, "silu": .silu, "swish": .silu,
    ]

    /// The function ``hiddenActivation`` names, or nil for a name Attend does not know
    /// (``load(_:)`` rejects those).
    public var activation: Activation? { Self.activations[hiddenActivation] }

    func validate(file: String) throws {
        for (name, value) in [("vocab_size", vocabularySize), ("hidden_size", hiddenSize), ("num_hidden_layers", layerCount),
                              ("num_attention_heads", headCount), ("intermediate_size", intermediateSize),
                              ("max_position_embeddings", maxPositionEmbeddings), ("type_vocab_size", typeVocabularySize)]
        where value <= 0 {
            throw ModelLoadingError(file: file, reason: "\(name) must be positive, got \(value)")
        }
        guard hiddenSize % headCount == 0 else {
            throw ModelLoadingError(file: file, reason: "hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        guard activation != nil else {
            throw ModelLoadingError(file: file, reason: "hidden_act \(hiddenActivation) is not supported (known: "
                                    + Self.activations.keys.sorted().joined(separator: ", ") + ")")
        }
        guard layerNormEpsilon > 0 && layerNormEpsilon.isFinite else {
            throw ModelLoadingError(file: file, reason: "layer_norm_eps must be positive, got \(layerNormEpsilon)")
        }
        for (layer, heads) in prunedHeads {
            guard (0..<layerCount).contains(layer), heads.allSatisfy({ (0..<headCount).contains($0) }),
                  Set(heads).count < headCount else {
                throw ModelLoadingError(file: file, reason: "pruned_heads \(layer): \(heads) does not fit \(layerCount) layers of \(headCount) heads, one head kept per layer")
            }
        }
        if let quantization, quantization.method != QuantizationConfiguration.dynamicInt8 {
            throw ModelLoadingError(file: file, reason: "quantization method \(quantization.method) is not supported (\(QuantizationConfiguration.dynamicInt8) is)")
        }
    }
}
