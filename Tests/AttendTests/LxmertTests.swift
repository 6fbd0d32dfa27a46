import Attend
import AttendModels
import AttendNN
import Testing

struct LxmertGoldens: Decodable {
    struct Config: Decodable {
        let vocab, hidden, heads, intermediate, languageLayers, crossLayers, visionLayers, visualFeatures, visualPositions, positions: Int
    }
    let config: Config
    let state: [String: GoldenTensor]
    let ids: [[Int]]
    let textLengths: [Int]
    let regionCounts: [Int]
    let visualFeatures: GoldenTensor
    let visualPositions: GoldenTensor
    let language: GoldenTensor
    let vision: GoldenTensor
    let pooled: GoldenTensor
    let languageAttentions: [GoldenTensor]
    let visionAttentions: [GoldenTensor]
    let crossAttentions: [GoldenTensor]
    let languageCotangent: GoldenTensor
    let visionCotangent: GoldenTensor
    let crossLayerGradients: [String: GoldenTensor]
}

@Suite("LXMERT against transformers")
struct LxmertTests {
    static let goldens = try! loadGoldens("lxmert", as: LxmertGoldens.self)

    static func model() throws -> LxmertModel {
        let c = goldens.config
        let bert = BertConfiguration(vocabularySize: c.vocab, hiddenSize: c.hidden, layerCount: c.languageLayers, headCount: c.heads,
                                     intermediateSize: c.intermediate, maxPositionEmbeddings: c.positions)
        let model = LxmertModel(configuration: LxmertConfiguration(
            bert: bert, languageLayerCount: c.languageLayers, crossLayerCount: c.crossLayers, visionLayerCount: c.visionLayers,
            visualFeatureDimension: c.visualFeatures, visualPositionDimension: c.visualPositions))
        // The checkpoint also holds the `embeddings.position_ids` buffer some versions save; everything else must match.
        try model.loadStateDict(goldens.state.mapValues(\.tensor).filter { !$0.key.hasSuffix("position_ids") }, strict: true)
        model.eval()
        return model
    }

    func run(_ model: LxmertModel, attention: Bool = false) -> LxmertModel.Output {
        let g = Self.goldens
        return model(ids: g.ids, textLengths: g.textLengths, visualFeatures: g.visualFeatures.tensor,
                     visualPositions: g.visualPositions.tensor, regionCounts: g.regionCounts, returningAttention: attention)
    }

    @Test func outputsAndAttentionsMatch() throws {
        let output = run(try Self.model(), attention: true)
        let g = Self.goldens
        expectClose(output.language, g.language.tensor, tolerance: 1e-5, "language output")
        expectClose(output.vision, g.vision.tensor, tolerance: 1e-5, "vision output")
        expectClose(output.pooled, g.pooled.tensor, tolerance: 1e-5, "pooled output")
        for (name, actual, expected) in [("language", output.languageAttentions, g.languageAttentions),
                                         ("vision", output.visionAttentions, g.visionAttentions),
                                         ("cross", output.crossAttentions, g.crossAttentions)] {
            try expectLayersClose(actual, expected, tolerance: 1e-5, "\(name) attention layer")
        }
    }

    @Test func crossModalityLayerGradientsMatch() throws {
        let model = try Self.model()
        let g = Self.goldens
        let (c1, c2) = (g.languageCotangent.tensor, g.visionCotangent.tensor)
        let (_, gradients) = valueWithGradient(of: model) { m in
            let output = self.run(m)
            return (output.language * c1).sum() + (output.vision * c2).sum()
        }
        try expectGradientsClose(gradients, g.crossLayerGradients, tolerance: 1e-4)
    }
}
