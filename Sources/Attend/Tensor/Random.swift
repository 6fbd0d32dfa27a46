/// A counter-based random number generator (Philox4x32-10, Salmon et al., SC'11).
///
/// Output is a pure function of `(seed, counter)`, so the same seed gives the same numbers on
/// every run and platform, and any position of the stream can be regenerated without replaying
/// it: attention dropout uses ``block(seed:counter:)`` to rebuild its mask in the backward pass.
///
/// ```swift
/// var generator = PhiloxGenerator(seed: 42)
/// let weights = Tensor.normal([4, 4], standardDeviation: 0.02, using: &generator)
/// ```
public struct PhiloxGenerator: RandomNumberGenerator, Sendable, Equatable {
    /// The key the stream is derived from.
    public let seed: UInt64
    /// How many 128-bit blocks have been consumed so far.
    public private(set) var counter: UInt64
    private var buffered: (UInt64, UInt64) = (0, 0)
    private var bufferedCount = 0

    /// A generator at the start of the stream for `seed`.
    public init(seed: UInt64) {
        self.seed = seed
        self.counter = 0
    }

    /// A generator positioned at block `counter` of the stream for `seed` (to resume a saved run).
    public init(seed: UInt64, counter: UInt64) {
        self.seed = seed
        self.counter = counter
    }

    public static func == (lhs: PhiloxGenerator, rhs: PhiloxGenerator) -> Bool {
        lhs.seed == rhs.seed && lhs.counter == rhs.counter && lhs.bufferedCount == rhs.bufferedCount
            && lhs.buffered == rhs.buffered
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        if bufferedCount == 0 {
            let words = PhiloxGenerator.block(seed: seed, counter: counter)
            counter &+= 1
            buffered = (UInt64(words.0) << 32 | UInt64(words.1), UInt64(words.2) << 32 | UInt64(words.3))
            bufferedCount = 2
        }
        bufferedCount -= 1
        return bufferedCount == 1 ? buffered.0 : buffered.1
    }

    /// Everything that determines the rest of the stream, for checkpoints.
    public struct Snapshot: Codable, Sendable, Equatable {
        public var seed: UInt64
        public var counter: UInt64
        public var buffered: [UInt64]
    }

    /// The generator's complete state; ``init(snapshot:)`` continues the same stream.
    public var snapshot: Snapshot {
        Snapshot(seed: seed, counter: counter, buffered: bufferedCount == 2 ? [buffered.0, buffered.1] : (bufferedCount == 1 ? [buffered.1] : []))
    }

    /// A generator that continues exactly where `snapshot` was taken.
    public init(snapshot: Snapshot) {
        seed = snapshot.seed
        counter = snapshot.counter
        switch snapshot.buffered.count {
        case 2: (buffered, bufferedCount) = ((snapshot.buffered[0], snapshot.buffered[1]), 2)
        case 1: (buffered, bufferedCount) = ((0, snapshot.buffered[0]), 1)
        default: bufferedCount = 0
        }
    }

    /// The four 32-bit words of block `counter` of the stream keyed by `seed`.
    @inlinable
    public static func block(seed: UInt64, counter: UInt64) -> (UInt32, UInt32, UInt32, UInt32) {
        var c0 = UInt32(truncatingIfNeeded: counter), c1 = UInt32(truncatingIfNeeded: counter >> 32)
        var c2: UInt32 = 0, c3: UInt32 = 0
        var k0 = UInt32(truncatingIfNeeded: seed), k1 = UInt32(truncatingIfNeeded: seed >> 32)
        for _ in 0..<10 {
            let product0 = UInt64(0xD251_1F53) * UInt64(c0)
            let product1 = UInt64(0xCD9E_8D57) * UInt64(c2)
            let high0 = UInt32(truncatingIfNeeded: product0 >> 32), low0 = UInt32(truncatingIfNeeded: product0)
            let high1 = UInt32(truncatingIfNeeded: product1 >> 32), low1 = UInt32(truncatingIfNeeded: product1)
            (c0, c1, c2, c3) = (high1 ^ c1 ^ k0, low1, high0 ^ c3 ^ k1, low0)
            k0 &+= 0x9E37_79B9
            k1 &+= 0xBB67_AE85
        }
        return (c0, c1, c2, c3)
    }
}

extension RandomNumberGenerator {
    /// The next float uniformly distributed in `[0, 1)`, from the top 24 bits of ``next()``.
    public mutating func nextUnitFloat() -> Float {
        Float(next() >> 40) * 0x1p-24
    }

    /// A random ordering of `0..<count` (Fisher–Yates, swapping position `i` with `next() % (i + 1)`
    /// from the end), the same for the same generator state on every platform.
    public mutating func permutation(of count: Int) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) { order.swapAt(i, Int(next() % UInt64(i + 1))) }
        return order
    }
}
