import Attend
import Foundation

/// The fixed sinusoidal positions of "Attention Is All You Need":
/// `PE[p, 2i] = sin(p / 10000^(2i/d))`, `PE[p, 2i+1] = cos(p / 10000^(2i/d))`, added to the
/// embeddings. No parameters.
public final class SinusoidalPositionalEncoding: Module {
    public let dimension: Int
    public let base: Double

    public init(dimension: Int, base: Double = 10_000) {
        self.dimension = dimension
        self.base = base
        super.init()
    }

    /// The `[length, dimension]` table for positions `offset..<offset + length`.
    public func table(length: Int, offset: Int = 0) -> Tensor {
        var values = [Float](repeating: 0, count: length * dimension)
        let divisors = stride(from: 0, to: dimension, by: 2).map { Foundation.pow(base, Double($0) / Double(dimension)) }
        for p in 0..<length {
            for i in stride(from: 0, to: dimension, by: 2) {
                let angle = Double(p + offset) / divisors[i / 2]
                values[p * dimension + i] = Float(Foundation.sin(angle))
                if i + 1 < dimension { values[p * dimension + i + 1] = Float(Foundation.cos(angle)) }
            }
        }
        return Tensor(shape: [length, dimension], scalars: values)
    }

    /// `x + PE` for `x` `[B, L, dimension]` at positions `offset…` (the offset serves incremental decoding).
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == dimension, "SinusoidalPositionalEncoding(\(dimension)) got \(x.shape)")
        return x + table(length: x.shape[1], offset: offset)
    }
}

/// Learned absolute positions (BERT, GPT-2): a `[maxLength, dimension]` table added to the embeddings.
public final class LearnedPositionalEmbedding: Module {
    @Parameter("weight") public var weight: Tensor

    public init(maxLength: Int, dimension: Int) {
        super.init()
        weight = Initialization.normal([maxLength, dimension], standardDeviation: 0.02)
    }

    public var maxLength: Int { weight.shape[0] }

    /// `x + P[offset..<offset + L]` for `x` `[B, L, dimension]`.
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == weight.shape[1] && offset >= 0 && offset + x.shape[1] <= maxLength,
                     "LearnedPositionalEmbedding(\(maxLength) × \(weight.shape[1])) got \(x.shape) at offset \(offset)")
        return x + weight.sliced(axis: 0, offset..<(offset + x.shape[1]))
    }
}
