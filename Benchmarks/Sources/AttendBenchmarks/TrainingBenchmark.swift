import ArgumentParser
import Attend
import AttendNN
import AttendTraining

/// Training steps per second of an encoder–decoder Transformer.
struct TrainingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "training",
        abstract: "Steps/s of AdamW training: 4+4-layer, 256-wide encoder–decoder, batches of 32 × 64 tokens.")

    @Option(help: "Threads.") var threads = 2
    @Option(help: "Timed steps.") var steps = 10
    @Flag(help: "Print JSON.") var json = false

    func run() {
        Parallelism.threadCount = threads
        Initialization.seed(1)
        let vocabulary = 1000
        let model = Seq2SeqTransformer(sourceVocabulary: vocabulary, targetVocabulary: vocabulary, modelDimension: 256, headCount: 8,
                                       encoderLayers: 4, decoderLayers: 4, feedForwardDimension: 1024, dropout: 0.1)
        let optimizer = Adam.adamW(model: model, learningRate: 1e-4)
        var generator = PhiloxGenerator(seed: 2)
        func batch() -> ([[Int]], [[Int]], [Int]) {
            let source = (0..<32).map { _ in (0..<64).map { _ in 1 + Int(generator.next() % UInt64(vocabulary - 1)) } }
            let target = (0..<32).map { _ in (0..<65).map { _ in 1 + Int(generator.next() % UInt64(vocabulary - 1)) } }
            return (source, target.map { Array($0.dropLast()) }, target.flatMap { $0.dropFirst() })
        }
        func step() {
            let (source, input, expected) = batch()
            let (_, gradients) = valueWithGradient(of: model) { m in
                crossEntropy(m(source: source, sourceLengths: [Int](repeating: 64, count: 32), targetInput: input), targets: expected)
            }
            optimizer.step(gradients)
        }
        model.train()
        let timing = Timing.measure(budget: 0, minimumRuns: steps) { step() }
        let rate = 1 / timing.median
        if json {
            print("{\"steps_per_second\":\(rate),\"median_ms\":\(timing.median * 1e3)}")
        } else {
            print("\(formatted(rate, 2)) steps/s (median step \(formatted(timing.median * 1e3)) ms)")
        }
    }
}
