import Attend
import Synchronization

/// Where layers draw their initial weights: one process-wide Philox stream, so a program that
/// builds the same model in the same order gets the same weights on every run.
/// ``seed(_:)`` restarts the stream.
public enum Initialization {
    private static let generator = Mutex(PhiloxGenerator(seed: 0))

    /// Restarts the stream that default-initialized layers draw from.
    public static func seed(_ seed: UInt64) {
        generator.withLock { $0 = PhiloxGenerator(seed: seed) }
    }

    /// Set while building a model whose weights are about to be loaded: layers then start at
    /// zero instead of drawing random numbers they would throw away. (Dropout layers still take
    /// their seeds from the stream, so each keeps a distinct one.)
    @TaskLocal public static var isSkipped = false

    /// Builds `body`'s modules without random initialization, for loading pretrained weights.
    public static func skipping<Result>(_ body: () throws -> Result) rethrows -> Result {
        try $isSkipped.withValue(true) { try body() }
    }

    /// Elements uniform in `[-bound, bound)`.
    public static func uniform(_ shape: [Int], bound: Float) -> Tensor {
        if isSkipped { return .zeros(shape) }
        return generator.withLock { Tensor.uniform(shape, in: -bound..<bound, using: &$0) }
    }

    /// Elements from `N(0, σ²)`.
    public static func normal(_ shape: [Int], standardDeviation: Float = 1) -> Tensor {
        if isSkipped { return .zeros(shape) }
        return generator.withLock { Tensor.normal(shape, standardDeviation: standardDeviation, using: &$0) }
    }

    /// PyTorch's default for `nn.Linear` weights and biases: `U(−1/√fanIn, 1/√fanIn)`.
    public static func linear(_ shape: [Int], fanIn: Int) -> Tensor {
        uniform(shape, bound: 1 / Float(Swift.max(fanIn, 1)).squareRoot())
    }

    /// Glorot/Xavier uniform for a `[fanOut, fanIn]` matrix: `U(±√(6 / (fanIn + fanOut)))`.
    public static func xavierUniform(_ shape: [Int]) -> Tensor {
        uniform(shape, bound: (6 / Float(shape[0] + shape[1])).squareRoot())
    }

    /// A fresh seed for a module's own dropout stream.
    static func nextSeed() -> UInt64 {
        generator.withLock { $0.next() }
    }
}
