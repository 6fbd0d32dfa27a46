import Attend
import Foundation

/// How the next token is picked from a language model's logits.
///
/// Applied in this order (llama.cpp's default chain): the repetition penalty on the last
/// `repetitionWindow` tokens, then — unless greedy — temperature, top-k, top-p (nucleus) and
/// min-p filtering, and a draw from what is left with a seeded generator (same seed, same text).
public struct SamplingOptions: Sendable, Equatable {
    /// Softmax temperature; 0 picks the most likely token (greedy).
    public var temperature: Float
    /// Keep only the `topK` most likely tokens (nil or 0: all).
    public var topK: Int?
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (nil or 1: all).
    public var topP: Float?
    /// Drop tokens less likely than `minP` × the most likely one's probability (nil or 0: none).
    public var minP: Float?
    /// CTRL's penalty (Keskar et al. 2019): a logit `z` of a recently seen token becomes `z/θ`
    /// when positive and `z·θ` when negative (1: off).
    public var repetitionPenalty: Float
    /// How many of the most recent tokens the penalty looks at.
    public var repetitionWindow: Int
    /// Seeds the draws.
    public var seed: UInt64

    public init(temperature: Float = 0, topK: Int? = nil, topP: Float? = nil, minP: Float? = nil,
                repetitionPenalty: Float = 1, repetitionWindow: Int = 64, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repetitionPenalty = repetitionPenalty
        self.repetitionWindow = repetitionWindow
        self.seed = seed
    }

    /// Greedy decoding: always the most likely token.
    public static let greedy = SamplingOptions()

    /// Checks every option's range.
    ///
    /// - Throws: ``GenerationError/invalidOption(_:)`` naming the option.
    public func validate() throws {
        guard temperature.isFinite && temperature >= 0 else { throw GenerationError.invalidOption("temperature \(temperature) must be ≥ 0") }
        if let topK, topK < 0 { throw GenerationError.invalidOption("top-k \(topK) must be ≥ 0") }
        if let topP, !(topP > 0 && topP <= 1) { throw GenerationError.invalidOption("top-p \(topP) must be in (0, 1]") }
        if let minP, !(minP >= 0 && minP <= 1) { throw GenerationError.invalidOption("min-p \(minP) must be in [0, 1]") }
        guard repetitionPenalty.isFinite && repetitionPenalty > 0 else {
            throw GenerationError.invalidOption("repetition penalty \(repetitionPenalty) must be > 0")
        }
        guard repetitionWindow >= 0 else { throw GenerationError.invalidOption("repetition window \(repetitionWindow) must be ≥ 0") }
    }
}

/// Picks tokens from logits as ``SamplingOptions`` say, keeping its random state between calls.
public struct Sampler: Sendable {
    public let options: SamplingOptions
    private var generator: PhiloxGenerator

    public init(_ options: SamplingOptions) {
        self.options = options
        generator = PhiloxGenerator(seed: options.seed)
    }

    /// The next token given `logits` `[V]` and the tokens so far (prompt included, for the penalty).
    public mutating func next(logits: [Float], history: [Int]) -> Int {
        var z = logits
        if options.repetitionPenalty != 1 {
            let penalty = options.repetitionPenalty
            for token in Set(history.suffix(options.repetitionWindow)) where token >= 0 && token < z.count {
                z[token] = z[token] > 0 ? z[token] / penalty : z[token] * penalty
            }
        }
        guard options.temperature > 0 else { return Self.argmax(z) }
        // Candidates, most likely first (ties: lower id first).
        var candidates = z.indices.filter { !z[$0].isNaN }
        candidates.sort { z[$0] > z[$1] || (z[$0] == z[$1] && $0 < $1) }
        if let k = options.topK, k > 0 { candidates = Array(candidates.prefix(k)) }
        guard let best = candidates.first else { return Self.argmax(logits) }
        // Probabilities at the temperature, over the candidates (stable: the best logit is 0).
        let top = z[best]
        var probabilities = candidates.map { Foundation.exp(Double((z[$0] - top) / options.temperature)) }
        let total = probabilities.reduce(0, +)
        probabilities = probabilities.map { $0 / total }
        var keep = candidates.count
        if let p = options.topP, p < 1 {
            var cumulative = 0.0
            for (index, probability) in probabilities.enumerated() {
                cumulative += probability
                if cumulative >= Double(p) { keep = index + 1; break }
            }
        }
        if let minP = options.minP, minP > 0 {
            let threshold = Double(minP) * probabilities[0]
            keep = Swift.min(keep, Swift.max(1, probabilities.prefix { $0 >= threshold }.count))
        }
        let kept = probabilities.prefix(keep)
        let draw = Double(generator.nextUnitFloat()) * kept.reduce(0, +)
        var cumulative = 0.0
        for (index, probability) in kept.enumerated() {
            cumulative += probability
            if draw < cumulative { return candidates[index] }
        }
        return candidates[keep - 1]
    }

    /// The index of the largest logit (the first on ties; NaN never wins): the greedy choice.
    public static func argmax(_ z: [Float]) -> Int {
        var best = 0
        for index in z.indices where z[index] > z[best] || z[best].isNaN { best = index }
        return best
    }
}

/// Why text could not be generated.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// The prompt and the tokens asked for do not fit the model's context.
    case contextExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int)
    case emptyPrompt
    case invalidOption(String)

    public var description: String {
        switch self {
        case let .contextExceeded(prompt, max, context):
            "the prompt (\(prompt) tokens) plus up to \(max) new tokens exceeds the model's context of \(context) tokens"
        case .emptyPrompt: "the prompt is empty (it has no tokens)"
        case .invalidOption(let message): message
        }
    }
}
