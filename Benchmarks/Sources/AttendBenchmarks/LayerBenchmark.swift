import ArgumentParser
import Attend
import AttendNN

/// Multi-head attention and encoder-layer timings, and the cost of one cached decoding step.
struct LayerBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "Milliseconds of MultiHeadAttention forward, encoder layer forward+backward, and µs per cached decoding step.",
        discussion: "Prints JSON lines with --json (scripts/compare_layers_with_pytorch.py reads them).")

    @Option(help: "Batch size.") var batch = 4
    @Option(help: "Sequence length.") var length = 512
    @Option(help: "Model width E.") var width = 512
    @Option(help: "Heads.") var heads = 8
    @Option(help: "Feed-forward width.") var feedForward = 2048
    @Option(help: "Cached tokens for the decoding step.") var cacheLength = 1024
    @Option(parsing: .upToNextOption, help: "Thread counts.") var threads: [Int] = [2]
    @Option(help: "Seconds per measurement.") var budget: Double = 1.0
    @Flag(help: "Print JSON lines.") var json = false

    func run() {
        Initialization.seed(1)
        var generator = PhiloxGenerator(seed: 2)
        let x = Tensor.normal([batch, length, width], using: &generator)
        let attention = MultiHeadAttention(embedDimension: width, headCount: heads)
        let layer = TransformerEncoderLayer(modelDimension: width, headCount: heads, feedForwardDimension: feedForward,
                                            dropout: 0, normFirst: false)
        attention.eval()
        layer.eval()
        let decoder = TransformerDecoder(count: 1) {
            TransformerDecoderLayer(modelDimension: width, headCount: heads, feedForwardDimension: feedForward,
                                    dropout: 0, normFirst: false)
        }
        decoder.eval()
        let memory = Tensor.normal([1, 64, width], using: &generator)
        let prefix = Tensor.normal([1, cacheLength, width], using: &generator)
        let token = Tensor.normal([1, 1, width], using: &generator)
        for threadCount in threads {
            Parallelism.threadCount = threadCount
            let mha = Timing.measure(budget: budget) { consume(attention(x)) }
            let encoder = Timing.measure(budget: budget) {
                consume(valueWithGradient(of: layer) { layer in layer(x).sum() })
            }
            // 32 decoding steps after `cacheLength` cached tokens, per step (prefill not timed).
            var cache = decoder.makeCache(memory: memory)
            let stepsPerRun = 32
            let step = Timing.measureWithSetup(budget: budget, setup: {
                cache = decoder.makeCache(memory: memory)
                _ = decoder.step(prefix, cache: &cache)
            }) {
                for _ in 0..<stepsPerRun { consume(decoder.step(token, cache: &cache)) }
            }.scaled(by: 1 / Double(stepsPerRun))
            let rows: [(String, Double)] = [("mha_forward_ms", mha.median * 1e3), ("encoder_forward_backward_ms", encoder.median * 1e3),
                                            ("decode_step_us", step.median * 1e6)]
            for (name, value) in rows {
                if json {
                    print("{\"name\":\"\(name)\",\"threads\":\(threadCount),\"value\":\(value)}")
                } else {
                    print("\(name) [threads \(threadCount)]: \(formatted(value, 3))")
                }
            }
        }
    }
}
