import Attend

/// How per-example losses are combined (PyTorch's `reduction`).
public enum Reduction: Sendable {
    /// The mean over counted examples (PyTorch's default).
    case mean
    case sum
    /// One loss per example.
    case none
}

/// Cross-entropy of `logits` `[N, C]` (or `[B, L, C]`, flattened) against class indices, as
/// `F.cross_entropy`: targets equal to `ignoreIndex` count for nothing; with label smoothing ε
/// the loss is `(1 − ε)·(−log p_y) + ε·mean_c(−log p_c)`. The mean is over counted targets; when
/// every target is ignored it is 0 (PyTorch gives NaN), with a zero gradient.
public func crossEntropy(_ logits: Tensor, targets: [Int], ignoreIndex: Int? = -100, labelSmoothing: Float = 0,
                         reduction: Reduction = .mean) -> Tensor {
    let classes = logits.shape[logits.rank - 1]
    let flat = logits.reshaped([-1, classes])
    precondition(flat.shape[0] == targets.count, "crossEntropy: \(targets.count) targets for logits \(logits.shape)")
    precondition((0...1).contains(labelSmoothing), "label smoothing must be in 0…1, got \(labelSmoothing)")
    // Each row's log-probability of its target, gathered by flat index (ignored rows read class 0
    // and are zeroed below).
    var picked = [Int](repeating: 0, count: targets.count)
    var counted = [Float](repeating: 0, count: targets.count)
    for (row, target) in targets.enumerated() {
        picked[row] = row * classes
        guard target != ignoreIndex else { continue }
        precondition(target >= 0 && target < classes, "crossEntropy: target \(target) is outside 0..<\(classes)")
        picked[row] += target
        counted[row] = 1
    }
    let logProbabilities = logSoftmax(flat, axis: -1)
    var perExample = -logProbabilities.reshaped([-1]).indexSelect(picked)
    if labelSmoothing > 0 {
        perExample = perExample * (1 - labelSmoothing) - logProbabilities.mean(alongAxes: [1]) * labelSmoothing
    }
    perExample = perExample * Tensor(counted)
    return reduce(perExample, reduction, count: counted.reduce(0, +))
}

/// Binary cross-entropy on logits, computed stably as `max(x, 0) − x·y + log(1 + e^−|x|)`
/// (`F.binary_cross_entropy_with_logits`).
public func binaryCrossEntropyWithLogits(_ logits: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    precondition(logits.shape == targets.shape, "binaryCrossEntropyWithLogits: logits \(logits.shape) vs targets \(targets.shape)")
    let loss = relu(logits) - logits * targets + log(1 + exp(-abs(logits)))
    return reduce(loss, reduction, count: Float(loss.scalarCount))
}

/// Mean squared error (`F.mse_loss`).
public func meanSquaredError(_ predictions: Tensor, targets: Tensor, reduction: Reduction = .mean) -> Tensor {
    let difference = predictions - targets
    return reduce(difference * difference, reduction, count: Float(difference.scalarCount))
}

/// InfoNCE (contrastive) loss for retrieval: row `i` of `queries` `[N, D]` should match row `i`
/// of `keys` `[N, D]` among all keys; `cross_entropy(q·kᵀ/τ, arange(N))`, averaged with the
/// key→query direction when `symmetric` (CLIP's loss). Normalize the rows first for cosine scores.
public func infoNCE(queries: Tensor, keys: Tensor, temperature: Float = 0.07, symmetric: Bool = true) -> Tensor {
    precondition(queries.rank == 2 && queries.shape == keys.shape, "infoNCE needs queries and keys [N, D], got \(queries.shape), \(keys.shape)")
    let logits = matmul(queries, keys.transposed()) / temperature
    let labels = Array(0..<queries.shape[0])
    let forward = crossEntropy(logits, targets: labels)
    return symmetric ? (forward + crossEntropy(logits.transposed(), targets: labels)) / 2 : forward
}

private func reduce(_ losses: Tensor, _ reduction: Reduction, count: Float) -> Tensor {
    switch reduction {
    case .none: losses
    case .sum: losses.sum()
    case .mean: losses.sum() / Swift.max(count, 1)
    }
}
