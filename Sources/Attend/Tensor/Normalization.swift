/// Layer normalization over the last axis:
/// `y = (x − μ) / √(σ² + ε) · γ + β`, with μ and σ² the mean and population variance of each
/// row (PyTorch's `F.layer_norm` over the last dimension).
///
/// One fused pass per row forward (the `layer_norm` C kernel); the backward pass uses the saved
/// `x̂` and `r = 1/σ`: `∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ ⊙ x̂))` with `ĝ = g ⊙ γ`,
/// `∂γ = Σ g ⊙ x̂` and `∂β = Σ g` over the rows.
///
/// - Parameters:
///   - weight: γ of shape `[features]`, or `nil` for 1.
///   - bias: β of shape `[features]`, or `nil` for 0.
public func layerNorm(_ x: Tensor, weight: Tensor? = nil, bias: Tensor? = nil, epsilon: Float = 1e-5) -> Tensor {
    let features = checkNormalizationShapes("layerNorm", x, ["weight": weight, "bias": bias])
    let input = x.detached.contiguous()
    let rows = features == 0 ? 0 : x.scalarCount / features
    let normalized = Tensor(uninitializedShape: x.shape)     // x̂
    let inverseDeviations = Tensor(uninitializedShape: [rows])
    let output = Tensor(uninitializedShape: x.shape)
    let gamma = weight?.detached.contiguous(), beta = bias?.detached.contiguous()
    let (from, hat, inverse, to) = (input.basePointer, normalized.storage.base, inverseDeviations.storage.base, output.storage.base)
    let parameters = UncheckedSendable((gamma?.basePointer, beta?.basePointer))
    forEachRowChunk(rows: rows, features: features) { first, count in
        let offset = first * features
        Kernels.active.layer_norm(from + offset, parameters.value.0, parameters.value.1, epsilon, count, features,
                                  to + offset, hat + offset, inverse + first)
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
        forEachRowChunk(rows: rows, features: features) { first, count in
            let offset = first * features
            Kernels.active.layer_norm_backward(gs + offset, gammaPointer.value, hat + offset, inverse + first,
                                               count, features, dx + offset)
        }
        var gradients: [Tensor?] = [gradientX]
        if weight != nil { gradients.append((upstream * normalized).reshaped([rows, features]).sum(alongAxes: [0])) }
        if bias != nil { gradients.append(upstream.reshaped([rows, features]).sum(alongAxes: [0])) }
        return gradients
    }
}

/// Root-mean-square normalization over the last axis (PyTorch's `F.rms_norm`):
/// `y = x · r · γ` with `r = 1/√(mean(x²) + ε)` per row.
///
/// One fused pass per row forward (the `rms_norm` C kernel); backward, with `ĝ = g ⊙ γ`:
/// `∂x = r·ĝ − x·r³·mean(ĝ ⊙ x)` and `∂γ = Σ g ⊙ x·r` over the rows.
///
/// - Parameter weight: γ of shape `[features]`, or `nil` for 1.
public func rmsNorm(_ x: Tensor, weight: Tensor? = nil, epsilon: Float) -> Tensor {
    let features = checkNormalizationShapes("rmsNorm", x, ["weight": weight])
    let input = x.detached.contiguous()
    let rows = features == 0 ? 0 : x.scalarCount / features
    let inverseRMS = Tensor(uninitializedShape: [rows])
    let output = Tensor(uninitializedShape: x.shape)
    let gamma = weight?.detached.contiguous()
    let (from, inverse, to) = (input.basePointer, inverseRMS.storage.base, output.storage.base)
    let gammaPointer = UncheckedSendable(gamma?.basePointer)
    forEachRowChunk(rows: rows, features: features) { first, count in
        let offset = first * features
        Kernels.active.rms_norm(from + offset, gammaPointer.value, epsilon, count, features, to + offset, inverse + first)
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    return output.recordingGradient(from: inputs) { g in
        let upstream = g.contiguous()
        let gradientX = Tensor(uninitializedShape: x.shape)
        let (gs, xs, dx, inverse) = (upstream.basePointer, input.basePointer, gradientX.storage.base, inverseRMS.basePointer)
        let gammaPointer = UncheckedSendable(gamma?.basePointer)
        forEachRowChunk(rows: rows, features: features) { first, count in
            let offset = first * features
            Kernels.active.rms_norm_backward(gs + offset, gammaPointer.value, xs + offset, inverse + first,
                                             count, features, dx + offset)
        }
        var gradients: [Tensor?] = [gradientX]
        if weight != nil {
            let scaled = input.reshaped([rows, features]) * inverseRMS.reshaped([rows, 1])   // x·r
            gradients.append((upstream.reshaped([rows, features]) * scaled).sum(alongAxes: [0]))
        }
        return gradients
    }
}

/// Checks that every parameter is `[features]` for the input's last axis, and returns `features`.
private func checkNormalizationShapes(_ operation: String, _ x: Tensor, _ parameters: [String: Tensor?]) -> Int {
    precondition(x.rank >= 1, "\(operation) needs rank ≥ 1, got \(x.shape)")
    let features = x.shape[x.rank - 1]
    for (name, parameter) in parameters {
        if let parameter {
            precondition(parameter.shape == [features],
                         "\(operation) \(name) has shape \(parameter.shape), expected [\(features)] for input \(x.shape)")
        }
    }
    return features
}

/// Splits `rows` rows of `features` floats across threads, calling `body(firstRow, rowCount)`.
private func forEachRowChunk(rows: Int, features: Int, _ body: (Int, Int) -> Void) {
    Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, 8192 / Swift.max(features, 1))) { range in
        body(range.lowerBound, range.count)
    }
}
