import Foundation

/// `eˣ` elementwise.
public func exp(_ x: Tensor) -> Tensor { x.applying(Exponential()) }

/// Natural logarithm elementwise.
public func log(_ x: Tensor) -> Tensor { x.applying(Logarithm()) }

/// `√x` elementwise.
public func sqrt(_ x: Tensor) -> Tensor { x.applying(SquareRoot()) }

/// `1/√x` elementwise.
public func rsqrt(_ x: Tensor) -> Tensor { x.applying(ReciprocalSquareRoot()) }

/// `xᵖ` elementwise for a constant exponent.
public func pow(_ x: Tensor, _ exponent: Float) -> Tensor { x.applying(Power(exponent: exponent)) }

/// `xʸ` elementwise, broadcasting. `∂/∂y = xʸ·ln x`, taken as 0 where `x = 0` (PyTorch's rule).
public func pow(_ x: Tensor, _ y: Tensor) -> Tensor {
    let result = ElementwiseKernels.map(x, y) { Foundation.pow($0, $1) }
    return result.recordingGradient(from: [x, y]) { g in
        [ElementwiseKernels.map(g, x, y) { g, x, y in y == 0 ? 0 : g * y * Foundation.pow(x, y - 1) }
            .summed(toShape: x.shape),
         ElementwiseKernels.map(g, x, result) { g, x, r in x == 0 ? 0 : g * r * Foundation.log(x) }
            .summed(toShape: y.shape)]
    }
}

/// `|x|` elementwise; the derivative at 0 is 0.
public func abs(_ x: Tensor) -> Tensor { x.applying(AbsoluteValue()) }

/// Hyperbolic tangent elementwise.
public func tanh(_ x: Tensor) -> Tensor { x.applying(HyperbolicTangent()) }

/// The logistic function `1 / (1 + e⁻ˣ)` elementwise, computed without overflow.
public func sigmoid(_ x: Tensor) -> Tensor { x.applying(Sigmoid()) }

/// `max(x, 0)` elementwise; the derivative at 0 is 0.
public func relu(_ x: Tensor) -> Tensor { x.applying(RectifiedLinear()) }

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
    case .none: x.applying(GaussianErrorLinear())
    case .tanh: x.applying(GaussianErrorLinearTanh())
    }
}

/// `x·σ(x)` (SiLU, also called swish) elementwise.
public func silu(_ x: Tensor) -> Tensor { x.applying(SigmoidLinear()) }
