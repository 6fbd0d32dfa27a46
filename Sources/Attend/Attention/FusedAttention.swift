import Foundation

/// The fused attention kernel: tiles of queries × keys with an online softmax, so the
/// `Lq × Lk` matrices are never materialized (FlashAttention-2's algorithm, on the CPU).
///
/// Forward, for each block of query rows, over key blocks `j` that the mask does not remove:
/// ```
/// S = scale · Q Kⱼᵀ (+ bias, masked entries −∞)        sgemm
/// m′ = max(m, rowmax S);  P = exp(S − m′)
/// ℓ = ℓ·exp(m − m′) + rowsum P;  O = O·exp(m − m′) + P Vⱼ   sgemm
/// ```
/// then `O /= ℓ` and the row's log-sum-exp `m + log ℓ` is saved for the backward pass.
/// Work items are (query block, batch entry, head), costliest first, handed to threads as they
/// free up; extra memory is one score tile per thread.
enum FusedAttention {
    /// Keys per tile: a 256 × 256 score tile (256 KiB) stays in a Zen 4 core's 1 MiB L2.
    static let keyBlockSize = 256

    /// Query rows per tile. Taller tiles make the sgemm calls more efficient; causal-style masks
    /// prefer 128 rows, which skip more of the area above the diagonal.
    /// (Measured with `scripts/benchmark attention`; see docs/benchmarks.md.)
    static func queryBlockSize(for mask: ResolvedAttentionMask) -> Int {
        mask.hasUpperBound ? 128 : 256
    }

    static func attention(
        query: Tensor, key: Tensor, value: Tensor, shapes: AttentionShapes,
        mask: ResolvedAttentionMask, dropout: AttentionDropout?
    ) -> Tensor {
        precondition(mask.bias?.isTrackingGradient != true,
                     "the fused attention kernel cannot differentiate an additive mask; use kernel .automatic or .reference")
        let operands = Operands(query: HeadMatrices(query.detached), key: HeadMatrices(key.detached),
                                value: HeadMatrices(value.detached), shapes: shapes, mask: mask, dropout: dropout)
        let (output, logSumExp) = forward(operands)
        return output.tensor.recordingGradient(from: [query, key, value]) { gradient in
            let gradients = FusedAttentionBackward.gradients(
                operands, output: output, outputGradient: HeadMatrices(gradient), logSumExp: logSumExp)
            return [gradients.query, gradients.key, gradients.value]
        }
    }

    /// Everything both passes read.
    struct Operands: @unchecked Sendable {
        let query: HeadMatrices, key: HeadMatrices, value: HeadMatrices
        let shapes: AttentionShapes
        let mask: ResolvedAttentionMask
        let dropout: AttentionDropout?
        let bias: BiasView?
        /// Value rows holding NaN or ∞ (the forward pass keeps them out of `P·V`; masked keys'
        /// scores are replaced by `−∞`, so only the backward pass looks for bad keys).
        let badValues: NonFiniteRows

        init(query: HeadMatrices, key: HeadMatrices, value: HeadMatrices, shapes: AttentionShapes,
             mask: ResolvedAttentionMask, dropout: AttentionDropout?) {
            self.query = query
            self.key = key
            self.value = value
            self.shapes = shapes
            self.mask = mask
            self.dropout = dropout
            bias = mask.bias.map { BiasView($0.detached, shapes: shapes) }
            // Only masked keys need their garbage kept out; without any, skip the scan.
            badValues = mask.masksSomeKey ? NonFiniteRows(value) : .none
        }

        /// Writes the allowed key range of each row of a query block into `lower`/`upper`
        /// and returns their union, or nil when no row sees any key in `0..<Lk`.
        @inline(__always)
        func keyRanges(batch: Int, rows: Range<Int>, lower: UnsafeMutablePointer<Int>, upper: UnsafeMutablePointer<Int>) -> Range<Int>? {
            var (first, last) = (Int.max, Int.min)
            for (t, i) in rows.enumerated() {
                let range = mask.keyRange(batch: batch, query: i)
                lower[t] = range.lowerBound
                upper[t] = range.upperBound
                if !range.isEmpty {
                    first = Swift.min(first, range.lowerBound)
                    last = Swift.max(last, range.upperBound)
                }
            }
            return first < last ? first..<last : nil
        }

        /// Flat index of weight (b, h, i, j), the dropout stream's counter.
        @inline(__always)
        func weightIndex(batch: Int, head: Int, query: Int, key: Int) -> Int {
            ((batch * shapes.heads + head) * shapes.queryLength + query) * shapes.keyLength + key
        }
    }

    /// A dense additive mask read through broadcast strides, never expanded.
    struct BiasView: @unchecked Sendable {
        let tensor: Tensor
        let base: UnsafeMutablePointer<Float>
        let strides: [Int]

        init(_ bias: Tensor, shapes s: AttentionShapes) {
            tensor = bias
            base = bias.basePointer
            strides = bias.broadcastStrides(to: [s.batch, s.heads, s.queryLength, s.keyLength])
        }

        /// Adds bias entries `j ∈ segment` of row (b, h, i) to `scores` (indexed from key `firstKey`);
        /// a `-∞` bias replaces the score, so NaN scores at blocked keys stay blocked.
        @inline(__always)
        func add(to scores: UnsafeMutablePointer<Float>, batch: Int, head: Int, query: Int,
                 firstKey: Int, segment: Range<Int>) {
            let row = base + batch * strides[0] + head * strides[1] + query * strides[2]
            let step = strides[3]
            for j in segment {
                let bias = row[(firstKey + j) * step]
                scores[j] = bias == -.infinity ? -.infinity : scores[j] + bias
            }
        }
    }

    static func forward(_ operands: Operands) -> (output: HeadMatrices, logSumExp: Tensor) {
        let s = operands.shapes
        let output = HeadMatrices.interleaved(batch: s.batch, heads: s.heads, length: s.queryLength,
                                              width: s.valueDimension, zeroed: false)
        let logSumExp = Tensor(uninitializedShape: [s.batch, s.heads, s.queryLength])
        let blockSize = queryBlockSize(for: operands.mask)
        let blocks = (s.queryLength + blockSize - 1) / blockSize
        let pairs = s.batch * s.heads
        let lse = UncheckedSendable(logSumExp.storage.base)
        Parallelism.forEachItem(count: blocks * pairs) { item in
            // Later query blocks see more keys under causal masks: hand them out first.
            let block = blocks - 1 - item / pairs
            let pair = item % pairs
            let rows = (block * blockSize)..<Swift.min(s.queryLength, (block + 1) * blockSize)
            forwardBlock(operands, batch: pair / s.heads, head: pair % s.heads, rows: rows,
                         output: output, logSumExp: lse.value + pair * s.queryLength)
        }
        return (output, logSumExp)
    }

    /// One query block of one head: the online-softmax loop over key tiles.
    private static func forwardBlock(
        _ o: Operands, batch b: Int, head h: Int, rows: Range<Int>,
        output: HeadMatrices, logSumExp: UnsafeMutablePointer<Float>
    ) {
        let s = o.shapes
        let r = rows.count, i0 = rows.lowerBound
        let kvHead = h / s.groupSize
        let (d, dv, tile) = (s.headDimension, s.valueDimension, keyBlockSize)
        let queryRows = o.query.rows(batch: b, head: h, from: i0)
        let outputRows = output.rows(batch: b, head: h, from: i0)
        let ldo = output.rowStride
        for t in 0..<r { (outputRows + t * ldo).initialize(repeating: 0, count: dv) }

        let scratch = Tensor(uninitializedShape: [r * tile + 2 * r + (o.badValues.isEmpty ? 0 : tile * dv)])
        let scores = scratch.storage.base
        let runningMax = scores + r * tile, runningSum = runningMax + r
        let cleanValues = runningSum + r
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * r) { bounds in
            let lower = bounds.baseAddress!, upper = lower + r
            guard let union = o.keyRanges(batch: b, rows: rows, lower: lower, upper: upper) else {
                for t in 0..<r { logSumExp[i0 + t] = -.infinity }
                return
            }
            runningMax.initialize(repeating: -.infinity, count: r)
            runningSum.initialize(repeating: 0, count: r)

            var j0 = union.lowerBound
            while j0 < union.upperBound {
                let j1 = Swift.min(j0 + tile, union.upperBound), c = j1 - j0
                defer { j0 = j1 }
                if !(0..<r).contains(where: { lower[$0] < j1 && upper[$0] > j0 }) { continue }   // tile fully masked

                BLAS.gemm(transposeA: false, transposeB: true, m: r, n: c, k: d, alpha: s.scale,
                          a: queryRows, lda: o.query.rowStride,
                          b: o.key.rows(batch: b, head: kvHead, from: j0), ldb: o.key.rowStride,
                          beta: 0, c: scores, ldc: c)
                for t in 0..<r {
                    let row = scores + t * c
                    let start = Swift.min(Swift.max(lower[t] - j0, 0), c), end = Swift.min(Swift.max(upper[t] - j0, 0), c)
                    if start >= end {
                        row.initialize(repeating: 0, count: c)
                        continue
                    }
                    o.bias?.add(to: row, batch: b, head: h, query: i0 + t, firstKey: j0, segment: start..<end)
                    row.initialize(repeating: 0, count: start)
                    (row + end).initialize(repeating: 0, count: c - end)
                    // m′ = max(m, rowmax S); P = exp(S − m′); ℓ = ℓ·exp(m − m′) + ΣP; O ·= exp(m − m′).
                    // A NaN score makes the row NaN for good, as in the reference path.
                    Kernels.active.online_softmax_step(row + start, end - start, runningMax + t, runningSum + t,
                                                       outputRows + t * ldo, dv)
                    o.dropout?.apply(to: row + start, count: end - start,
                                     startingAt: o.weightIndex(batch: b, head: h, query: i0 + t, key: j0 + start))
                }
                multiplyAccumulate(weights: scores, keys: j0..<j1, rows: r, o, batch: b, kvHead: kvHead,
                                   into: outputRows, ldo: ldo, scratch: cleanValues)
            }
            for t in 0..<r {
                let outputRow = outputRows + t * ldo
                if runningSum[t] == 0 {
                    outputRow.initialize(repeating: 0, count: dv)
                    logSumExp[i0 + t] = -.infinity
                } else {
                    let inverse = 1 / runningSum[t]
                    for j in 0..<dv { outputRow[j] *= inverse }
                    logSumExp[i0 + t] = runningMax[t] + Foundation.log(runningSum[t])
                }
            }
        }
    }

    /// `O += P·V[keys]`. Value rows holding NaN or ∞ are zeroed in a copy first, then added
    /// back only where the weight is nonzero, so masked garbage cannot leak (0·NaN = NaN).
    @inline(__always)
    private static func multiplyAccumulate(
        weights: UnsafeMutablePointer<Float>, keys: Range<Int>, rows r: Int, _ o: Operands,
        batch b: Int, kvHead: Int, into output: UnsafeMutablePointer<Float>, ldo: Int,
        scratch: UnsafeMutablePointer<Float>
    ) {
        let dv = o.shapes.valueDimension, c = keys.count
        let values = o.value.rows(batch: b, head: kvHead, from: keys.lowerBound)
        let bad = o.badValues.isEmpty ? [] : o.badValues.rows(batch: b, head: kvHead, heads: o.shapes.keyValueHeads, in: keys)
        if bad.isEmpty {
            BLAS.gemm(transposeA: false, transposeB: false, m: r, n: dv, k: c, alpha: 1,
                      a: weights, lda: c, b: values, ldb: o.value.rowStride, beta: 1, c: output, ldc: ldo)
            return
        }
        for j in 0..<c { (scratch + j * dv).update(from: values + j * o.value.rowStride, count: dv) }
        for j in bad { (scratch + (j - keys.lowerBound) * dv).initialize(repeating: 0, count: dv) }
        BLAS.gemm(transposeA: false, transposeB: false, m: r, n: dv, k: c, alpha: 1,
                  a: weights, lda: c, b: scratch, ldb: dv, beta: 1, c: output, ldc: ldo)
        for j in bad {
            let valueRow = values + (j - keys.lowerBound) * o.value.rowStride
            for t in 0..<r {
                let weight = weights[t * c + j - keys.lowerBound]
                if weight != 0 {
                    for x in 0..<dv { output[t * ldo + x] += weight * valueRow[x] }
                }
            }
        }
    }
}
