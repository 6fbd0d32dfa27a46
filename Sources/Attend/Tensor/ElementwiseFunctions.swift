import Foundation

extension Tensor {
    /// Applies `function` elementwise and records `derivative(x, y)` (input and output of the
    /// scalar function) as the local derivative for the backward pass.
    @inline(__always)
    func mapDifferentiable(
        _ function: (Float) -> Float, derivative: @escaping @Sendable (_ x: Float, _ y: Float) -> Float
    ) -> Tensor {
        let y = ElementwiseKernels.map(self, function)
        return y.recordingGradient(from: [self]) { g in
            [ElementwiseKernels.map(g, self, y) { g, x, y in g * derivative(x, y) }]
        }
    }
}

/// `eˣ` elementwise (vectorized).
public func exp(_ x: Tensor) -> Tensor {
    let y = ElementwiseKernels.map(x, VectorMath.exp, vectorized: VectorMath.exp)
    return y.recordingGradient(from: [x]) { g in [g * y] }
}

/// Natural logarithm elementwise.
public func log(_ x: Tensor) -> Tensor {
    x.mapDifferentiable(Foundation.log) { x, _ in 1 / x }
}

/// `√x` elementwise.
public func sqrt(_ x: Tensor) -> Tensor {
    x.mapDifferentiable { $0.squareRoot() } derivative: { _, y in 0.5 / y }
}

/// `1/√x` elementwise.
public func rsqrt(_ x: Tensor) -> Tensor {
    x.mapDifferentiable { 1 / $0.squareRoot() } derivative: { _, y in -0.5 * y * y * y }
}

/// `xᵖ` elementwise for a constant exponent.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor {
    x.mapDifferentiable { Foundation.pow($0, exponent) } derivative: { x, _ in
        exponent == 0 ? 0 : exponent * Foundation.pow(x, exponent - 1)
    }
}

/// `xʸ` elementwise, broadcasting. `∂/∂y = xʸ·ln x`, taken as 0 where `x = 0` and `y ≥ 0` (PyTorch's rule).
public func pow(_ x: Tensor, _ y: Tensor) -> Tensor {
    let result = ElementwiseKernels.map(x, y, Foundation.pow)
    return result.recordingGradient(from: [x, y]) { g in
        [ElementwiseKernels.map(g, x, y) { g, x, y in y == 0 ? 0 : g * y * Foundation.pow(x, y - 1) }
            .summed(toShape: x.shape),
         ElementwiseKernels.map(g, x, result) { g, x, r in x == 0 ? 0 : g * r * Foundation.log(x) }
            .summed(toShape: y.shape)]
    }
}

/// `|x|` elementwise; the derivative at 0 is 0.
public func abs(_ x: Tensor) -> Tensor {
    x.mapDifferentiable { Swift.abs($0) } derivative: { x, _ in x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

/// Hyperbolic tangent elementwise.
public func tanh(_ x: Tensor) -> Tensor {
    x.mapDifferentiable(Foundation.tanh) { _, y in 1 - y * y }
}

/// The logistic function `1 / (1 + e⁻ˣ)` elementwise, computed without overflow.
public func sigmoid(_ x: Tensor) -> Tensor {
    x.mapDifferentiable(Activation.sigmoid) { _, y in y * (1 - y) }
}

/// `max(x, 0)` elementwise; the derivative at 0 is 0.
public func relu(_ x: Tensor) -> Tensor {
    x.mapDifferentiable { $0 > 0 ? $0 : 0 } derivative: { x, _ in x > 0 ? 1 : 0 }
}

/// The form of GELU to compute.
public enum GELUApproximation: Sendable {
    /// `x·Φ(x)` with the exact normal CDF through `erf` (BERT, PyTorch's default).
    case none
    /// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (GPT-2, PyTorch's `approximate="tanh"`).
    case tanh
}

/// Gaussian error linear unit elementwise.
public func gelu(_ x: Tensor, approximation: GELUApproximation = .none) -> Tensor {
    switch approximation {
    case .none:
        return x.mapDifferentiable { x in 0.5 * x * (1 + Foundation.erf(x * Activation.inverseSquareRootOfTwo)) }
            derivative: { x, _ in
                0.5 * (1 + Foundation.erf(x * Activation.inverseSquareRootOfTwo))
                    + x * Foundation.exp(-0.5 * x * x) * Activation.inverseSquareRootOfTwoPi
            }
    case .tanh:
        return x.mapDifferentiable { x in
            0.5 * x * (1 + Foundation.tanh(Activation.squareRootOfTwoOverPi * (x + 0.044715 * x * x * x)))
        } derivative: { x, _ in
            let t = Foundation.tanh(Activation.squareRootOfTwoOverPi * (x + 0.044715 * x * x * x))
            return 0.5 * (1 + t)
                + 0.5 * x * (1 - t * t) * Activation.squareRootOfTwoOverPi * (1 + 3 * 0.044715 * x * x)
        }
    }
}

/// `x·σ(x)` (SiLU, also called swish) elementwise.
public func silu(_ x: Tensor) -> Tensor {
    x.mapDifferentiable { $0 * Activation.sigmoid($0) } derivative: { x, _ in
        let s = Activation.sigmoid(x)
        return s * (1 + x * (1 - s))
    }
}

/// Scalar helpers shared by the activation kernels.
enum Activation {
    static let inverseSquareRootOfTwo: Float = 0.707_106_781_186_547_5
    static let inverseSquareRootOfTwoPi: Float = 0.398_942_280_401_432_7
    static let squareRootOfTwoOverPi: Float = 0.797_884_560_802_865_4

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
}
