/// One sequence being generated, between two forward passes: it samples the next token from the
/// model's logits, turns tokens into text as whole UTF-8 characters, watches for end tokens, stop
/// strings and the token budget, and keeps the result so far.
///
/// ``TextGenerator`` drives one; a server drives many that share each forward pass
/// (``LlamaModel/logits(nextTokens:caches:)``), which is why the bookkeeping lives here and not
/// in a loop:
///
/// ```swift
/// var logits = model.logits(for: prompt, cache: &cache)                 // [1, V]
/// var sequence = GenerationSequence(prompt: prompt, options: options, tokenizer: tokenizer,
///                                   endOfGenerationIDs: ends)
/// while !sequence.isFinished {
///     print(sequence.advance(logits: logits.scalars), terminator: "")
///     if let token = sequence.nextToken { logits = model.logits(for: [token], cache: &cache) }
/// }
/// ```
public struct GenerationSequence: Sendable {
    public let options: GenerationOptions
    /// What has been generated so far (complete once ``isFinished``).
    public private(set) var result: GenerationResult
    /// Every token the repetition penalty looks back on: earlier turns, the prompt, and what has
    /// been generated.
    public private(set) var history: [Int]
    /// The token the next forward pass must read, or nil when the sequence is finished.
    public private(set) var nextToken: Int?
    public private(set) var isFinished = false

    private let endOfGenerationIDs: Set<Int>
    private var sampler: Sampler
    private var decoder: BytePairTokenizer.StreamingDecoder
    private var stopFilter: StopStringFilter

    /// A sequence about to generate after `prompt` (which followed `context`, earlier turns the
    /// cache already holds).
    public init(prompt: [Int], context: [Int] = [], options: GenerationOptions, tokenizer: BytePairTokenizer,
                endOfGenerationIDs: Set<Int>) {
        self.options = options
        result = GenerationResult(promptTokens: prompt, tokens: [], text: "", finishReason: .length, promptSeconds: 0, decodeSeconds: 0)
        history = context + prompt
        self.endOfGenerationIDs = endOfGenerationIDs
        sampler = Sampler(options.sampling)
        decoder = tokenizer.makeStreamingDecoder()
        stopFilter = StopStringFilter(stopStrings: options.stopStrings)
    }

    /// Takes the logits `[V]` of the position after the last token read, samples the next token
    /// and returns the text that became final (often empty: a character split across tokens, or
    /// text that may start a stop string, is held back). Afterwards either ``isFinished`` or
    /// ``nextToken`` is set.
    public mutating func advance(logits: [Float]) -> String {
        precondition(!isFinished, "GenerationSequence.advance: the sequence has finished")
        nextToken = nil
        guard result.tokens.count < options.maxTokens else { return finish(.length) }
        let token = sampler.next(logits: logits, history: history)
        result.tokens.append(token)
        if endOfGenerationIDs.contains(token) { return finish(.endOfSequence) }
        let (text, stopped) = stopFilter.append(decoder.append(token))
        result.text += text
        if stopped {
            result.finishReason = .stopString
            isFinished = true
            return text
        }
        if result.tokens.count == options.maxTokens { return text + finish(.length) }
        history.append(token)
        nextToken = token
        return text
    }

    /// Ends the sequence now (the caller stopped listening); held-back text is dropped.
    public mutating func cancel() {
        guard !isFinished else { return }
        result.finishReason = .cancelled
        isFinished = true
        nextToken = nil
    }

    /// Ends with `reason`, releasing held-back text (the tail of a character, a partial stop string).
    private mutating func finish(_ reason: GenerationResult.FinishReason) -> String {
        result.finishReason = reason
        isFinished = true
        let tail = stopFilter.finish(decoder.finish())
        result.text += tail
        return tail
    }

    /// Records how long the prompt and the generation took (the caller's clock).
    public mutating func recordTimes(promptSeconds: Double, decodeSeconds: Double) {
        result.promptSeconds = promptSeconds
        result.decodeSeconds = decodeSeconds
    }
}
