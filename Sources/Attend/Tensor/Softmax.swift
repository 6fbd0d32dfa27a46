/// `softmax(x)ᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)` along `axis`, with `m` the row maximum so that
/// no exponent overflows. A row whose every entry is `-∞` (fully masked) gives zeros, not NaN.
///
/// The backward pass is `∂x = y ⊙ (g − Σ g ⊙ y)`.
public func softmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let y = x.detached.applyingRowKernel(axis: axis, SoftmaxKernels.softmax)
    return y.recordingGradient(from: [x]) { g in
        let dot = (g * y).sum(alongAxes: [axis], keepingDimensions: true)
        return [y * (g - dot)]
    }
}

/// `log softmax(x) = x − m − log Σ exp(x − m)` along `axis`. A fully `-∞` row stays `-∞` and
/// passes a zero gradient. The backward pass is `∂x = g − softmax(x) · Σ g`.
public func logSoftmax(_ x: Tensor, axis: Int = -1) -> Tensor {
    let y = x.detached.applyingRowKernel(axis: axis, SoftmaxKernels.logSoftmax)
    return y.recordingGradient(from: [x]) { g in
        let total = g.sum(alongAxes: [axis], keepingDimensions: true)
        return [ElementwiseKernels.map(g, y, total) { g, y, total in
            y == -.infinity ? 0 : g - VectorMath.exp(y) * total
        }]
    }
}

extension Tensor {
    /// Applies `kernel(input, output, length)` to every row along `axis`, moving that axis last
    /// (with a copy) when it is not already.
    func applyingRowKernel(
        axis: Int,
        _ kernel: @escaping (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    ) -> Tensor {
        guard rank > 0 else {
            return reshaped([1]).applyingRowKernel(axis: axis, kernel).reshaped([])
        }
        let axis = Tensor.normalize(axis: axis, rank: rank)
        var order = Array(0..<rank)
        order.remove(at: axis)
        order.append(axis)
        let arranged = permuted(order).contiguous()
        let length = shape[axis]
        let result = Tensor(uninitializedShape: arranged.shape)
        let (input, output) = (arranged.basePointer, result.storage.base)
        let rows = length == 0 ? 0 : arranged.scalarCount / length
        Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, 4096 / Swift.max(length, 1))) { range in
            for row in range { kernel(input + row * length, output + row * length, length) }
        }
        var inverse = [Int](repeating: 0, count: rank)
        for (position, original) in order.enumerated() { inverse[original] = position }
        return result.permuted(inverse)
    }
}

/// Row kernels for softmax: the C kernels of the active path (``Kernels``).
enum SoftmaxKernels {
    static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        Kernels.active.softmax(x, y, count)
    }

    static func logSoftmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        Kernels.active.log_softmax(x, y, count)
    }
}
