/// `[B, L, heads·Dh]` → `[B, heads, L, Dh]`: a view, no copy (the layout attention kernels take).
public func splitHeads(_ x: Tensor, heads: Int) -> Tensor {
    precondition(x.rank == 3 && heads > 0 && x.shape[2] % heads == 0,
                 "splitHeads needs [B, L, heads·Dh] with a width divisible by \(heads), got \(x.shape)")
    return x.reshaped([x.shape[0], x.shape[1], heads, x.shape[2] / heads]).permuted([0, 2, 1, 3])
}

/// `[B, H, L, Dh]` → `[B, L, H·Dh]`: the inverse of ``splitHeads(_:heads:)`` (a copy unless the
/// heads already lie interleaved in storage, as the attention kernels write them).
public func mergeHeads(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "mergeHeads needs [B, H, L, Dh], got \(x.shape)")
    return x.permuted([0, 2, 1, 3]).reshaped([x.shape[0], x.shape[2], x.shape[1] * x.shape[3]])
}
