/// An ``AttentionMask`` resolved against concrete sizes: a contiguous range of allowed keys for
/// every (batch entry, query), plus an optional dense bias.
///
/// Every structural mask is an interval constraint on `j − i` or on `j`, so any intersection of
/// them is still one interval per query: `max(lower bounds) ≤ j < min(upper bounds)`.
struct ResolvedAttentionMask: Sendable {
    let batch: Int, heads: Int, queryLength: Int, keyLength: Int
    /// Keys `j ≥ i + lowerOffset` (nil: unbounded).
    private(set) var lowerOffset: Int?
    /// Keys `j ≤ i + upperOffset` (nil: unbounded).
    private(set) var upperOffset: Int?
    /// Per batch entry, keys `j < validLengths[b]`.
    private(set) var validLengths: [Int]?
    /// Dense additive bias (boolean masks become 0 / `-∞`), broadcastable to `[B, H, Lq, Lk]`.
    private(set) var bias: Tensor?

    init(_ mask: AttentionMask, batch: Int, heads: Int, queryLength: Int, keyLength: Int) {
        self.batch = batch
        self.heads = heads
        self.queryLength = queryLength
        self.keyLength = keyLength
        add(mask)
    }

    private var fullShape: [Int] { [batch, heads, queryLength, keyLength] }

    private mutating func add(_ mask: AttentionMask) {
        let diagonal = keyLength - queryLength
        switch mask {
        case .none:
            break
        case .causal:
            constrainUpper(0)
        case .causalLowerRight:
            constrainUpper(diagonal)
        case .slidingWindow(let left, let right):
            if left >= 0 { lowerOffset = Swift.max(lowerOffset ?? Int.min, diagonal - left) }
            if right >= 0 { constrainUpper(diagonal + right) }
        case .keyPadding(let lengths):
            precondition(lengths.count == batch,
                         "keyPadding has \(lengths.count) valid lengths for a batch of \(batch) (attention shape \(fullShape))")
            for length in lengths {
                precondition(length >= 0 && length <= keyLength,
                             "keyPadding valid length \(length) is outside 0...\(keyLength) (attention shape \(fullShape))")
            }
            validLengths = validLengths.map { zip($0, lengths).map { Swift.min($0, $1) } } ?? lengths
        case .boolean(let allowed):
            checkBroadcastable(allowed, "boolean")
            if let lengths = prefixLengths(allowed) {
                // Right padding as a dense mask (PyTorch's key_padding_mask): the same interval
                // constraint as .keyPadding, so masked tiles are skipped instead of added to.
                add(.keyPadding(validLengths: lengths))
                return
            }
            let term = Tensor.where(allowed.detached, Tensor(0), Tensor(-.infinity))
            bias = bias.map { $0 + term } ?? term
        case .additive(let term):
            checkBroadcastable(term, "additive")
            bias = bias.map { $0 + term } ?? term
        case .all(let masks):
            for mask in masks { add(mask) }
        }
    }

    /// Per batch entry, the number of allowed keys when `allowed` varies only along the batch and
    /// key axes (`[B or 1, 1, 1, Lk]`) and each row allows a prefix of the keys; else nil.
    private func prefixLengths(_ allowed: Tensor) -> [Int]? {
        let shape = [Int](repeating: 1, count: 4 - allowed.rank) + allowed.shape
        guard shape[1] == 1 && shape[2] == 1 && shape[3] == keyLength && keyLength > 0 else { return nil }
        let values = allowed.scalars
        var lengths: [Int] = []
        for row in 0..<shape[0] {
            let keys = values[(row * keyLength)..<((row + 1) * keyLength)]
            let length = keys.prefix { $0 != 0 }.count
            guard keys.dropFirst(length).allSatisfy({ $0 == 0 }) else { return nil }
            lengths.append(length)
        }
        return shape[0] == batch ? lengths : [Int](repeating: lengths[0], count: batch)
    }

    private mutating func constrainUpper(_ offset: Int) {
        upperOffset = Swift.min(upperOffset ?? Int.max, offset)
    }

    private func checkBroadcastable(_ tensor: Tensor, _ kind: String) {
        let shape = tensor.shape
        let ok = shape.count <= 4 && zip(shape.reversed(), fullShape.reversed()).allSatisfy { $0 == $1 || $0 == 1 }
        precondition(ok, "\(kind) attention mask of shape \(shape) does not broadcast to [B, H, Lq, Lk] = \(fullShape)")
    }

    /// True when some query sees fewer than all keys from a structural upper bound (causal,
    /// windows, padding), so that tiles right of the diagonal can be skipped.
    var hasUpperBound: Bool { upperOffset != nil || validLengths != nil }

    /// True when some query may not attend to some key, so that masked keys exist whose
    /// contents must be kept out of the products. Intervals move monotonically with the query,
    /// so the first row (smallest upper bound) and the last (largest lower bound) decide.
    var masksSomeKey: Bool {
        if bias != nil { return true }
        guard hasStructure, queryLength > 0 else { return false }
        for b in 0..<batch {
            if keyRange(batch: b, query: 0).upperBound < keyLength || keyRange(batch: b, query: queryLength - 1).lowerBound > 0 {
                return true
            }
        }
        return false
    }

    /// True when a structural constraint applies (causal, window or padding), beside any dense bias.
    var hasStructure: Bool { lowerOffset != nil || upperOffset != nil || validLengths != nil }

    /// The keys query `query` of batch entry `batchIndex` may attend to (possibly empty).
    @inline(__always)
    func keyRange(batch batchIndex: Int, query: Int) -> Range<Int> {
        var lower = 0, upper = keyLength
        if let lowerOffset { lower = Swift.max(lower, Swift.min(keyLength, query + lowerOffset)) }
        if let upperOffset { upper = Swift.min(upper, Swift.max(0, query + upperOffset + 1)) }
        if let validLengths { upper = Swift.min(upper, validLengths[batchIndex]) }
        return lower < upper ? lower..<upper : lower..<lower
    }

    /// The structural part as a `[B, 1, Lq, Lk]` tensor of 1 (allowed) and 0, for the reference path.
    func structuralAllowance() -> Tensor? {
        guard hasStructure else { return nil }
        var values = [Float](repeating: 0, count: batch * queryLength * keyLength)
        for b in 0..<batch {
            for i in 0..<queryLength {
                let base = (b * queryLength + i) * keyLength
                for j in keyRange(batch: b, query: i) { values[base + j] = 1 }
            }
        }
        return Tensor(shape: [batch, 1, queryLength, keyLength], scalars: values)
    }
}
