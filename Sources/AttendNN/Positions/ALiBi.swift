import Attend
import Foundation

/// Attention with linear biases (ALiBi, Press et al. 2022): no position embeddings; each head
/// adds `−m_h · distance` to its scores, with head slopes `m_h` in a geometric sequence.
public enum ALiBi {
    /// The per-head slopes: for `n` a power of two, `2^(−8/n), 2^(−16/n), …, 2^(−8)`; otherwise
    /// those of the largest power of two below `n` followed by every other slope of twice that
    /// (the reference implementation's rule).
    public static func slopes(headCount n: Int) -> [Float] {
        precondition(n > 0, "ALiBi needs at least one head")
        func powerOfTwoSlopes(_ n: Int) -> [Float] {
            let start = Foundation.pow(2.0, -8.0 / Double(n))
            return (1...n).map { Float(Foundation.pow(start, Double($0))) }
        }
        let lower = 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
        if lower == n { return powerOfTwoSlopes(n) }
        let extra = powerOfTwoSlopes(2 * lower).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        return powerOfTwoSlopes(lower) + extra.prefix(n - lower)
    }

    /// The additive bias `[1, H, Lq, Lk]`: `m_h · (j − i′)` with `i′ = i + Lk − Lq` the query's
    /// absolute position (aligned at the bottom-right, so it holds for KV caches). Pair it with
    /// `.causalLowerRight`; for bidirectional use `symmetric: true` gives `−m_h·|j − i′|`.
    public static func bias(headCount: Int, queryLength: Int, keyLength: Int, symmetric: Bool = false) -> Tensor {
        let slopes = slopes(headCount: headCount)
        var values = [Float](repeating: 0, count: headCount * queryLength * keyLength)
        for h in 0..<headCount {
            for i in 0..<queryLength {
                let position = i + keyLength - queryLength
                for j in 0..<keyLength {
                    let distance = Float(j - position)
                    values[(h * queryLength + i) * keyLength + j] = slopes[h] * (symmetric ? -Swift.abs(distance) : distance)
                }
            }
        }
        return Tensor(shape: [1, headCount, queryLength, keyLength], scalars: values)
    }

    /// ``bias(headCount:queryLength:keyLength:symmetric:)`` with the causal mask, ready for attention.
    public static func causalMask(headCount: Int, queryLength: Int, keyLength: Int) -> AttentionMask {
        .all([.causalLowerRight, .additive(bias(headCount: headCount, queryLength: queryLength, keyLength: keyLength))])
    }
}
