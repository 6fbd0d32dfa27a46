import Attend
import AttendNN
import Testing

struct PositionGoldens: Decodable {
    struct Sinusoidal: Decodable { let length: Int; let dimension: Int; let table: GoldenTensor }
    struct Rotary: Decodable {
        let pairing: String; let offset: Int
        let input: GoldenTensor; let output: GoldenTensor; let cotangent: GoldenTensor; let gradient: GoldenTensor
    }
    let sinusoidal: Sinusoidal
    let rotary: [Rotary]
    let alibi: [String: [Double]]
}

@Suite("Positional encodings")
struct PositionTests {
    let goldens = try! loadGoldens("positions", as: PositionGoldens.self)

    @Test func sinusoidalTableMatchesTheReference() {
        let s = goldens.sinusoidal
        let encoding = SinusoidalPositionalEncoding(dimension: s.dimension)
        expectClose(encoding.table(length: s.length), s.table.tensor, tolerance: 1e-6, "table")
        // An offset continues the same table (incremental decoding).
        expectClose(encoding.table(length: 4, offset: 5), s.table.tensor.sliced(axis: 0, 5..<9), tolerance: 1e-6, "offset")
        let x = Tensor.zeros([2, s.length, s.dimension])
        expectClose(encoding(x).selecting(axis: 0, index: 1), s.table.tensor, tolerance: 1e-6, "added")
    }

    @Test func rotaryMatchesHuggingFaceAndGPTJ() {
        for golden in goldens.rotary {
            let rope = RotaryEmbedding(dimension: 8, pairing: golden.pairing == "halfSplit" ? .halfSplit : .interleaved)
            let x = golden.input.tensor
            expectClose(rope(x, offset: golden.offset), golden.output.tensor, tolerance: 1e-5, "\(golden.pairing) output")
            let g = gradient(at: [x]) { x in (rope(x[0], offset: golden.offset) * golden.cotangent.tensor).sum() }[0]
            expectClose(g, golden.gradient.tensor, tolerance: 1e-5, "\(golden.pairing) gradient")
        }
    }

    @Test(arguments: [RotaryEmbedding.Pairing.halfSplit, .interleaved])
    func rotaryScoresDependOnlyOnRelativePosition(_ pairing: RotaryEmbedding.Pairing) {
        var generator = PhiloxGenerator(seed: 21)
        let rope = RotaryEmbedding(dimension: 16, pairing: pairing)
        let q = Tensor.normal([1, 16], using: &generator), k = Tensor.normal([1, 16], using: &generator)
        func score(_ p: Int, _ r: Int) -> Float { (rope(q, offset: p) * rope(k, offset: r)).sum().scalar }
        #expect(abs(score(7, 3) - score(104, 100)) < 1e-3)
        #expect(abs(score(7, 3) - score(3, 7)) > 1e-3)   // not symmetric: direction matters
    }

    @Test func alibiSlopesMatchTheReference() {
        for (heads, expected) in goldens.alibi {
            let slopes = ALiBi.slopes(headCount: Int(heads)!)
            #expect(slopes.count == expected.count)
            for (a, e) in zip(slopes, expected) { #expect(abs(Double(a) - e) <= 1e-7 * e, "\(heads) heads") }
        }
    }

    @Test func alibiBiasIsBottomRightAligned() {
        let bias = ALiBi.bias(headCount: 2, queryLength: 2, keyLength: 4)   // slopes 1/16, 1/256
        // Query 0 sits at absolute position 2: distances to keys 0…3 are −2, −1, 0, 1.
        #expect(bias.scalars[0..<4] == [-0.125, -0.0625, 0, 0.0625])
        let (_, weights) = scaledDotProductAttentionWithWeights(
            query: Tensor.zeros([1, 2, 2, 4]), key: Tensor.zeros([1, 2, 4, 4]), value: Tensor.zeros([1, 2, 4, 4]),
            mask: ALiBi.causalMask(headCount: 2, queryLength: 2, keyLength: 4))
        let first = Array(weights.scalars[0..<4])
        #expect(first[3] == 0 && first[2] > first[1] && first[1] > first[0])   // nearer keys weigh more; future masked
    }
}
