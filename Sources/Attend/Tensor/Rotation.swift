/// Rotates feature pairs of `x` `[…, L, D]` by per-position angles: for position `p` and pair `i`,
///
/// ```
/// (a, b) ↦ (a·cos θₚᵢ − b·sin θₚᵢ,  b·cos θₚᵢ + a·sin θₚᵢ)
/// ```
/// with `cos θ` and `sin θ` read from `cosines`/`sines` `[L, D/2]`. The pairs are `(x[2i], x[2i+1])`
/// when `adjacentPairs` (GPT-J, llama.cpp's GGUF layout) and `(x[i], x[i + D/2])` otherwise
/// (GPT-NeoX, Hugging Face's `rotate_half`). One pass, one output; the pullback is the rotation by
/// `−θ`. This is the kernel of rotary position embedding (``RotaryEmbedding`` in AttendNN).
public func rotatingPairs(_ x: Tensor, cosines: Tensor, sines: Tensor, adjacentPairs: Bool) -> Tensor {
    precondition(x.rank >= 2 && x.shape[x.rank - 1] % 2 == 0, "rotatingPairs needs [..., L, D] with even D, got \(x.shape)")
    let (length, width) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    precondition(cosines.shape == [length, width / 2] && sines.shape == cosines.shape,
                 "rotatingPairs: tables \(cosines.shape), \(sines.shape) do not fit input \(x.shape)")
    let tables = (cosines.detached.contiguous(), sines.detached.contiguous())
    let output = rotate(x.detached.contiguous(), tables.0, tables.1, adjacentPairs: adjacentPairs, inverse: false)
    return output.recordingGradient(from: [x]) { g in
        [rotate(g.contiguous(), tables.0, tables.1, adjacentPairs: adjacentPairs, inverse: true)]
    }
}

/// The rotation itself, over contiguous inputs; `inverse` rotates by `−θ`.
private func rotate(_ x: Tensor, _ cosines: Tensor, _ sines: Tensor, adjacentPairs: Bool, inverse: Bool) -> Tensor {
    let (length, width) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
    let half = width / 2, rows = x.scalarCount / Swift.max(width, 1)
    let output = Tensor(uninitializedShape: x.shape)
    let (source, target) = (UncheckedSendable(x.basePointer), UncheckedSendable(output.storage.base))
    let (cosTable, sinTable) = (UncheckedSendable(cosines.basePointer), UncheckedSendable(sines.basePointer))
    let sign: Float = inverse ? -1 : 1
    // First and second element of pair i within a row.
    let (firstStride, secondOffset) = adjacentPairs ? (2, 1) : (1, half)
    Parallelism.forEachChunk(of: rows, minimumChunk: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for row in range {
            let position = row % length
            let from = source.value + row * width, to = target.value + row * width
            let cos = cosTable.value + position * half, sin = sinTable.value + position * half
            for i in 0..<half {
                let (j, k) = (i * firstStride, i * firstStride + secondOffset)
                let (a, b, c, s) = (from[j], from[k], cos[i], sign * sin[i])
                to[j] = a * c - b * s
                to[k] = b * c + a * s
            }
        }
    }
    return output
}
