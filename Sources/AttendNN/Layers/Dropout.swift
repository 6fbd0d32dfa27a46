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
