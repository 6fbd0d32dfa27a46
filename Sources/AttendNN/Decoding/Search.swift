import Attend
import Foundation

/// A model that produces the next token's log-probabilities one step at a time, keeping its
/// own state (a KV cache) for each row of the batch it decodes.
public protocol IncrementalDecoder: AnyObject {
    /// Log-probabilities `[rows, vocabulary]` of the next token of each row, given the token each
    /// row produced last; advances the state by one position.
    func nextTokenLogProbabilities(after tokens: [Int]) -> Tensor
    /// Keeps rows `rows` of the state, in that order (rows may repeat): beam search calls it to
    /// follow the surviving beams.
    func selectRows(_ rows: [Int])
}

/// Greedy decoding: each row takes its most likely next token until it emits `endToken` or
/// reaches `maxLength` tokens (the start token included).
/// - Returns: each row's tokens, starting with its start token and ending with `endToken` when emitted.
public func greedyDecode(_ decoder: some IncrementalDecoder, startTokens: [Int], endToken: Int?, maxLength: Int) -> [[Int]] {
    var sequences = startTokens.map { [$0] }
    var finished = [Bool](repeating: false, count: startTokens.count)
    while sequences.contains(where: { $0.count < maxLength }) && finished.contains(false) {
        let logProbabilities = decoder.nextTokenLogProbabilities(after: sequences.map { $0.last! })
        let best = logProbabilities.argmax(alongAxis: -1).scalars.map { Int($0) }
        for row in sequences.indices where !finished[row] {
            sequences[row].append(best[row])
            if best[row] == endToken || sequences[row].count >= maxLength { finished[row] = true }
        }
    }
    return sequences
}

/// One finished beam-search hypothesis.
public struct Hypothesis: Sendable, Equatable {
    /// The tokens, starting with the start token.
    public let tokens: [Int]
    /// Sum of the log-probabilities of the generated tokens.
    public let logProbability: Float
    /// `logProbability / generated^lengthPenalty`: what hypotheses are ranked by.
    public let score: Float
}

/// Beam search for one sequence: keeps the `beamWidth` best partial sequences by total
/// log-probability, finishes a hypothesis when it emits `endToken` (or reaches `maxLength`),
/// and ranks finished ones by `logProbability / length^lengthPenalty` (Hugging Face's rule;
/// `lengthPenalty > 0` favours longer outputs, `0` compares raw log-probabilities).
///
/// The decoder starts with one row; it is widened to the beams with ``IncrementalDecoder/selectRows(_:)``.
/// - Returns: up to `beamWidth` hypotheses, best first.
public func beamSearch(_ decoder: some IncrementalDecoder, startToken: Int, endToken: Int?, beamWidth: Int,
                       maxLength: Int, lengthPenalty: Float = 1) -> [Hypothesis] {
    precondition(beamWidth >= 1 && maxLength >= 1, "beamSearch needs beamWidth ≥ 1 and maxLength ≥ 1")
    func score(_ logProbability: Float, _ tokens: Int) -> Float {
        logProbability / Float(Foundation.pow(Double(Swift.max(tokens - 1, 1)), Double(lengthPenalty)))
    }
    var beams: [(tokens: [Int], logProbability: Float)] = [([startToken], 0)]
    var finished: [Hypothesis] = []
    while let length = beams.first?.tokens.count, length < maxLength {
        let logProbabilities = decoder.nextTokenLogProbabilities(after: beams.map { $0.tokens.last! })
        let vocabulary = logProbabilities.shape[1]
        let values = logProbabilities.scalars
        // The 2·W best continuations over all beams (enough to fill W beams after some finish).
        var candidates: [(beam: Int, token: Int, logProbability: Float)] = []
        candidates.reserveCapacity(beams.count * vocabulary)
        for (b, beam) in beams.enumerated() {
            for t in 0..<vocabulary where values[b * vocabulary + t] > -.infinity {
                candidates.append((b, t, beam.logProbability + values[b * vocabulary + t]))
            }
        }
        candidates.sort { $0.logProbability > $1.logProbability || ($0.logProbability == $1.logProbability && ($0.beam, $0.token) < ($1.beam, $1.token)) }
        var next: [(tokens: [Int], logProbability: Float)] = [], parents: [Int] = []
        for candidate in candidates.prefix(2 * beamWidth) {
            let tokens = beams[candidate.beam].tokens + [candidate.token]
            if candidate.token == endToken {
                finished.append(Hypothesis(tokens: tokens, logProbability: candidate.logProbability,
                                           score: score(candidate.logProbability, tokens.count)))
            } else if next.count < beamWidth {
                next.append((tokens, candidate.logProbability))
                parents.append(candidate.beam)
            }
        }
        beams = next
        if beams.isEmpty { break }
        // Stop once no running beam can beat the W-th best finished one (log-probabilities only fall).
        if finished.count >= beamWidth {
            let worstKept = finished.map(\.score).sorted(by: >)[beamWidth - 1]
            // A running beam's log-probability can only fall, so its best reachable score is at
            // its current length or at maxLength, whichever the length penalty prefers.
            let bestRunning = beams.map {
                Swift.max(score($0.logProbability, $0.tokens.count + 1), score($0.logProbability, maxLength))
            }.max()!
            if bestRunning <= worstKept { break }
        }
        decoder.selectRows(parents)
    }
    for beam in beams where beam.tokens.count >= maxLength {
        finished.append(Hypothesis(tokens: beam.tokens, logProbability: beam.logProbability,
                                   score: score(beam.logProbability, beam.tokens.count)))
    }
    return Array(finished.sorted { $0.score > $1.score }.prefix(beamWidth))
}
