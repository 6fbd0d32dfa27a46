import Attend
import AttendNN
import Foundation

/// What ``TextGenerator/generate(_:options:onText:)`` does besides sampling.
public struct GenerationOptions: Sendable, Equatable {
    /// New tokens at most.
    public var maxTokens: Int
    public var sampling: SamplingOptions
    /// Generation ends before any of these strings (the string itself is not returned).
    public var stopStrings: [String]

    public init(maxTokens: Int = 256, sampling: SamplingOptions = .greedy, stopStrings: [String] = []) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopStrings = stopStrings
    }
}

/// What one generation produced.
public struct GenerationResult: Sendable, Equatable {
    /// Why generation ended.
    public enum FinishReason: String, Sendable {
        /// The model emitted an end-of-generation token (`<|im_end|>`, `<|endoftext|>`, …).
        case endOfSequence = "stop"
        /// A stop string appeared.
        case stopString = "stop_string"
        /// `maxTokens` were generated.
        case length
        /// The caller's callback asked to stop.
        case cancelled
    }
    /// The tokens the model read before generating (this turn's only, in a continuing chat).
    public var promptTokens: [Int]
    /// The generated ids (an end-of-generation token included when one ended it).
    public var tokens: [Int]
    /// The generated text, without special tokens and stop strings.
    public var text: String
    public var finishReason: FinishReason
    /// Seconds spent reading the prompt (one batched pass) and generating.
    public var promptSeconds: Double
    public var decodeSeconds: Double

    public var promptTokensPerSecond: Double { Double(promptTokens.count) / Swift.max(promptSeconds, 1e-9) }
    /// Generated tokens per second after the first (each needs one forward pass).
    public var decodeTokensPerSecond: Double { Double(Swift.max(tokens.count - 1, 0)) / Swift.max(decodeSeconds, 1e-9) }
}

/// A language model with its tokenizer (and chat template), generating text token by token with a
/// KV cache: the prompt in one batched pass, then one forward pass per new token, text streamed
/// as it is made.
///
/// ```swift
/// let generator = try TextGenerator.load(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// let prompt = generator.tokenizer.encode("The capital of France is")
/// _ = try generator.generate(prompt, options: .init(maxTokens: 16)) { print($0, terminator: ""); return true }
/// ```
/// A generator is one conversation: ``continue(_:options:onText:)`` keeps the cache, so a chat's
/// next turn reads only its new tokens. Not for concurrent use.
public final class TextGenerator {
    public let model: LlamaModel
    public let tokenizer: BytePairTokenizer
    /// How conversations are written for this model (nil for a base model without one).
    public let chatTemplate: ChatTemplate?
    /// The keys and values of every token read or generated in the current conversation.
    public private(set) var cache: LlamaCache
    /// Every token of the current conversation (what ``cache`` holds, in order).
    public private(set) var history: [Int] = []
    /// Ids that end a generation.
    public let endOfGenerationIDs: Set<Int>

    public init(model: LlamaModel, tokenizer: BytePairTokenizer, chatTemplate: ChatTemplate?) {
        self.model = model
        self.tokenizer = tokenizer
        self.chatTemplate = chatTemplate
        cache = model.makeCache()
        var ends = Set(["<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>", "</s>"].compactMap { tokenizer.id(of: $0) })
        if let eos = tokenizer.endOfSequenceID { ends.insert(eos) }
        endOfGenerationIDs = ends
    }

    /// Loads a GGUF file, or a folder holding one `.gguf` file, or a Hugging Face Llama folder
    /// (`config.json`, `model.safetensors`, `tokenizer.json`).
    ///
    /// - Throws: ``GGUFError``, ``ModelLoadingError`` or ``TokenizerError`` naming the file at fault.
    public static func load(path: String) throws -> TextGenerator {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelLoadingError(file: path, reason: "no such file or folder")
        }
        if isDirectory.boolValue {
            if FileManager.default.fileExists(atPath: path + "/config.json") {
                let model = try LlamaModel.load(directory: path)
                let tokenizer = try BytePairTokenizer(tokenizerJSON: path + "/tokenizer.json")
                let template = Self.templateFromTokenizerConfiguration(path + "/tokenizer_config.json")
                return TextGenerator(model: model, tokenizer: tokenizer, chatTemplate: template)
            }
            let ggufFiles = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
            guard ggufFiles.count == 1 else {
                throw ModelLoadingError(file: path, reason: ggufFiles.isEmpty ? "holds neither config.json nor a .gguf file"
                                                                           : "holds several .gguf files (\(ggufFiles.joined(separator: ", "))); name one")
            }
            return try load(path: path + "/" + ggufFiles[0])
        }
        let file = try GGUFFile(path: path)
        let model = try LlamaModel.load(gguf: file)
        let tokenizer = try BytePairTokenizer(gguf: file)
        let template = try file.metadata["tokenizer.chat_template"]?.string.map { try ChatTemplate(jinja: $0) }
        return TextGenerator(model: model, tokenizer: tokenizer, chatTemplate: template)
    }

    private static func templateFromTokenizerConfiguration(_ path: String) -> ChatTemplate? {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let template = json["chat_template"] as? String else { return nil }
        return try? ChatTemplate(jinja: template)
    }

    /// Forgets the conversation (empties the cache).
    public func reset() {
        cache = model.makeCache()
        history = []
    }

    /// Starts a new conversation with `prompt` and generates its continuation.
    /// `onText` receives the text as it is made (whole UTF-8 characters) and returns false to stop.
    public func generate(_ prompt: [Int], options: GenerationOptions = .init(),
                         onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        reset()
        return try `continue`(prompt, options: options, onText: onText)
    }

    /// Reads `tokens` after everything this conversation holds, then generates. The generated
    /// tokens stay in the cache, all but the last one sampled (the end token that ended a reply
    /// is not read: the next turn's text starts with it, as ChatML's `<|im_end|>` does).
    public func `continue`(_ tokens: [Int], options: GenerationOptions = .init(),
                           onText: (String) -> Bool = { _ in true }) throws -> GenerationResult {
        try options.sampling.validate()
        guard !tokens.isEmpty else { throw GenerationError.emptyPrompt }
        guard options.maxTokens >= 0 else { throw GenerationError.invalidOption("max tokens \(options.maxTokens) must be ≥ 0") }
        let context = model.configuration.contextLength
        guard history.count + tokens.count + options.maxTokens <= context else {
            throw GenerationError.contextExceeded(promptTokens: history.count + tokens.count, maxTokens: options.maxTokens, contextLength: context)
        }
        for token in tokens where token < 0 || token >= model.configuration.vocabularySize {
            throw GenerationError.invalidOption("token id \(token) is outside the vocabulary of \(model.configuration.vocabularySize)")
        }
        var sequence = GenerationSequence(prompt: tokens, context: history, options: options, tokenizer: tokenizer,
                                          endOfGenerationIDs: endOfGenerationIDs)

        // Room for everything this call may add, allocated once (the cache never doubles mid-reply).
        cache.reserveCapacity(history.count + tokens.count + options.maxTokens, configuration: model.configuration)
        let promptStart = DispatchTime.now().uptimeNanoseconds
        var logits = model.logits(for: tokens, cache: &cache)
        history += tokens
        let decodeStart = DispatchTime.now().uptimeNanoseconds

        while !sequence.isFinished {
            let text = sequence.advance(logits: logits.scalars)
            if !text.isEmpty && !onText(text) { sequence.cancel(); break }
            if let token = sequence.nextToken {
                logits = model.logits(for: [token], cache: &cache)
                history.append(token)
            }
        }
        let end = DispatchTime.now().uptimeNanoseconds
        sequence.recordTimes(promptSeconds: Double(decodeStart - promptStart) / 1e9, decodeSeconds: Double(end - decodeStart) / 1e9)
        return sequence.result
    }
}

/// Holds back streamed text that may be the start of a stop string, and cuts at the first one.
struct StopStringFilter {
    let stopStrings: [String]
    private var pending = ""

    init(stopStrings: [String]) { self.stopStrings = stopStrings.filter { !$0.isEmpty } }

    /// The text now safe to emit, and whether a stop string appeared (text before it is emitted).
    mutating func append(_ text: String) -> (String, Bool) {
        pending += text
        guard !stopStrings.isEmpty else { defer { pending = "" }; return (pending, false) }
        if let cut = stopStrings.compactMap({ pending.range(of: $0)?.lowerBound }).min() {
            defer { pending = "" }
            return (String(pending[..<cut]), true)
        }
        // Keep the longest suffix that is a prefix of some stop string.
        var keep = 0
        for stop in stopStrings {
            for length in stride(from: Swift.min(stop.count - 1, pending.count), through: 1, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                keep = Swift.max(keep, length)
                break
            }
        }
        let emitted = String(pending.dropLast(keep))
        pending = String(pending.suffix(keep))
        return (emitted, false)
    }

    /// Everything still held back, at the end of generation.
    mutating func finish(_ text: String) -> String {
        let (emitted, stopped) = append(text)
        defer { pending = "" }
        return stopped ? emitted : emitted + pending
    }
}
