import Attend

/// One sublayer of a Transformer layer with its residual connection:
/// `x + dropout(block(norm(x)))` when `normFirst` (pre-norm), else `norm(x + dropout(block(x)))`
/// (post-norm, as in the original Transformer and PyTorch's default).
func residualBlock(_ x: Tensor, normFirst: Bool, norm: LayerNorm, dropout: Dropout,
                   _ block: (Tensor) -> Tensor) -> Tensor {
    normFirst ? x + dropout(block(norm(x))) : norm(x + dropout(block(x)))
}
