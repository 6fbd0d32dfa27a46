import Attend
import AttendModels
import AttendNN
import Foundation
import Testing

private struct PruningGolden: Decodable {
    struct Batch: Decodable { let ids: [[Int]]; let lengths: [Int]; let cotangent: GoldenTensor }
    let batches: [Batch]
    let importance: [[Double]]
    let pruned_heads: [String: [Int]]
    let pruned_output: GoldenTensor
}

/// Head importance and pruning on the committed tiny BERT, against transformers
/// (scripts/goldens/generate_pruning.py).
@Suite("Attention-head importance and pruning")
struct PruningTests {
    static let tiny = tinyBertDirectory
    private static let golden = try? loadGoldens("pruning", as: PruningGolden.self)

    /// Michel et al.'s |∂L/∂ξ| summed over batches and normalized per layer, as transformers gives it.
    @Test func gradientImportanceMatchesTransformers() throws {
        let golden = try #require(Self.golden)
        let model = try BertModel.load(directory: Self.tiny)
        let importance = HeadImportance.gradient(of: model, batches: golden.batches.count) { index in
            let batch = golden.batches[index]
            return (model(ids: batch.ids, validLengths: batch.lengths).hiddenStates * batch.cotangent.tensor).sum()
        }
        expectClose(Tensor(shape: [2, 4], scalars: importance.flatMap { $0 }),
                    Tensor(shape: [2, 4], scalars: golden.importance.flatMap { $0 }.map(Float.init)), tolerance: 1e-4, "importance")
        #expect(model.encoder.layers.allSatisfy { $0.attention.headGate == nil }, "gates are removed afterwards")
    }

    /// A pruned model gives transformers' output for the same pruning, and equals the unpruned
    /// model with those heads' outputs set to zero.
    @Test func prunedModelEqualsZeroedHeads() throws {
        let golden = try #require(Self.golden)
        let heads = Dictionary(uniqueKeysWithValues: golden.pruned_heads.map { (Int($0.key)!, Set($0.value)) })
        let batch = golden.batches[0]
        let model = try BertModel.load(directory: Self.tiny)
        for (layer, removed) in heads {
            model.encoder.layers[layer].attention.headGate = Tensor((0..<4).map { removed.contains($0) ? 0 : 1 })
        }
        let gated = model(ids: batch.ids, validLengths: batch.lengths).hiddenStates
        for layer in model.encoder.layers { layer.attention.headGate = nil }
        model.prune(heads: heads)
        #expect(model.encoder.layers.map(\.attention.headCount) == [2, 3])
        #expect(model.prunedHeads == [0: [1, 3], 1: [0]])
        #expect(model.encoder.layers[0].attention.projections.query.weight.shape == [8, 16])
        #expect(model.encoder.layers[0].attention.output.dense.weight.shape == [16, 8])
        let pruned = model(ids: batch.ids, validLengths: batch.lengths).hiddenStates
        expectClose(pruned, gated, tolerance: 1e-6, "pruned against zeroed heads")
        expectClose(pruned, golden.pruned_output.tensor, tolerance: 1e-5, "pruned against transformers")
    }

    @Test func headsToPruneTakeTheLeastImportantAndKeepOnePerLayer() {
        let importance: [[Float]] = [[0.9, 0.1, 0.2], [0.05, 0.01], [0.5, 0.6, 0.7]]
        #expect(HeadImportance.headsToPrune(fraction: 0.25, importance: importance) == [1: [1], 0: [1]])
        let all = HeadImportance.headsToPrune(fraction: 0.99, importance: importance)
        #expect(all.allSatisfy { importance[$0.key].count - $0.value.count >= 1 })
        #expect(HeadImportance.headsToPrune(fraction: 0, importance: importance).isEmpty)
    }

    /// A folder whose config.json lists pruned heads loads into the smaller shapes; a list that
    /// does not fit the model is refused with the file named.
    @Test func prunedHeadsInTheConfigurationShapeTheModel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("attend-pruned-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = try BertModel.load(directory: Self.tiny)
        model.prune(heads: [1: [2]])
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try SafeTensors.write(model.stateDict(), to: folder + "/model.safetensors")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.tiny + "/config.json"))) as! [String: Any]
        json["pruned_heads"] = ["1": [2]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
        let loaded = try BertModel.load(directory: folder)
        #expect(loaded.encoder.layers.map(\.attention.headCount) == [4, 3])
        let ids = [[3, 5, 7, 9]]
        #expect(loaded(ids: ids, validLengths: [4]).hiddenStates.scalars == model(ids: ids, validLengths: [4]).hiddenStates.scalars)

        json["pruned_heads"] = ["1": [0, 1, 2, 3]]
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: folder + "/config.json"))
        #expect(throws: ModelLoadingError.self) { try BertModel.load(directory: folder) }
    }

    /// The ViT's attention prunes the same way: smaller projections, equal to zeroed heads.
    @Test func visionAttentionPrunesLikeBERT() {
        var generator = PhiloxGenerator(seed: 21)
        let attention = ProjectedSelfAttention(dimension: 16, headCount: 4)
        let x = Tensor.normal([2, 5, 16], using: &generator)
        attention.headGate = Tensor([1, 0, 1, 0])
        let (gated, _) = attention(x)
        attention.prune(heads: [1, 3])
        #expect(attention.headCount == 2 && attention.remainingHeads == [0, 2] && attention.headGate == nil)
        #expect(attention.query.weight.shape == [8, 16] && attention.output.weight.shape == [16, 8])
        let (pruned, _) = attention(x)
        expectClose(pruned, gated, tolerance: 1e-6, "pruned ViT attention against zeroed heads")
        attention.prune(heads: [0])
        #expect(attention.remainingHeads == [2])
    }
}
