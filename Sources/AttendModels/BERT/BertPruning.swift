import AttendNN

extension BertModel {
    /// Removes attention heads, `[layer: original head indices]` (Hugging Face's `prune_heads`);
    /// the configuration's ``BertConfiguration/prunedHeads`` records what a saved folder lacks.
    public func prune(heads: [Int: Set<Int>]) {
        for (layer, removed) in heads where encoder.layers.indices.contains(layer) {
            encoder.layers[layer].attention.prune(heads: removed)
        }
    }

    /// The heads removed so far, `[layer: original head indices]` (empty layers left out).
    public var prunedHeads: [Int: [Int]] {
        var result: [Int: [Int]] = [:]
        for (index, layer) in encoder.layers.enumerated() {
            let removed = Set(0..<configuration.headCount).subtracting(layer.attention.remainingHeads).sorted()
            if !removed.isEmpty { result[index] = removed }
        }
        return result
    }
}
