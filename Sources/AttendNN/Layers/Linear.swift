import Attend

/// `y = x Wᵀ + b` over the last axis (PyTorch's `nn.Linear`: weight `[out, in]`).
public final class Linear: Module {
    @Parameter("weight") public var weight: Tensor
    @Parameter("bias") public var bias: Tensor?

    /// - Parameters: `inputDimension` → `outputDimension`; weights and bias start
    ///   `U(−1/√in, 1/√in)` as in PyTorch.
    public init(_ inputDimension: Int, _ outputDimension: Int, bias: Bool = true) {
        super.init()
        weight = Initialization.linear([outputDimension, inputDimension], fanIn: inputDimension)
        self.bias = bias ? Initialization.linear([outputDimension], fanIn: inputDimension) : nil
    }

    public var inputDimension: Int { weight.shape[1] }
    public var outputDimension: Int { weight.shape[0] }

    /// `[…, in]` → `[…, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        precondition(x.shape.last == inputDimension, "Linear(\(inputDimension) → \(outputDimension)) got input \(x.shape)")
        let y = matmul(x, weight.transposed())
        return bias.map { y + $0 } ?? y
    }
}
