import Attend
import AttendModels
import AttendNN
import Testing

struct XLNetGoldens: Decodable {
    struct Config: Decodable { let vocab, model, layers, heads, inner: Int }
    let config: Config
    let state: [String: GoldenTensor]
    let ids: [[Int]]
    let attentionMask: [[Int]]
    let tokenTypes: [[Int]]
    let orders: [[Int]]
    let targets: [[Int]]
    let permutationMask: GoldenTensor
    let targetMapping: GoldenTensor
    let logits: GoldenTensor
    let hiddenStates: [GoldenTensor]
    let contentAttentions: [GoldenTensor]
    let queryAttentions: [GoldenTensor]
    let cotangent: GoldenTensor
    let layerGradients: [String: GoldenTensor]
}

@Suite("XLNet two-stream attention against transformers")
struct XLNetTests {
    static let goldens = try! loadGoldens("xlnet", as: XLNetGoldens.self)

    static func model() throws -> XLNetLMHeadModel {
        let c = goldens.config
        let model = XLNetLMHeadModel(configuration: XLNetConfiguration(vocabularySize: c.vocab, modelDimension: c.model,
                                                                        layerCount: c.layers, headCount: c.heads, innerDimension: c.inner))
        try model.loadTiedStateDict(goldens.state.mapValues(\.tensor))
        model.eval()
        return model
    }

    func run(_ model: XLNetLMHeadModel, ids: [[Int]]? = nil, attention: Bool = false) -> (logits: Tensor, output: XLNetModel.Output) {
        let g = Self.goldens
        return model(ids: ids ?? g.ids, attentionMask: g.attentionMask, permutationMask: g.permutationMask.tensor,
                     targetMapping: g.targetMapping.tensor, tokenTypeIds: g.tokenTypes, returningAttention: attention)
    }

    @Test func permutationMasksFollowTheFactorizationOrder() {
        let masks = Self.goldens.orders.map { PermutationLanguageModeling.permutationMask(order: $0) }
        #expect(Tensor.stack(masks).scalars == Self.goldens.permutationMask.tensor.scalars)
        let mapping = Tensor.stack(Self.goldens.targets.map { PermutationLanguageModeling.targetMapping(positions: $0, length: 6) })
        #expect(mapping.scalars == Self.goldens.targetMapping.tensor.scalars)
        var generator = PhiloxGenerator(seed: 3)
        let order = PermutationLanguageModeling.factorizationOrder(length: 10, using: &generator)
        #expect(order.sorted() == Array(0..<10) && order != Array(0..<10))
    }

    @Test func logitsStreamsAndAttentionsMatch() throws {
        let (logits, output) = run(try Self.model(), attention: true)
        let g = Self.goldens
        expectClose(logits, g.logits.tensor, tolerance: 1e-5, "logits")
        // Hidden states alternate content and query streams (Hugging Face's order).
        try expectLayersClose(output.hiddenStates, g.hiddenStates, tolerance: 1e-5, "hidden state (even: content, odd: query)")
        try expectLayersClose(output.attentions.map(\.content), g.contentAttentions, tolerance: 1e-5, "content attention")
        try expectLayersClose(try output.attentions.map { try #require($0.query) }, g.queryAttentions, tolerance: 1e-5,
                              "query attention")
    }

    @Test func layerGradientsMatch() throws {
        let model = try Self.model()
        let cotangent = Self.goldens.cotangent.tensor
        let (_, gradients) = valueWithGradient(of: model) { m in (self.run(m).logits * cotangent).sum() }
        try expectGradientsClose(gradients, Self.goldens.layerGradients, tolerance: 1e-4)
    }

    /// The query stream predicting x_{z_t} never sees x_{z_t}: changing a target's own token
    /// leaves that target's logits unchanged (while the content stream does see it).
    @Test func queryStreamDoesNotLeakItsTarget() throws {
        let model = try Self.model()
        let original = run(model)
        for (b, targets) in Self.goldens.targets.enumerated() {
            for (p, t) in targets.enumerated() {
                var changed = Self.goldens.ids
                changed[b][t] = 33
                let perturbed = run(model, ids: changed)
                let row = { (x: Tensor) in x.selecting(axis: 0, index: b).selecting(axis: 0, index: p) }
                expectClose(row(perturbed.logits), row(original.logits), tolerance: 1e-6, "target \(t) of batch \(b)")
                let content = { (o: XLNetModel.Output) in o.hiddenStates[o.hiddenStates.count - 2].selecting(axis: 0, index: b) }
                #expect(content(perturbed.output).scalars != content(original.output).scalars, "the content stream sees the change")
            }
        }
    }
}
