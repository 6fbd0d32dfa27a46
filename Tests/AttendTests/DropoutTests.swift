import Attend
import Testing

@Suite("Dropout")
struct DropoutTests {
    @Test func maskIsReproducibleScaledAndSharedWithTheGradient() {
        let x = Tensor.ones([50_000])
        let a = dropout(x, probability: 0.3, seed: 7), b = dropout(x, probability: 0.3, seed: 7), c = dropout(x, probability: 0.3, seed: 8)
        #expect(a.scalars == b.scalars && a.scalars != c.scalars)
        let kept = a.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        #expect(abs(Float(kept.count) / 50_000 - 0.7) < 0.01)
        // The gradient passes exactly where the forward pass kept.
        let g = gradient(at: [x]) { dropout($0[0], probability: 0.3, seed: 7).sum() }[0]
        #expect(g.scalars == a.scalars)
        #expect(dropout(x, probability: 0, seed: 1).scalars == x.scalars)
    }
}
