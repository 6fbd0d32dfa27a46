import Attend
import AttendModels
import Foundation
import Testing

struct TinyBertGoldens: Decodable {
    let ids: [[Int]]
    let typeIds: [[Int]]
    let validLengths: [Int]
    let hiddenStates: GoldenTensor
    let attentions: [GoldenTensor]
}

struct MiniLMGoldens: Decodable {
    let sentences: [String]
    let batched: GoldenTensor
    let single: GoldenTensor
    let attentionText: String
    let attentionIds: [Int]
    let hiddenStates: GoldenTensor
    let attentions: [GoldenTensor]
}

@Suite("BERT and sentence embeddings")
struct BertTests {
    static let tinyDirectory = tinyBertDirectory

    @Test func tinyBertMatchesTransformers() throws {
        let goldens = try loadGoldens("tiny-bert", as: TinyBertGoldens.self)
        let model = try BertModel.load(directory: Self.tinyDirectory)
        let (hidden, attentions) = model(ids: goldens.ids, typeIds: goldens.typeIds, validLengths: goldens.validLengths,
                                         returningAttention: true)
        // Padded positions attend like any query in transformers; compare real tokens only.
        for b in 0..<2 {
            let n = goldens.validLengths[b]
            expectClose(hidden.selecting(axis: 0, index: b).sliced(axis: 0, 0..<n),
                        goldens.hiddenStates.tensor.selecting(axis: 0, index: b).sliced(axis: 0, 0..<n), tolerance: 1e-5, "hidden \(b)")
        }
        #expect(goldens.attentions.count == 2)
        try expectLayersClose(attentions, goldens.attentions, tolerance: 1e-5, "attention layer")
        // The fused path (no weights requested) gives the same hidden states.
        expectClose(model(ids: goldens.ids, typeIds: goldens.typeIds, validLengths: goldens.validLengths).hiddenStates,
                    hidden, tolerance: 1e-5, "fused")
    }

    /// Copies the tiny model into a scratch folder, lets `damage` break it, and returns the loading error.
    func loadingError(_ damage: (String) throws -> Void) throws -> String? {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bert-\(UUID().uuidString)").path
        try FileManager.default.copyItem(atPath: Self.tinyDirectory, toPath: folder)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try damage(folder)
        do {
            _ = try BertModel.load(directory: folder)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func badModelFoldersGiveClearErrors() throws {
        func editConfig(_ folder: String, _ edit: (inout [String: Any]) -> Void) throws {
            var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/config.json"))) as! [String: Any]
            edit(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
        }
        #expect(try loadingError { try FileManager.default.removeItem(atPath: $0 + "/config.json") }?.contains("config.json") == true)
        #expect(try loadingError { try editConfig($0) { $0["hidden_size"] = nil } }?.contains("missing \"hidden_size\"") == true)
        #expect(try loadingError { try editConfig($0) { $0["num_attention_heads"] = 5 } }?.contains("not a multiple") == true)
        #expect(try loadingError { try editConfig($0) { $0["num_hidden_layers"] = 3 } }?.contains("encoder.layer.2") == true)
        #expect(try loadingError { try editConfig($0) { $0["vocab_size"] = 41 } }?.contains("word_embeddings.weight") == true)
        let truncated = try loadingError { folder in
            let path = folder + "/model.safetensors"
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: path))
        }
        #expect(truncated?.contains("model.safetensors") == true)
        #expect(try loadingError { try "not json".write(toFile: $0 + "/config.json", atomically: true, encoding: .utf8) } != nil)
    }

    @Test(.enabled(if: RealModel.isAvailable || RealModel.isRequired))
    func miniLMEmbeddingsMatchSentenceTransformers() throws {
        let goldens = try loadGoldens("minilm", as: MiniLMGoldens.self)
        let embedder = try #require(RealModel.embedder)
        let batched = embedder.embed(goldens.sentences, batchSize: 32)
        let single = goldens.sentences.map { embedder.embed([$0])[0] }
        for (name, vectors, expected) in [("batched", batched, goldens.batched), ("single", single, goldens.single)] {
            let reference = expected.tensor.scalars
            for (index, vector) in vectors.enumerated() {
                let target = Array(reference[(index * 384)..<((index + 1) * 384)])
                let worst = zip(vector, target).map { abs($0 - $1) }.max() ?? .infinity
                var dot: Float = 0, normA: Float = 0, normB: Float = 0
                for (a, b) in zip(vector, target) { dot += a * b; normA += a * a; normB += b * b }
                let cosine = dot / (normA * normB).squareRoot()
                #expect(worst <= 1e-5, "\(name) sentence \(index): max |Δ| \(worst)")
                #expect(cosine >= 0.99999, "\(name) sentence \(index): cosine \(cosine)")
            }
        }
    }

    @Test(.enabled(if: RealModel.isAvailable || RealModel.isRequired))
    func miniLMAttentionMatchesTransformers() throws {
        let goldens = try loadGoldens("minilm", as: MiniLMGoldens.self)
        let embedder = try #require(RealModel.embedder)
        #expect(embedder.tokenize(goldens.attentionText) == goldens.attentionIds)
        let ids = goldens.attentionIds
        let (hidden, attentions) = embedder.model(ids: [ids], validLengths: [ids.count], returningAttention: true)
        expectClose(hidden, goldens.hiddenStates.tensor, tolerance: 1e-4, "hidden states")
        #expect(goldens.attentions.count == 6)
        try expectLayersClose(attentions, goldens.attentions, tolerance: 1e-5, "attention layer")
    }
}
