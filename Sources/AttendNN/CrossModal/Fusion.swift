import Attend

/// Early fusion: each modality's features are projected to one width and combined before any
/// joint reasoning — concatenated (`[B, M·D]`) or summed (`[B, D]`).
public final class EarlyFusion: Module {
    public enum Combination: Sendable { case concatenate, sum }

    @Child("projections") public var projections: [Linear]
    public let combination: Combination

    public init(inputDimensions: [Int], outputDimension: Int, combination: Combination) {
        self.combination = combination
        super.init()
        projections = inputDimensions.map { Linear($0, outputDimension) }
    }

    /// `features[m]`: `[B, D_m]` (or `[B, L, D_m]` for token-level fusion).
    public func callAsFunction(_ features: [Tensor]) -> Tensor {
        precondition(features.count == projections.count, "EarlyFusion has \(projections.count) modalities, got \(features.count)")
        let projected = zip(projections, features).map { $0($1) }
        switch combination {
        case .concatenate: return Tensor.concatenate(projected, axis: -1)
        case .sum: return projected.dropFirst().reduce(projected[0], +)
        }
    }
}

/// Late fusion: each modality makes its own prediction (`[B, K]` logits) and the predictions are
/// combined — their mean, fixed weights, or a learned gate that weighs modalities per example.
public final class LateFusion: Module {
    public enum Rule: Sendable {
        case mean
        /// Fixed weights, one per modality (normalized to sum to 1).
        case weighted([Float])
        /// `softmax(W·[f₁; …; f_M] + b)` from the modalities' features (widths given).
        case learnedGate(featureDimensions: [Int])
    }

    public let rule: Rule
    @Child("gate") public var gate: Linear?

    public init(modalityCount: Int, rule: Rule) {
        self.rule = rule
        super.init()
        if case .learnedGate(let dimensions) = rule {
            precondition(dimensions.count == modalityCount, "LateFusion gate needs one feature width per modality")
            gate = Linear(dimensions.reduce(0, +), modalityCount)
        }
        if case .weighted(let weights) = rule {
            precondition(weights.count == modalityCount && weights.reduce(0, +) > 0, "LateFusion needs one positive weight sum")
        }
    }

    /// Combined predictions `[B, K]`; `features` feed the learned gate.
    public func callAsFunction(predictions: [Tensor], features: [Tensor] = []) -> Tensor {
        precondition(!predictions.isEmpty, "LateFusion needs predictions")
        switch rule {
        case .mean:
            return predictions.dropFirst().reduce(predictions[0], +) / Float(predictions.count)
        case .weighted(let weights):
            let total = weights.reduce(0, +)
            return zip(predictions, weights).map { $0 * ($1 / total) }.dropFirst()
                .reduce(predictions[0] * (weights[0] / total), +)
        case .learnedGate:
            precondition(features.count == predictions.count, "the learned gate needs each modality's features")
            let g = softmax(gate!(Tensor.concatenate(features, axis: -1)), axis: -1)          // [B, M]
            return predictions.enumerated().map { $0.element * g.sliced(axis: 1, $0.offset..<($0.offset + 1)) }
                .dropFirst().reduce(predictions[0] * g.sliced(axis: 1, 0..<1), +)
        }
    }
}

/// Hybrid fusion: per-modality self-attention layers, with co-attention between the streams at
/// the chosen layers, then a late-fusion head over each stream's mean-pooled state.
public final class HybridFusion: Module {
    @Child("text_layers") public var textLayers: [TransformerEncoderLayer]
    @Child("image_layers") public var imageLayers: [TransformerEncoderLayer]
    @Child("co_attention") public var coAttention: [LXMERTCoAttentionLayer]
    @Child("text_head") public var textHead: Linear
    @Child("image_head") public var imageHead: Linear
    @Child("fusion") public var fusion: LateFusion
    /// Layer indices after which the streams exchange information.
    public let coAttentionLayers: [Int]

    public init(dimension: Int, headCount: Int, layerCount: Int, coAttentionLayers: [Int], classCount: Int,
                rule: LateFusion.Rule = .mean) {
        precondition(coAttentionLayers.allSatisfy { (0..<layerCount).contains($0) }, "co-attention layers must be in 0..<\(layerCount)")
        self.coAttentionLayers = coAttentionLayers
        super.init()
        func layer() -> TransformerEncoderLayer {
            TransformerEncoderLayer(modelDimension: dimension, headCount: headCount, feedForwardDimension: 2 * dimension,
                                    dropout: 0, normFirst: true, activation: .gelu)
        }
        textLayers = (0..<layerCount).map { _ in layer() }
        imageLayers = (0..<layerCount).map { _ in layer() }
        coAttention = coAttentionLayers.map { _ in LXMERTCoAttentionLayer(dimension: dimension, headCount: headCount, feedForwardDimension: 2 * dimension) }
        textHead = Linear(dimension, classCount)
        imageHead = Linear(dimension, classCount)
        fusion = LateFusion(modalityCount: 2, rule: rule)
    }

    /// Logits `[B, K]` for text `[B, Lt, D]` and image features `[B, Li, D]`.
    public func callAsFunction(text: Tensor, image: Tensor, textLengths: [Int]? = nil, regionCounts: [Int]? = nil) -> Tensor {
        var (t, v) = (text, image)
        let textMask: AttentionMask = .keyPadding(textLengths)
        let imageMask: AttentionMask = .keyPadding(regionCounts)
        for index in textLayers.indices {
            t = textLayers[index](t, mask: textMask)
            v = imageLayers[index](v, mask: imageMask)
            if let position = coAttentionLayers.firstIndex(of: index) {
                (t, v) = coAttention[position](text: t, image: v, textLengths: textLengths, regionCounts: regionCounts)
            }
        }
        let pooledText = HybridFusion.meanPool(t, lengths: textLengths), pooledImage = HybridFusion.meanPool(v, lengths: regionCounts)
        return fusion(predictions: [textHead(pooledText), imageHead(pooledImage)], features: [pooledText, pooledImage])
    }

    /// The mean over each row's first `lengths[b]` positions (all when nil).
    public static func meanPool(_ x: Tensor, lengths: [Int]?) -> Tensor {
        guard let lengths else { return x.mean(alongAxes: [1]) }
        let mask = CrossModalAttention.rowMask(lengths, length: x.shape[1])
        return (x * mask).sum(alongAxes: [1]) / Tensor(shape: [lengths.count, 1], scalars: lengths.map { Float(Swift.max($0, 1)) })
    }
}
