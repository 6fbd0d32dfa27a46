import Attend
import Testing

/// The fused kernel against the reference path on fresh random inputs whose lengths cross tile
/// boundaries: the forward pass takes 256 queries (128 under masks with an upper bound, such as
/// causal or a window) × 256 keys per tile, the backward 128 × 128.
@Suite("Fused attention against the reference path")
struct FusedAttentionTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let batch: Int, heads: Int, keyValueHeads: Int, queryLength: Int, keyLength: Int, dimension: Int, valueDimension: Int
        let mask: @Sendable (Int, Int, Int) -> AttentionMask   // (batch, Lq, Lk) → mask
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "no mask, Lq and Lk cross two tiles", batch: 1, heads: 2, keyValueHeads: 2, queryLength: 515, keyLength: 517,
             dimension: 40, valueDimension: 24) { _, _, _ in .none },
        Case(name: "causal, Lq > tile", batch: 1, heads: 2, keyValueHeads: 1, queryLength: 150, keyLength: 150,
             dimension: 32, valueDimension: 32) { _, _, _ in .causal },
        Case(name: "lower-right causal, Lq < Lk", batch: 2, heads: 2, keyValueHeads: 2, queryLength: 140, keyLength: 300,
             dimension: 16, valueDimension: 16) { _, _, _ in .causalLowerRight },
        Case(name: "sliding window across tiles", batch: 1, heads: 3, keyValueHeads: 3, queryLength: 200, keyLength: 400,
             dimension: 8, valueDimension: 8) { _, _, _ in .slidingWindow(left: 90, right: 17) },
        Case(name: "key padding and causal", batch: 3, heads: 4, keyValueHeads: 2, queryLength: 129, keyLength: 129,
             dimension: 16, valueDimension: 8) { _, _, _ in .all([.causal, .keyPadding(validLengths: [129, 64, 1])]) },
        Case(name: "boolean and additive", batch: 2, heads: 2, keyValueHeads: 2, queryLength: 263, keyLength: 260,
             dimension: 16, valueDimension: 16) { batch, lq, lk in
            var generator = PhiloxGenerator(seed: 3)
            let allowed = ElementwiseKernelsTestHelper.threshold(Tensor.uniform([batch, 1, lq, lk], using: &generator), 0.3)
            let bias = Tensor.normal([1, 2, 1, lk], using: &generator)
            return .all([.boolean(allowed), .additive(bias)])
        },
        Case(name: "decoding step", batch: 2, heads: 8, keyValueHeads: 2, queryLength: 1, keyLength: 333,
             dimension: 64, valueDimension: 64) { _, _, _ in .causalLowerRight },
    ]

    @Test(arguments: cases)
    func fusedMatchesReference(_ c: Case) {
        var generator = PhiloxGenerator(seed: UInt64(c.queryLength * 7 + c.keyLength))
        let q = Tensor.normal([c.batch, c.heads, c.queryLength, c.dimension], using: &generator)
        let k = Tensor.normal([c.batch, c.keyValueHeads, c.keyLength, c.dimension], using: &generator)
        let v = Tensor.normal([c.batch, c.keyValueHeads, c.keyLength, c.valueDimension], using: &generator)
        let cotangent = Tensor.normal([c.batch, c.heads, c.queryLength, c.valueDimension], using: &generator)
        let mask = c.mask(c.batch, c.queryLength, c.keyLength)
        var results: [[Tensor]] = []
        for kernel in [AttentionKernel.fused, .reference] {
            let (value, gradients) = valueWithGradient(at: [q, k, v]) { x in
                (scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, kernel: kernel) * cotangent).sum()
            }
            let output = scaledDotProductAttention(query: q, key: k, value: v, mask: mask, kernel: kernel)
            results.append([output, value] + gradients)
        }
        expectClose(results[0][0], results[1][0], tolerance: 1e-5, "\(c.name) output")
        for (index, name) in ["dq", "dk", "dv"].enumerated() {
            expectClose(results[0][index + 2], results[1][index + 2], tolerance: 1e-4, "\(c.name) \(name)")
        }
    }

    @Test func permutedProjectionsNeedNoCopy() {
        // [B, L, H, D] storage viewed as [B, H, L, D], as multi-head layers produce it.
        var generator = PhiloxGenerator(seed: 8)
        let q = Tensor.normal([2, 33, 4, 16], using: &generator).permuted([0, 2, 1, 3])
        let k = Tensor.normal([2, 41, 4, 16], using: &generator).permuted([0, 2, 1, 3])
        let v = Tensor.normal([2, 41, 4, 16], using: &generator).permuted([0, 2, 1, 3])
        let fused = scaledDotProductAttention(query: q, key: k, value: v, mask: .causalLowerRight, kernel: .fused)
        let reference = scaledDotProductAttention(query: q.contiguous(), key: k.contiguous(), value: v.contiguous(),
                                                  mask: .causalLowerRight, kernel: .reference)
        expectClose(fused, reference, tolerance: 1e-5, "permuted inputs")
    }

    @Test func rowsBroadcastAlongTheLengthAxisAreReadAsSuch() {
        // A query expanded along L and a gradient that `mean` broadcasts back along L both have
        // row stride 0, which the kernel must not read as packed rows.
        var generator = PhiloxGenerator(seed: 9)
        let q = Tensor.normal([2, 2, 1, 16], using: &generator).expanded(to: [2, 2, 37, 16])
        let k = Tensor.normal([2, 2, 300, 16], using: &generator)
        let v = Tensor.normal([2, 2, 300, 8], using: &generator)
        var results: [[Tensor]] = []
        for kernel in [AttentionKernel.fused, .reference] {
            let (value, gradients) = valueWithGradient(at: [q, k, v]) { x in
                let pooled = scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: .causalLowerRight,
                                                       kernel: kernel).mean(alongAxes: [2])
                return (pooled * pooled).sum()
            }
            results.append([value] + gradients)
        }
        for (index, name) in ["loss", "dq", "dk", "dv"].enumerated() {
            expectClose(results[0][index], results[1][index], tolerance: 1e-4, "broadcast rows \(name)")
        }
    }

    @Test(arguments: [AttentionKernel.fused, .reference])
    func booleanRightPaddingEqualsTheSameMaskAsABias(kernel: AttentionKernel) {
        // A [B, 1, 1, Lk] boolean mask that allows a prefix of the keys is read as key padding
        // (tiles skipped); the same mask as an additive −∞ bias takes the dense path. Row 2 allows
        // no key at all.
        var generator = PhiloxGenerator(seed: 11)
        let lengths = [300, 7, 0]
        let q = Tensor.normal([3, 2, 140, 16], using: &generator)
        let k = Tensor.normal([3, 2, 300, 16], using: &generator)
        let v = Tensor.normal([3, 2, 300, 8], using: &generator)
        let allowed = Tensor(shape: [3, 1, 1, 300], scalars: lengths.flatMap { n in (0..<300).map { $0 < n ? 1 : 0 } })
        let bias = Tensor(shape: [3, 1, 1, 300], scalars: allowed.scalars.map { $0 == 1 ? 0 : -.infinity })
        func run(_ mask: AttentionMask) -> [Tensor] {
            let (value, gradients) = valueWithGradient(at: [q, k, v]) { x in
                let y = scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, kernel: kernel)
                return (y * y).sum()
            }
            return [scaledDotProductAttention(query: q, key: k, value: v, mask: mask, kernel: kernel), value] + gradients
        }
        let (structural, dense) = (run(.boolean(allowed)), run(.additive(bias)))
        for (index, name) in ["output", "loss", "dq", "dk", "dv"].enumerated() {
            expectClose(structural[index], dense[index], tolerance: 1e-5, "right padding \(name)")
        }
        #expect(structural[0].sliced(axis: 0, 2..<3).scalars.allSatisfy { $0 == 0 }, "no allowed key: zeros")
    }

    @Test(arguments: [AttentionKernel.fused, .reference])
    func aNaNQueryMakesItsRowNaN(kernel: AttentionKernel) {
        // NaN where nothing masks it is a real upstream problem: it must show, not turn into zeros.
        var generator = PhiloxGenerator(seed: 10)
        var q = Tensor.normal([1, 2, 300, 8], using: &generator)
        q.withUnsafeMutableScalars { $0[(1 * 300 + 200) * 8 + 3] = .nan }     // head 1, query 200
        let k = Tensor.normal([1, 2, 300, 8], using: &generator)
        let v = Tensor.normal([1, 2, 300, 8], using: &generator)
        let output = scaledDotProductAttention(query: q, key: k, value: v, kernel: kernel)
        let row = output.sliced(axis: 1, 1..<2).sliced(axis: 2, 200..<201)
        #expect(row.scalars.allSatisfy { $0.isNaN }, "the NaN query's output row is NaN")
        let others = output.scalars.enumerated().filter { $0.offset / 8 != 300 + 200 }.map(\.element)
        #expect(others.allSatisfy { $0.isFinite }, "every other row is untouched")
    }

    @Test(arguments: [AttentionKernel.fused, .reference])
    func maskedGarbageNeverLeaks(kernel: AttentionKernel) {
        var generator = PhiloxGenerator(seed: 4)
        let clean = Tensor.normal([2, 2, 5, 8], using: &generator)
        var key = Tensor.normal([2, 2, 7, 8], using: &generator)
        var value = Tensor.normal([2, 2, 7, 8], using: &generator)
        // Batch 1 has 4 valid keys; its padded keys and values hold NaN and infinities.
        key.withUnsafeMutableScalars { s in for h in 0..<2 { for j in 4..<7 { s[((1 * 2 + h) * 7 + j) * 8 + 3] = .nan } } }
        value.withUnsafeMutableScalars { s in for h in 0..<2 { for j in 4..<7 { s[((1 * 2 + h) * 7 + j) * 8] = j == 5 ? .infinity : .nan } } }
        let mask = AttentionMask.keyPadding(validLengths: [7, 4])
        let batch1 = { (t: Tensor) in t.sliced(axis: 0, 1..<2) }
        let (_, gradients) = valueWithGradient(at: [clean, key, value]) { x in
            scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask, kernel: kernel).sliced(axis: 0, 1..<2).sum()
        }
        let output = scaledDotProductAttention(query: clean, key: key, value: value, mask: mask, kernel: kernel)
        let expected = scaledDotProductAttention(query: batch1(clean), key: batch1(key).sliced(axis: 2, 0..<4),
                                                 value: batch1(value).sliced(axis: 2, 0..<4), kernel: .reference)
        expectClose(batch1(output), expected, tolerance: 1e-5, "output ignores padded garbage")
        #expect(gradients[0].scalars.allSatisfy { $0.isFinite }, "query gradient is finite")
        #expect(batch1(gradients[1]).sliced(axis: 2, 0..<4).scalars.allSatisfy { $0.isFinite })
        #expect(batch1(gradients[2]).sliced(axis: 2, 4..<7).scalars.allSatisfy { $0 == 0 }, "masked values get zero gradient")
    }

    @Test(arguments: [AttentionKernel.fused, .reference])
    func fullyMaskedRowsGiveZerosAndZeroGradients(kernel: AttentionKernel) {
        var generator = PhiloxGenerator(seed: 5)
        let q = Tensor.normal([1, 1, 6, 4], using: &generator)
        let k = Tensor.normal([1, 1, 3, 4], using: &generator)
        let v = Tensor.normal([1, 1, 3, 4], using: &generator)
        // Lower-right causal with Lq > Lk: the first three queries see no key.
        let output = scaledDotProductAttention(query: q, key: k, value: v, mask: .causalLowerRight, kernel: kernel)
        #expect(output.sliced(axis: 2, 0..<3).scalars.allSatisfy { $0 == 0 })
        #expect(output.scalars.allSatisfy { $0.isFinite })
        let dq = gradient(at: [q]) { x in
            scaledDotProductAttention(query: x[0], key: k, value: v, mask: .causalLowerRight, kernel: kernel).sum()
        }[0]
        #expect(dq.sliced(axis: 2, 0..<3).scalars.allSatisfy { $0 == 0 })
        #expect(dq.scalars.allSatisfy { $0.isFinite })
    }

    @Test func dropoutIsReproducibleAndSharedByBothKernels() {
        var generator = PhiloxGenerator(seed: 6)
        // 150 queries: two query tiles, so the dropout stream is indexed from a block offset too.
        let q = Tensor.normal([2, 2, 150, 16], using: &generator)
        let k = Tensor.normal([2, 2, 300, 16], using: &generator)
        let v = Tensor.normal([2, 2, 300, 16], using: &generator)
        let cotangent = Tensor.normal([2, 2, 150, 16], using: &generator)
        func run(_ kernel: AttentionKernel, seed: UInt64) -> [Tensor] {
            let (_, gradients) = valueWithGradient(at: [q, k, v]) { x in
                (scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: .causalLowerRight,
                                           dropout: 0.25, dropoutSeed: seed, kernel: kernel) * cotangent).sum()
            }
            return [scaledDotProductAttention(query: q, key: k, value: v, mask: .causalLowerRight,
                                              dropout: 0.25, dropoutSeed: seed, kernel: kernel)] + gradients
        }
        let fused = run(.fused, seed: 99), again = run(.fused, seed: 99), reference = run(.reference, seed: 99)
        #expect(fused[0].scalars == again[0].scalars, "same seed, same output")
        #expect(fused[0].scalars != run(.fused, seed: 100)[0].scalars, "another seed drops other weights")
        for (index, name) in ["output", "dq", "dk", "dv"].enumerated() {
            expectClose(fused[index], reference[index], tolerance: index == 0 ? 1e-5 : 1e-4, "dropout \(name)")
        }
        // About a quarter of the weights are dropped.
        let weights = scaledDotProductAttentionWithWeights(query: q, key: k, value: v, dropout: 0.25, dropoutSeed: 1).weights
        let dropped = Float(weights.scalars.filter { $0 == 0 }.count) / Float(weights.scalarCount)
        #expect(abs(dropped - 0.25) < 0.01)
    }

    @Test func weightsAreRowStochasticAndReproduceTheOutput() {
        var generator = PhiloxGenerator(seed: 7)
        let q = Tensor.normal([2, 4, 9, 8], using: &generator)
        let k = Tensor.normal([2, 2, 12, 8], using: &generator)
        let v = Tensor.normal([2, 2, 12, 5], using: &generator)
        let (output, weights) = scaledDotProductAttentionWithWeights(query: q, key: k, value: v,
                                                                      mask: .keyPadding(validLengths: [12, 0]))
        #expect(weights.shape == [2, 4, 9, 12])
        let sums = weights.sum(alongAxes: [3]).scalars
        #expect(sums[0..<36].allSatisfy { abs($0 - 1) < 1e-5 })
        #expect(sums[36...].allSatisfy { $0 == 0 })
        let perHead = matmul(weights, v.reshaped([2, 2, 1, 12, 5]).expanded(to: [2, 2, 2, 12, 5]).reshaped([2, 4, 12, 5]))
        expectClose(perHead, output, tolerance: 1e-5, "weights · V")
        expectClose(scaledDotProductAttention(query: q, key: k, value: v, mask: .keyPadding(validLengths: [12, 0])),
                    output, tolerance: 1e-5, "fused output equals the weights variant")
    }
}

/// Small tensor helpers for building test masks.
enum ElementwiseKernelsTestHelper {
    /// 1 where `x > threshold`, else 0.
    static func threshold(_ x: Tensor, _ threshold: Float) -> Tensor {
        Tensor(shape: x.shape, scalars: x.scalars.map { $0 > threshold ? 1 : 0 })
    }
}
