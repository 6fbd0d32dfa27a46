import Attend

/// A layer that maps `[…, in]` to `[…, out]` linearly: ``Linear`` (Float32 or int8 weights) or
/// ``BlockQuantizedLinear`` (a GGUF file's 4- or 8-bit blocks). Models whose weights may come from
/// either kind of file hold their projections as `any LinearLayer`.
public protocol LinearLayer: Module {
    var inputDimension: Int { get }
    var outputDimension: Int { get }
    /// `[…, in]` → `[…, out]`.
    func callAsFunction(_ x: Tensor) -> Tensor
}

/// A table of token vectors that can also score a hidden state against every token — what a
/// language model with tied input and output embeddings needs: ``Embedding`` or ``BlockQuantizedLinear``.
public protocol TokenEmbeddingTable: Module {
    /// Tokens in the table.
    var count: Int { get }
    /// Width of each vector.
    var dimension: Int { get }
    /// Rows for `ids`, `[ids.count, dimension]`.
    func callAsFunction(_ ids: [Int]) -> Tensor
    /// `h·Tᵀ`: each token's score for hidden states `h` `[…, dimension]`, `[…, count]`.
    func scores(_ hidden: Tensor) -> Tensor
}

extension Linear: LinearLayer {}

extension Embedding: TokenEmbeddingTable {
    public func scores(_ hidden: Tensor) -> Tensor {
        if let weightScale { return matmul(hidden, weight.transposed()) * weightScale }
        return matmul(hidden, weight.transposed())
    }
}
