import Foundation

/// A differentiable scalar function: its value and its derivative side by side, the one place
/// to touch when adding an elementwise operation.
protocol DifferentiableScalarFunction: UnaryScalarFunction {
    /// `f′(x)`, given the input `x` and the output `y = f(x)` (whichever is cheaper to use).
    func derivative(_ x: Float, _ y: Float) -> Float
}

/// `g · f′(x)`: the backward kernel of every ``DifferentiableScalarFunction``.
struct ChainRule<Function: DifferentiableScalarFunction>: TernaryScalarFunction {
    let function: Function
    @inline(__always)
    func callAsFunction(_ g: Float, _ x: Float, _ y: Float) -> Float { g * function.derivative(x, y) }
}

/// A function whose loops over contiguous memory run in the C kernels (``Kernels``): the
/// scalar `callAsFunction` and `derivative` remain its definition, and run on strided views.
protocol KernelFunction: DifferentiableScalarFunction {
    /// `y = f(x)` over `n` contiguous floats.
    var forwardKernel: ArrayKernel { get }
    /// `dx = g · f′(x)` over `n` contiguous floats, or nil where the scalar derivative is as cheap.
    var backwardKernel: GradientKernel? { get }
}

extension KernelFunction {
    var backwardKernel: GradientKernel? { nil }
}

extension Tensor {
    /// Applies `function` elementwise and records its derivative for the backward pass.
    func applying<Function: DifferentiableScalarFunction>(_ function: Function) -> Tensor {
        let y = ElementwiseKernels.map(self, function)
        return y.recordingGradient(from: [self]) { g in
            [ElementwiseKernels.map(g, self, y, ChainRule(function: function))]
        }
    }

    /// Applies `function` through its C kernels (contiguous operands) and records its derivative.
    func applying<Function: KernelFunction>(_ function: Function) -> Tensor {
        let y = isContiguous ? ElementwiseKernels.apply(function.forwardKernel, to: self) : ElementwiseKernels.map(self, function)
        return y.recordingGradient(from: [self]) { g in
            if let backward = function.backwardKernel, g.isContiguous, self.isContiguous {
                return [ElementwiseKernels.apply(backward, gradient: g, input: self)]
            }
            return [ElementwiseKernels.map(g, self, y, ChainRule(function: function))]
        }
    }
}

// MARK: - Binary arithmetic

struct Addition: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x + y }
}

struct Subtraction: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x - y }
}

struct Multiplication: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x * y }
}

struct Division: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x / y }
}

/// The larger argument, NaN if either is NaN (as `torch.maximum`).
struct Maximum: BinaryScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float, _ y: Float) -> Float { x.isNaN || y.isNaN ? .nan : Swift.max(x, y) }
}

/// `c ≠ 0 ? a : b`.
struct Selection: TernaryScalarFunction {
    @inline(__always) func callAsFunction(_ c: Float, _ a: Float, _ b: Float) -> Float { c != 0 ? a : b }
}

// MARK: - Unary functions

/// `scale · x + shift`: every tensor–scalar `+ − × ÷`.
struct Affine: DifferentiableScalarFunction {
    let scale: Float, shift: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * scale + shift }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { scale }
}

/// `numerator / x`.
struct Reciprocal: DifferentiableScalarFunction {
    let numerator: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { numerator / x }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -y / x }
}

struct Exponential: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.exp }
    @inline(__always) func callAsFunction(_ x: Float) -> Float { VectorMath.exp(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y }
}

struct Logarithm: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
}

struct SquareRoot: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
}

struct ReciprocalSquareRoot: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { 1 / x.squareRoot() }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { -0.5 * y * y * y }
}

/// `xᵖ` for a constant `p`.
struct Power: DifferentiableScalarFunction {
    let exponent: Float
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.pow(x, exponent) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        exponent == 0 ? 0 : exponent * Foundation.pow(x, exponent - 1)
    }
}

/// `|x|`; the derivative at 0 is 0.
struct AbsoluteValue: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Swift.abs(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
}

struct HyperbolicTangent: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.tanh }
    @inline(__always) func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
}

/// `1 / (1 + e⁻ˣ)`, evaluated without overflow on either side.
struct Sigmoid: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.sigmoid }
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        let e = VectorMath.exp(-Swift.abs(x))
        return x >= 0 ? 1 / (1 + e) : e / (1 + e)
    }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
}

/// `max(x, 0)`; the derivative at 0 is 0.
struct RectifiedLinear: DifferentiableScalarFunction {
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : 0 }
}

/// `x·Φ(x) = ½x(1 + erf(x/√2))`, with a vectorizable `erf` (absolute error below 1.5·10⁻⁷).
struct GaussianErrorLinear: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.gelu }
    var backwardKernel: GradientKernel? { Kernels.active.gelu_backward }
    static let inverseSquareRootOfTwo: Float = 0.707_106_781_186_547_5
    static let inverseSquareRootOfTwoPi: Float = 0.398_942_280_401_432_7
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        0.5 * x * (1 + VectorMath.erf(x * Self.inverseSquareRootOfTwo))
    }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        0.5 * (1 + VectorMath.erf(x * Self.inverseSquareRootOfTwo))
            + x * VectorMath.exp(-0.5 * x * x) * Self.inverseSquareRootOfTwoPi
    }
}

/// `½x(1 + tanh(√(2/π)(x + 0.044715x³)))`.
struct GaussianErrorLinearTanh: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.gelu_tanh }
    var backwardKernel: GradientKernel? { Kernels.active.gelu_tanh_backward }
    static let squareRootOfTwoOverPi: Float = 0.797_884_560_802_865_4
    @inline(__always) func callAsFunction(_ x: Float) -> Float {
        0.5 * x * (1 + Foundation.tanh(Self.squareRootOfTwoOverPi * (x + 0.044715 * x * x * x)))
    }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let t = Foundation.tanh(Self.squareRootOfTwoOverPi * (x + 0.044715 * x * x * x))
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * Self.squareRootOfTwoOverPi * (1 + 3 * 0.044715 * x * x)
    }
}

/// `x·σ(x)` (SiLU, swish).
struct SigmoidLinear: KernelFunction {
    var forwardKernel: ArrayKernel { Kernels.active.silu }
    var backwardKernel: GradientKernel? { Kernels.active.silu_backward }
    @inline(__always) func callAsFunction(_ x: Float) -> Float { x * Sigmoid()(x) }
    @inline(__always) func derivative(_ x: Float, _ y: Float) -> Float {
        let s = Sigmoid()(x)
        return s * (1 + x * (1 - s))
    }
}
