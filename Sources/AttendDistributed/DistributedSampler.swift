/// Which dataset indices each rank takes, as PyTorch's `torch.utils.data.DistributedSampler`:
/// the indices (shuffled by `seed + epoch` with PyTorch's own generator, so the same seed gives
/// the same order as in PyTorch) padded by repeating from the start — or cut, with `dropLast` —
/// to a multiple of the rank count, then every `replicas`-th one from `rank`.
public struct DistributedSampler: Sendable, Equatable {
    public let count: Int, replicas: Int, rank: Int
    public let shuffle: Bool, seed: UInt64, dropLast: Bool
    public private(set) var epoch = 0

    public init(count: Int, replicas: Int, rank: Int, shuffle: Bool = true, seed: UInt64 = 0, dropLast: Bool = false) {
        precondition(count >= 0 && replicas >= 1 && (0..<replicas).contains(rank),
                     "DistributedSampler: rank \(rank) of \(replicas) over \(count) items")
        (self.count, self.replicas, self.rank) = (count, replicas, rank)
        (self.shuffle, self.seed, self.dropLast) = (shuffle, seed, dropLast)
    }

    /// Sets the epoch, which changes the shuffle (call it before each epoch, as in PyTorch).
    public mutating func setEpoch(_ epoch: Int) { self.epoch = epoch }

    /// Items per rank: `⌈count / replicas⌉`, or `⌈(count − replicas) / replicas⌉` when dropping
    /// an uneven tail.
    public var samplesPerRank: Int {
        if dropLast && count % replicas != 0 { return (count - replicas + replicas - 1) / replicas }
        return (count + replicas - 1) / replicas
    }

    /// This rank's indices for the current epoch.
    public var indices: [Int] {
        var all = Array(0..<count)
        if shuffle {
            var generator = TorchGenerator(seed: seed &+ UInt64(epoch))
            all = generator.permutation(of: count)
        }
        let total = samplesPerRank * replicas
        if dropLast {
            all = Array(all.prefix(total))
        } else if total > all.count && !all.isEmpty {
            let padding = total - all.count
            var repeated: [Int] = []
            while repeated.count < padding { repeated += all }
            all += repeated.prefix(padding)
        }
        return stride(from: rank, to: all.count, by: replicas).map { all[$0] }
    }
}

/// PyTorch's CPU generator (`torch.Generator().manual_seed(s)`): a 32-bit Mersenne Twister
/// (MT19937) seeded with the low 32 bits of `s`, and `torch.randperm`'s swap loop.
struct TorchGenerator {
    private var state = [UInt32](repeating: 0, count: 624)
    private var index = 624

    init(seed: UInt64) {
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<624 {
            state[i] = 1_812_433_253 &* (state[i - 1] ^ (state[i - 1] >> 30)) &+ UInt32(i)
        }
    }

    mutating func next() -> UInt32 {
        if index >= 624 {
            for i in 0..<624 {
                let y = (state[i] & 0x8000_0000) | (state[(i + 1) % 624] & 0x7FFF_FFFF)
                state[i] = state[(i + 397) % 624] ^ (y >> 1) ^ (y & 1 == 0 ? 0 : 0x9908_B0DF)
            }
            index = 0
        }
        var y = state[index]
        index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C_5680
        y ^= (y << 15) & 0xEFC6_0000
        y ^= y >> 18
        return y
    }

    /// `torch.randperm(n, generator=g)` on the CPU: for i in 0..<n−1, swap i with i + random() % (n − i).
    mutating func permutation(of n: Int) -> [Int] {
        var result = Array(0..<n)
        guard n > 1 else { return result }
        for i in 0..<(n - 1) {
            let z = Int(UInt64(next()) % UInt64(n - i))
            result.swapAt(i, i + z)
        }
        return result
    }
}
