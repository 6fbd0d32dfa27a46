/// The backward pass of ``FusedAttention`` (FlashAttention-2's algorithm): scores and weights
/// are recomputed tile by tile from the saved log-sum-exp instead of being stored.
///
/// With `P = exp(S − lse)` and `Δᵢ = rowsum(dOᵢ ⊙ Oᵢ)`, for each key block `j` and query block `i`:
/// ```
/// dVⱼ += Pᵀ dOᵢ                  dP = dOᵢ Vⱼᵀ
/// dS = P ⊙ (dP − Δᵢ)             dKⱼ += scale · dSᵀ Qᵢ,   dQᵢ += scale · dS Kⱼ
/// ```
/// (with dropout, `P` in `dVⱼ` and `dP` are multiplied by the regenerated mask). Work items own
/// a (batch entry, key/value head), so `dK`/`dV` accumulate without contention; when there are
/// too few of them to busy every thread, the key blocks are split further and each split sums
/// into its own `dQ`.
enum FusedAttentionBackward {
    /// Tile sizes (queries × keys); 128 × 128 measured best across causal and full masks.
    static let queryBlockSize = 128
    static let keyBlockSize = 128

    static func gradients(
        _ o: FusedAttention.Operands, output: HeadMatrices, outputGradient: HeadMatrices, logSumExp: Tensor
    ) -> (query: Tensor, key: Tensor, value: Tensor) {
        let s = o.shapes
        // Δ = rowsum(dO ⊙ O), [B, H, Lq].
        let delta = Tensor(uninitializedShape: [s.batch, s.heads, s.queryLength])
        let deltaBase = UncheckedSendable(delta.storage.base)
        Parallelism.forEachChunk(of: s.batch * s.heads, minimumChunk: Swift.max(1, 32_768 / Swift.max(s.queryLength * s.valueDimension, 1))) { pairs in
            for pair in pairs {
                let (b, h) = (pair / s.heads, pair % s.heads)
                for i in 0..<s.queryLength {
                    let g = outputGradient.rows(batch: b, head: h, from: i), y = output.rows(batch: b, head: h, from: i)
                    var total: Float = 0
                    for x in 0..<s.valueDimension { total += g[x] * y[x] }
                    deltaBase.value[pair * s.queryLength + i] = total
                }
            }
        }

        let keyGradient = HeadMatrices(Tensor.zeros([s.batch, s.keyValueHeads, s.keyLength, s.headDimension]))
        let valueGradient = HeadMatrices(Tensor.zeros([s.batch, s.keyValueHeads, s.keyLength, s.valueDimension]))
        let keyBlocks = (s.keyLength + keyBlockSize - 1) / keyBlockSize
        let pairs = s.batch * s.keyValueHeads
        let threads = Parallelism.threadCount
        let splits = pairs >= 2 * threads ? 1 : Swift.max(1, Swift.min(keyBlocks, (2 * threads + pairs - 1) / pairs))
        let queryGradients = (0..<splits).map { _ in
            HeadMatrices.interleaved(batch: s.batch, heads: s.heads, length: s.queryLength, width: s.headDimension, zeroed: true)
        }
        let lse = UncheckedSendable(logSumExp.storage.base)
        let badKeys = o.mask.masksSomeKey ? NonFiniteRows(o.key) : .none
        Parallelism.forEachItem(count: pairs * splits) { item in
            let (pair, split) = (item % pairs, item / pairs)
            let blocks = (keyBlocks * split / splits)..<(keyBlocks * (split + 1) / splits)
            for block in blocks {
                let keys = (block * keyBlockSize)..<Swift.min(s.keyLength, (block + 1) * keyBlockSize)
                keyBlock(o, batch: pair / s.keyValueHeads, kvHead: pair % s.keyValueHeads, keys: keys, badKeys: badKeys,
                         outputGradient: outputGradient, logSumExp: lse.value, delta: deltaBase.value,
                         queryGradient: queryGradients[split], keyGradient: keyGradient, valueGradient: valueGradient)
            }
        }
        var queryGradient = queryGradients[0].tensor
        for partial in queryGradients.dropFirst() { queryGradient = queryGradient + partial.tensor }
        return (queryGradient, keyGradient.tensor, valueGradient.tensor)
    }

    /// Accumulates the contributions of keys `keys` of one (batch entry, key/value head) over
    /// every query head of its group and every query block that sees them.
    private static func keyBlock(
        _ o: FusedAttention.Operands, batch b: Int, kvHead: Int, keys: Range<Int>, badKeys allBadKeys: NonFiniteRows,
        outputGradient: HeadMatrices, logSumExp: UnsafeMutablePointer<Float>, delta: UnsafeMutablePointer<Float>,
        queryGradient: HeadMatrices, keyGradient: HeadMatrices, valueGradient: HeadMatrices
    ) {
        let s = o.shapes
        let (d, dv, c, j0) = (s.headDimension, s.valueDimension, keys.count, keys.lowerBound)
        let blockSize = queryBlockSize
        let hasDropout = o.dropout != nil
        let badKeys = allBadKeys.isEmpty ? [] : allBadKeys.rows(batch: b, head: kvHead, heads: s.keyValueHeads, in: keys)
        let badValues = o.badValues.isEmpty ? [] : o.badValues.rows(batch: b, head: kvHead, heads: s.keyValueHeads, in: keys)
        let scratch = Tensor(uninitializedShape: [blockSize * c * (hasDropout ? 3 : 2) + c * (d + dv)])
        let weights = scratch.storage.base, weightGradient = weights + blockSize * c
        let factors = weightGradient + blockSize * c                 // dropout factors (when used)
        let cleanKeys = factors + (hasDropout ? blockSize * c : 0), cleanValues = cleanKeys + c * d

        // Keys and values with non-finite rows zeroed, so masked garbage cannot reach a product.
        var (keyRows, ldk) = (o.key.rows(batch: b, head: kvHead, from: j0), o.key.rowStride)
        var (valueRows, ldv) = (o.value.rows(batch: b, head: kvHead, from: j0), o.value.rowStride)
        if !badKeys.isEmpty {
            for j in 0..<c { (cleanKeys + j * d).update(from: keyRows + j * ldk, count: d) }
            for j in badKeys { (cleanKeys + (j - j0) * d).initialize(repeating: 0, count: d) }
            (keyRows, ldk) = (cleanKeys, d)
        }
        if !badValues.isEmpty {
            for j in 0..<c { (cleanValues + j * dv).update(from: valueRows + j * ldv, count: dv) }
            for j in badValues { (cleanValues + (j - j0) * dv).initialize(repeating: 0, count: dv) }
            (valueRows, ldv) = (cleanValues, dv)
        }
        let keyGradientRows = keyGradient.rows(batch: b, head: kvHead, from: j0)
        let valueGradientRows = valueGradient.rows(batch: b, head: kvHead, from: j0)

        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * blockSize) { bounds in
            let lower = bounds.baseAddress!, upper = lower + blockSize
            for h in (kvHead * s.groupSize)..<((kvHead + 1) * s.groupSize) {
                let pair = b * s.heads + h
                var i0 = 0
                while i0 < s.queryLength {
                    let rows = i0..<Swift.min(s.queryLength, i0 + blockSize)
                    let r = rows.count
                    defer { i0 += blockSize }
                    guard o.keyRanges(batch: b, rows: rows, lower: lower, upper: upper) != nil,
                          (0..<r).contains(where: { lower[$0] < keys.upperBound && upper[$0] > j0 }) else { continue }
                    let queryRows = o.query.rows(batch: b, head: h, from: i0)
                    let gradientRows = outputGradient.rows(batch: b, head: h, from: i0)

                    // P = exp(scale·Q Kᵀ + bias − lse), zero where masked.
                    BLAS.gemm(transposeA: false, transposeB: true, m: r, n: c, k: d, alpha: s.scale,
                              a: queryRows, lda: o.query.rowStride, b: keyRows, ldb: ldk,
                              beta: 0, c: weights, ldc: c)
                    for t in 0..<r {
                        let row = weights + t * c
                        let start = Swift.min(Swift.max(lower[t] - j0, 0), c), end = Swift.min(Swift.max(upper[t] - j0, 0), c)
                        let rowLSE = logSumExp[pair * s.queryLength + i0 + t]
                        guard start < end, rowLSE != -.infinity else {
                            row.initialize(repeating: 0, count: c)
                            continue
                        }
                        o.bias?.add(to: row, batch: b, head: h, query: i0 + t, firstKey: j0, segment: start..<end)
                        row.initialize(repeating: 0, count: start)
                        (row + end).initialize(repeating: 0, count: c - end)
                        _ = RowKernels.exponentiate(row + start, into: row + start, count: end - start, subtracting: rowLSE)
                    }
                    var droppedWeights = weights
                    if let dropout = o.dropout {
                        for t in 0..<r {
                            let factorRow = factors + t * c
                            factorRow.initialize(repeating: 1, count: c)
                            dropout.apply(to: factorRow, count: c, startingAt: o.weightIndex(batch: b, head: h, query: i0 + t, key: j0))
                        }
                        droppedWeights = weightGradient       // borrow: P ⊙ mask, used only for dV below
                        for x in 0..<(r * c) { droppedWeights[x] = weights[x] * factors[x] }
                    }
                    // dV += (P ⊙ mask)ᵀ dO
                    BLAS.gemm(transposeA: true, transposeB: false, m: c, n: dv, k: r, alpha: 1,
                              a: droppedWeights, lda: c, b: gradientRows, ldb: outputGradient.rowStride,
                              beta: 1, c: valueGradientRows, ldc: dv)
                    // dP = dO Vᵀ (⊙ mask);  dS = P ⊙ (dP − Δ), exactly 0 where P is.
                    BLAS.gemm(transposeA: false, transposeB: true, m: r, n: c, k: dv, alpha: 1,
                              a: gradientRows, lda: outputGradient.rowStride, b: valueRows, ldb: ldv,
                              beta: 0, c: weightGradient, ldc: c)
                    for t in 0..<r {
                        let rowDelta = delta[pair * s.queryLength + i0 + t]
                        let p = weights + t * c, g = weightGradient + t * c
                        if hasDropout {
                            let f = factors + t * c
                            for j in 0..<c { g[j] = p[j] == 0 ? 0 : p[j] * (g[j] * f[j] - rowDelta) }
                        } else {
                            for j in 0..<c { g[j] = p[j] == 0 ? 0 : p[j] * (g[j] - rowDelta) }
                        }
                    }
                    // dK += scale · dSᵀ Q;  dQ += scale · dS K
                    BLAS.gemm(transposeA: true, transposeB: false, m: c, n: d, k: r, alpha: s.scale,
                              a: weightGradient, lda: c, b: queryRows, ldb: o.query.rowStride,
                              beta: 1, c: keyGradientRows, ldc: d)
                    BLAS.gemm(transposeA: false, transposeB: false, m: r, n: d, k: c, alpha: s.scale,
                              a: weightGradient, lda: c, b: keyRows, ldb: ldk,
                              beta: 1, c: queryGradient.rows(batch: b, head: h, from: i0), ldc: queryGradient.rowStride)
                }
            }
        }
    }
}
