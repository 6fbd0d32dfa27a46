import AttendKernels
import Foundation

/// Attend's kernels over raw float vectors, for token-at-a-time decoding, where building a
/// ``Tensor`` per step would cost more than the arithmetic (a language model's decoding step does
/// a few hundred tiny operations per token). The same C kernels as the tensor operations, on the
/// calling thread; no gradients.
public enum VectorKernels {
    /// `y = x / √(mean(x²) + ε) · γ` over `count` floats (`x` and `y` may be the same).
    public static func rmsNorm(_ x: UnsafePointer<Float>, weight: UnsafePointer<Float>?, epsilon: Float, count: Int,
                               into y: UnsafeMutablePointer<Float>) {
        Kernels.active.rms_norm(x, weight, epsilon, 1, count, y, nil)
    }

    /// `y = silu(gate) ⊙ up` over `count` floats (SwiGLU's gating; `y` may be `gate`).
    public static func gatedSiLU(gate: UnsafeMutablePointer<Float>, up: UnsafePointer<Float>, count: Int,
                                 into y: UnsafeMutablePointer<Float>) {
        Kernels.active.silu(gate, y, count)
        for i in 0..<count { y[i] *= up[i] }
    }

    /// `y += x` over `count` floats.
    public static func add(_ x: UnsafePointer<Float>, to y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Rotates each of `heads` heads of `width` features in place by one position's angles
    /// (`cos`/`sin`, `width/2` each): pairs `(x[2i], x[2i+1])` when `adjacentPairs`, else `(x[i], x[i+width/2])`
    /// — ``rotatingPairs(_:cosines:sines:adjacentPairs:)`` for one position.
    public static func rotate(_ x: UnsafeMutablePointer<Float>, heads: Int, width: Int, cos: UnsafePointer<Float>,
                              sin: UnsafePointer<Float>, adjacentPairs: Bool) {
        let half = width / 2
        let (stride, secondOffset) = adjacentPairs ? (2, 1) : (1, half)
        for head in 0..<heads {
            let row = x + head * width
            for i in 0..<half {
                let (j, k) = (i * stride, i * stride + secondOffset)
                let (a, b) = (row[j], row[k])
                row[j] = a * cos[i] - b * sin[i]
                row[k] = b * cos[i] + a * sin[i]
            }
        }
    }

    /// Attention of one query position over `length` cached positions, per head:
    /// `outₕ = softmax(qₕ·Kᵀ/√D) · V` with query head `h` reading key/value head `h / (heads/keyValueHeads)`.
    ///
    /// - Parameters:
    ///   - query: `heads × width` floats.
    ///   - keys, values: key/value head `g`'s position `t` at `g·headStride + t·width`.
    ///   - scores: scratch for `heads × length` floats.
    ///   - output: `heads × width` floats.
    public static func attention(query: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
                                 headStride: Int, length: Int, heads: Int, keyValueHeads: Int, width: Int,
                                 scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let scale = 1 / Float(width).squareRoot(), group = heads / keyValueHeads
        let pointers = UncheckedSendable((query, keys, values, scores, output))
        let body: (Int) -> Void = { head in
            let (query, keys, values, scores, output) = pointers.value
            let g = head / group, p = scores + head * length
            let kernels = Kernels.active
            kernels.matvec(keys + g * headStride, width, query + head * width, p, length, width)     // q·kₜ
            for t in 0..<length { p[t] *= scale }
            kernels.softmax(p, p, length)
            kernels.vecmat(p, values + g * headStride, width, output + head * width, length, width)   // Σ pₜ vₜ
        }
        // Heads in parallel once the cache is long enough to be worth a thread each.
        if length * width >= 16_384 {
            Parallelism.forEachItem(count: heads, body)
        } else {
            for head in 0..<heads { body(head) }
        }
    }
}
