/// Elementwise arithmetic with NumPy broadcasting. Gradients are summed back over the axes
/// that broadcasting expanded, so each input receives a gradient of its own shape.
extension Tensor {
    /// `a + b`, broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let (shapeA, shapeB) = (a.shape, b.shape)
        return ElementwiseKernels.map(a, b, Addition()).recordingGradient(from: [a, b]) { g in
            [g.summed(toShape: shapeA), g.summed(toShape: shapeB)]
        }
    }

    /// `a - b`, broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let (shapeA, shapeB) = (a.shape, b.shape)
        return ElementwiseKernels.map(a, b, Subtraction()).recordingGradient(from: [a, b]) { g in
            [g.summed(toShape: shapeA), (-g).summed(toShape: shapeB)]
        }
    }

    /// `a ⊙ b` (elementwise product), broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        ElementwiseKernels.map(a, b, Multiplication()).recordingGradient(from: [a, b]) { g in
            [(g * b).summed(toShape: a.shape), (g * a).summed(toShape: b.shape)]
        }
    }

    /// `a / b`, broadcasting. `∂/∂b = -g·a/b²`.
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let quotient = ElementwiseKernels.map(a, b, Division())
        return quotient.recordingGradient(from: [a, b]) { g in
            let gradientA = g / b
            return [gradientA.summed(toShape: a.shape), (-(gradientA * quotient)).summed(toShape: b.shape)]
        }
    }

    /// `-x`.
    public static prefix func - (x: Tensor) -> Tensor { x.applying(Affine(scale: -1, shift: 0)) }

    /// Adds `scalar` to every element.
    public static func + (x: Tensor, scalar: Float) -> Tensor { x.applying(Affine(scale: 1, shift: scalar)) }

    /// Adds `scalar` to every element.
    public static func + (scalar: Float, x: Tensor) -> Tensor { x + scalar }

    /// Subtracts `scalar` from every element.
    public static func - (x: Tensor, scalar: Float) -> Tensor { x.applying(Affine(scale: 1, shift: -scalar)) }

    /// `scalar - x` elementwise.
    public static func - (scalar: Float, x: Tensor) -> Tensor { x.applying(Affine(scale: -1, shift: scalar)) }

    /// Multiplies every element by `scalar`.
    public static func * (x: Tensor, scalar: Float) -> Tensor { x.applying(Affine(scale: scalar, shift: 0)) }

    /// Multiplies every element by `scalar`.
    public static func * (scalar: Float, x: Tensor) -> Tensor { x * scalar }

    /// Divides every element by `scalar`.
    public static func / (x: Tensor, scalar: Float) -> Tensor {
        let quotient = ElementwiseKernels.map(x, Tensor(scalar), Division())
        return quotient.recordingGradient(from: [x]) { g in [g / scalar] }
    }

    /// `scalar / x` elementwise.
    public static func / (scalar: Float, x: Tensor) -> Tensor { x.applying(Reciprocal(numerator: scalar)) }

    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs = lhs + rhs }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs * rhs }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs = lhs / rhs }
    public static func += (lhs: inout Tensor, rhs: Float) { lhs = lhs + rhs }
    public static func -= (lhs: inout Tensor, rhs: Float) { lhs = lhs - rhs }
    public static func *= (lhs: inout Tensor, rhs: Float) { lhs = lhs * rhs }
    public static func /= (lhs: inout Tensor, rhs: Float) { lhs = lhs / rhs }
}

/// The elementwise larger of `a` and `b` (broadcasting; NaN if either is NaN). At ties each
/// input gets half the gradient, as in PyTorch.
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    ElementwiseKernels.map(a, b, Maximum()).recordingGradient(from: [a, b]) { g in
        [ElementwiseKernels.map(g, a, b) { g, a, b in a > b ? g : (a == b ? g / 2 : 0) }.summed(toShape: a.shape),
         ElementwiseKernels.map(g, a, b) { g, a, b in b > a ? g : (a == b ? g / 2 : 0) }.summed(toShape: b.shape)]
    }
}

/// The elementwise smaller of `a` and `b` (broadcasting). At ties each input gets half the gradient.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    -maximum(-a, -b)
}

extension Tensor {
    /// Picks `a` where `condition` is nonzero and `b` elsewhere, broadcasting all three.
    /// Gradients flow to `a` where the condition holds and to `b` where it does not.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let zero = Tensor(0)
        let chosen = ElementwiseKernels.map(condition.detached, a, b, Selection())
        return chosen.recordingGradient(from: [a, b]) { g in
            [ElementwiseKernels.map(condition, g, zero, Selection()).summed(toShape: a.shape),
             ElementwiseKernels.map(condition, zero, g, Selection()).summed(toShape: b.shape)]
        }
    }
}
