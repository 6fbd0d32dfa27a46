import ArgumentParser
import Attend
import AttendModels
import Foundation

/// Prompt processing, decoding and time to first token of a GGUF language model (SmolLM2 by
/// default), as llama.cpp's `llama-bench` measures them: random token ids, a fresh cache per run.
struct LanguageModelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llm",
        abstract: "Tokens per second of a GGUF language model: prompt processing, decoding, time to first token.")

    @Option(help: "The GGUF file (default: SmolLM2-135M-Instruct from `attend model fetch SmolLM2-135M-Instruct`).")
    var model: String = ModelStore.defaultLanguageModelFile
    @Option(help: "Thread counts to measure, comma-separated.") var threads = "1,2"
    @Option(help: "Prompt length for the prompt-processing rate.") var promptTokens = 512
    @Option(help: "Tokens to decode for the decoding rate.") var decodeTokens = 128
    @Option(help: "Runs per measurement (the best is kept).") var runs = 3
    @Option(help: "Sequences per decoding step to measure (continuous batching, as `attend serve` runs it), comma-separated; empty: none.")
    var batchSizes = "1,2,4,8,16"
    @Flag(help: "Print one JSON object per thread count instead of a table.") var json = false

    func run() throws {
        let file = try GGUFFile(path: model)
        let llm = try LlamaModel.load(gguf: file)
        var generator = PhiloxGenerator(seed: 7)
        let vocabulary = llm.configuration.vocabularySize
        func randomTokens(_ count: Int) -> [Int] { (0..<count).map { _ in 100 + Int(generator.next() % UInt64(vocabulary - 100)) } }
        let prompt = randomTokens(promptTokens), shortPrompt = randomTokens(32), decodeInputs = randomTokens(decodeTokens)
        if !json {
            print("model: \((model as NSString).lastPathComponent), \(file.tensorInfos.count) tensors, \(llm.configuration.layerCount) layers; CPU: \(Hardware.cpu.brand) (\(Hardware.instructionSet))")
            print("threads | prompt \(promptTokens) (tokens/s) | decode \(decodeTokens) (tokens/s) | first token, 32-token prompt (ms) | peak RSS (MB)")
        }
        for count in threads.split(separator: ",").compactMap({ Int($0) }) {
            Parallelism.threadCount = count
            var best = (prompt: Double.infinity, decode: Double.infinity, first: Double.infinity)
            for _ in 0..<Swift.max(runs, 1) {
                // Caches reserved up front, as TextGenerator does.
                var cache = llm.makeCache(capacity: promptTokens)
                best.prompt = Swift.min(best.prompt, seconds { consume(llm.logits(for: prompt, cache: &cache)) })
                cache = llm.makeCache(capacity: decodeTokens + 1)
                _ = llm.logits(for: [1], cache: &cache)
                best.decode = Swift.min(best.decode, seconds {
                    for token in decodeInputs { consume(llm.logits(for: [token], cache: &cache)) }
                })
                cache = llm.makeCache(capacity: 33)
                best.first = Swift.min(best.first, seconds {
                    var sampler = Sampler(.greedy)
                    consume(sampler.next(logits: llm.logits(for: shortPrompt, cache: &cache).scalars, history: shortPrompt))
                })
            }
            let promptRate = Double(promptTokens) / best.prompt, decodeRate = Double(decodeTokens) / best.decode
            let peak = residentBytes(field: "VmHWM:")
            if json {
                print("{\"threads\": \(count), \"prompt_tokens_per_second\": \(promptRate), \"decode_tokens_per_second\": \(decodeRate), "
                      + "\"time_to_first_token_ms\": \(best.first * 1000), \"peak_resident_bytes\": \(peak), \"file_bytes\": \(fileSize(model))}")
            } else {
                print("\(count) | \(formatted(promptRate, 0)) | \(formatted(decodeRate)) | \(formatted(best.first * 1000)) | \(formatted(Double(peak) / 1e6, 0))")
            }
        }
        batchedDecoding(llm, sizes: batchSizes.split(separator: ",").compactMap { Int($0) }, tokens: randomTokens)
    }

    /// Decoding steps shared by N sequences (``LlamaModel/logits(nextTokens:caches:)``), each after
    /// its own 32-token prompt: step time and tokens per second over all sequences.
    func batchedDecoding(_ llm: LlamaModel, sizes: [Int], tokens: (Int) -> [Int]) {
        guard !sizes.isEmpty else { return }
        if !json { print("threads \(Parallelism.threadCount), batched decoding: sequences | step (ms) | tokens/s, all sequences") }
        let steps = Swift.max(decodeTokens / 4, 8)
        for size in sizes {
            var best = Double.infinity
            for _ in 0..<Swift.max(runs, 1) {
                var caches = (0..<size).map { _ in llm.makeCache(capacity: 32 + steps + 1) }
                for index in caches.indices { _ = llm.logits(for: tokens(32), cache: &caches[index]) }
                let inputs = (0..<steps).map { _ in tokens(size) }
                best = Swift.min(best, seconds {
                    for step in inputs { consume(llm.logits(nextTokens: step, caches: &caches)) }
                })
            }
            let stepSeconds = best / Double(steps), rate = Double(size * steps) / best
            if json {
                print("{\"threads\": \(Parallelism.threadCount), \"batch\": \(size), \"step_ms\": \(stepSeconds * 1000), \"tokens_per_second\": \(rate)}")
            } else {
                print("\(size) | \(formatted(stepSeconds * 1000)) | \(formatted(rate, 0))")
            }
        }
    }

    func seconds(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    func fileSize(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0
    }
}
