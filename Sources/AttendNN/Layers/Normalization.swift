import Attend

/// Layer normalization over the last axis (PyTorch's `nn.LayerNorm`): `(x − μ)/√(σ² + ε) · γ + β`.
public final class LayerNorm: Module {
    @Parameter("weight") public var weight: Tensor?
    @Parameter("bias") public var bias: Tensor?
    public let epsilon: Float

    public init(_ dimension: Int, epsilon: Float = 1e-5, elementwiseAffine: Bool = true) {
        self.epsilon = epsilon
        super.init()
        weight = elementwiseAffine ? .ones([dimension]) : nil
        bias = elementwiseAffine ? .zeros([dimension]) : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// Root-mean-square normalization over the last axis (PyTorch's `nn.RMSNorm`): `x / √(mean(x²) + ε) · γ`.
public final class RMSNorm: Module {
    @Parameter("weight") public var weight: Tensor
    public let epsilon: Float

    /// `epsilon` defaults to `Float.ulpOfOne`, as PyTorch's `eps=None`.
    public init(_ dimension: Int, epsilon: Float = .ulpOfOne) {
        self.epsilon = epsilon
        super.init()
        weight = .ones([dimension])
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        rmsNorm(x, weight: weight, epsilon: epsilon)
    }
}
