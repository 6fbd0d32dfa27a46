import Attend

/// Zeroes each element with probability `p` in training mode and scales the rest by `1/(1−p)`;
/// the identity in evaluation mode. Draws from its own seeded stream.
public final class Dropout: Module, RandomStateful {
    public let probability: Float
    private var generator: PhiloxGenerator

    public init(_ probability: Float, seed: UInt64? = nil) {
        precondition(probability >= 0 && probability < 1, "Dropout probability must be in [0, 1), got \(probability)")
        self.probability = probability
        generator = PhiloxGenerator(seed: seed ?? Initialization.nextSeed())
        super.init()
    }

    public var randomState: PhiloxGenerator.Snapshot {
        get { generator.snapshot }
        set { generator = PhiloxGenerator(snapshot: newValue) }
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        guard isTraining && probability > 0 else { return x }
        return Attend.dropout(x, probability: probability, seed: generator.next())
    }
}

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

/// The position-wise feed-forward block `linear2(dropout(activation(linear1(x))))`.
public final class FeedForward: Module {
    @Child("linear1") public var linear1: Linear
    @Child("linear2") public var linear2: Linear
    @Child("dropout") public var dropout: Dropout
    public let activation: Activation

    public init(modelDimension: Int, hiddenDimension: Int, activation: Activation = .relu, dropout: Float = 0) {
        self.activation = activation
        super.init()
        linear1 = Linear(modelDimension, hiddenDimension)
        linear2 = Linear(hiddenDimension, modelDimension)
        self.dropout = Dropout(dropout)
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear2(dropout(activation(linear1(x))))
    }
}
