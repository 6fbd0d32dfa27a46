import Attend
import AttendNN
import AttendTraining
import AttendVisualization
import Foundation

/// Demo 1: a translation-style task — numbers written as digits to English words
/// (`4071` → `four thousand seventy one`) — learned by an encoder–decoder Transformer and
/// decoded with beam search.
public enum TranslationDemo {
    public static let sourceTokens = ["<pad>"] + (0...9).map(String.init)
    public static let targetTokens = ["<pad>", "<s>", "</s>", "zero", "one", "two", "three", "four", "five", "six", "seven",
                                      "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                                      "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty", "sixty",
                                      "seventy", "eighty", "ninety", "hundred", "thousand"]
    static let (begin, end) = (1, 2)

    /// English words for `0…9999`.
    public static func words(_ n: Int) -> [String] {
        precondition((0...9999).contains(n), "TranslationDemo handles 0…9999, got \(n)")
        if n == 0 { return ["zero"] }
        let small = ["", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
                     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
        let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
        var result: [String] = []
        var rest = n
        if rest >= 1000 { result += [small[rest / 1000], "thousand"]; rest %= 1000 }
        if rest >= 100 { result += [small[rest / 100], "hundred"]; rest %= 100 }
        if rest >= 20 { result.append(tens[rest / 10]); rest %= 10 }
        if rest > 0 { result.append(small[rest]) }
        return result
    }

    static func sourceIds(_ n: Int) -> [Int] { String(n).map { Int(String($0))! + 1 } }
    static func targetIds(_ n: Int) -> [Int] { words(n).map { targetTokens.firstIndex(of: $0)! } }

    /// The settings of a run; the defaults reach ≥ 98% exact match in about a minute on 2 cores.
    public struct Settings: Sendable {
        public var steps = 4000
        public var batchSize = 64
        public var evaluationCount = 500
        public var beamWidth = 4
        public var seed: UInt64 = 1
        /// Data-parallel training (e.g. over MPI): the batch is shared among the processes.
        public var parallelism: DataParallelism?
        public init() {}
    }

    /// The translator: a 2 + 2-layer, 64-wide encoder–decoder (what `attend translate` loads).
    public static func makeModel() -> Seq2SeqTransformer {
        Seq2SeqTransformer(sourceVocabulary: sourceTokens.count, targetVocabulary: targetTokens.count,
                           modelDimension: 64, headCount: 4, encoderLayers: 2, decoderLayers: 2,
                           feedForwardDimension: 128, dropout: 0.05)
    }

    /// Trains, evaluates exact match on held-out numbers with beam search, and returns the metrics.
    public static func run(_ settings: Settings, output: String?, showingProgress: Bool = true) throws -> (metrics: [String: Double], model: Seq2SeqTransformer) {
        Initialization.seed(settings.seed)
        var split = PhiloxGenerator(seed: settings.seed &+ 1000)
        let numbers = split.permutation(of: 10_000)
        let (test, train) = (Array(numbers.prefix(2000)), Array(numbers.dropFirst(2000)))
        let model = makeModel()
        let loop = try DemoTraining.loop(model, weightDecay: 0.01, steps: settings.steps, seed: settings.seed, output: output,
                                         label: "translation", parallelism: settings.parallelism)
        loop.run(showingProgress: showingProgress) { model, generator in
            let batch = (0..<loop.localBatchSize(settings.batchSize)).map { _ in train[Int(generator.next() % UInt64(train.count))] }
            let (source, lengths) = DemoTraining.pad(batch.map(sourceIds))
            let targets = batch.map(targetIds)
            let (input, _) = DemoTraining.pad(targets.map { [begin] + $0 })
            let (expected, _) = DemoTraining.pad(targets.map { $0 + [end] }, with: -100)
            return crossEntropy(model(source: source, sourceLengths: lengths, targetInput: input),
                                targets: expected.flatMap { $0 }, labelSmoothing: 0.05)
        }
        let evaluation = Array(test.prefix(settings.evaluationCount))
        var correct = 0
        for n in evaluation where translate(n, with: model, beamWidth: settings.beamWidth) == words(n) { correct += 1 }
        let metrics = ["exact_match": Double(correct) / Double(evaluation.count), "held_out_examples": Double(evaluation.count),
                       "steps": Double(settings.steps)]
        try loop.finish(metrics: metrics)
        if let output, loop.isPrimary { try alignmentPicture(4071, model: model).write(to: URL(fileURLWithPath: output + "/alignment.png")) }
        return (metrics, model)
    }

    /// A PNG of the last decoder layer's cross-attention (mean over heads) while the model writes
    /// the words for `n`: which digits each word reads.
    public static func alignmentPicture(_ n: Int, model: Seq2SeqTransformer) -> Data {
        let source = sourceIds(n), output = translate(n, with: model)
        let input = [begin] + output.map { targetTokens.firstIndex(of: $0)! }
        let weights = model.crossAttention(source: [source], sourceLengths: [source.count], targetInput: [input])
        let map = AttentionMap(title: "\(n): cross-attention", queryTokens: ["<s>"] + output,
                               keyTokens: String(n).map(String.init), layers: weights)
        return PNG.encode(Heatmap.image(map, layer: map.layerCount - 1, head: nil))
    }

    /// The words `model` produces for `n` with beam search.
    public static func translate(_ n: Int, with model: Seq2SeqTransformer, beamWidth: Int = 4) -> [String] {
        let source = sourceIds(n)
        let decoder = model.makeDecoder(source: [source], sourceLengths: [source.count])
        let best = beamSearch(decoder, startToken: begin, endToken: end, beamWidth: beamWidth, maxLength: 12).first
        return (best?.tokens ?? []).dropFirst().filter { $0 != end }.map { targetTokens[$0] }
    }
}
