import Attend
import AttendNN

/// How much each attention head matters, and which heads to prune — Michel, Levy & Neubig 2019,
/// "Are Sixteen Heads Really Better than One?".
///
/// Every head's output is multiplied by a gate ξₕ (1 keeps it, 0 removes it;
/// ``BertAttention/headGate``). Importance is `Iₕ = Σ_batches |∂L/∂ξₕ|` at ξ = 1, and each layer's
/// scores are divided by their ℓ2 norm (as the paper's code does), so that layers compare.
public enum HeadImportance {
    /// Gradient importance for a loss: `loss(batch)` runs `model` on batch `batch` of `batches`
    /// and returns its (mean) loss. Returns `[layer][head]`, each layer normalized to unit ℓ2 norm.
    public static func gradient(of model: BertModel, batches: Int, loss: (Int) -> Tensor) -> [[Float]] {
        let layers = model.encoder.layers.map(\.attention)
        var totals = layers.map { [Float](repeating: 0, count: $0.headCount) }
        defer { for layer in layers { layer.headGate = nil } }
        for batch in 0..<batches {
            let gates = layers.map { Tensor.ones([$0.headCount]) }
            let gradients = Attend.gradient(at: gates) { gates in
                for (layer, gate) in zip(layers, gates) { layer.headGate = gate }
                return loss(batch)
            }
            for (index, gradient) in gradients.enumerated() {
                for (head, value) in gradient.scalars.enumerated() { totals[index][head] += Swift.abs(value) }
            }
        }
        return totals.map(normalizedByLayer)
    }

    /// Importance for a sentence embedder, which has no labels to take a loss from: the drift of
    /// its own embeddings when one head is removed, `Iₕ = mean over texts of 1 − cos(e(x), e₋ₕ(x))`
    /// (one pass per head over `texts`), each layer normalized to unit ℓ2 norm. (The gradient of
    /// a distance to the unpruned embedding is zero at ξ = 1, so Michel's first-order score
    /// cannot be used here; the drift is the quantity pruning changes.)
    public static func embeddingDrift(of embedder: SentenceEmbedder, texts: [String], batchSize: Int = 32) -> [[Float]] {
        let layers = embedder.model.encoder.layers.map(\.attention)
        defer { for layer in layers { layer.headGate = nil } }
        let reference = embedder.embed(texts, batchSize: batchSize)
        return layers.map { layer in
            let scores = (0..<layer.headCount).map { head -> Float in
                var gate = [Float](repeating: 1, count: layer.headCount)
                gate[head] = 0
                layer.headGate = Tensor(gate)
                let drifted = embedder.embed(texts, batchSize: batchSize)
                let drift = zip(reference, drifted).map { 1 - cosine($0, $1) }.reduce(0, +)
                return drift / Float(Swift.max(texts.count, 1))
            }
            layer.headGate = nil
            return normalizedByLayer(scores)
        }
    }

    /// The heads to remove: the `fraction` of all heads with the lowest importance, compared
    /// across layers (scores normalized per layer), never a layer's last head. `[layer: heads]`.
    public static func headsToPrune(fraction: Double, importance: [[Float]]) -> [Int: Set<Int>] {
        let total = importance.reduce(0) { $0 + $1.count }
        let target = Int((fraction * Double(total)).rounded(.down))
        let ranked = importance.enumerated().flatMap { layer, scores in scores.enumerated().map { (layer, $0.offset, $0.element) } }
            .sorted { ($0.2, $0.0, $0.1) < ($1.2, $1.0, $1.1) }
        var result: [Int: Set<Int>] = [:]
        var removed = 0
        for (layer, head, _) in ranked where removed < target {
            if (result[layer]?.count ?? 0) + 1 >= importance[layer].count { continue }   // keep one head
            result[layer, default: []].insert(head)
            removed += 1
        }
        return result
    }

    private static func normalizedByLayer(_ scores: [Float]) -> [Float] {
        let norm = scores.map { $0 * $0 }.reduce(0, +).squareRoot()
        return scores.map { $0 / (norm + 1e-20) }
    }

    private static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let dot = zip(a, b).map { $0 * $1 }.reduce(0, +)
        let norms = a.map { $0 * $0 }.reduce(0, +).squareRoot() * b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return norms == 0 ? 1 : dot / norms
    }
}
