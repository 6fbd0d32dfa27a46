import Attend

/// How attention rollout and flow combine a layer's heads into one matrix.
public enum HeadFusion: String, Sendable, CaseIterable {
    case mean, max, min
}

/// Attention rollout (Abnar & Zuidema 2020): how much each output position draws, through every
/// layer, on each input position — attention composed with the residual stream.
///
/// ```
/// Āₗ = fuse_heads(Aₗ)                      (mean, max or min over heads; optionally the smallest
///                                          `discardRatio` of its entries set to 0, never [0][0])
/// âₗ = (Āₗ + I) / 2, rows renormalized     (the residual connection carries half)
/// R  = â_N · … · â₂ · â₁                    R[i][j]: output i's share of input j
/// ```
/// Rows are renormalized to sum to 1, as the paper's math does (vit-explain's code divides
/// `â[i][j]` by row `j`'s sum through a broadcast; the difference shows only with max/min fusion or discarding).
/// Works for causal stacks too (rows stay lower-triangular). Cross-attention (`Lq ≠ Lk`) has no
/// identity to add and no chain to compose: run rollout within each stream.
///
/// - Parameters:
///   - layers: each layer's weights `[H, L, L]` (or `[1, H, L, L]`), first layer first.
/// - Returns: `R`, `[L, L]`.
public func attentionRollout(_ layers: [Tensor], headFusion: HeadFusion = .mean, discardRatio: Float = 0) -> Tensor {
    precondition(!layers.isEmpty, "attentionRollout needs at least one layer")
    precondition((0..<1).contains(discardRatio), "attentionRollout: discardRatio \(discardRatio) must be in [0, 1)")
    var result: [Double]? = nil
    var length = 0
    for layer in layers {
        let fused = fusedHeads(layer, headFusion)
        length = fused.length
        var a = fused.values
        discardSmallest(&a, ratio: discardRatio)
        residualStochastic(&a, length: length)
        result = result.map { multiply(a, $0, length) } ?? a
    }
    return Tensor(shape: [length, length], scalars: result!.map(Float.init))
}

/// One layer's heads fused into `[L, L]` (Float64, row-major).
func fusedHeads(_ layer: Tensor, _ fusion: HeadFusion) -> (values: [Double], length: Int) {
    let heads = layer.rank == 4 ? layer.selecting(axis: 0, index: 0) : layer
    precondition(heads.rank == 3 && heads.shape[1] == heads.shape[2],
                 "attention explanations need square [H, L, L] weights per layer, got \(layer.shape)")
    let (count, length) = (heads.shape[0], heads.shape[1])
    let values = heads.scalars
    var fused = [Double](repeating: 0, count: length * length)
    for index in 0..<(length * length) {
        var column = (0..<count).lazy.map { Double(values[$0 * length * length + index]) }.makeIterator()
        var combined = column.next() ?? 0
        while let value = column.next() {
            switch fusion {
            case .mean: combined += value
            case .max: combined = Swift.max(combined, value)
            case .min: combined = Swift.min(combined, value)
            }
        }
        fused[index] = fusion == .mean ? combined / Double(count) : combined
    }
    return (fused, length)
}

/// Zeros the `⌊L²·ratio⌋` smallest entries except entry [0][0] (vit-explain's rule: when [0][0] is
/// among them, one fewer is zeroed). Ties: lower index first, as a stable sort gives.
func discardSmallest(_ a: inout [Double], ratio: Float) {
    let count = Int(Double(a.count) * Double(ratio))
    guard count > 0 else { return }
    let order = a.indices.sorted { a[$0] < a[$1] || (a[$0] == a[$1] && $0 < $1) }
    for index in order.prefix(count) where index != 0 { a[index] = 0 }
}

/// `(a + I) / 2` with each row divided by its sum.
func residualStochastic(_ a: inout [Double], length: Int) {
    for i in 0..<length {
        a[i * length + i] += 1
        let sum = (0..<length).reduce(0.0) { $0 + a[i * length + $1] }
        for j in 0..<length { a[i * length + j] = sum > 0 ? a[i * length + j] / sum : 0 }
    }
}

/// `a · b` for square row-major matrices.
func multiply(_ a: [Double], _ b: [Double], _ n: Int) -> [Double] {
    var c = [Double](repeating: 0, count: n * n)
    for i in 0..<n {
        for k in 0..<n where a[i * n + k] != 0 {
            let scale = a[i * n + k]
            for j in 0..<n { c[i * n + j] += scale * b[k * n + j] }
        }
    }
    return c
}
