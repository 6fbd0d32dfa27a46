import Attend
import AttendModels
import Foundation
import Testing

/// SmolLM2-135M-Instruct (Q4_1 GGUF) against transformers in float32 on the same file, llama.cpp's
/// tokenizer and gguf-py's dequantizers (scripts/goldens/generate_llm.py). Run when the model is
/// fetched; CI requires it.
@Suite("Language model (SmolLM2)", .serialized)
struct LanguageModelTests {
    static func golden(_ name: String) throws -> [String: Any] {
        let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Goldens/llm")!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static let referenceLogits = try! SafeTensorsFile(
        path: Bundle.module.url(forResource: "logits", withExtension: "safetensors", subdirectory: "Goldens/llm")!.path)

    @Test func readsTheRealFilesMetadata() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let file = try GGUFFile(path: path)
        #expect(file.version == 3 && file.tensorInfos.count == 272 && file.alignment == 32)
        #expect(file.metadata["general.architecture"]?.string == "llama")
        #expect(file.metadata["tokenizer.ggml.pre"]?.string == "smollm")
        #expect(file.metadata["tokenizer.ggml.merges"]?.array?.count == 48_900)
        var types: [GGMLType: Int] = [:]
        for info in file.tensorInfos { types[info.type, default: 0] += 1 }
        #expect(types == [.q4_1: 210, .q8_0: 1, .f32: 61])
        #expect(!file.contains("output.weight"))
        let configuration = try LlamaConfiguration(gguf: file)
        #expect(configuration == LlamaConfiguration(vocabularySize: 49_152, hiddenSize: 576, intermediateSize: 1536, layerCount: 30,
                                                    headCount: 9, keyValueHeadCount: 3, contextLength: 8192, ropeBase: 100_000,
                                                    rmsNormEpsilon: 1e-5, tiesWordEmbeddings: true, ropePairing: .interleaved))
    }

    @Test func dequantizesTheRealTensorsAsGGUFPyDoes() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let file = try GGUFFile(path: path)
        for entry in try Self.golden("dequantized")["tensors"] as! [[String: Any]] {
            let info = try file.info(named: entry["name"] as! String)
            let whole = try file.tensor(named: info.name)
            let sum = whole.scalars.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - (entry["sum_f64"] as! Double)) <= 1e-9 * (entry["abs_sum_f64"] as! Double), "\(info.name)")
            for row in entry["rows"] as? [[String: Any]] ?? [] {
                let expected = (row["values_f32_hex"] as! [String]).map { UInt32($0, radix: 16)! }
                let index = row["row"] as! Int
                let values = info.dimensions.count == 2 ? file.rows([index], of: info).scalars : whole.scalars
                #expect(values.map(\.bitPattern) == expected, "\(info.name) row \(index)")
            }
        }
    }

    @Test func tokenizesAsLlamaCpp() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let tokenizer = generator.tokenizer
        let cases = try Self.golden("tokenizer")["cases"] as! [[String: Any]]
        #expect(cases.count >= 30)
        for entry in cases {
            let text = entry["text"] as! String
            #expect(tokenizer.encode(text) == entry["ids"] as! [Int], "\(text.debugDescription)")
            if let plain = entry["ids_special_false"] as? [Int] {
                #expect(tokenizer.encode(text, parsingSpecialTokens: false) == plain, "\(text.debugDescription) without special tokens")
            }
            #expect(tokenizer.decode(entry["ids"] as! [Int]) == entry["detokenized"] as! String, "\(text.debugDescription)")
        }
    }

    @Test func rendersTheChatTemplateAsJinjaDoes() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let golden = try Self.golden("llm")
        let template = try #require(generator.chatTemplate)
        let messages = (golden["chat_messages"] as! [[String: String]]).map { ChatMessage(role: $0["role"]!, content: $0["content"]!) }
        #expect(template.render(messages) == golden["chat_rendered"] as! String)
    }

    /// Each golden prompt read by `model`: the cache holding it, our last-position logits and transformers'.
    static func promptLogits(_ model: LlamaModel) throws -> [(prompt: [String: Any], cache: LlamaCache, logits: [Float], reference: [Float])] {
        try (golden("llm")["prompts"] as! [[String: Any]]).map { prompt in
            var cache = model.makeCache()
            let logits = model.logits(for: prompt["ids"] as! [Int], cache: &cache).scalars
            return (prompt, cache, logits, try referenceLogits.tensor(named: prompt["logits_tensor"] as! String).scalars)
        }
    }

    /// Relative L2 error of our last-position logits (16-bit activations, the default) against
    /// transformers' float32, and greedy agreement under teacher forcing wherever the reference's
    /// top-two margin exceeds 0.05.
    @Test func logitsAndGreedyStepsFollowTransformers() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let model = generator.model
        for (prompt, promptCache, logits, reference) in try Self.promptLogits(model) {
            var cache = promptCache
            let error = relativeL2(logits, reference)
            #expect(error < 5e-3, "prompt \(prompt["index"]!): relative L2 error \(error)")

            var next = logits
            var disagreements: [String] = []
            for (step, choice) in (prompt["greedy"] as! [[String: Any]]).enumerated() {
                let expected = choice["id"] as! Int, margin = choice["margin"] as! Double
                let ours = Sampler.argmax(next)
                if ours != expected && margin > 0.05 { disagreements.append("step \(step): \(ours) vs \(expected) (margin \(margin))") }
                next = model.logits(for: [expected], cache: &cache).scalars          // teacher forcing: follow the reference
            }
            #expect(disagreements.isEmpty, "prompt \(prompt["index"]!): \(disagreements)")
        }
    }

    @Test func theDecodingStepMatchesTheTensorPath() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let model = generator.model
        let ids = generator.tokenizer.encode("The quick brown fox jumps over the lazy dog because")
        // Reference: every position in one batched pass (the tensor path).
        var batched = model.makeCache()
        let all = model.logits(for: ids, cache: &batched, allPositions: true)
        // The raw decoding step, one token at a time after the first.
        var stepped = model.makeCache()
        var rows = [model.logits(for: [ids[0]], cache: &stepped)]
        for id in ids.dropFirst() { rows.append(model.logits(for: [id], cache: &stepped)) }
        // The same 16-bit activation blocks (the prompt's tiled product, the step's matvec) and the
        // same kernels elsewhere: only float summation orders differ.
        for (position, row) in rows.enumerated() {
            let expected = all.sliced(axis: 0, position..<(position + 1)).scalars
            let error = relativeL2(row.scalars, expected)
            #expect(error < 2e-3, "position \(position): relative L2 \(error)")
            #expect(Sampler.argmax(row.scalars) == Sampler.argmax(expected), "position \(position)")
        }
    }

    /// Continuous batching: N sequences at different positions share one step; each row must be
    /// what that sequence gets alone: exactly for N = 1, to float rounding below the kernels' tile
    /// threshold (8 tokens), to the tile's summation order above it.
    @Test(arguments: [1, 3, 17]) func sequencesSharingAStepGetTheirOwnLogits(_ count: Int) throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let model = generator.model
        let prompts = (0..<count).map { generator.tokenizer.encode("Sequence \($0) says" + String(repeating: " hello", count: $0 % 5)) }
        let next = (0..<count).map { 300 + 17 * $0 }
        var caches = prompts.map { prompt in
            var cache = model.makeCache()
            _ = model.logits(for: prompt, cache: &cache)
            return cache
        }
        var alone = caches
        let shared = model.logits(nextTokens: next, caches: &caches)
        #expect(shared.shape == [count, model.configuration.vocabularySize])
        for index in 0..<count {
            let expected = model.logits(for: [next[index]], cache: &alone[index]).scalars
            let row = shared.sliced(axis: 0, index..<(index + 1)).scalars
            if count == 1 { #expect(row == expected) }
            // Below 8 tokens each row takes the single-token kernel; the tile sums in another order.
            let error = relativeL2(row, expected), bound = count < 8 ? 1e-6 : 2e-3
            #expect(error < bound, "sequence \(index): relative L2 \(error)")
            #expect(Sampler.argmax(row) == Sampler.argmax(expected), "sequence \(index)")
            #expect(caches[index].length == prompts[index].count + 1)
        }
    }

    @Test func generationIsSeededStreamedAndStopped() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let prompt = generator.tokenizer.encode("Once upon a time")
        let sampled = GenerationOptions(maxTokens: 24, sampling: SamplingOptions(temperature: 0.9, topK: 40, topP: 0.95, minP: 0.05,
                                                                                 repetitionPenalty: 1.1, seed: 42))
        var streamed = ""
        let first = try generator.generate(prompt, options: sampled) { streamed += $0; return true }
        let second = try generator.generate(prompt, options: sampled)
        #expect(first.tokens == second.tokens && first.text == second.text)
        #expect(streamed == first.text)
        var other = sampled
        other.sampling.seed = 43
        #expect(try generator.generate(prompt, options: other).tokens != first.tokens)

        // Greedy chat ends at <|im_end|> with the model's answer.
        let template = try #require(generator.chatTemplate)
        let chat = generator.tokenizer.encode(template.render([ChatMessage(role: "user", content: "What is 2+2?")]))
        let answer = try generator.generate(chat, options: GenerationOptions(maxTokens: 40))
        #expect(answer.finishReason == .endOfSequence)
        #expect(answer.tokens.last == 2)
        #expect(answer.text.contains("4"))

        // A stop string cuts the text before it.
        let stopped = try generator.generate(generator.tokenizer.encode("The capital of France is"),
                                             options: GenerationOptions(maxTokens: 20, stopStrings: ["."]))
        #expect(stopped.finishReason == .stopString)
        #expect(stopped.text == " Paris")

        // Too long for the context: a clear error, nothing generated.
        #expect(throws: GenerationError.contextExceeded(promptTokens: prompt.count, maxTokens: 9000, contextLength: 8192)) {
            try generator.generate(prompt, options: GenerationOptions(maxTokens: 9000))
        }
    }

    @Test func aConversationKeepsItsCacheBetweenTurns() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        let template = try #require(generator.chatTemplate)
        let firstTurn = generator.tokenizer.encode(template.render([ChatMessage(role: "user", content: "My name is Ada.")]))
        let first = try generator.generate(firstTurn, options: GenerationOptions(maxTokens: 40))
        #expect(generator.cache.length == firstTurn.count + first.tokens.count - 1)
        #expect(generator.history == firstTurn + first.tokens.dropLast())
        let secondTurn = generator.tokenizer.encode("<|im_end|>\n" + template.turn(ChatMessage(role: "user", content: "What is my name?"))
                                                    + template.assistantOpening)
        // The next turn reads only its own tokens, after everything cached…
        var cached = generator.cache
        let continued = generator.model.logits(for: secondTurn, cache: &cached).scalars
        let second = try generator.continue(secondTurn, options: GenerationOptions(maxTokens: 8))
        #expect(second.promptTokens == secondTurn)
        #expect(generator.cache.length == firstTurn.count + first.tokens.count - 1 + secondTurn.count + second.tokens.count - 1)
        // …and sees what the whole conversation read from scratch in one pass gives.
        var fresh = generator.model.makeCache()
        let whole = generator.model.logits(for: firstTurn + first.tokens.dropLast() + secondTurn, cache: &fresh).scalars
        #expect(relativeL2(continued, whole) < 1e-2, "relative L2 \(relativeL2(continued, whole))")
        #expect(Sampler.argmax(continued) == Sampler.argmax(whole))
    }
}

extension LanguageModelTests {
    @Test func dequantizedWeightsGiveTransformersLogits() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let model = try LlamaModel.load(gguf: GGUFFile(path: path), dequantizing: true)
        for (prompt, _, logits, reference) in try Self.promptLogits(model) {
            let error = relativeL2(logits, reference)
            #expect(error < 1e-4, "prompt \(prompt["index"]!): relative L2 error \(error)")
        }
    }
}

extension LanguageModelTests {
    @Test func promptAndTokenProductsAgree() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let file = try GGUFFile(path: path)
        var generator = PhiloxGenerator(seed: 3)
        for name in ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "token_embd.weight", "blk.3.attn_k.weight"] {
            let matrix = try BlockQuantizedMatrix(file: file, tensor: name)
            let x = Tensor.normal([7, matrix.columns], using: &generator)
            let exact = matmul(x, matrix.dequantized().transposed()).scalars
            expectClose(blockQuantizedProduct(x, matrix, precision: .float32), Tensor(shape: [7, matrix.rows], scalars: exact),
                        tolerance: 1e-5, "\(name) float32 panels", floor: 1)
            // Seven tokens at once (the register tile, or Float32 panels where there is no VNNI) and
            // one at a time (the matvec), against the exact product.
            for (precision, bound) in [(ActivationPrecision.int16, 1e-4), (.int8, 1e-2)] {
                let prompt = blockQuantizedProduct(x, matrix, precision: precision).scalars
                let tokens = (0..<7).flatMap { blockQuantizedProduct(x.sliced(axis: 0, $0..<($0 + 1)), matrix, precision: precision).scalars }
                #expect(relativeL2(prompt, exact) < bound, "\(name) \(precision), 7 tokens: \(relativeL2(prompt, exact))")
                #expect(relativeL2(tokens, exact) < bound, "\(name) \(precision), one token: \(relativeL2(tokens, exact))")
            }
        }
    }
}

/// `‖a − b‖ / ‖b‖`, in Float64.
func relativeL2(_ a: [Float], _ b: [Float]) -> Double {
    let error = zip(a, b).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) }.squareRoot()
    return error / b.reduce(0.0) { $0 + Double($1 * $1) }.squareRoot()
}
