import Attend
import Testing

@Suite("Extreme values")
struct ExtremeValueTests {
    @Test func softmaxOfFullyMaskedRowIsZeroWithZeroGradient() {
        let x = Tensor(shape: [2, 3], scalars: [-.infinity, -.infinity, -.infinity, 1, 2, -.infinity])
        let y = softmax(x)
        #expect(y.scalars[0..<3].allSatisfy { $0 == 0 })
        #expect(y.scalars[5] == 0)
        #expect(abs(y.scalars[3] + y.scalars[4] - 1) < 1e-6)
        let g = gradient(at: [x]) { x in (softmax(x[0]) * Tensor([1, 2, 3])).sum() }[0]
        #expect(g.scalars.allSatisfy { !$0.isNaN })
        #expect(g.scalars[0..<3].allSatisfy { $0 == 0 })
    }

    @Test func softmaxOfHugeLogitsIsExact() {
        let y = softmax(Tensor([1e4, 1e4 - 1, -1e4]))
        #expect(abs(y.scalars[0] - 0.731_058_6) < 1e-6)
        #expect(abs(y.scalars[1] - 0.268_941_4) < 1e-6)
        #expect(y.scalars[2] == 0)
    }

    @Test func expSaturatesWithoutNaN() {
        let y = exp(Tensor([100, -100, -1000, .infinity, -.infinity, 88.5, -87.5, 0, .nan])).scalars
        #expect(y[0] == .infinity)
        #expect(y[1] > 0 && abs(Double(y[1]) / 3.720_075_976e-44 - 1) < 0.05)   // subnormal, not flushed to zero
        #expect(y[2] == 0 && y[3] == .infinity && y[4] == 0)
        #expect(abs(Double(y[5]) / Foundation_exp(88.5) - 1) < 1e-6)
        #expect(abs(Double(y[6]) / Foundation_exp(-87.5) - 1) < 1e-5)   // subnormal boundary
        #expect(y[7] == 1)
        #expect(y[8].isNaN)
    }

    @Test func vectorizedExpIsAccurateAcrossTheRange() {
        // Compare the SIMD kernel (contiguous input) against the C library in double precision.
        let inputs = stride(from: Float(-100), to: 88, by: 0.0137).map { $0 }
        let result = exp(Tensor(inputs)).scalars
        var worst: Double = 0
        for (x, y) in zip(inputs, result) {
            let reference = Foundation_exp(Double(x))
            guard reference > 1e-37 else { continue }           // relative error is meaningless in the subnormal range
            worst = max(worst, abs(Double(y) - reference) / reference)
        }
        #expect(worst < 4e-7, "worst relative error \(worst)")
    }

    @Test func logSumExpOfAllNegativeInfinityIsNegativeInfinity() {
        let x = Tensor(shape: [2, 2], scalars: [-.infinity, -.infinity, 0, 0])
        let y = x.logSumExp(alongAxes: [1])
        #expect(y.scalars[0] == -.infinity)
        #expect(abs(y.scalars[1] - 0.693_147_2) < 1e-6)
        let g = gradient(at: [x]) { x in x[0].logSumExp(alongAxes: [1]).sum() }[0]
        #expect(g.scalars == [0, 0, 0.5, 0.5])
    }

    @Test func logSumExpOfHugeMagnitudes() {
        #expect(Tensor([-1e30, -1e30]).logSumExp(alongAxes: [0]).scalar == -1e30)
        #expect(Tensor([Float.infinity, 1]).logSumExp(alongAxes: [0]).scalar == .infinity)
    }

    @Test func maximumSplitsGradientAtTies() {
        let g = gradient(at: [Tensor([1, 2, 3]), Tensor([1, 5, 0])]) { x in maximum(x[0], x[1]).sum() }
        #expect(g[0].scalars == [0.5, 0, 1])
        #expect(g[1].scalars == [0.5, 1, 0])
    }

    @Test func maxSharesGradientAmongTies() {
        let g = gradient(at: [Tensor([3, 1, 3])]) { x in x[0].max() }[0]
        #expect(g.scalars == [0.5, 0, 0.5])
    }

    @Test func reductionsPropagateNaN() {
        #expect(Tensor([1, .nan, 3]).max().scalar.isNaN)
        #expect(Tensor([1, .nan, 3]).sum().scalar.isNaN)
    }

    @Test func longSumsStayAccurate() {
        // 2²⁴ + 1 ones: a naive float accumulator stops at 16,777,216.
        let n = (1 << 24) + 1
        #expect(Tensor.ones([n]).sum().scalar == Float(n))
    }
}

import Foundation
private func Foundation_exp(_ x: Double) -> Double { Foundation.exp(x) }
