/// Transcendental functions written so that LLVM vectorizes the loops that call them: plain
/// float arithmetic, bit casts and selects, with no calls, traps or branches.
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

    /// Writes `exp(xᵢ − shift)` for `count` floats; a loop LLVM vectorizes.
    @inline(__always)
    static func exp(_ x: UnsafePointer<Float>, minus shift: Float, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] = exp(x[i] - shift) }
    }

    /// `eˣ` for `x ≤ 0`, the exponent of a softmax over scores minus their maximum: half the
    /// work of ``exp(_:)-(Float)``, relative error below 3·10⁻⁷ for `x ≥ −20` (smaller terms
    /// only matter absolutely). `2ᵗ` with `t = x·log₂e` split as `n + f`, `|f| ≤ ½`, and a
    /// degree-6 polynomial for `2ᶠ` (Cephes `exp2f`); `x < −87.3` (and `-∞`) gives exactly 0.
    @inline(__always)
    static func expNonPositive(_ x: Float) -> Float {
        let t = Swift.max(x, -87.3) * 1.442_695_04
        let shifted = t + 12_582_912
        let f = t - (shifted - 12_582_912)
        var p: Float = 1.535_336_2e-4
        p = p * f + 1.339_887_4e-3
        p = p * f + 9.618_437_4e-3
        p = p * f + 5.550_332_5e-2
        p = p * f + 2.402_264_8e-1
        p = p * f + 6.931_472e-1
        p = p * f + 1
        let n = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
        let scaled = Float(bitPattern: p.bitPattern &+ UInt32(bitPattern: n &<< 23))
        return x < -87.3 ? 0 : scaled
    }
}
