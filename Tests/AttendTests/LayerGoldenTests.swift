import Attend
import AttendNN
import Testing

/// One case of `Goldens/layers.json` (scripts/goldens/generate_layers.py): a torch.nn module's
/// state dict under PyTorch's key names, its inputs, output and gradients.
struct LayerCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Config: Decodable, Sendable {
        var E: Int?, H: Int?, F: Int?, kdim: Int?, vdim: Int?
        var `in`: Int?, out: Int?, dim: Int?, count: Int?, padding: Int?
        var normFirst: Bool?, activation: String?
    }

    let name: String
    let config: Config
    let masks: [String: GoldenTensor]
    let state: [String: GoldenTensor]
    let inputs: [GoldenTensor]
    let output: GoldenTensor
    let cotangent: GoldenTensor
    let inputGradients: [GoldenTensor]
    let parameterGradients: [String: GoldenTensor]
    var testDescription: String { name }

    var causal: AttentionMask { .pyTorchAttentionMask(masks["causal"]!.tensor) }
    var padding: AttentionMask { .pyTorchKeyPaddingMask(masks["padding"]!.tensor) }
    var targetPadding: AttentionMask { .pyTorchKeyPaddingMask(masks["targetPadding"]!.tensor) }
    var activation: Activation { config.activation == "gelu" ? .gelu : .relu }

    /// The Attend module for this case (default-initialized; the test loads the state dict),
    /// and the function that runs it on the inputs.
    func make() -> (Module, ([Tensor]) -> Tensor) {
        let c = config
        switch name {
        case "linear":
            let m = Linear(c.in!, c.out!)
            return (m, { m($0[0]) })
        case "layer norm":
            let m = LayerNorm(c.dim!)
            return (m, { m($0[0]) })
        case "rms norm":
            let m = RMSNorm(c.dim!, epsilon: 1e-6)
            return (m, { m($0[0]) })
        case let n where n.hasPrefix("embedding"):
            let m = Embedding(count: c.count!, dimension: c.dim!, paddingIndex: c.padding)
            let ids = inputs[0].data.map { Int($0) }
            let width = inputs[0].shape[1]
            return (m, { _ in m(stride(from: 0, to: ids.count, by: width).map { Array(ids[$0..<($0 + width)]) }) })
        case let n where n.hasPrefix("multi-head self-attention"):
            let m = MultiHeadAttention(embedDimension: c.E!, headCount: c.H!)
            return (m, { m($0[0], mask: .all([causal, targetPadding])) })
        case let n where n.hasPrefix("multi-head cross-attention"):
            let m = MultiHeadAttention(embedDimension: c.E!, headCount: c.H!, keyDimension: c.kdim, valueDimension: c.vdim)
            return (m, { m($0[0], key: $0[1], value: $0[2], mask: padding) })
        case let n where n.hasPrefix("multi-head attention weights"):
            let m = MultiHeadAttention(embedDimension: c.E!, headCount: c.H!)
            return (m, { m.attentionWithWeights($0[0], key: $0[1], value: $0[1], mask: padding).weights })
        case let n where n.hasPrefix("encoder layer"):
            let m = TransformerEncoderLayer(modelDimension: c.E!, headCount: c.H!, feedForwardDimension: c.F!,
                                            dropout: 0, normFirst: c.normFirst!, activation: activation)
            return (m, { m($0[0], mask: .all([causal, targetPadding])) })
        case let n where n.hasPrefix("decoder layer"):
            let m = TransformerDecoderLayer(modelDimension: c.E!, headCount: c.H!, feedForwardDimension: c.F!,
                                            dropout: 0, normFirst: c.normFirst!, activation: activation)
            return (m, { m($0[0], memory: $0[1], mask: causal, memoryMask: padding) })
        default:
            let m = Transformer(modelDimension: c.E!, headCount: c.H!, encoderLayerCount: 2, decoderLayerCount: 2,
                                feedForwardDimension: c.F!, dropout: 0)
            return (m, { m(source: $0[0], target: $0[1], sourceMask: padding, targetMask: causal, memoryMask: padding) })
        }
    }
}

struct LayerGoldenFile: Decodable { let cases: [LayerCase] }

let layerCases: [LayerCase] = (try? loadGoldens("layers", as: LayerGoldenFile.self).cases) ?? []

@Suite("Layers against torch.nn (state dicts under PyTorch's names)")
struct LayerGoldenTests {
    @Test func goldensAreLoaded() { #expect(layerCases.count == 12) }

    /// Loads PyTorch's state dict strictly, then compares the output (1e-5) and the gradients
    /// of the inputs and of every parameter (1e-4).
    @Test(arguments: layerCases)
    func matchesTorchNN(_ golden: LayerCase) throws {
        let (module, run) = golden.make()
        module.eval()
        try module.loadStateDict(golden.state.mapValues(\.tensor), strict: true)
        #expect(Set(module.stateDict().keys) == Set(golden.state.keys))
        let inputs = golden.inputs.map(\.tensor)
        expectClose(run(inputs), golden.output.tensor, tolerance: 1e-5, "\(golden.name) output")

        let cotangent = golden.cotangent.tensor
        if !golden.inputGradients.isEmpty {
            let gradients = gradient(at: inputs) { x in (run(x) * cotangent).sum() }
            for (index, expected) in golden.inputGradients.enumerated() {
                expectClose(gradients[index], expected.tensor, tolerance: 1e-4, "\(golden.name) input gradient \(index)")
            }
        }
        let (_, parameterGradients) = valueWithGradient(of: module) { _ in (run(inputs) * cotangent).sum() }
        #expect(Set(parameterGradients.keys) == Set(golden.parameterGradients.keys))
        for (name, expected) in golden.parameterGradients {
            guard let actual = parameterGradients[name] else { continue }
            expectClose(actual, expected.tensor, tolerance: 1e-4, "\(golden.name) d\(name)")
        }
    }
}
