import ArgumentParser
import Attend
import AttendModels
import Foundation

/// Sampling flags shared by `generate` and `chat`.
struct SamplingFlags: ParsableArguments {
    @Option(help: "Most new tokens to generate.") var maxTokens = 256
    @Option(help: "Sampling temperature; 0 is greedy (always the most likely token).") var temperature: Float = 0
    @Option(help: "Sample among the K most likely tokens only.") var topK: Int?
    @Option(help: "Sample among the most likely tokens whose probabilities add up to P.") var topP: Float?
    @Option(help: "Drop tokens less likely than P × the most likely one.") var minP: Float?
    @Option(help: "Penalize tokens seen in the last 64 (1 = off, 1.1 is typical).") var repetitionPenalty: Float = 1
    @Option(help: "Random seed: the same seed gives the same text.") var seed: UInt64 = 0
    @Option(name: .customLong("stop"), help: "Stop before this string (repeatable).") var stopStrings: [String] = []

    var options: GenerationOptions {
        GenerationOptions(maxTokens: maxTokens,
                          sampling: SamplingOptions(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                                    repetitionPenalty: repetitionPenalty, seed: seed),
                          stopStrings: stopStrings)
    }

    func validate() throws {
        guard maxTokens >= 0 else { throw ValidationError("--max-tokens must be ≥ 0") }
        do { try options.sampling.validate() } catch { throw ValidationError("\(error)") }
    }
}

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt with a language model (SmolLM2 by default), streaming the text.",
        discussion: """
            The prompt is read in one batched pass, then tokens are generated one at a time with a KV cache
            and printed as they are made. Statistics go to standard error.
            Examples:
              attend generate "The capital of France is" --max-tokens 16
              attend generate --chat "Write a haiku about Swift."
              attend generate --temperature 0.8 --top-p 0.95 --seed 7 "Once upon a time"
              attend generate --json --max-tokens 8 "def fibonacci(n):"
            """)

    @OptionGroup var model: LanguageModelOptions
    @OptionGroup var sampling: SamplingFlags
    @Flag(help: "Wrap the prompt in the model's chat template (a user message, with the default system prompt).")
    var chat = false
    @Option(help: "With --chat: the system prompt (default: the template's).") var system: String?
    @Flag(help: "Print one JSON object {\"prompt_tokens\", \"tokens\", \"text\", …} instead of streaming.")
    var json = false
    @Argument(help: "The prompt.") var prompt: String

    func validate() throws {
        try validateArgumentEncoding()
        if system != nil && !chat { throw ValidationError("--system needs --chat") }
    }

    func run() throws {
        let generator = try model.loadGenerator()
        var text = prompt
        if chat {
            guard let template = generator.chatTemplate else { throw CLIError("\(model.location) has no chat template; drop --chat") }
            var messages: [ChatMessage] = []
            if let system { messages.append(ChatMessage(role: "system", content: system)) }
            messages.append(ChatMessage(role: "user", content: prompt))
            text = template.render(messages)
        }
        let ids = generator.tokenizer.encode(text)
        let result: GenerationResult
        do {
            result = try generator.generate(ids, options: sampling.options) { piece in
                if !json {
                    FileHandle.standardOutput.write(Data(piece.utf8))
                }
                return true
            }
        } catch let error as GenerationError {
            throw CLIError("\(error)")
        }
        if json {
            try printJSON(GenerateOutput(result))
        } else {
            print()
            FileHandle.standardError.write(Data(String(
                format: "[%d prompt tokens at %.0f tokens/s, %d generated at %.1f tokens/s, stopped: %@]\n",
                result.promptTokens.count, result.promptTokensPerSecond, result.tokens.count,
                result.decodeTokensPerSecond, result.finishReason.rawValue).utf8))
        }
    }
}

/// `attend generate --json`'s object.
struct GenerateOutput: Encodable {
    let promptTokens: [Int]
    let tokens: [Int]
    let text: String
    let finishReason: String
    let promptTokensPerSecond: Double
    let decodeTokensPerSecond: Double

    init(_ result: GenerationResult) {
        promptTokens = result.promptTokens
        tokens = result.tokens
        text = result.text
        finishReason = result.finishReason.rawValue
        promptTokensPerSecond = result.promptTokensPerSecond
        decodeTokensPerSecond = result.decodeTokensPerSecond
    }

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", tokens, text, finishReason = "finish_reason"
        case promptTokensPerSecond = "prompt_tokens_per_second", decodeTokensPerSecond = "decode_tokens_per_second"
    }
}

struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk with a chat model (SmolLM2 by default) in the terminal.",
        discussion: """
            Type a message and press Return; the reply streams back. The conversation keeps its KV cache
            between turns, so each turn reads only its new tokens. /reset starts over; Ctrl-D leaves
            and prints the prompt and generation speeds.
            """)

    @OptionGroup var model: LanguageModelOptions
    @OptionGroup var sampling: SamplingFlags
    @Option(help: "The system prompt (default: the template's).") var system: String?

    func run() throws {
        let generator = try model.loadGenerator()
        guard let template = generator.chatTemplate else { throw CLIError("\(model.location) has no chat template") }
        var statistics = (promptTokens: 0, promptSeconds: 0.0, decodeTokens: 0, decodeSeconds: 0.0)
        var firstTurn = true
        let interactive = isatty(STDIN_FILENO) != 0
        FileHandle.standardError.write(Data("Chatting with \((model.location as NSString).lastPathComponent). /reset starts over, Ctrl-D leaves.\n".utf8))
        while true {
            if interactive { FileHandle.standardError.write(Data("> ".utf8)) }
            guard let line = readLine() else { break }
            let message = line.trimmingCharacters(in: .whitespaces)
            if message.isEmpty { continue }
            if message == "/reset" {
                generator.reset()
                firstTurn = true
                FileHandle.standardError.write(Data("(conversation reset)\n".utf8))
                continue
            }
            // The first turn renders the system prompt; later turns close the previous reply first.
            let text: String
            if firstTurn {
                let systemMessages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
                text = template.render(systemMessages + [ChatMessage(role: "user", content: message)])
            } else {
                text = "<|im_end|>\n" + template.turn(ChatMessage(role: "user", content: message)) + template.assistantOpening
            }
            let ids = generator.tokenizer.encode(text)
            let result: GenerationResult
            do {
                result = try generator.continue(ids, options: sampling.options) { piece in
                    FileHandle.standardOutput.write(Data(piece.utf8))
                    return true
                }
            } catch let error as GenerationError {
                FileHandle.standardError.write(Data("error: \(error) (use /reset to start over)\n".utf8))
                continue
            }
            print()
            firstTurn = false
            statistics.promptTokens += result.promptTokens.count
            statistics.promptSeconds += result.promptSeconds
            statistics.decodeTokens += Swift.max(result.tokens.count - 1, 0)
            statistics.decodeSeconds += result.decodeSeconds
        }
        FileHandle.standardError.write(Data(String(
            format: "\nprefill: %d tokens at %.0f tokens/s · decode: %d tokens at %.1f tokens/s\n",
            statistics.promptTokens, Double(statistics.promptTokens) / Swift.max(statistics.promptSeconds, 1e-9),
            statistics.decodeTokens, Double(statistics.decodeTokens) / Swift.max(statistics.decodeSeconds, 1e-9)).utf8))
    }
}
