import Attend

/// The four projections of a multi-head attention that keeps separate query, key, value and
/// output `Linear`s (BERT, ViT), after removing attention heads — Hugging Face's `prune_heads`.
public struct PrunedProjections {
    public let query: Linear, key: Linear, value: Linear, output: Linear
    /// The original indices of the heads left, in order.
    public let remainingHeads: [Int]

    /// Removes the heads `removed` (original indices) from projections whose heads are currently
    /// `remainingHeads`: their rows of the query, key and value weights (`[H′·d, E]`) and their
    /// columns of the output weight (`[E, H′·d]`). Nil when none of `removed` remains.
    ///
    /// - Precondition: at least one head remains and no projection is quantized (prune first).
    public init?(removing removed: Set<Int>, from remainingHeads: [Int],
                 query: Linear, key: Linear, value: Linear, output: Linear) {
        let removed = removed.intersection(remainingHeads)
        guard !removed.isEmpty else { return nil }
        let kept = remainingHeads.enumerated().filter { !removed.contains($0.element) }
        precondition(!kept.isEmpty, "pruning heads: every head would be removed")
        precondition(![query, key, value, output].contains { $0.isQuantized }, "pruning heads: prune before quantizing")
        let width = query.outputDimension / remainingHeads.count
        let rows = kept.flatMap { position, _ in (position * width)..<((position + 1) * width) }
        self.query = query.keepingOutputs(rows)           // [H′·d, E]
        self.key = key.keepingOutputs(rows)
        self.value = value.keepingOutputs(rows)
        self.output = output.keepingInputs(rows)          // [E, H′·d]
        self.remainingHeads = kept.map(\.element)
    }
}
