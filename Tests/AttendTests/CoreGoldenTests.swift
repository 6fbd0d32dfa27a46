import Attend
import Testing

/// One PyTorch-computed case from `Goldens/core.json` (see scripts/goldens/generate_core.py).
struct CoreCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Attributes: Decodable, Sendable {
        var scalar: Float?
        var axes: [Int]?
        var keep: Bool?
        var axis: Int?
        var shape: [Int]?
        var start: Int?
        var end: Int?
        var sizes: [Int]?
        var indices: [Int]?
        var epsilon: Float?
        var correction: Int?
        var transpose: Bool?
    }

    let name: String
    let op: String
    let attrs: Attributes
    let inputs: [GoldenTensor]
    let output: GoldenTensor
    let cotangent: GoldenTensor?
    let gradients: [GoldenTensor?]?

    var testDescription: String { name }

    /// Attend's version of the case's operation.
    func apply(_ x: [Tensor]) -> Tensor {
        let a = attrs
        switch op {
        case "add": return x[0] + x[1]
        case "sub": return x[0] - x[1]
        case "mul": return x[0] * x[1]
        case "div": return x[0] / x[1]
        case "maximum": return maximum(x[0], x[1])
        case "minimum": return minimum(x[0], x[1])
        case "add_scalar": return x[0] + a.scalar!
        case "sub_scalar": return x[0] - a.scalar!
        case "mul_scalar": return x[0] * a.scalar!
        case "div_scalar": return x[0] / a.scalar!
        case "rsub_scalar": return a.scalar! - x[0]
        case "rdiv_scalar": return a.scalar! / x[0]
        case "neg": return -x[0]
        case "exp": return exp(x[0])
        case "log": return log(x[0])
        case "sqrt": return sqrt(x[0])
        case "rsqrt": return rsqrt(x[0])
        case "abs": return abs(x[0])
        case "tanh": return tanh(x[0])
        case "sigmoid": return sigmoid(x[0])
        case "relu": return relu(x[0])
        case "gelu": return gelu(x[0])
        case "gelu_tanh": return gelu(x[0], approximation: .tanh)
        case "silu": return silu(x[0])
        case "pow_scalar": return pow(x[0], a.scalar!)
        case "pow_tensor": return pow(x[0], x[1])
        case "where": return Tensor.where(x[0], x[1], x[2])
        case "sum": return x[0].sum(alongAxes: a.axes!, keepingDimensions: a.keep!)
        case "mean": return a.axes!.isEmpty ? x[0] : x[0].mean(alongAxes: a.axes!, keepingDimensions: a.keep!)
        case "amax": return x[0].max(alongAxes: a.axes!, keepingDimensions: a.keep!)
        case "amin": return x[0].min(alongAxes: a.axes!, keepingDimensions: a.keep!)
        case "logsumexp": return a.axes!.isEmpty ? x[0] : x[0].logSumExp(alongAxes: a.axes!, keepingDimensions: a.keep!)
        case "variance":
            return x[0].variance(alongAxes: a.axes!, keepingDimensions: a.keep!, correction: a.correction!)
        case "argmax": return x[0].argmax(alongAxis: a.axis!)
        case "softmax": return softmax(x[0], axis: a.axis!)
        case "log_softmax": return logSoftmax(x[0], axis: a.axis!)
        case "matmul":
            return a.transpose == true ? matmul(x[0].transposed(), x[1].transposed()) : matmul(x[0], x[1])
        case "layer_norm":
            return layerNorm(x[0], weight: x.count > 1 ? x[1] : nil, bias: x.count > 2 ? x[2] : nil,
                             epsilon: a.epsilon!)
        case "rms_norm": return rmsNorm(x[0], weight: x.count > 1 ? x[1] : nil, epsilon: a.epsilon!)
        case "reshape": return x[0].reshaped(a.shape!)
        case "permute": return x[0].permuted(a.axes!)
        case "transpose": return x[0].transposed(a.axes![0], a.axes![1])
        case "expand": return x[0].expanded(to: a.shape!)
        case "slice": return x[0].sliced(axis: a.axis!, a.start!..<a.end!)
        case "concatenate": return Tensor.concatenate(x, axis: a.axis!)
        case "stack": return Tensor.stack(x, axis: a.axis!)
        case "split":
            let parts = x[0].split(sizes: a.sizes!, axis: a.axis!)
            return Tensor.concatenate(parts.enumerated().map { $0.element * Float($0.offset + 1) }, axis: a.axis!)
        case "unsqueeze": return x[0].unsqueezed(axis: a.axis!)
        case "squeeze": return x[0].squeezed(axis: a.axis!)
        case "index_select": return x[0].indexSelect(a.indices!, axis: a.axis!)
        case "attention_head":
            let (q, k, v) = (matmul(x[0], x[1]), matmul(x[0], x[2]), matmul(x[0], x[3]))
            return matmul(softmax(matmul(q, k.transposed()) / 2), v)
        default:
            Issue.record("unknown golden op \(op)")
            return x[0]
        }
    }
}

struct CoreGoldenFile: Decodable { let cases: [CoreCase] }

let coreCases: [CoreCase] = (try? loadGoldens("core", as: CoreGoldenFile.self).cases) ?? []

@Suite("Tensor ops against PyTorch (float64 goldens)")
struct CoreGoldenTests {
    @Test func goldensAreLoaded() {
        #expect(coreCases.count > 100)
    }

    /// Forward values to 1e-5 and gradients of `sum(output ⊙ cotangent)` to 1e-4.
    @Test(arguments: coreCases)
    func matchesPyTorch(_ golden: CoreCase) {
        let inputs = golden.inputs.map(\.tensor)
        let output = golden.apply(inputs)
        expectClose(output, golden.output.tensor, tolerance: 1e-5, "\(golden.name) output")

        guard let cotangent = golden.cotangent?.tensor, let expected = golden.gradients else { return }
        let (_, gradients) = valueWithGradient(at: inputs) { x in (golden.apply(x) * cotangent).sum() }
        for (index, expectedGradient) in expected.enumerated() {
            guard let expectedGradient else { continue }
            expectClose(gradients[index], expectedGradient.tensor, tolerance: 1e-4,
                        "\(golden.name) gradient \(index)")
        }
    }
}
