import Attend
import AttendNN
import Testing

struct ViTGoldens: Decodable {
    struct Config: Decodable { let imageSize, patchSize, channels, hiddenSize, layers, heads, intermediateSize, labels: Int }
    let config: Config
    let state: [String: GoldenTensor]
    let pixels: GoldenTensor
    let logits: GoldenTensor
    let hiddenStates: GoldenTensor
    let attentions: [GoldenTensor]
    let cotangent: GoldenTensor
    let pixelGradient: GoldenTensor
    let layerGradients: [String: GoldenTensor]
}

@Suite("Vision Transformer against transformers")
struct VisionTransformerTests {
    static let goldens = try! loadGoldens("vit", as: ViTGoldens.self)

    static func model() throws -> VisionTransformerClassifier {
        let c = goldens.config
        let model = VisionTransformerClassifier(configuration: VisionTransformerConfiguration(
            imageSize: c.imageSize, patchSize: c.patchSize, channels: c.channels, hiddenSize: c.hiddenSize, layerCount: c.layers,
            headCount: c.heads, intermediateSize: c.intermediateSize, labelCount: c.labels))
        try model.loadStateDict(goldens.state.mapValues(\.tensor), strict: true)
        model.eval()
        return model
    }

    @Test func logitsHiddenStatesAndAttentionsMatch() throws {
        let model = try Self.model()
        let pixels = Self.goldens.pixels.tensor
        expectClose(model(pixels), Self.goldens.logits.tensor, tolerance: 1e-5, "logits")
        let (hidden, attentions) = model.backbone(pixels, returningAttention: true)
        expectClose(hidden, Self.goldens.hiddenStates.tensor, tolerance: 1e-5, "hidden states")
        for (layer, expected) in Self.goldens.attentions.enumerated() {
            expectClose(attentions[layer], expected.tensor, tolerance: 1e-5, "attention layer \(layer)")
        }
    }

    @Test func gradientsOfPixelsAndOneLayerMatch() throws {
        let model = try Self.model()
        let pixels = Self.goldens.pixels.tensor, cotangent = Self.goldens.cotangent.tensor
        let pixelGradient = gradient(at: [pixels]) { x in (model(x[0]) * cotangent).sum() }[0]
        expectClose(pixelGradient, Self.goldens.pixelGradient.tensor, tolerance: 1e-4, "d pixels")
        let (_, gradients) = valueWithGradient(of: model) { m in (m(pixels) * cotangent).sum() }
        try expectGradientsClose(gradients, Self.goldens.layerGradients, tolerance: 1e-4)
    }

    @Test func transformers4NamesLoadToo() throws {
        // transformers 4 saved `vit.encoder.layer.N.attention.attention.query…`, `intermediate.dense`, `output.dense`.
        var old: [String: Tensor] = [:]
        for (key, value) in Self.goldens.state {
            var name = key.replacingOccurrences(of: "vit.layers.", with: "vit.encoder.layer.")
            for (new, legacy) in [("attention.q_proj", "attention.attention.query"), ("attention.k_proj", "attention.attention.key"),
                                  ("attention.v_proj", "attention.attention.value"), ("attention.o_proj", "attention.output.dense"),
                                  ("mlp.fc1", "intermediate.dense"), ("mlp.fc2", "output.dense")] {
                name = name.replacingOccurrences(of: new, with: legacy)
            }
            old[name] = value.tensor
        }
        // Layer 0's keys exactly as transformers 4.x's ViTForImageClassification names them
        // (modeling_vit.py: ViTSelfAttention query/key/value, ViTSelfOutput/ViTOutput dense,
        // ViTIntermediate dense), written out independently of the renaming above.
        let transformers4Layer0 = ["attention.attention.query", "attention.attention.key", "attention.attention.value",
                                   "attention.output.dense", "intermediate.dense", "output.dense",
                                   "layernorm_before", "layernorm_after"]
            .flatMap { ["vit.encoder.layer.0.\($0).weight", "vit.encoder.layer.0.\($0).bias"] }
        #expect(Set(old.keys.filter { $0.hasPrefix("vit.encoder.layer.0.") }) == Set(transformers4Layer0))
        let model = try Self.model()
        try model.loadStateDict(VisionTransformer.renamingTransformers4Keys(old), strict: true)
        expectClose(model(Self.goldens.pixels.tensor), Self.goldens.logits.tensor, tolerance: 1e-5, "logits after renaming")
    }

    @Test func backboneWithPoolerLoadsAViTModelStateDict() throws {
        // ViTModel's keys: the backbone's without the `vit.` prefix, plus its pooler.
        let c = Self.goldens.config
        let backbone = VisionTransformer(configuration: VisionTransformerConfiguration(
            imageSize: c.imageSize, patchSize: c.patchSize, channels: c.channels, hiddenSize: c.hiddenSize, layerCount: c.layers,
            headCount: c.heads, intermediateSize: c.intermediateSize, hasPooler: true))
        var state: [String: Tensor] = [:]
        for (key, value) in Self.goldens.state where key.hasPrefix("vit.") { state[String(key.dropFirst(4))] = value.tensor }
        state["pooler.dense.weight"] = Tensor.eye(c.hiddenSize)
        state["pooler.dense.bias"] = Tensor.zeros([c.hiddenSize])
        try backbone.loadStateDict(state, strict: true)
        let hidden = backbone(Self.goldens.pixels.tensor).hiddenStates
        expectClose(hidden, Self.goldens.hiddenStates.tensor, tolerance: 1e-5, "hidden states")
        expectClose(try #require(backbone.pooled(hidden)), tanh(hidden.selecting(axis: 1, index: 0)), tolerance: 1e-6, "pooled")
    }

    @Test func patchEmbeddingIsTheConvolution() {
        // A 1-channel 4×4 image, patch 2, one output feature whose kernel picks the top-right pixel.
        let embedding = PatchEmbedding(channels: 1, patchSize: 2, dimension: 1)
        embedding.projection.weight = Tensor(shape: [1, 1, 2, 2], scalars: [0, 1, 0, 0])
        embedding.projection.bias = Tensor([0.5])
        let image = Tensor.arange(0, 16).reshaped([1, 1, 4, 4])
        #expect(embedding(image).scalars == [1.5, 3.5, 9.5, 11.5])
    }
}
