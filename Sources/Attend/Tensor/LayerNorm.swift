/// Layer normalization over the last axis:
/// `y = (x − μ) / √(σ² + ε) · γ + β`, with μ and σ² the mean and population variance of each
/// row (PyTorch's `F.layer_norm` over the last dimension).
///
/// One fused pass per row forward; the backward pass uses the saved `x̂` and `1/σ`:
/// `∂x = (1/σ)·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))` with `ĝ = g ⊙ γ`,
/// `∂γ = Σ g ⊙ x̂` and `∂β = Σ g` over the rows.
///
/// - Parameters:
///   - weight: γ of shape `[features]`, or `nil` for 1.
///   - bias: β of shape `[features]`, or `nil` for 0.
public func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
    precondition(x.rank >= 1, "layerNorm needs rank ≥ 1, got \(x.shape)")
    let features = x.shape[x.rank - 1]
    for (name, parameter) in [("weight", weight), ("bias", bias)] {
        if let parameter {
            precondition(parameter.shape == [features],
                         "layerNorm \(name) has shape \(parameter.shape), expected [\(features)] for input \(x.shape)")
        }
    }
    let input = x.detached.contiguous()
    let rows = features == 0 ? 0 : x.scalarCount / features
    let normalized = Tensor(uninitializedShape: x.shape)     // x̂
    let inverseDeviations = Tensor(uninitializedShape: [rows])
    let output = Tensor(uninitializedShape: x.shape)
    let gamma = weight?.detached.contiguous(), beta = bias?.detached.contiguous()
    let (from, hat, inverse, to) = (input.basePointer, normalized.storage.base, inverseDeviations.storage.base, output.storage.base)
    let (gammaPointer, betaPointer) = (gamma?.basePointer, beta?.basePointer)
    let pointers = UncheckedSendable((gammaPointer, betaPointer))
    Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, 8192 / Swift.max(features, 1))) { range in
        let (gammaPointer, betaPointer) = pointers.value
        for row in range {
            let xs = from + row * features, hats = hat + row * features, ys = to + row * features
            var mean: Double = 0
            for j in 0..<features { mean += Double(xs[j]) }
            mean /= Double(features)
            var variance: Double = 0
            for j in 0..<features {
                let d = Double(xs[j]) - mean
                variance += d * d
            }
            variance /= Double(features)
            let scale = Float(1 / (variance + Double(epsilon)).squareRoot())
            inverse[row] = scale
            let center = Float(mean)
            for j in 0..<features {
                let value = (xs[j] - center) * scale
                hats[j] = value
                ys[j] = value * (gammaPointer?[j] ?? 1) + (betaPointer?[j] ?? 0)
            }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return output.recordingGradient(from: inputs) { g in
        let upstream = g.contiguous()
        let gradientX = Tensor(uninitializedShape: normalized.shape)
        let (gs, dx) = (upstream.basePointer, gradientX.storage.base)
        let (hat, inverse) = (normalized.basePointer, inverseDeviations.basePointer)
        let gammaPointer = UncheckedSendable(gamma?.basePointer)
        Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, 8192 / Swift.max(features, 1))) { range in
            for row in range {
                let grads = gs + row * features, hats = hat + row * features, out = dx + row * features
                var meanGradient: Float = 0, meanProduct: Float = 0
                for j in 0..<features {
                    let scaled = grads[j] * (gammaPointer.value?[j] ?? 1)
                    meanGradient += scaled
                    meanProduct += scaled * hats[j]
                }
                meanGradient /= Float(features)
                meanProduct /= Float(features)
                let scale = inverse[row]
                for j in 0..<features {
                    let scaled = grads[j] * (gammaPointer.value?[j] ?? 1)
                    out[j] = scale * (scaled - meanGradient - hats[j] * meanProduct)
                }
            }
        }
        var gradients: [Tensor?] = [gradientX]
        if weight != nil { gradients.append((upstream * normalized).reshaped([rows, features]).sum(alongAxes: [0])) }
        if bias != nil { gradients.append(upstream.reshaped([rows, features]).sum(alongAxes: [0])) }
        return gradients
    }
}
