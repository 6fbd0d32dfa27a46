import Attend
import Testing

/// One case of `Goldens/attention.json` (scripts/goldens/generate_attention.py).
struct AttentionCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Mask: Decodable, Sendable {
        let kind: String
        let left: Int?
        let right: Int?
        let validLengths: [Int]?
        let tensor: GoldenTensor?

        var attentionMask: AttentionMask {
            switch kind {
            case "causal": .causal
            case "causalLowerRight": .causalLowerRight
            case "slidingWindow": .slidingWindow(left: left!, right: right!)
            case "keyPadding": .keyPadding(validLengths: validLengths!)
            case "boolean": .boolean(tensor!.tensor)
            case "additive": .additive(tensor!.tensor)
            default: .none
            }
        }
    }

    let name: String
    let scale: Float?
    let masks: [Mask]
    let query: GoldenTensor
    let key: GoldenTensor
    let value: GoldenTensor
    let output: GoldenTensor
    let cotangent: GoldenTensor
    let gradients: [GoldenTensor]

    var testDescription: String { name }

    var mask: AttentionMask {
        switch masks.count {
        case 0: .none
        case 1: masks[0].attentionMask
        default: .all(masks.map(\.attentionMask))
        }
    }
}

struct AttentionGoldenFile: Decodable { let cases: [AttentionCase] }

let attentionCases: [AttentionCase] = (try? loadGoldens("attention", as: AttentionGoldenFile.self).cases) ?? []

@Suite("Scaled dot-product attention against PyTorch (float64 goldens)")
struct AttentionGoldenTests {
    @Test func goldensAreLoaded() {
        #expect(attentionCases.count >= 25)
    }

    /// Both kernels: outputs to 1e-5 and gradients of q, k, v to 1e-4.
    @Test(arguments: attentionCases, [AttentionKernel.fused, .reference])
    func matchesPyTorch(_ golden: AttentionCase, kernel: AttentionKernel) {
        let inputs = [golden.query.tensor, golden.key.tensor, golden.value.tensor]
        func attend(_ x: [Tensor]) -> Tensor {
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: golden.mask, scale: golden.scale, kernel: kernel)
        }
        expectClose(attend(inputs), golden.output.tensor, tolerance: 1e-5, "\(golden.name) \(kernel) output")
        let cotangent = golden.cotangent.tensor
        let gradients = gradient(at: inputs) { x in (attend(x) * cotangent).sum() }
        for (name, (actual, expected)) in zip(["query", "key", "value"], zip(gradients, golden.gradients)) {
            // With scores near 1e4, float32 scores carry rounding of ~1e-3 (one ulp). The fused
            // backward recomputes them, and dK = scale·dSᵀQ multiplies that by |Q| (~1e4 here):
            // measure dK against the magnitude of the queries in that case.
            let floor = golden.name.contains("1e4") && name == "key"
                ? golden.query.data.map { Float(abs($0)) }.max() ?? 1 : 1
            expectClose(actual, expected.tensor, tolerance: 1e-4, "\(golden.name) \(kernel) d\(name)", floor: floor)
        }
    }
}
