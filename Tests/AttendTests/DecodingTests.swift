import Attend
import AttendNN
import Foundation
import Testing

@Suite("Incremental decoding and search")
struct DecodingTests {
    @Test(arguments: [false, true])
    func cachedStepsEqualTheFullPass(normFirst: Bool) {
        Initialization.seed(31)
        let decoder = TransformerDecoder(count: 2, finalNorm: LayerNorm(16)) {
            TransformerDecoderLayer(modelDimension: 16, headCount: 4, feedForwardDimension: 32, dropout: 0, normFirst: normFirst)
        }
        decoder.eval()
        var generator = PhiloxGenerator(seed: 32)
        let target = Tensor.normal([2, 7, 16], using: &generator)
        let memory = Tensor.normal([2, 5, 16], using: &generator)
        let padding = AttentionMask.keyPadding(validLengths: [5, 3])
        let full = decoder(target, memory: memory, mask: .causal, memoryMask: padding)

        var cache = decoder.makeCache(memory: memory, memoryMask: padding)
        var steps: [Tensor] = [decoder.step(target.sliced(axis: 1, 0..<3), cache: &cache)]   // a chunk of 3, then 1 at a time
        for t in 3..<7 { steps.append(decoder.step(target.sliced(axis: 1, t..<(t + 1)), cache: &cache)) }
        #expect(cache.length == 7)
        expectClose(Tensor.concatenate(steps, axis: 1), full, tolerance: 1e-5, "incremental vs full")
    }

    @Test func cacheGrowsInPlaceAndFollowsBeams() {
        var cache = KeyValueCache()
        // Row r's key at step t is t + 100·r (values: its negative), so rows can be told apart.
        for step in 0..<40 {
            let rows = Tensor([Float(step), Float(step + 100)]).reshaped([2, 1, 1, 1]).expanded(to: [2, 1, 1, 3])
            _ = cache.append(keys: rows, values: -rows)
        }
        #expect(cache.length == 40)
        #expect(cache.keys!.selecting(axis: 0, index: 1).scalars.enumerated().allSatisfy { $0.element == Float(100 + $0.offset / 3) })
        let picked = cache.selectingRows([1, 1, 0])
        #expect(picked.keys!.shape == [3, 1, 40, 3])
        let firstKeys = picked.keys!.sliced(axis: 2, 0..<1).scalars, lastValues = picked.values!.sliced(axis: 2, 39..<40).scalars
        #expect(firstKeys == [100, 100, 100, 100, 100, 100, 0, 0, 0], "rows 1, 1, 0 in that order")
        #expect(lastValues == [-139, -139, -139, -139, -139, -139, -39, -39, -39])
    }

    /// A Markov decoder with a hand-made table where greedy decoding is misled:
    /// after the start, A (0.6) beats B (0.4), but A→end has 0.5 while B→end has 0.9.
    final class TableDecoder: IncrementalDecoder {
        static let (start, end, a, b) = (0, 1, 2, 3)
        let table: [[Double]] = [[0, 0, 0.6, 0.4], [0, 1, 0, 0], [0, 0.5, 0.25, 0.25], [0, 0.9, 0.05, 0.05]]
        var rows = 1
        func nextTokenLogProbabilities(after tokens: [Int]) -> Tensor {
            precondition(tokens.count == rows)
            return Tensor(shape: [tokens.count, 4], scalars: tokens.flatMap { table[$0].map { Float(Foundation.log($0)) } })
        }
        func selectRows(_ rows: [Int]) { self.rows = rows.count }
    }

    @Test func beamSearchFindsTheBestSequenceGreedyMisses() {
        let greedy = greedyDecode(TableDecoder(), startTokens: [TableDecoder.start], endToken: TableDecoder.end, maxLength: 5)
        #expect(greedy == [[0, 2, 1]])                                             // p = 0.30
        let beams = beamSearch(TableDecoder(), startToken: 0, endToken: 1, beamWidth: 2, maxLength: 5, lengthPenalty: 0)
        #expect(beams.first?.tokens == [0, 3, 1])                                  // p = 0.36
        #expect(abs(beams[0].logProbability - Float(Foundation.log(0.36))) < 1e-6)
        #expect(beams.count == 2 && beams[1].tokens == [0, 2, 1])
        let narrow = beamSearch(TableDecoder(), startToken: 0, endToken: 1, beamWidth: 1, maxLength: 5, lengthPenalty: 0)
        #expect(narrow.first?.tokens == [0, 2, 1])                                 // width 1 is greedy
    }

    /// A tiny translator: embeddings, a decoder with a KV cache, and an output projection.
    final class TinyTranslator: IncrementalDecoder {
        let embedding = Embedding(count: 6, dimension: 8)
        let decoder = TransformerDecoder(count: 1) {
            TransformerDecoderLayer(modelDimension: 8, headCount: 2, feedForwardDimension: 16, dropout: 0, normFirst: true)
        }
        let output = Linear(8, 6)
        let memory: Tensor
        var cache: TransformerDecoderCache
        init(memory: Tensor) {
            self.memory = memory
            cache = decoder.makeCache(memory: memory)
        }
        /// Forgets what was decoded (a fresh one-row cache).
        func reset() { cache = decoder.makeCache(memory: memory) }
        func logProbabilities(_ hidden: Tensor) -> Tensor { logSoftmax(output(hidden), axis: -1) }
        func nextTokenLogProbabilities(after tokens: [Int]) -> Tensor {
            let x = embedding(tokens.map { [$0] })                                  // [rows, 1, 8]
            return logProbabilities(decoder.step(x, cache: &cache)).squeezed(axis: 1)
        }
        func selectRows(_ rows: [Int]) { cache = cache.selectingRows(rows) }
        /// Σ log p(tokens[t] | tokens[..<t]) over the generated tokens, from one full causal pass (no cache).
        func logProbabilityWithoutCache(of tokens: [Int]) -> Float {
            let hidden = decoder(embedding([Array(tokens.dropLast())]), memory: memory, mask: .causal)
            let table = logProbabilities(hidden).scalars                             // [1, n − 1, 6]
            return (1..<tokens.count).reduce(0) { $0 + table[($1 - 1) * 6 + tokens[$1]] }
        }
        /// Greedy decoding by recomputing the whole prefix every step (no cache).
        func greedyWithoutCache(start: Int, end: Int, maxLength: Int) -> [Int] {
            var tokens = [start]
            while tokens.count < maxLength {
                let hidden = decoder(embedding([tokens]), memory: memory, mask: .causal)
                let next = Int(logProbabilities(hidden).selecting(axis: 1, index: tokens.count - 1).argmax(alongAxis: -1).scalars[0])
                tokens.append(next)
                if next == end { break }
            }
            return tokens
        }
    }

    @Test func greedyWithCacheEqualsRecomputation() {
        Initialization.seed(33)
        var generator = PhiloxGenerator(seed: 34)
        let translator = TinyTranslator(memory: Tensor.normal([1, 4, 8], using: &generator))
        let expected = translator.greedyWithoutCache(start: 0, end: 1, maxLength: 12)
        #expect(greedyDecode(translator, startTokens: [0], endToken: 1, maxLength: 12) == [expected])
        // Width 1 follows the greedy path (it may also finish side branches that end early).
        translator.reset()
        let narrow = beamSearch(translator, startToken: 0, endToken: 1, beamWidth: 1, maxLength: 12, lengthPenalty: 0)
        #expect(narrow.contains { $0.tokens == expected })
        // Wider beams reorder the cache rows every step; each hypothesis's log-probability must
        // equal a fresh full pass over its tokens, which it only does if the rows followed the beams.
        translator.reset()
        let beams = beamSearch(translator, startToken: 0, endToken: 1, beamWidth: 3, maxLength: 8)
        #expect(beams.count >= 2)
        for beam in beams {
            #expect(abs(beam.logProbability - translator.logProbabilityWithoutCache(of: beam.tokens)) < 1e-4,
                    "beam \(beam.tokens)")
        }
    }
}
