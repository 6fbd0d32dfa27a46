import Attend
import Testing

/// One case of `Goldens/scores.json` (scripts/goldens/generate_scores.py).
struct ScoreCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let inputs: [GoldenTensor]
    let output: GoldenTensor
    let cotangent: GoldenTensor
    let gradients: [GoldenTensor]
    var testDescription: String { name }

    /// Attend's version of the case, on the inputs in the generator's order.
    func apply(_ x: [Tensor]) -> Tensor {
        switch name {
        case let n where n.hasPrefix("cosine"):
            return cosineAttention(query: x[0], key: x[1], value: x[2], scale: x[3], mask: .causal)
        case let n where n.hasPrefix("additive"):
            let scores = additiveAttentionScores(query: x[0], key: x[1], queryWeight: x[3], keyWeight: x[4],
                                                 scoreWeight: x[5], bias: x[6])
            return attention(scores: scores, value: x[2], mask: .keyPadding(validLengths: [6, 3])).output
        case let n where n.hasPrefix("general"):
            return attention(scores: generalAttentionScores(query: x[0], key: x[1], weight: x[3]), value: x[2]).output
        case let n where n.hasPrefix("top-2"):
            return topKAttention(query: x[0], key: x[1], value: x[2], k: 2, mask: .causal).output
        default:
            return argmaxAttention(query: x[0], key: x[1], value: x[2]).output
        }
    }
}

struct ScoreGoldenFile: Decodable { let cases: [ScoreCase] }

let scoreCases: [ScoreCase] = (try? loadGoldens("scores", as: ScoreGoldenFile.self).cases) ?? []

@Suite("Other attention scores and hard attention against PyTorch")
struct ScoreFunctionTests {
    @Test func goldensAreLoaded() { #expect(scoreCases.count == 5) }

    @Test(arguments: scoreCases)
    func matchesPyTorch(_ golden: ScoreCase) {
        let inputs = golden.inputs.map(\.tensor)
        expectClose(golden.apply(inputs), golden.output.tensor, tolerance: 1e-5, "\(golden.name) output")
        let cotangent = golden.cotangent.tensor
        let gradients = gradient(at: inputs) { x in (golden.apply(x) * cotangent).sum() }
        for (index, expected) in golden.gradients.enumerated() {
            expectClose(gradients[index], expected.tensor, tolerance: 1e-4, "\(golden.name) gradient \(index)")
        }
    }

    @Test func topKKeepsExactlyKWeightsPerRow() {
        var generator = PhiloxGenerator(seed: 12)
        let q = Tensor.normal([1, 2, 6, 8], using: &generator), k = Tensor.normal([1, 2, 9, 8], using: &generator)
        let v = Tensor.normal([1, 2, 9, 4], using: &generator)
        let weights = topKAttention(query: q, key: k, value: v, k: 3, mask: .causalLowerRight).weights.scalars
        for row in 0..<12 {
            let entries = weights[(row * 9)..<(row * 9 + 9)]
            #expect(entries.filter { $0 > 0 }.count == 3)
            #expect(abs(entries.reduce(0, +) - 1) < 1e-5)
        }
        // With ties, the lower key index wins.
        let tied = topKAttention(query: Tensor.ones([1, 1, 1, 2]), key: Tensor.ones([1, 1, 4, 2]),
                                 value: Tensor.eye(4).reshaped([1, 1, 4, 4]), k: 2).weights.scalars
        #expect(tied == [0.5, 0.5, 0, 0])
    }

    @Test func cosineScoresAreBoundedByTheScale() {
        var generator = PhiloxGenerator(seed: 13)
        let q = Tensor.normal([1, 1, 4, 8], using: &generator) * 1000
        let k = Tensor.normal([1, 1, 5, 8], using: &generator)
        // With v = identity the output rows are the weights; a scale of 0 gives uniform weights.
        let uniform = cosineAttention(query: q, key: k, value: Tensor.eye(5).reshaped([1, 1, 5, 5]), scale: Tensor(0))
        #expect(uniform.scalars.allSatisfy { abs($0 - 0.2) < 1e-6 })
    }
}
