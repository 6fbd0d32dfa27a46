/// Dropout on attention weights from a counter-based stream, so that the backward pass (and
/// the reference path) regenerate exactly the same mask without storing it.
///
/// Weight `(b, h, i, j)` has the flat index `e = ((b·H + h)·Lq + i)·Lk + j`; it is kept when its
/// 16-bit share of Philox block `e / 8` (keyed by the seed) is at least `p · 2¹⁶` (the same rule
/// as ``dropout(_:probability:seed:)``), and kept weights are scaled by `1 / (1 − p)`.
struct AttentionDropout: Sendable {
    let seed: UInt64
    let threshold: UInt32
    let keepScale: Float

    init?(probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "attention dropout must be in [0, 1), got \(probability)")
        guard probability > 0 else { return nil }
        self.seed = seed
        self.threshold = DropoutMask.threshold(probability)
        self.keepScale = 1 / (1 - probability)
    }

    /// Multiplies `count` weights starting at flat index `start` by their dropout factor
    /// (0 or `1/(1−p)`).
    @inline(__always)
    func apply(to row: UnsafeMutablePointer<Float>, count: Int, startingAt start: Int) {
        DropoutMask.apply(to: row, count: count, startingAt: start, seed: seed, threshold: threshold, keepScale: keepScale)
    }

    /// The full `[B, H, Lq, Lk]` tensor of factors, for the reference path.
    func factors(shape: [Int]) -> Tensor {
        var result = Tensor.ones(shape)
        result.withUnsafeMutableScalars { buffer in apply(to: buffer.baseAddress!, count: buffer.count, startingAt: 0) }
        return result
    }
}
