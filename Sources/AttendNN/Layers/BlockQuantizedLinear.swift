import Attend

/// `y = x Wᵀ (+ b)` with `W` kept in a GGUF file's block format (Q4_0, Q4_1, Q8_0): the weights stay
/// 4- or 8-bit in memory and the product reads them directly (``blockQuantizedProduct(_:_:)``).
/// The weights are frozen (they have no Float32 parameter to train); gradients flow to the input.
///
/// The same matrix serves as a token table (``TokenEmbeddingTable``): a lookup dequantizes only
/// the rows asked for, so a language model's tied embedding and output layer share one copy.
public final class BlockQuantizedLinear: Module, LinearLayer, TokenEmbeddingTable {
    /// The quantized weight `[out, in]`.
    public let matrix: BlockQuantizedMatrix
    @Parameter("bias") public var bias: Tensor?
    /// How inputs meet the quantized weights (``ActivationPrecision``): 16-bit blocks by default
    /// (within ~1e-4 of Float32 activations at integer speed); `.float32` for exact products.
    public var activationPrecision: ActivationPrecision = .int16

    public init(_ matrix: BlockQuantizedMatrix, bias: Tensor? = nil) {
        precondition(bias.map { $0.shape == [matrix.rows] } ?? true,
                     "BlockQuantizedLinear: bias \(bias!.shape) does not match \(matrix.rows) outputs")
        self.matrix = matrix
        super.init()
        self.bias = bias
    }

    public var inputDimension: Int { matrix.columns }
    public var outputDimension: Int { matrix.rows }
    public var count: Int { matrix.rows }
    public var dimension: Int { matrix.columns }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let y = blockQuantizedProduct(x, matrix, precision: activationPrecision)
        return bias.map { y + $0 } ?? y
    }

    public func callAsFunction(_ ids: [Int]) -> Tensor {
        for id in ids { precondition(id >= 0 && id < count, "token id \(id) is outside 0..<\(count)") }
        return matrix.dequantizedRows(ids)
    }

    public func scores(_ hidden: Tensor) -> Tensor { blockQuantizedProduct(hidden, matrix, precision: activationPrecision) }
}
