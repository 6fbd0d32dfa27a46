/// Vectorized transcendental functions for the hot loops (softmax, attention, activations).
///
/// Written with portable SIMD types so they compile to whatever vector width the target
/// allows; accurate to about 2 ulp over the whole float range.
enum VectorMath {
    /// `eˣ` for 8 lanes: range reduction `x = n·ln2 + r`, |r| ≤ ln2/2, a degree-6 polynomial
    /// for `eʳ` (Cephes `expf`), then scaling by `2ⁿ` in two steps so that results down to the
    /// subnormal range stay exact. `exp(-∞) = 0`, `exp(+∞) = +∞`, NaN propagates.
    @inline(__always)
    static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let clamped = x.clamped(lowerBound: SIMD8(repeating: -103.5), upperBound: SIMD8(repeating: 88.75))
        // Round x·log2(e) to the nearest integer with the 1.5·2²³ trick (no SSE4.1 needed).
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let n = (clamped * 1.442_695_04 + magic) - magic
        var r = clamped - n * 0.693_359_375
        r = r - n * -2.121_944_4e-4
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * (r * r) + r + 1
        let exponent = SIMD8<Int32>(n, rounding: .towardZero)
        let half = exponent &>> 1
        let scale1 = unsafeBitCast((half &+ 127) &<< 23, to: SIMD8<Float>.self)
        let scale2 = unsafeBitCast((exponent &- half &+ 127) &<< 23, to: SIMD8<Float>.self)
        var result = p * scale1 * scale2
        result.replace(with: 0, where: x .< -103.5)
        result.replace(with: Float.infinity, where: x .> 88.75)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// Scalar `eˣ` with the same algorithm, for loop tails (bit-identical to the vector lanes).
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        exp(SIMD8<Float>(repeating: x))[0]
    }
}
