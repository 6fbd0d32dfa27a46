import Attend
import AttendModels
import AttendNN
import AttendTraining
import Foundation
import Testing

/// The tiny random Llama of `Goldens/tiny-llama` against transformers (scripts/goldens/generate_tiny_llama.py).
@Suite("Llama")
struct LlamaTests {
    struct Golden: Decodable {
        let prompts: [[Int]]
        let logits: [[[Float]]]
        let attention_layer1: [[[Float]]]
        let greedy: [Int]
    }

    static let directory = Bundle.module.url(forResource: "tiny-llama", withExtension: nil, subdirectory: "Goldens")!.path
    static let golden = try! loadGoldens("tiny-llama", as: Golden.self)

    @Test func readsTheHuggingFaceConfiguration() throws {
        let c = try LlamaConfiguration(configurationFile: Self.directory + "/config.json")
        #expect(c == LlamaConfiguration(vocabularySize: 97, hiddenSize: 32, intermediateSize: 48, layerCount: 2, headCount: 4,
                                        keyValueHeadCount: 2, contextLength: 64, ropeBase: 500, rmsNormEpsilon: 1e-5,
                                        tiesWordEmbeddings: false, ropePairing: .halfSplit))
    }

    @Test func logitsMatchTransformers() throws {
        let model = try LlamaModel.load(directory: Self.directory)
        for (prompt, expected) in zip(Self.golden.prompts, Self.golden.logits) {
            let logits = model([prompt])
            expectClose(logits, Tensor(shape: [1, prompt.count, 97], scalars: expected.flatMap { $0 }), tolerance: 1e-4, "prompt \(prompt)")
        }
    }

    @Test func cachedDecodingEqualsTheFullPass() throws {
        let model = try LlamaModel.load(directory: Self.directory)
        let prompt = Self.golden.prompts[0]
        var cache = model.makeCache()
        // Three tokens in one pass, then one at a time: every position's logits as in the full pass.
        var rows = [model.logits(for: Array(prompt.prefix(3)), cache: &cache, allPositions: true)]
        for token in prompt.dropFirst(3) { rows.append(model.logits(for: [token], cache: &cache)) }
        #expect(cache.length == prompt.count)
        let expected = Tensor(shape: [prompt.count, 97], scalars: Self.golden.logits[0].flatMap { $0 })
        expectClose(Tensor.concatenate(rows, axis: 0), expected, tolerance: 1e-4)
    }

    @Test func attentionWeightsMatchTransformers() throws {
        let model = try LlamaModel.load(directory: Self.directory)
        let weights = model.attentionWeights([Self.golden.prompts[0]])
        #expect(weights.count == 2)
        let expected = Self.golden.attention_layer1
        expectClose(weights[1], Tensor(shape: [1, 4, expected[0].count, expected[0].count], scalars: expected.flatMap { $0.flatMap { $0 } }),
                    tolerance: 1e-5)
    }

    @Test func greedyContinuationMatchesTransformers() throws {
        let model = try LlamaModel.load(directory: Self.directory)
        var cache = model.makeCache()
        var history = Self.golden.prompts[0]
        var logits = model.logits(for: history, cache: &cache)
        var sampler = Sampler(.greedy)
        var generated: [Int] = []
        for _ in 0..<Self.golden.greedy.count {
            let token = sampler.next(logits: logits.scalars, history: history)
            generated.append(token)
            history.append(token)
            logits = model.logits(for: [token], cache: &cache)
        }
        #expect(generated == Self.golden.greedy)
    }

    @Test func gradientsReachEveryParameter() throws {
        let model = try LlamaModel.load(directory: Self.directory)
        model.train()
        let (loss, gradients) = valueWithGradient(of: model) { model in
            crossEntropy(model([[5, 17, 42, 8]]).reshaped([4, 97]), targets: [17, 42, 8, 91])
        }
        #expect(loss.scalar.isFinite)
        #expect(gradients.count == model.namedParameters().count)
        #expect(gradients.values.allSatisfy { gradient in gradient.scalars.contains { $0 != 0 } })
    }

    @Test func badConfigurationsAreNamed() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("llama-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"model_type": "llama", "vocab_size": 10, "hidden_size": 30, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 4}"#
            .write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: ModelLoadingError.self) { try LlamaConfiguration(configurationFile: folder + "/config.json") }
        try #"{"model_type": "bert"}"#.write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
        #expect(throws: ModelLoadingError.self) { try LlamaModel.load(directory: folder) }
        // Found by scripts/fuzz (fuzz-config): zero key/value heads trapped on a remainder by zero.
        for heads in ["false", "0", "-2", "2.5"] {
            try #"{"vocab_size": 10, "hidden_size": 16, "intermediate_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": \#(heads)}"#
                .write(toFile: folder + "/config.json", atomically: true, encoding: .utf8)
            #expect(throws: ModelLoadingError.self, "num_key_value_heads \(heads)") { try LlamaConfiguration(configurationFile: folder + "/config.json") }
        }
    }
}
