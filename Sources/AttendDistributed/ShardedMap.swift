import Attend

extension ProcessGroup {
    /// Data-parallel inference: splits `0..<count` into one contiguous share per rank, runs
    /// `body` on this rank's share (it returns one row of `width` floats per item), and returns
    /// every item's row in item order, on every rank — the same rows one process would compute,
    /// up to the rounding of differently sized batches.
    ///
    /// ```swift
    /// let vectors = try group.shardedMap(count: texts.count, width: embedder.dimension) { range in
    ///     embedder.embed(Array(texts[range]))
    /// }
    /// ```
    public func shardedMap(count: Int, width: Int, _ body: (Range<Int>) throws -> [[Float]]) throws -> [[Float]] {
        precondition(count >= 0 && width >= 0, "shardedMap: count \(count), width \(width)")
        let share = (count + size - 1) / size
        let mine = Swift.min(count, rank * share)..<Swift.min(count, (rank + 1) * share)
        let rows = try body(mine)
        guard rows.count == mine.count, rows.allSatisfy({ $0.count == width }) else {
            throw DistributedError("shardedMap: rank \(rank) produced \(rows.count) rows for \(mine.count) items (width \(width) expected)")
        }
        if size == 1 { return rows }
        // Every rank sends `share` rows (padded with zeros), so the gathered shapes agree.
        var flat = rows.flatMap { $0 }
        flat += [Float](repeating: 0, count: (share - rows.count) * width)
        let gathered = try allGather(Tensor(shape: [share, width], scalars: flat))
        var result: [[Float]] = []
        result.reserveCapacity(count)
        for (source, block) in gathered.enumerated() {
            let items = Swift.max(0, Swift.min(count, (source + 1) * share) - source * share)
            let values = block.scalars
            for item in 0..<items { result.append(Array(values[(item * width)..<((item + 1) * width)])) }
        }
        return result
    }
}
