import ArgumentParser
import Attend
import AttendModels
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Semantic search and text generation with real pretrained Transformers, then an attention layer learning to attend.",
        discussion: """
            Part 1 fetches all-MiniLM-L6-v2 when it is missing (`attend model fetch`), embeds a few
            sentences and ranks them against queries by meaning. Part 2 fetches SmolLM2-135M-Instruct
            (4-bit GGUF, 98 MB) and streams a completion and a chat answer. Part 3 fits a tiny attention layer by
            gradient descent: one query learns to attend to the key (out of eight) whose value matches a
            target, using Attend's tensors, softmax, matmul and reverse-mode gradients.
            """
    )

    @Flag(help: "Skip the pretrained-model part (no download).")
    var offline = false

    @Option(help: "Gradient-descent steps.")
    var steps = 200

    @Option(help: "Random seed.")
    var seed: UInt64 = 7

    func validate() throws {
        guard steps > 0 && steps <= 100_000 else {
            throw ValidationError("--steps must be between 1 and 100000, got \(steps)")
        }
    }

    func run() throws {
        if !offline {
            semanticSearch()
            generateText()
        }
        learnToAttend()
    }

    private func semanticSearch() {
        print("── Semantic search with all-MiniLM-L6-v2 ──")
        let embedder: SentenceEmbedder
        do {
            let directory = try ModelStore.fetchDefaultModel { print("  " + $0) }
            let started = Date()
            embedder = try SentenceEmbedder(directory: directory)
            print(String(format: "  loaded %@ in %.0f ms", ModelStore.defaultModelName, Date().timeIntervalSince(started) * 1000))
        } catch {
            print("  (skipped: \(error))\n")
            return
        }
        let documents = [
            "The cat sleeps on the warm windowsill.", "Stock markets fell sharply after the announcement.",
            "A recipe for fresh tomato pasta with basil.", "The team won the championship in overtime.",
            "How to reset a forgotten email password.", "Dogs need a walk at least twice a day.",
            "The central bank raised interest rates again.", "Baking bread at home takes patience.",
        ]
        let started = Date()
        let vectors = embedder.embed(documents)
        print(String(format: "  embedded %d sentences in %.0f ms", documents.count, Date().timeIntervalSince(started) * 1000))
        for query in ["my pet is napping", "what is happening with the economy?", "I can't log into my account"] {
            let q = embedder.embed([query])[0]
            let ranked = vectors.indices.map { ($0, cosineSimilarity(q, vectors[$0])) }.sorted { $0.1 > $1.1 }
            print("\n  \"\(query)\"")
            for (index, score) in ranked.prefix(2) { print(String(format: "    %.3f  ", score) + documents[index]) }
        }
        print("\n  try: attend search --corpus FILE \"your question\"\n")
    }

    private func generateText() {
        print("── Text generation with SmolLM2-135M-Instruct (4-bit) ──")
        let generator: TextGenerator
        do {
            let file = try ModelStore.fetch(.smolLM2) { print("  " + $0) }
            let started = Date()
            generator = try TextGenerator.load(path: file)
            print(String(format: "  loaded %@ in %.0f ms", (file as NSString).lastPathComponent, Date().timeIntervalSince(started) * 1000))
        } catch {
            print("  (skipped: \(error))\n")
            return
        }
        func stream(_ label: String, _ text: String, maxTokens: Int) {
            print("\n  \(label)", terminator: "")
            let result = try? generator.generate(generator.tokenizer.encode(text), options: GenerationOptions(maxTokens: maxTokens)) { piece in
                print(piece.replacingOccurrences(of: "\n", with: "\n  "), terminator: "")
                fflush(nil)
                return true
            }
            if let result {
                print(String(format: "\n  [%d prompt tokens at %.0f tokens/s, %d generated at %.0f tokens/s]",
                             result.promptTokens.count, result.promptTokensPerSecond, result.tokens.count, result.decodeTokensPerSecond))
            }
        }
        stream("The capital of France is", "The capital of France is", maxTokens: 12)
        if let template = generator.chatTemplate {
            let question = "Explain attention in Transformers in one sentence."
            stream("> \(question)\n  ", template.render([ChatMessage(role: "user", content: question)]), maxTokens: 80)
        }
        print("\n  try: attend chat\n")
    }

    private func learnToAttend() {
        print("── An attention layer learning to attend ──")
        var generator = PhiloxGenerator(seed: seed)
        let dimension = 16, keyCount = 8, target = 5
        let keys = Tensor.normal([keyCount, dimension], using: &generator)
        let values = Tensor.eye(keyCount)                      // value j is the one-hot vector e_j
        var query = Tensor.normal([1, dimension], standardDeviation: 0.1, using: &generator)
        let scale = 1 / Float(dimension).squareRoot()

        func attend(_ query: Tensor) -> Tensor {
            softmax(matmul(query, keys.transposed()) * scale)  // [1, keys]
        }
        print("step   loss      weight on key \(target)")
        for step in 0...steps {
            let (loss, gradients) = valueWithGradient(at: [query]) { inputs in
                let output = matmul(attend(inputs[0]), values)  // [1, keys]
                return -log(output.sliced(axis: 1, target..<(target + 1)) + 1e-9).sum()
            }
            if step % max(1, steps / 5) == 0 || step == steps {
                let weight = attend(query).scalars[target]
                print(String(format: "%4d   %.5f   %.3f", step, loss.scalar, weight))
            }
            query = query - gradients[0] * 0.5
        }
        let weights = attend(query).scalars
        print("\nfinal attention weights over the \(keyCount) keys:")
        for (index, weight) in weights.enumerated() {
            let bar = String(repeating: "█", count: Int((weight * 40).rounded()))
            print(String(format: "  key %d  %.3f  ", index, weight) + bar)
        }
    }
}
