/// Dropout from a counter-based stream: element `e` is kept when its 16-bit share of Philox block
/// `e / 8` (keyed by the seed) is at least `p·2¹⁶`, and kept elements scale by `1/(1 − p)`. The
/// backward pass regenerates the same mask from the seed instead of storing it.
///
/// - Parameters:
///   - probability: the chance of zeroing each element, in `[0, 1)`.
///   - seed: keys the mask; the same seed drops the same elements.
public func dropout(_ x: Tensor, probability: Float, seed: UInt64) -> Tensor {
    precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1), got \(probability)")
    guard probability > 0 else { return x }
    let threshold = DropoutMask.threshold(probability)
    let scale = 1 / (1 - probability)
    @Sendable func masked(_ t: Tensor) -> Tensor {
        var result = t.detached.contiguousCopy()
        let base = result.storage.base
        let count = result.scalarCount
        Parallelism.forEachChunk(of: count, minimumChunk: 1 << 14) { range in
            DropoutMask.apply(to: base + range.lowerBound, count: range.count, startingAt: range.lowerBound,
                              seed: seed, threshold: threshold, keepScale: scale)
        }
        result.gradientNode = nil
        return result
    }
    return masked(x).recordingGradient(from: [x]) { g in [masked(g)] }
}

/// The shared dropout mask kernel: one Philox block (four 32-bit words) decides eight elements,
/// 16 bits each.
enum DropoutMask {
    /// The 16-bit threshold below which an element is dropped.
    static func threshold(_ probability: Float) -> UInt32 {
        UInt32(Swift.min((Double(probability) * 65_536).rounded(), 65_535))
    }

    /// Multiplies `count` values, flat indices `start…`, by their factor (0 or `keepScale`).
    @inline(__always)
    static func apply(to values: UnsafeMutablePointer<Float>, count: Int, startingAt start: Int, seed: UInt64,
                      threshold: UInt32, keepScale: Float) {
        var j = 0
        while j < count {
            let index = start + j
            let block = PhiloxGenerator.block(seed: seed, counter: UInt64(index >> 3))
            var slot = index & 7
            while slot < 8 && j < count {
                let word: UInt32
                switch slot >> 1 {
                case 0: word = block.0
                case 1: word = block.1
                case 2: word = block.2
                default: word = block.3
                }
                let share = slot & 1 == 0 ? word & 0xFFFF : word >> 16
                values[j] *= share >= threshold ? keepScale : 0
                slot += 1
                j += 1
            }
        }
    }
}
