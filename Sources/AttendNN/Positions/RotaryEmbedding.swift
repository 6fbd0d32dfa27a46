import Attend
import Foundation

/// Rotary position embedding (RoPE, Su et al. 2021): rotates pairs of query/key features by
/// angles `p·θᵢ`, `θᵢ = base^(−2i/D)`, so that `⟨rot(q, p), rot(k, p′)⟩` depends only on `p − p′`.
///
/// ```
/// (x₁, x₂) ↦ (x₁ cos pθ − x₂ sin pθ,  x₂ cos pθ + x₁ sin pθ)
/// ```
/// Two conventions pair the features differently; weights trained with one need that one.
public struct RotaryEmbedding: Sendable {
    /// How features are paired for rotation.
    public enum Pairing: Sendable {
        /// Pairs `(x[2i], x[2i+1])`: RoFormer, GPT-J, Meta's original LLaMA code.
        case interleaved
        /// Pairs `(x[i], x[i + D/2])`: GPT-NeoX and Hugging Face's LLaMA (`rotate_half`).
        case halfSplit
    }

    public let dimension: Int
    public let base: Double
    public let pairing: Pairing
    /// `cos` and `sin` tables `[P, D/2]` for positions `0..<P`, computed once (P = `maximumPositions`).
    private let table: (cos: Tensor, sin: Tensor)?

    /// - Parameter maximumPositions: positions to tabulate once (a model's context length), so
    ///   that a call at positions below it only reads the table; beyond it angles are computed per call.
    public init(dimension: Int, base: Double = 10_000, pairing: Pairing = .halfSplit, maximumPositions: Int = 0) {
        precondition(dimension > 0 && dimension % 2 == 0, "RotaryEmbedding needs an even dimension, got \(dimension)")
        precondition(maximumPositions >= 0, "RotaryEmbedding: maximumPositions \(maximumPositions) is negative")
        self.dimension = dimension
        self.base = base
        self.pairing = pairing
        table = maximumPositions > 0
            ? Self.computeAngles(dimension: dimension, base: base, length: maximumPositions, offset: 0) : nil
    }

    /// `cos` and `sin` tables `[length, D/2]` for positions `offset..<offset + length`.
    public func angles(length: Int, offset: Int = 0) -> (cos: Tensor, sin: Tensor) {
        if let table, offset + length <= table.cos.shape[0] {
            return (table.cos.sliced(axis: 0, offset..<(offset + length)), table.sin.sliced(axis: 0, offset..<(offset + length)))
        }
        return Self.computeAngles(dimension: dimension, base: base, length: length, offset: offset)
    }

    /// `cos(p·θᵢ)`, `sin(p·θᵢ)` with `θᵢ = base^(−2i/D)`, computed in Float64.
    private static func computeAngles(dimension: Int, base: Double, length: Int, offset: Int) -> (cos: Tensor, sin: Tensor) {
        let half = dimension / 2
        var cosines = [Float](repeating: 0, count: length * half), sines = cosines
        let frequencies = (0..<half).map { Foundation.pow(base, -2 * Double($0) / Double(dimension)) }
        for p in 0..<length {
            for i in 0..<half {
                let angle = Double(p + offset) * frequencies[i]
                cosines[p * half + i] = Float(Foundation.cos(angle))
                sines[p * half + i] = Float(Foundation.sin(angle))
            }
        }
        return (Tensor(shape: [length, half], scalars: cosines), Tensor(shape: [length, half], scalars: sines))
    }

    /// Rotates `x` `[…, L, D]` (queries or keys, heads in leading axes) as positions
    /// `offset..<offset + L` (pass the cache length when decoding incrementally): one pass
    /// (``rotatingPairs(_:cosines:sines:adjacentPairs:)``).
    public func callAsFunction(_ x: Tensor, offset: Int = 0) -> Tensor {
        precondition(x.rank >= 2 && x.shape[x.rank - 1] == dimension, "RotaryEmbedding(\(dimension)) got \(x.shape)")
        let (cos, sin) = angles(length: x.shape[x.rank - 2], offset: offset)             // [L, D/2]
        return rotatingPairs(x, cosines: cos, sines: sin, adjacentPairs: pairing == .interleaved)
    }
}
