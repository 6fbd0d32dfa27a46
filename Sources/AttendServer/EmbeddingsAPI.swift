import Foundation

/// `POST /v1/embeddings`'s body, as OpenAI defines it (plus `truncate`).
struct EmbeddingsRequest: Decodable {
    /// What to embed: texts, or sequences of token ids (as `/tokenize` returns them, special tokens included).
    enum Input {
        case texts([String])
        case tokens([[Int]])
        var count: Int {
            switch self {
            case .texts(let texts): texts.count
            case .tokens(let sequences): sequences.count
            }
        }
    }
    enum EncodingFormat: String, Decodable { case float, base64 }

    let input: Input
    let model: String?
    let encodingFormat: EncodingFormat
    /// Texts longer than the model takes are cut (true, the default, as sentence-transformers and
    /// `attend embed` do) or refused with 422 (false).
    let truncate: Bool
    let dimensions: Int?

    /// Inputs per request at most (OpenAI's limit).
    static let maximumInputs = 2048

    enum CodingKeys: String, CodingKey {
        case input, model, truncate, dimensions
        case encodingFormat = "encoding_format"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decodeIfPresent(String.self, forKey: .model)
        truncate = try container.decodeIfPresent(Bool.self, forKey: .truncate) ?? true
        dimensions = try container.decodeIfPresent(Int.self, forKey: .dimensions)
        guard let format = try? container.decodeIfPresent(String.self, forKey: .encodingFormat) ?? "float",
              let encodingFormat = EncodingFormat(rawValue: format) else {
            throw APIError.invalid("'encoding_format' must be \"float\" or \"base64\"", param: "encoding_format")
        }
        self.encodingFormat = encodingFormat
        guard container.contains(.input) else { throw APIError.badRequest("the required field 'input' is missing", param: "input") }
        if let text = try? container.decode(String.self, forKey: .input) {
            input = .texts([text])
        } else if let texts = try? container.decode([String].self, forKey: .input) {
            input = .texts(texts)
        } else if let ids = try? container.decode([Int].self, forKey: .input) {
            input = .tokens([ids])
        } else if let sequences = try? container.decode([[Int]].self, forKey: .input) {
            input = .tokens(sequences)
        } else {
            throw APIError.invalid("'input' must be a string, an array of strings, an array of token ids or an array of arrays of token ids",
                                   param: "input")
        }
        switch input {
        case .texts(let texts):
            if texts.isEmpty || texts.contains(where: \.isEmpty) { throw APIError.badRequest("'input' is empty: give at least one non-empty text", param: "input") }
        case .tokens(let sequences):
            if sequences.isEmpty || sequences.contains(where: \.isEmpty) {
                throw APIError.badRequest("'input' is empty: give at least one non-empty sequence of token ids", param: "input")
            }
        }
        guard input.count <= Self.maximumInputs else {
            throw APIError.invalid("'input' has \(input.count) items; at most \(Self.maximumInputs) per request", param: "input")
        }
    }
}

/// `POST /v1/embeddings`'s answer.
struct EmbeddingsResponse: Encodable {
    struct Item: Encodable {
        let object = "embedding"
        let index: Int
        let embedding: Vector
    }
    /// Floats as a JSON array, or base64 of their little-endian float32 bytes.
    enum Vector: Encodable {
        case floats([Float])
        case base64(String)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .floats(let values): try container.encode(values)
            case .base64(let text): try container.encode(text)
            }
        }

        init(_ values: [Float], format: EmbeddingsRequest.EncodingFormat) {
            switch format {
            case .float: self = .floats(values)
            case .base64:
                var bytes = Data(capacity: values.count * 4)
                for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                self = .base64(bytes.base64EncodedString())
            }
        }
    }
    let object = "list"
    let data: [Item]
    let model: String
    let usage: Usage
}

/// Token counts of a request (OpenAI's `usage`).
struct Usage: Encodable {
    let promptTokens: Int
    let completionTokens: Int?
    let totalTokens: Int

    init(promptTokens: Int, completionTokens: Int? = nil) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        totalTokens = promptTokens + (completionTokens ?? 0)
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
    }
}
