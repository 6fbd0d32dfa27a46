/// Walks operands that share one (broadcast) shape as *runs* along the innermost axis.
///
/// Each operand is described by its strides over the common shape (0 on broadcast axes).
/// Axes of size 1 are dropped and neighbouring axes that are contiguous in every operand are
/// merged first, so a contiguous tensor becomes one long run and a transposed one becomes
/// `rows` runs of stride `rows`. Kernels then loop over a run with plain pointer arithmetic.
struct StridedIteration {
    /// The merged shape; never empty (a scalar iterates as one run of length 1).
    private(set) var shape: [Int]
    /// Per operand, its strides over ``shape``.
    private(set) var strides: [[Int]]

    init(shape: [Int], strides: [[Int]]) {
        var mergedShape: [Int] = []
        var mergedStrides = [[Int]](repeating: [], count: strides.count)
        for axis in shape.indices where shape[axis] != 1 {
            if !mergedShape.isEmpty,
               strides.indices.allSatisfy({ strides[$0][axis] * shape[axis] == mergedStrides[$0].last! }) {
                mergedShape[mergedShape.count - 1] *= shape[axis]
                for operand in strides.indices {
                    mergedStrides[operand][mergedStrides[operand].count - 1] = strides[operand][axis]
                }
            } else {
                mergedShape.append(shape[axis])
                for operand in strides.indices { mergedStrides[operand].append(strides[operand][axis]) }
            }
        }
        if mergedShape.isEmpty {
            mergedShape = [1]
            mergedStrides = strides.map { _ in [1] }
        }
        self.shape = mergedShape
        self.strides = mergedStrides
    }

    /// Elements per run.
    var runLength: Int { shape[shape.count - 1] }
    /// Number of runs.
    var runCount: Int { shape.dropLast().reduce(1, *) }
    /// Each operand's stride within a run.
    func innerStride(_ operand: Int) -> Int { strides[operand][shape.count - 1] }

    /// Calls `body(first, offsets, count)` in parallel for consecutive segments that cover every
    /// element once: `count` elements starting at row-major element `first`, where `offsets[k]`
    /// is where operand `k`'s segment starts and its elements lie ``innerStride(_:)`` apart.
    ///
    /// Segments are whole runs, or pieces of the one run when everything merged into a single
    /// run (a contiguous tensor against a scalar), so each thread gets at least about
    /// `minimumElements` elements. An empty shape calls nothing.
    func forEachSegment(
        minimumElements: Int,
        _ body: (_ first: Int, _ offsets: UnsafeMutableBufferPointer<Int>, _ count: Int) -> Void
    ) {
        let length = runLength, runs = runCount
        guard length > 0 && runs > 0 else { return }
        if runs == 1 {
            let operandCount = strides.count
            Parallelism.forEachChunk(of: length, minimumChunk: minimumElements) { range in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: operandCount) { offsets in
                    for operand in 0..<operandCount { offsets[operand] = range.lowerBound * innerStride(operand) }
                    body(range.lowerBound, offsets, range.count)
                }
            }
            return
        }
        Parallelism.forEachChunk(of: runs, minimumChunk: max(1, minimumElements / length)) { chunk in
            forEachRun(in: chunk) { run, offsets in body(run * length, offsets, length) }
        }
    }

    /// Calls `body(run, offsets)` for each run in `runs`, where `offsets[k]` is where operand
    /// `k`'s run starts (relative to its own base pointer).
    @inline(__always)
    private func forEachRun(in runs: Range<Int>, _ body: (_ run: Int, _ offsets: UnsafeMutableBufferPointer<Int>) -> Void) {
        let operandCount = strides.count
        let outerRank = shape.count - 1
        withUnsafeTemporaryAllocation(of: Int.self, capacity: max(outerRank, 1) + operandCount) { scratch in
            let index = UnsafeMutableBufferPointer(rebasing: scratch[0..<max(outerRank, 1)])
            let offsets = UnsafeMutableBufferPointer(rebasing: scratch[max(outerRank, 1)...])
            // Decompose the first run number into an index over the outer axes.
            var remainder = runs.lowerBound
            for axis in stride(from: outerRank - 1, through: 0, by: -1) {
                index[axis] = remainder % shape[axis]
                remainder /= shape[axis]
            }
            for operand in 0..<operandCount {
                var offset = 0
                for axis in 0..<outerRank { offset += index[axis] * strides[operand][axis] }
                offsets[operand] = offset
            }
            for run in runs {
                body(run, offsets)
                // Odometer step over the outer axes.
                var axis = outerRank - 1
                while axis >= 0 {
                    index[axis] += 1
                    for operand in 0..<operandCount { offsets[operand] += strides[operand][axis] }
                    if index[axis] < shape[axis] { break }
                    for operand in 0..<operandCount { offsets[operand] -= strides[operand][axis] * shape[axis] }
                    index[axis] = 0
                    axis -= 1
                }
            }
        }
    }
}

/// Writes the elements of `source` in row-major order to `destination`.
func copyElements(of source: Tensor, into destination: UnsafeMutablePointer<Float>) {
    let iteration = StridedIteration(shape: source.shape, strides: [source.strides])
    let step = iteration.innerStride(0)
    let base = source.basePointer
    iteration.forEachSegment(minimumElements: 1 << 15) { first, offsets, count in
        let from = base + offsets[0], to = destination + first
        if step == 1 {
            to.update(from: from, count: count)
        } else {
            for j in 0..<count { to[j] = from[j * step] }
        }
    }
}
