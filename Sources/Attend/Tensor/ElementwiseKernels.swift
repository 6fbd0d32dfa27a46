/// A scalar function of one argument, applied elementwise by ``ElementwiseKernels``.
///
/// Kernels take functions as conforming types rather than closures: the generic kernel is then
/// specialized for each function, so the function inlines into the loop that every thread runs
/// (a closure captured across threads would cost an indirect call per element).
protocol UnaryScalarFunction: Sendable {
    func callAsFunction(_ x: Float) -> Float
}

/// A scalar function of two arguments; see ``UnaryScalarFunction``.
protocol BinaryScalarFunction: Sendable {
    func callAsFunction(_ x: Float, _ y: Float) -> Float
}

/// A scalar function of three arguments; see ``UnaryScalarFunction``.
protocol TernaryScalarFunction: Sendable {
    func callAsFunction(_ x: Float, _ y: Float, _ z: Float) -> Float
}

/// Wraps a closure for the rarely used elementwise paths (backward passes of uncommon ops),
/// where an indirect call per element is an acceptable price for brevity.
struct ClosureFunction1: UnaryScalarFunction {
    let body: @Sendable (Float) -> Float
    func callAsFunction(_ x: Float) -> Float { body(x) }
}

struct ClosureFunction2: BinaryScalarFunction {
    let body: @Sendable (Float, Float) -> Float
    func callAsFunction(_ x: Float, _ y: Float) -> Float { body(x, y) }
}

struct ClosureFunction3: TernaryScalarFunction {
    let body: @Sendable (Float, Float, Float) -> Float
    func callAsFunction(_ x: Float, _ y: Float, _ z: Float) -> Float { body(x, y, z) }
}

/// Drivers that apply a scalar function over one, two or three operands with broadcasting,
/// strides and threads handled once for every elementwise operation.
///
/// The contiguous same-shape case becomes one flat loop that LLVM vectorizes; anything else is
/// walked as runs (``StridedIteration``). Output is always a fresh contiguous tensor.
enum ElementwiseKernels {
    static func map(_ x: Tensor, _ body: @escaping @Sendable (Float) -> Float) -> Tensor {
        map(x, ClosureFunction1(body: body))
    }

    static func map(_ a: Tensor, _ b: Tensor, _ body: @escaping @Sendable (Float, Float) -> Float) -> Tensor {
        map(a, b, ClosureFunction2(body: body))
    }

    static func map(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ body: @escaping @Sendable (Float, Float, Float) -> Float
    ) -> Tensor {
        map(a, b, c, ClosureFunction3(body: body))
    }

    /// Elements per thread below which splitting a loop costs more than it saves.
    static let minimumChunk = 1 << 14

    /// `y = f(x)` through a C kernel, `x` contiguous, split across threads.
    static func apply(_ kernel: ArrayKernel, to x: Tensor) -> Tensor {
        let result = Tensor(uninitializedShape: x.shape)
        let (input, output) = (x.basePointer, result.storage.base)
        Parallelism.forEachChunk(of: x.scalarCount, minimumChunk: minimumChunk) { range in
            kernel(input + range.lowerBound, output + range.lowerBound, range.count)
        }
        return result
    }

    /// `dx = g · f′(x)` through a C kernel, `g` and `x` contiguous and of one shape.
    static func apply(_ kernel: GradientKernel, gradient g: Tensor, input x: Tensor) -> Tensor {
        precondition(g.shape == x.shape, "gradient shape \(g.shape) differs from input shape \(x.shape)")
        let result = Tensor(uninitializedShape: x.shape)
        let (gradient, input, output) = (g.basePointer, x.basePointer, result.storage.base)
        Parallelism.forEachChunk(of: x.scalarCount, minimumChunk: minimumChunk) { range in
            kernel(gradient + range.lowerBound, input + range.lowerBound, output + range.lowerBound, range.count)
        }
        return result
    }

    static func map<Function: UnaryScalarFunction>(_ x: Tensor, _ function: Function) -> Tensor {
        let result = Tensor(uninitializedShape: x.shape)
        let output = result.storage.base
        let input = x.basePointer
        if x.isContiguous {
            Parallelism.forEachChunk(of: x.scalarCount, minimumChunk: minimumChunk) { range in
                for i in range { output[i] = function(input[i]) }
            }
            return result
        }
        let iteration = StridedIteration(shape: x.shape, strides: [x.strides])
        let step = iteration.innerStride(0)
        iteration.forEachSegment(minimumElements: minimumChunk) { first, offsets, length in
            let from = input + offsets[0], to = output + first
            for j in 0..<length { to[j] = function(from[j * step]) }
        }
        return result
    }

    static func map<Function: BinaryScalarFunction>(_ a: Tensor, _ b: Tensor, _ function: Function) -> Tensor {
        let shape = a.shape == b.shape ? a.shape : broadcastShape(a.shape, b.shape)
        let result = Tensor(uninitializedShape: shape)
        let output = result.storage.base
        let (x, y) = (a.basePointer, b.basePointer)
        let count = result.scalarCount
        if a.shape == b.shape && a.isContiguous && b.isContiguous {
            Parallelism.forEachChunk(of: count, minimumChunk: minimumChunk) { range in
                for i in range { output[i] = function(x[i], y[i]) }
            }
            return result
        }
        let iteration = StridedIteration(shape: shape, strides: [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape)])
        let (stepA, stepB) = (iteration.innerStride(0), iteration.innerStride(1))
        iteration.forEachSegment(minimumElements: minimumChunk) { first, offsets, length in
            let p = x + offsets[0], q = y + offsets[1], to = output + first
            switch (stepA, stepB) {
            case (1, 1): for j in 0..<length { to[j] = function(p[j], q[j]) }
            case (1, 0): let v = q[0]; for j in 0..<length { to[j] = function(p[j], v) }
            case (0, 1): let u = p[0]; for j in 0..<length { to[j] = function(u, q[j]) }
            default: for j in 0..<length { to[j] = function(p[j * stepA], q[j * stepB]) }
            }
        }
        return result
    }

    static func map<Function: TernaryScalarFunction>(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ function: Function
    ) -> Tensor {
        let shape = broadcastShape(broadcastShape(a.shape, b.shape), c.shape)
        let result = Tensor(uninitializedShape: shape)
        let output = result.storage.base
        let (x, y, z) = (a.basePointer, b.basePointer, c.basePointer)
        if a.shape == shape && b.shape == shape && c.shape == shape
            && a.isContiguous && b.isContiguous && c.isContiguous {
            Parallelism.forEachChunk(of: result.scalarCount, minimumChunk: minimumChunk) { range in
                for i in range { output[i] = function(x[i], y[i], z[i]) }
            }
            return result
        }
        let iteration = StridedIteration(
            shape: shape,
            strides: [a.broadcastStrides(to: shape), b.broadcastStrides(to: shape), c.broadcastStrides(to: shape)])
        let (stepA, stepB, stepC) = (iteration.innerStride(0), iteration.innerStride(1), iteration.innerStride(2))
        iteration.forEachSegment(minimumElements: minimumChunk) { first, offsets, length in
            let p = x + offsets[0], q = y + offsets[1], r = z + offsets[2], to = output + first
            for j in 0..<length { to[j] = function(p[j * stepA], q[j * stepB], r[j * stepC]) }
        }
        return result
    }
}
