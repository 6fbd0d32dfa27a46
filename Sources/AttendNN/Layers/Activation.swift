import Attend

/// The activation functions Transformer layers use.
public enum Activation: String, Sendable, CaseIterable {
    case relu, gelu, geluTanh, silu, tanh, sigmoid

    public func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: Attend.relu(x)
        case .gelu: Attend.gelu(x)
        case .geluTanh: Attend.gelu(x, approximation: .tanh)
        case .silu: Attend.silu(x)
        case .tanh: Attend.tanh(x)
        case .sigmoid: Attend.sigmoid(x)
        }
    }
}
