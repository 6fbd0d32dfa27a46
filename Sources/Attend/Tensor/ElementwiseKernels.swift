/// Drivers that apply a scalar function over one, two or three operands with broadcasting,
/// strides and threads handled once for every elementwise operation.
///
/// The contiguous same-shape case becomes one flat loop that LLVM vectorizes; anything else is
/// walked as runs (``StridedIteration``). Output is always a fresh contiguous tensor.
enum ElementwiseKernels {
    /// Elements per thread below which splitting a loop costs more than it saves.
    static let minimumChunk = 1 << 14

    @inline(__always)
    static func map(_ x: Tensor, _ function: (Float) -> Float) -> Tensor {
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
        let length = iteration.runLength, step = iteration.innerStride(0)
        Parallelism.forEachChunk(of: iteration.runCount, minimumChunk: max(1, minimumChunk / length)) { runs in
            iteration.forEachRun(in: runs) { run, offsets in
                let from = input + offsets[0], to = output + run * length
                for j in 0..<length { to[j] = function(from[j * step]) }
            }
        }
        return result
    }

    /// Like ``map(_:_:)`` with an 8-wide vector form of the function for contiguous input.
    @inline(__always)
    static func map(
        _ x: Tensor, _ function: (Float) -> Float, vectorized: (SIMD8<Float>) -> SIMD8<Float>
    ) -> Tensor {
        guard x.isContiguous else { return map(x, function) }
        let result = Tensor(uninitializedShape: x.shape)
        let output = result.storage.base
        let input = x.basePointer
        Parallelism.forEachChunk(of: x.scalarCount, minimumChunk: minimumChunk) { range in
            apply(vectorized, function, input + range.lowerBound, output + range.lowerBound, range.count)
        }
        return result
    }

    /// Applies a vector function to `count` contiguous floats, finishing the tail with the scalar form.
    @inline(__always)
    static func apply(
        _ vectorized: (SIMD8<Float>) -> SIMD8<Float>, _ function: (Float) -> Float,
        _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        var i = 0
        let rawInput = UnsafeRawPointer(input), rawOutput = UnsafeMutableRawPointer(output)
        while i + 8 <= count {
            let v = rawInput.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            rawOutput.storeBytes(of: vectorized(v), toByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            output[i] = function(input[i])
            i += 1
        }
    }

    @inline(__always)
    static func map(_ a: Tensor, _ b: Tensor, _ function: (Float, Float) -> Float) -> Tensor {
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
        let length = iteration.runLength
        let (stepA, stepB) = (iteration.innerStride(0), iteration.innerStride(1))
        Parallelism.forEachChunk(of: iteration.runCount, minimumChunk: max(1, minimumChunk / length)) { runs in
            iteration.forEachRun(in: runs) { run, offsets in
                let p = x + offsets[0], q = y + offsets[1], to = output + run * length
                switch (stepA, stepB) {
                case (1, 1): for j in 0..<length { to[j] = function(p[j], q[j]) }
                case (1, 0): let v = q[0]; for j in 0..<length { to[j] = function(p[j], v) }
                case (0, 1): let u = p[0]; for j in 0..<length { to[j] = function(u, q[j]) }
                default: for j in 0..<length { to[j] = function(p[j * stepA], q[j * stepB]) }
                }
            }
        }
        return result
    }

    @inline(__always)
    static func map(
        _ a: Tensor, _ b: Tensor, _ c: Tensor, _ function: (Float, Float, Float) -> Float
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
        let length = iteration.runLength
        let (stepA, stepB, stepC) = (iteration.innerStride(0), iteration.innerStride(1), iteration.innerStride(2))
        Parallelism.forEachChunk(of: iteration.runCount, minimumChunk: max(1, minimumChunk / length)) { runs in
            iteration.forEachRun(in: runs) { run, offsets in
                let p = x + offsets[0], q = y + offsets[1], r = z + offsets[2], to = output + run * length
                for j in 0..<length { to[j] = function(p[j * stepA], q[j * stepB], r[j * stepC]) }
            }
        }
        return result
    }
}
