import Attend

/// Central finite differences of a scalar function of several tensors, evaluated in float32
/// with step `h`: `∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h`. An independent check of the
/// analytic gradients that needs no PyTorch.
func numericalGradients(at inputs: [Tensor], step h: Float = 1e-2, of body: ([Tensor]) -> Tensor) -> [Tensor] {
    inputs.indices.map { which in
        let base = inputs[which].scalars
        var gradient = [Float](repeating: 0, count: base.count)
        for i in base.indices {
            func evaluate(_ delta: Float) -> Double {
                var shifted = base
                shifted[i] += delta
                var arguments = inputs
                arguments[which] = Tensor(shape: inputs[which].shape, scalars: shifted)
                return Double(body(arguments).scalar)
            }
            gradient[i] = Float((evaluate(h) - evaluate(-h)) / Double(2 * h))
        }
        return Tensor(shape: inputs[which].shape, scalars: gradient)
    }
}
