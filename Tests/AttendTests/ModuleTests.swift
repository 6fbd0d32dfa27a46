import Attend
import AttendNN
import Testing

@Suite("Module system")
struct ModuleTests {
    @Test func encoderLayerHasPyTorchKeys() {
        let layer = TransformerEncoderLayer(modelDimension: 8, headCount: 2, feedForwardDimension: 16, dropout: 0.1, normFirst: false)
        #expect(layer.namedParameters().map(\.name) == [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ])
        let stack = TransformerEncoder(count: 2, finalNorm: LayerNorm(8)) {
            TransformerEncoderLayer(modelDimension: 8, headCount: 2, feedForwardDimension: 16, dropout: 0, normFirst: true)
        }
        #expect(stack.stateDict().keys.contains("layers.1.linear2.bias"))
        #expect(stack.stateDict().keys.contains("norm.weight"))
        #expect(stack.parameterCount == 2 * (3 * 64 + 3 * 8 + 64 + 8 + 128 + 16 + 128 + 8 + 32) + 16)
    }

    @Test func strictLoadingReportsEveryProblemByName() throws {
        let layer = Linear(3, 2)
        var state = layer.stateDict()
        state["bias"] = Tensor.zeros([3])
        state["weight"] = nil
        state["extra.weight"] = Tensor.zeros([1])
        do {
            try layer.loadStateDict(state)
            Issue.record("expected an error")
        } catch let error as StateDictError {
            #expect(error.missingKeys == ["weight"])
            #expect(error.unexpectedKeys == ["extra.weight"])
            #expect(error.shapeMismatches == [.init(key: "bias", expected: [2], found: [3])])
            #expect(error.description.contains("bias: expected shape [2], found [3]"))
        }
        // Non-strict loading skips unknown and missing keys but never a wrong shape.
        state["bias"] = Tensor([7, 8])
        try layer.loadStateDict(state, strict: false)
        #expect(layer.bias?.scalars == [7, 8])
        state["bias"] = Tensor([1, 2, 3])
        #expect(throws: StateDictError.self) { try layer.loadStateDict(state, strict: false) }
    }

    @Test func frozenParametersGetNoGradient() {
        let model = FeedForward(modelDimension: 4, hiddenDimension: 8)
        model.linear1.freeze()
        let x = Tensor.ones([2, 4])
        let (_, gradients) = valueWithGradient(of: model) { m in m(x).sum() }
        #expect(Set(gradients.keys) == ["linear2.weight", "linear2.bias"])
        #expect(gradients["linear2.bias"]?.scalars == [2, 2, 2, 2])
    }

    @Test func tiedParametersGetOneSummedGradient() {
        // Two children share one Linear, as tied input/output embeddings do.
        final class Tied: Module {
            @Child("first") var first: Linear
            @Child("second") var second: Linear
            override init() {
                let shared = Linear(3, 3, bias: false)
                super.init()
                first = shared
                second = shared
            }
        }
        let model = Tied()
        let x = Tensor([1, 2, 3]).reshaped([1, 3])
        #expect(model.stateDict().keys.sorted() == ["first.weight", "second.weight"])
        #expect(model.trainableParameters().map(\.name) == ["first.weight"])
        let (_, gradients) = valueWithGradient(of: model) { m in m.second(m.first(x)).sum() }
        let w = model.first.weight
        let expected = gradient(at: [w]) { p in matmul(matmul(x, p[0].transposed()), p[0].transposed()).sum() }[0]
        #expect(gradients.keys.sorted() == ["first.weight"])
        expectClose(gradients["first.weight"]!, expected, tolerance: 1e-6, "sum over both uses")
    }

    @Test func dropoutOnlyInTrainingMode() {
        let dropout = Dropout(0.5, seed: 1)
        let x = Tensor.ones([1000])
        let trained = dropout(x).scalars
        #expect(trained.allSatisfy { $0 == 0 || $0 == 2 })
        #expect(abs(Float(trained.filter { $0 == 0 }.count) / 1000 - 0.5) < 0.06)
        dropout.eval()
        #expect(dropout(x).scalars == x.scalars)
    }

    @Test func groupedQueryAttentionSharesKeyValueHeads() {
        Initialization.seed(41)
        let attention = MultiHeadAttention(embedDimension: 16, headCount: 4, keyValueHeadCount: 2)
        #expect(attention.stateDict()["k_proj_weight"]?.shape == [8, 16])
        var generator = PhiloxGenerator(seed: 42)
        let x = Tensor.normal([2, 5, 16], using: &generator)
        let (q, k, v) = attention.projectedHeads(x)
        #expect(q.shape == [2, 4, 5, 4] && k.shape == [2, 2, 5, 4])
        // The same attention with each kv head repeated for its two query heads.
        let repeatHeads = { (t: Tensor) in t.indexSelect([0, 0, 1, 1], axis: 1) }
        let reference = scaledDotProductAttention(query: q, key: repeatHeads(k), value: repeatHeads(v), mask: .causal, kernel: .reference)
        let expected = attention.outputProjection(reference.permuted([0, 2, 1, 3]).reshaped([2, 5, 16]))
        expectClose(attention(x, mask: .causal), expected, tolerance: 1e-5, "GQA")
    }

    @Test func scoreAttentionLayersMatchTheirFunctions() {
        Initialization.seed(43)
        var generator = PhiloxGenerator(seed: 44)
        let q = Tensor.normal([2, 3, 5], using: &generator), k = Tensor.normal([2, 4, 6], using: &generator)
        let v = Tensor.normal([2, 4, 2], using: &generator)
        let additive = AdditiveAttention(queryDimension: 5, keyDimension: 6, hiddenDimension: 7)
        let (output, weights) = additive(q, key: k, value: v, mask: .keyPadding(validLengths: [4, 2]))
        #expect(weights.selecting(axis: 0, index: 1).sliced(axis: 1, 2..<4).scalars.allSatisfy { $0 == 0 })
        expectClose(output, matmul(weights, v), tolerance: 1e-6, "additive")
        let general = GeneralAttention(queryDimension: 5, keyDimension: 6)
        let manual = softmax(matmul(matmul(q, general.weight), k.transposed()))
        expectClose(general(q, key: k, value: v).weights, manual, tolerance: 1e-6, "general")
        let cosine = CosineAttention(embedDimension: 8, headCount: 2)
        let x = Tensor.normal([2, 5, 8], using: &generator)
        let (_, gradients) = valueWithGradient(of: cosine) { m in m(x, mask: .causal).sum() }
        #expect(gradients["logit_scale"]?.shape == [2, 1, 1])
        #expect(gradients["logit_scale"]!.scalars.allSatisfy { $0.isFinite && $0 != 0 })
    }
}
