/// Dropout on attention weights from a counter-based stream, so that the backward pass (and
/// the reference path) regenerate exactly the same mask without storing it.
///
/// Weight `(b, h, i, j)` has the flat index `e = ((b·H + h)·Lq + i)·Lk + j`; it is kept when
/// word `e mod 4` of Philox block `e / 4` (keyed by the seed) is at least `p · 2³²`, and kept
/// weights are scaled by `1 / (1 − p)`.
struct AttentionDropout: Sendable {
    let probability: Float
    let seed: UInt64
    let threshold: UInt32
    let keepScale: Float

    init?(probability: Float, seed: UInt64) {
        precondition(probability >= 0 && probability < 1, "attention dropout must be in [0, 1), got \(probability)")
        guard probability > 0 else { return nil }
        self.probability = probability
        self.seed = seed
        self.threshold = UInt32(Swift.min(Double(probability) * 4_294_967_296.0, 4_294_967_295.0))
        self.keepScale = 1 / (1 - probability)
    }

    /// Multiplies `count` weights starting at flat index `start` by their dropout factor
    /// (0 or `1/(1−p)`).
    @inline(__always)
    func apply(to row: UnsafeMutablePointer<Float>, count: Int, startingAt start: Int) {
        var j = 0
        while j < count {
            let index = start + j
            let block = PhiloxGenerator.block(seed: seed, counter: UInt64(index >> 2))
            let words = [block.0, block.1, block.2, block.3]
            var lane = index & 3
            while lane < 4 && j < count {
                row[j] *= words[lane] >= threshold ? keepScale : 0
                lane += 1
                j += 1
            }
        }
    }

    /// The full `[B, H, Lq, Lk]` tensor of factors, for the reference path.
    func factors(shape: [Int]) -> Tensor {
        var result = Tensor.ones(shape)
        result.withUnsafeMutableScalars { buffer in apply(to: buffer.baseAddress!, count: buffer.count, startingAt: 0) }
        return result
    }
}
