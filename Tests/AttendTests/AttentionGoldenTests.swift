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
        // The fused backward forms dS = P ⊙ (dP − Δ) with Δ = rowsum(dO ⊙ O) (FlashAttention-2);
        // in float32 the difference keeps about u·√Dv·|dO|·|V| of rounding, which dQ = scale·dS K
        // and dK = scale·dSᵀQ multiply by |K| and |Q|. Only huge logits (|Q| ~ 1e4) make that
        // exceed the relative tolerance, so it sets the floor under which errors count absolutely.
        let maxAbs = { (t: GoldenTensor) in t.data.map { Float(abs($0)) }.max() ?? 0 }
        let scale = golden.scale ?? 1 / Float(golden.query.shape[3]).squareRoot()
        let cancellation = Float.ulpOfOne / 2 * Float(golden.value.shape[3]).squareRoot()
            * maxAbs(golden.cotangent) * maxAbs(golden.value) * scale
        let floors = [cancellation * maxAbs(golden.key), cancellation * maxAbs(golden.query), 0].map { max(1, $0 / 1e-4) }
        for (index, name) in ["query", "key", "value"].enumerated() {
            expectClose(gradients[index], golden.gradients[index].tensor, tolerance: 1e-4,
                        "\(golden.name) \(kernel) d\(name)", floor: floors[index])
        }
    }
}
