import Foundation

/// Reductions over any set of axes. Axes may be negative; an empty list reduces nothing
/// (NumPy's rule); `keepingDimensions` leaves reduced axes in place with size 1.
extension Tensor {
    /// Σ of all elements, as a rank-0 tensor.
    public func sum() -> Tensor { sum(alongAxes: Array(0..<rank)) }

    /// Σ over `axes`.
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes)
        let result = reduceRows(plan, keepingDimensions: keepingDimensions, kind: .sum)
        let inputShape = shape
        return result.recordingGradient(from: [self]) { g in
            [g.reshaped(plan.keptShape).expanded(to: inputShape)]
        }
    }

    /// Σ over one axis.
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The mean of all elements, as a rank-0 tensor.
    public func mean() -> Tensor { mean(alongAxes: Array(0..<rank)) }

    /// The mean over `axes`.
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let count = ReductionPlan(shape: shape, axes: axes).reducedCount
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Float(Swift.max(count, 1))
    }

    /// The mean over one axis.
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The largest element over `axes` (NaN if any element is NaN). The gradient goes to the
    /// maximal elements, shared equally among ties (PyTorch's rule for `amax`).
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(alongAxes: axes, keepingDimensions: keepingDimensions, kind: .max)
    }

    /// The largest element over one axis.
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        max(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The largest element of the whole tensor.
    public func max() -> Tensor { max(alongAxes: Array(0..<rank)) }

    /// The smallest element over `axes`; gradients as for ``max(alongAxes:keepingDimensions:)``.
    public func min(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(alongAxes: axes, keepingDimensions: keepingDimensions, kind: .min)
    }

    /// The smallest element over one axis.
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        min(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The smallest element of the whole tensor.
    public func min() -> Tensor { min(alongAxes: Array(0..<rank)) }

    private func extremum(alongAxes axes: [Int], keepingDimensions: Bool, kind: ReductionKind) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes)
        let result = reduceRows(plan, keepingDimensions: keepingDimensions, kind: kind)
        let inputShape = shape
        return result.recordingGradient(from: [self]) { g in
            let extreme = result.reshaped(plan.keptShape)
            let isExtreme = ElementwiseKernels.map(self, extreme) { x, m in x == m ? 1 : 0 }
            let ties = isExtreme.sum(alongAxes: plan.axes, keepingDimensions: true)
            let share = g.reshaped(plan.keptShape) / ties
            return [(isExtreme * share).expanded(to: inputShape).contiguous()]
        }
    }

    /// The index of the first largest element along `axis`, as floats (not differentiable).
    public func argmax(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: [axis])
        return reduceRows(plan, keepingDimensions: keepingDimensions, kind: .argmax)
    }

    /// The variance over `axes`: `Σ(x − mean)² / (N − correction)`. `correction: 1` (the
    /// default, as in PyTorch) is the unbiased estimate; `0` the population variance.
    public func variance(alongAxes axes: [Int], keepingDimensions: Bool = false, correction: Int = 1) -> Tensor {
        let count = ReductionPlan(shape: shape, axes: axes).reducedCount
        let centered = self - mean(alongAxes: axes, keepingDimensions: true)
        return (centered * centered).sum(alongAxes: axes, keepingDimensions: keepingDimensions)
            / Float(Swift.max(count - correction, 0))
    }

    /// `log Σ exp(x)` over `axes`, computed stably as `m + log Σ exp(x − m)` with `m` the maximum.
    /// A slice that is entirely `-∞` gives `-∞` and a zero gradient.
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let plan = ReductionPlan(shape: shape, axes: axes)
        let input = detached
        let maximum = input.max(alongAxes: axes, keepingDimensions: true)
        let shift = ElementwiseKernels.map(maximum) { $0.isFinite ? $0 : 0 }
        let total = exp(input - shift).sum(alongAxes: axes, keepingDimensions: true)
        let kept = ElementwiseKernels.map(total, shift) { s, m in Foundation.log(s) + m }
        let result = kept.reshaped(keepingDimensions ? plan.keptShape : plan.reducedShape)
        return result.recordingGradient(from: [self]) { g in
            [ElementwiseKernels.map(g.reshaped(plan.keptShape), input, kept) { g, x, l in
                l == -.infinity ? 0 : g * VectorMath.exp(x - l)
            }]
        }
    }

    /// `log Σ exp(x)` over one axis.
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        logSumExp(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }
}

enum ReductionKind { case sum, max, min, argmax }

/// Which axes a reduction keeps and removes, and the shapes that follow.
struct ReductionPlan {
    let shape: [Int]
    /// Normalized, sorted, unique reduced axes.
    let axes: [Int]

    init(shape: [Int], axes: [Int]) {
        self.shape = shape
        self.axes = Array(Set(axes.map { Tensor.normalize(axis: $0, rank: shape.count, "reduction") })).sorted()
    }

    var keptAxes: [Int] { shape.indices.filter { !axes.contains($0) } }
    /// The result shape with reduced axes kept as size 1.
    var keptShape: [Int] { shape.indices.map { axes.contains($0) ? 1 : shape[$0] } }
    /// The result shape with reduced axes removed.
    var reducedShape: [Int] { keptAxes.map { shape[$0] } }
    var reducedCount: Int { axes.reduce(1) { $0 * shape[$1] } }
}

extension Tensor {
    /// Runs a reduction: the kept axes become rows, the reduced axes a contiguous run per row
    /// (copying only when the layout needs it), or columns are accumulated directly when all
    /// reduced axes lead.
    fileprivate func reduceRows(_ plan: ReductionPlan, keepingDimensions: Bool, kind: ReductionKind) -> Tensor {
        let outputShape = keepingDimensions ? plan.keptShape : plan.reducedShape
        let result = Tensor(uninitializedShape: outputShape)
        let output = result.storage.base
        let rows = result.scalarCount
        let length = plan.reducedCount
        if length == 0 {
            let empty: Float = kind == .sum ? 0 : (kind == .max ? -.infinity : (kind == .min ? .infinity : 0))
            output.initialize(repeating: empty, count: rows)
            return result
        }
        // Sums over leading axes of a contiguous tensor: accumulate whole rows, no transpose.
        if kind == .sum, isContiguous, let last = plan.axes.last, last == plan.axes.count - 1, rows > 1 {
            let input = basePointer
            Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, ElementwiseKernels.minimumChunk / length)) { columns in
                let to = output + columns.lowerBound
                to.initialize(repeating: 0, count: columns.count)
                for row in 0..<length {
                    let from = input + row * rows + columns.lowerBound
                    for j in 0..<columns.count { to[j] += from[j] }
                }
            }
            return result
        }
        let arranged = detached.permuted(plan.keptAxes + plan.axes).contiguous()
        let input = arranged.basePointer
        if rows == 1 && kind == .sum {
            output[0] = RowKernels.sumInParallel(input, count: length)
            return result
        }
        Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, ElementwiseKernels.minimumChunk / length)) { range in
            for row in range {
                let from = input + row * length
                switch kind {
                case .sum: output[row] = RowKernels.sum(from, count: length)
                case .max: output[row] = RowKernels.maximum(from, count: length)
                case .min: output[row] = RowKernels.minimum(from, count: length)
                case .argmax: output[row] = Float(RowKernels.indexOfMaximum(from, count: length))
                }
            }
        }
        return result
    }
}

/// Loops over one contiguous row, shared by reductions, softmax and attention: the C kernels
/// of the active path (``Kernels``) where one exists.
enum RowKernels {
    /// Σ, float lanes folded into a double every 1,024 elements so long sums stay accurate.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Float(Kernels.active.sum(x, count))
    }

    /// Σ of a long row split across threads.
    static func sumInParallel(_ x: UnsafePointer<Float>, count: Int) -> Float {
        let chunks = Parallelism.chunkCount(for: count, minimumChunk: 1 << 16)
        if chunks == 1 { return sum(x, count: count) }
        var partials = [Double](repeating: 0, count: chunks)
        partials.withUnsafeMutableBufferPointer { partials in
            let slots = partials.baseAddress!
            Parallelism.forEachChunk(of: chunks, minimumChunk: 1) { range in
                for chunk in range {
                    let start = count * chunk / chunks, end = count * (chunk + 1) / chunks
                    slots[chunk] = Kernels.active.sum(x + start, end - start)
                }
            }
        }
        return Float(partials.reduce(0, +))
    }

    /// The largest element (NaN if any is NaN, −∞ for none).
    @inline(__always)
    static func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        Kernels.active.max(x, count)
    }

    /// The smallest element (NaN if any is NaN, +∞ for none).
    static func minimum(_ x: UnsafePointer<Float>, count: Int) -> Float {
        var best = Float.infinity
        for i in 0..<count {
            if x[i].isNaN { return .nan }
            best = Swift.min(best, x[i])
        }
        return best
    }

    /// Writes `exp(xᵢ − shift)` to `y` (which may be `x`) and returns the sum, in one pass.
    ///
    /// For softmax rows: `shift` is the row maximum (or anything at least as large, such as the
    /// row's log-sum-exp), so every exponent is ≤ 0 and the cheaper form of `exp` applies;
    /// `−∞` entries give 0. A NaN shift (a row holding NaN) fills `y` with NaN.
    @inline(__always)
    static func exponentiate(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int, subtracting shift: Float
    ) -> Float {
        Kernels.active.exp_shifted_sum(x, y, count, shift)
    }

    /// The first index of the largest element (the first NaN, if any).
    @inline(__always)
    static func indexOfMaximum(_ x: UnsafePointer<Float>, count: Int) -> Int {
        var best = 0
        for i in 0..<count {
            if x[i].isNaN { return i }
            if x[i] > x[best] { best = i }
        }
        return best
    }
}
