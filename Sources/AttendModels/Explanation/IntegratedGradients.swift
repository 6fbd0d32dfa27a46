import Attend

/// How integrated gradients approximates its path integral `∫₀¹ ∇f(b + α(x − b)) dα`.
public enum IntegrationRule: String, Sendable, CaseIterable {
    /// `α_k = (k + ½)/n`, weights `1/n` (Captum's `riemann_middle`).
    case midpoint
    /// `α_k = k/(n − 1)`, weights `1/(n − 1)` with the two ends halved (the textbook rule).
    case trapezoid

    /// The points and weights for `steps` evaluations.
    func points(_ steps: Int) -> [(alpha: Float, weight: Float)] {
        switch self {
        case .midpoint:
            return (0..<steps).map { ((Float($0) + 0.5) / Float(steps), 1 / Float(steps)) }
        case .trapezoid:
            guard steps > 1 else { return [(0.5, 1)] }
            let h = 1 / Float(steps - 1)
            return (0..<steps).map { k in (Float(k) * h, k == 0 || k == steps - 1 ? h / 2 : h) }
        }
    }
}

/// Integrated gradients (Sundararajan et al. 2017): each input element's share of
/// `f(x) − f(baseline)`,
///
/// ```
/// attributionᵢ = (xᵢ − bᵢ) · ∫₀¹ ∂f/∂xᵢ(b + α(x − b)) dα     ≈ (xᵢ − bᵢ) · Σₖ wₖ ∂f/∂xᵢ(b + αₖ(x − b))
/// ```
/// whose sum approaches `f(x) − f(b)` (completeness) as `steps` grows; the gap is returned so a
/// caller can see whether `steps` was enough.
///
/// - Parameters:
///   - f: a scalar output of the model (a class logit, a similarity, a next-token logit) as a
///     differentiable function of the input.
/// - Returns: attributions shaped like `input`, and `Σ attributions − (f(x) − f(b))`.
public func integratedGradients(of f: (Tensor) -> Tensor, at input: Tensor, baseline: Tensor, steps: Int = 50,
                                rule: IntegrationRule = .midpoint) -> (attributions: Tensor, completenessError: Float) {
    precondition(input.shape == baseline.shape, "integratedGradients: baseline \(baseline.shape) differs from input \(input.shape)")
    precondition(steps >= 1, "integratedGradients needs at least one step")
    let difference = input - baseline
    var total = Tensor.zeros(input.shape)
    for (alpha, weight) in rule.points(steps) {
        let point = baseline + difference * alpha
        total = total + gradient(at: [point]) { f($0[0]).sum() }[0] * weight
    }
    let attributions = difference * total
    let change = f(input).sum().scalar - f(baseline).sum().scalar
    return (attributions, attributions.sum().scalar - change)
}

/// Gradient × input: `xᵢ · ∂f/∂xᵢ(x)`, the one-step cousin of ``integratedGradients(of:at:baseline:steps:rule:)``.
public func gradientTimesInput(of f: (Tensor) -> Tensor, at input: Tensor) -> Tensor {
    input * gradient(at: [input]) { f($0[0]).sum() }[0]
}

/// Gradient-weighted attention relevance (Chefer et al. 2021's head weighting, without their LRP
/// rules): `R = mean over heads of max(A ⊙ ∂f/∂A, 0)` for one layer's weights `A` `[H, Lq, Lk]`
/// (or `[1, H, Lq, Lk]`) and the gradient of the explained output with respect to them.
public func gradientWeightedAttention(weights: Tensor, gradients: Tensor) -> Tensor {
    precondition(weights.shape == gradients.shape, "gradientWeightedAttention: weights \(weights.shape) and gradients \(gradients.shape) differ")
    let product = relu(weights.detached * gradients.detached)
    let heads = product.rank == 4 ? product.selecting(axis: 0, index: 0) : product
    return heads.mean(alongAxes: [0])
}
