import AttendModels
import Foundation

/// The sampling fields `POST /v1/chat/completions` and `POST /v1/completions` share, checked as
/// OpenAI checks them: `max_tokens` (or `max_completion_tokens`) ≥ 1, `temperature` in [0, 2]
/// (0 is greedy; default 1), `top_p` in (0, 1], `seed` (default: random), `stop` (a string or up
/// to 4), `n` = 1, `stream`; plus llama.cpp's `top_k`, `min_p` and `repeat_penalty`.
struct GenerationFields: Decodable {
    let model: String?
    let maxTokens: Int?
    let temperature: Double
    let topP: Double?
    let topK: Int?
    let minP: Double?
    let repetitionPenalty: Double?
    let seed: UInt64
    let stop: [String]
    let stream: Bool
    let includeUsage: Bool

    enum CodingKeys: String, CodingKey {
        case model, temperature, seed, stop, stream, n
        case maxTokens = "max_tokens", maxCompletionTokens = "max_completion_tokens", topP = "top_p", topK = "top_k", minP = "min_p"
        case repetitionPenalty = "repeat_penalty", streamOptions = "stream_options"
    }
    struct StreamOptions: Decodable {
        let includeUsage: Bool?
        enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens) ?? c.decodeIfPresent(Int.self, forKey: .maxTokens)
        if let maxTokens, maxTokens < 1 { throw APIError.invalid("'max_tokens' must be at least 1, got \(maxTokens)", param: "max_tokens") }
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature) ?? 1
        guard (0...2).contains(temperature) else { throw APIError.invalid("'temperature' must be in [0, 2], got \(temperature)", param: "temperature") }
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        if let topP, !(topP > 0 && topP <= 1) { throw APIError.invalid("'top_p' must be in (0, 1], got \(topP)", param: "top_p") }
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        if let topK, topK < 0 { throw APIError.invalid("'top_k' must be ≥ 0, got \(topK)", param: "top_k") }
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        if let minP, !(0...1).contains(minP) { throw APIError.invalid("'min_p' must be in [0, 1], got \(minP)", param: "min_p") }
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        if let penalty = repetitionPenalty, !(penalty > 0 && penalty <= 10) {
            throw APIError.invalid("'repeat_penalty' must be in (0, 10], got \(penalty)", param: "repeat_penalty")
        }
        // Seeds are 64-bit; negative JSON integers are taken as their two's-complement bits.
        if let seed = try? c.decodeIfPresent(UInt64.self, forKey: .seed) { self.seed = seed }
        else if let seed = try c.decodeIfPresent(Int64.self, forKey: .seed) { self.seed = UInt64(bitPattern: seed) }
        else { seed = UInt64.random(in: .min ... .max) }
        if let one = try? c.decodeIfPresent(String.self, forKey: .stop) { stop = [one] }
        else { stop = try c.decodeIfPresent([String].self, forKey: .stop) ?? [] }
        guard stop.count <= 4 else { throw APIError.invalid("'stop' takes at most 4 strings, got \(stop.count)", param: "stop") }
        let n = try c.decodeIfPresent(Int.self, forKey: .n) ?? 1
        guard n == 1 else { throw APIError.invalid("'n' must be 1 (one choice per request), got \(n)", param: "n") }
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        includeUsage = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)?.includeUsage ?? false
    }

    /// The options for `maxTokens` new tokens.
    func options(maxTokens: Int) -> GenerationOptions {
        GenerationOptions(maxTokens: maxTokens,
                          sampling: SamplingOptions(temperature: Float(temperature), topK: topK, topP: topP.map(Float.init),
                                                    minP: minP.map(Float.init), repetitionPenalty: Float(repetitionPenalty ?? 1), seed: seed),
                          stopStrings: stop)
    }
}

/// `POST /v1/chat/completions`'s body: `messages` and the ``GenerationFields``.
struct ChatCompletionRequest: Decodable {
    let messages: [ChatMessage]
    let fields: GenerationFields

    enum CodingKeys: String, CodingKey { case messages }
    /// A message whose `content` is a string or an array of `{"type": "text", "text": …}` parts.
    struct Message: Decodable {
        let role: String
        let content: String
        enum CodingKeys: String, CodingKey { case role, content }
        struct Part: Decodable { let type: String; let text: String? }
        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            role = try c.decode(String.self, forKey: .role)
            if let text = try? c.decode(String.self, forKey: .content) {
                content = text
            } else if let parts = try? c.decode([Part].self, forKey: .content), parts.allSatisfy({ $0.type == "text" && $0.text != nil }) {
                content = parts.compactMap(\.text).joined()
            } else {
                throw APIError.invalid("'\(JSONBody.path(decoder.codingPath)).content' must be a string or an array of text parts",
                                       param: JSONBody.path(decoder.codingPath + [CodingKeys.content]))
            }
        }
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.messages) else { throw APIError.badRequest("the required field 'messages' is missing", param: "messages") }
        let messages = try c.decode([Message].self, forKey: .messages)
        guard !messages.isEmpty else { throw APIError.badRequest("'messages' is empty", param: "messages") }
        for (index, message) in messages.enumerated() where !["system", "user", "assistant"].contains(message.role) {
            throw APIError.invalid("messages[\(index)].role must be \"system\", \"user\" or \"assistant\", got \"\(message.role)\"",
                                   param: "messages[\(index)].role")
        }
        self.messages = messages.map { ChatMessage(role: $0.role, content: $0.content) }
        fields = try GenerationFields(from: decoder)
    }
}

/// `POST /v1/completions`'s body: a `prompt` (a string, one string in an array, or token ids) and
/// the ``GenerationFields`` (`max_tokens` defaults to 16 here, as OpenAI's does).
struct CompletionRequest: Decodable {
    enum Prompt {
        case text(String)
        case tokens([Int])
    }
    let prompt: Prompt
    let fields: GenerationFields
    enum CodingKeys: String, CodingKey { case prompt }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.prompt) else { throw APIError.badRequest("the required field 'prompt' is missing", param: "prompt") }
        if let text = try? c.decode(String.self, forKey: .prompt) {
            prompt = .text(text)
        } else if let texts = try? c.decode([String].self, forKey: .prompt), texts.count == 1 {
            prompt = .text(texts[0])
        } else if let ids = try? c.decode([Int].self, forKey: .prompt) {
            prompt = .tokens(ids)
        } else {
            throw APIError.invalid("'prompt' must be a string, an array of one string, or an array of token ids", param: "prompt")
        }
        let isEmpty = switch prompt {
        case .text(let text): text.isEmpty
        case .tokens(let ids): ids.isEmpty
        }
        if isEmpty { throw APIError.badRequest("'prompt' is empty", param: "prompt") }
        fields = try GenerationFields(from: decoder)
    }
}

/// Why a choice ended, in OpenAI's words.
func finishReason(_ reason: GenerationResult.FinishReason) -> String {
    switch reason {
    case .endOfSequence, .stopString, .cancelled: "stop"
    case .length: "length"
    }
}

/// A whole chat completion, or one chunk of a streamed one (`object` tells which), and the same
/// for text completions: one shape with the fields each kind uses.
struct CompletionObject: Encodable {
    struct Choice: Encodable {
        let index = 0
        /// Chat, whole: the assistant's message.
        var message: ChatMessage?
        /// Chat, streamed: what this chunk adds (`role` first, then `content`).
        var delta: Delta?
        /// Text completions: the text.
        var text: String?
        var finishReason: String?
        let isText: Bool

        struct Delta: Encodable {
            var role: String?
            var content: String?
        }
        enum CodingKeys: String, CodingKey { case index, message, delta, text, logprobs, finishReason = "finish_reason" }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(index, forKey: .index)
            try c.encodeIfPresent(message, forKey: .message)
            try c.encodeIfPresent(delta, forKey: .delta)
            try c.encodeIfPresent(text, forKey: .text)
            if isText { try c.encodeNil(forKey: .logprobs) }
            try c.encode(finishReason, forKey: .finishReason)       // null until the last chunk
        }
    }
    let id: String
    let object: String
    let created: Int
    let model: String
    var choices: [Choice]
    var usage: Usage?

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }
}
