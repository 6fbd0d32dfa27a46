import Foundation

/// One message of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    /// `"system"`, `"user"` or `"assistant"`.
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// How a conversation becomes the text an instruction-tuned model reads: ChatML, the form of
/// SmolLM2, Qwen and many others:
///
/// ```
/// <|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n
/// ```
/// When the conversation has no system message, the template's default one (if any) comes first,
/// as the model's own Jinja template does.
public struct ChatTemplate: Sendable, Equatable {
    /// The system prompt used when a conversation has none (nil: none).
    public var defaultSystemPrompt: String?

    public init(defaultSystemPrompt: String? = nil) {
        self.defaultSystemPrompt = defaultSystemPrompt
    }

    /// Recognizes a ChatML Jinja template (a GGUF file's `tokenizer.chat_template` or
    /// `tokenizer_config.json`'s `chat_template`) and reads its default system prompt.
    ///
    /// - Throws: ``GenerationError/invalidOption(_:)`` for a template that is not ChatML.
    public init(jinja template: String) throws {
        guard template.contains("<|im_start|>") && template.contains("<|im_end|>") else {
            throw GenerationError.invalidOption("only ChatML chat templates (<|im_start|> … <|im_end|>) are supported")
        }
        // The default system message is a literal "<|im_start|>system\n…<|im_end|>" in the template.
        let marker = "<|im_start|>system\n"
        if let start = template.range(of: marker), let end = template.range(of: "<|im_end|>", range: start.upperBound..<template.endIndex) {
            let literal = String(template[start.upperBound..<end.lowerBound])
            defaultSystemPrompt = literal.contains("{{") || literal.contains("{%") ? nil : literal
        } else {
            defaultSystemPrompt = nil
        }
    }

    /// The text for `messages`, ending with the assistant's opening when `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) -> String {
        var text = ""
        if messages.first?.role != "system", let defaultSystemPrompt {
            text += turn(ChatMessage(role: "system", content: defaultSystemPrompt))
        }
        for message in messages { text += turn(message) }
        if addGenerationPrompt { text += assistantOpening }
        return text
    }

    /// `<|im_start|>{role}\n{content}<|im_end|>\n`.
    public func turn(_ message: ChatMessage) -> String {
        "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n"
    }

    /// What starts the assistant's reply: `<|im_start|>assistant\n`.
    public var assistantOpening: String { "<|im_start|>assistant\n" }
}
