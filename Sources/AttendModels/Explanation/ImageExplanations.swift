import Attend
import AttendNN
import Foundation

/// What a Vision Transformer's prediction rests on, patch by patch or pixel by pixel.
public struct ImageExplanation: Sendable, Equatable {
    /// The explained class and the one the model predicts.
    public var target: Int, predicted: Int
    /// Scores on a `rows × columns` grid, row-major: patches (rollout, flow) or pixels (gradients).
    public var scores: [Float]
    public var rows: Int, columns: Int
    /// E.g. `"attention rollout, the class token's row"`.
    public var method: String
}

extension VisionTransformerClassifier {
    /// Explains the class `target` (default: the predicted one) for one image `[1, C, H, W]`:
    /// rollout or flow give the class token's share of each patch (the class token's row, patches
    /// only); integrated gradients (from a black image, `steps` midpoint steps) give each pixel's
    /// share of the class logit, summed over channels.
    ///
    /// - Throws: ``ExplanationError`` for a method images do not offer (gradient-weighted attention)
    ///   or a target outside the classes.
    public func explain(image: Tensor, target: Int? = nil, method: ExplanationMethod, steps: Int = 50) throws -> ImageExplanation {
        precondition(image.rank == 4 && image.shape[0] == 1, "explain(image:) takes one image [1, C, H, W], got \(image.shape)")
        let logits = self(image).scalars
        let predicted = logits.indices.max { logits[$0] < logits[$1] }!
        let target = target ?? predicted
        guard logits.indices.contains(target) else {
            throw ExplanationError.invalidOption("target class \(target) is outside 0..<\(logits.count)")
        }
        let (height, width) = (image.shape[2], image.shape[3])
        let patch = backbone.configuration.patchSize
        switch method {
        case .rollout, .flow:
            let attentions = backbone(image, returningAttention: true).attentions
            let matrix = method == .rollout ? attentionRollout(attentions) : try attentionFlow(attentions)
            let classRow = Array(matrix.selecting(axis: 0, index: 0).scalars.dropFirst())          // patches only
            return ImageExplanation(target: target, predicted: predicted, scores: classRow, rows: height / patch, columns: width / patch,
                                    method: method == .rollout ? "attention rollout (mean over heads), the class token's row"
                                                               : "attention flow, the class token's row")
        case .integratedGradients:
            let classLogit: (Tensor) -> Tensor = { self($0).sliced(axis: 1, target..<(target + 1)).sum() }
            let (attributions, gap) = integratedGradients(of: classLogit, at: image.detached, baseline: Tensor.zeros(image.shape), steps: steps)
            return ImageExplanation(target: target, predicted: predicted, scores: attributions.sum(alongAxes: [1]).scalars,
                                    rows: height, columns: width,
                                    method: "integrated gradients (\(steps) midpoint steps from a black image; completeness gap \(String(format: "%.2g", gap)))")
        case .gradientWeightedAttention:
            throw ExplanationError.invalidOption("grad-attention is offered for language models; for images use rollout, flow or integrated-gradients")
        }
    }
}
