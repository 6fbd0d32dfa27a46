/// Scalar transcendental functions for the strided and closure paths of elementwise kernels
/// (contiguous loops run the C kernels of ``Kernels``, which use the same formulas): plain float
/// arithmetic, bit casts and selects, with no calls, traps or branches.
enum VectorMath {
    /// `eˣ`, accurate to about 1 ulp: range reduction `x = n·ln2 + r` with `|r| ≤ ln2/2`, a
    /// degree-6 polynomial for `eʳ` (Cephes `expf`), then scaling by `2ⁿ` in two halves so
    /// that subnormal results stay exact. `exp(-∞) = 0`, `exp(+∞) = +∞`, NaN propagates.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -103.5), 88.75)
        // Rounding x·log2(e) to an integer with the 1.5·2²³ trick leaves n in the low mantissa bits.
        let shifted = clamped * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = (clamped - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p: Float = 1.987_569_15e-4
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * (r * r) + r + 1
        let exponent = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
        let half = exponent &>> 1
        let scale1 = Float(bitPattern: UInt32(bitPattern: (half &+ 127) &<< 23))
        let scale2 = Float(bitPattern: UInt32(bitPattern: (exponent &- half &+ 127) &<< 23))
        var result = p * scale1 * scale2
        result = x < -103.5 ? 0 : result
        result = x > 88.75 ? .infinity : result
        return x.isNaN ? x : result
    }

    /// `erf(x)` to within 1.5·10⁻⁷ absolute (Abramowitz & Stegun 7.1.26, the form PyTorch's
    /// vectorized CPU kernels use): `1 − t·P(t)·e^(−x²)` with `t = 1/(1 + 0.3275911|x|)`, odd in x.
    /// Branch-free, so loops over it vectorize; glibc's `erff` does not.
    @inline(__always)
    static func erf(_ x: Float) -> Float {
        let a = Swift.abs(x)
        let t = 1 / (1 + 0.327_591_1 * a)
        var p: Float = 1.061_405_429
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-a * a)
        return x < 0 ? -y : y
    }
}
