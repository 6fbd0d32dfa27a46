import ArgumentParser
import Attend
import AttendModels
import Foundation

/// Sentence-embedding throughput, single-text latency and model load time.
struct EmbeddingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embeddings",
        abstract: "Load time, throughput (batch 32) and single-sentence latency of SentenceEmbedder.")

    @Option(help: "Model folder.") var model = ModelStore.defaultModelDirectory
    @Option(help: "Sentences, one per line.") var input: String
    @Option(help: "Batch size.") var batchSize = 32
    @Option(help: "Threads.") var threads = 2
    @Option(help: "Sentences timed one at a time for latency.") var latencySamples = 50
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        Parallelism.threadCount = threads
        let sentences = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n").map(String.init)
        let loadStart = Date()
        let embedder = try SentenceEmbedder(directory: model)
        let loadSeconds = Date().timeIntervalSince(loadStart)
        _ = embedder.embed(Array(sentences.prefix(64)), batchSize: batchSize)          // warm up
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Date()
            consume(embedder.embed(sentences, batchSize: batchSize))
            best = Swift.min(best, Date().timeIntervalSince(start))
        }
        var latencies: [Double] = []
        for sentence in sentences.prefix(latencySamples) {
            let start = Date()
            consume(embedder.embed([sentence]))
            latencies.append(Date().timeIntervalSince(start))
        }
        latencies.sort()
        let throughput = Double(sentences.count) / best, latency = latencies[latencies.count / 2] * 1e3
        if json {
            print("{\"load_ms\":\(loadSeconds * 1e3),\"sentences_per_second\":\(throughput),\"single_ms\":\(latency)}")
        } else {
            print(String(format: "load %.0f ms, %.0f sentences/s (batch %d, best of 3), single sentence %.2f ms (median)",
                         loadSeconds * 1e3, throughput, batchSize, latency))
        }
    }
}
