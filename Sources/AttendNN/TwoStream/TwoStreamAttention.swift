import Attend
import Foundation

/// XLNet's two-stream self-attention with relative positions (Yang et al. 2019), one layer's
/// worth, with Hugging Face's parameter names (`q`, `k`, `v`, `o`, `r` of shape `[D, H, Dh]`,
/// `r_w_bias`, `r_r_bias`, `r_s_bias`, `seg_embed`, `layer_norm`).
///
/// Both streams share every parameter. The content stream `h` sees tokens up to and including
/// its own position in the factorization order; the query stream `g` sees strictly earlier ones,
/// so it can predict a token without seeing it:
///
/// ```
/// h′_{z_t} = Attn(Q = h_{z_t}, KV = h_{z≤t})        g′_{z_t} = Attn(Q = g_{z_t}, KV = h_{z<t})
/// score(i, j) = ((q_i + b_w)·k_j + (q_i + b_r)·r_{i−j} + (q_i + b_s)·s_{ij}) / √Dh
/// ```
/// with `r_{i−j}` the projected sinusoid of the relative distance and `s_{ij}` the segment
/// embedding for "same segment or not". Masks are additive (`−10³⁰` where blocked), as in the
/// reference, so a row with nothing to attend to spreads its weight evenly, as XLNet does.
public final class TwoStreamAttention: Module {
    @Parameter("q") public var query: Tensor
    @Parameter("k") public var key: Tensor
    @Parameter("v") public var value: Tensor
    @Parameter("o") public var output: Tensor
    @Parameter("r") public var position: Tensor
    @Parameter("r_w_bias") public var contentBias: Tensor
    @Parameter("r_r_bias") public var positionBias: Tensor
    @Parameter("r_s_bias") public var segmentBias: Tensor
    @Parameter("seg_embed") public var segmentEmbedding: Tensor
    @Child("layer_norm") public var norm: LayerNorm
    public let headCount: Int
    public let headDimension: Int

    public init(modelDimension d: Int, headCount n: Int, headDimension h: Int? = nil, layerNormEpsilon: Float = 1e-12) {
        headCount = n
        headDimension = h ?? d / n
        super.init()
        let dh = headDimension
        for parameter in [$query, $key, $value, $output, $position] { parameter.tensor = Initialization.normal([d, n, dh], standardDeviation: 0.02) }
        for parameter in [$contentBias, $positionBias, $segmentBias] { parameter.tensor = Initialization.normal([n, dh], standardDeviation: 0.02) }
        segmentEmbedding = Initialization.normal([2, n, dh], standardDeviation: 0.02)
        norm = LayerNorm(d, epsilon: layerNormEpsilon)
    }

    /// Inputs shared by both streams of one layer.
    public struct Context {
        /// Relative position encodings `[Lk + Lq, D]` (see ``relativePositionEncoding(queryLength:keyLength:dimension:)``).
        public var positions: Tensor
        /// 1 where query `i` and key `j` are in different segments, `[B, 1, Lq, Lk]`; nil without segments.
        public var segmentDifference: Tensor?
        /// Additive masks `[B, 1, Lq, Lk]` (0 or −10³⁰) for the content and the query stream.
        public var contentMask: Tensor?
        public var queryMask: Tensor?
        /// `[B, P, L]`: which position each of the `P` query-stream rows predicts; nil: one row per position.
        public var targetMapping: Tensor?

        public init(positions: Tensor, segmentDifference: Tensor? = nil, contentMask: Tensor? = nil,
                    queryMask: Tensor? = nil, targetMapping: Tensor? = nil) {
            self.positions = positions
            self.segmentDifference = segmentDifference
            self.contentMask = contentMask
            self.queryMask = queryMask
            self.targetMapping = targetMapping
        }
    }

    /// Updates both streams. `h`: `[B, L, D]`; `g`: `[B, P, D]` or nil (content stream only).
    /// Returns the new streams and, on request, each stream's weights `[B, H, L, L]`.
    public func callAsFunction(content h: Tensor, query g: Tensor?, context: Context, returningWeights: Bool = false)
        -> (content: Tensor, query: Tensor?, contentWeights: Tensor?, queryWeights: Tensor?) {
        let (l, d) = (h.shape[1], h.shape[2])
        let (n, dh) = (headCount, headDimension)
        func project(_ x: Tensor, _ weight: Tensor) -> Tensor {            // [B, L, D] → [B, n, L, dh]
            splitHeads(matmul(x, weight.reshaped([d, n * dh])), heads: n)
        }
        let keys = project(h, key), values = project(h, value)
        let positionKeys = matmul(context.positions, position.reshaped([d, n * dh]))
            .reshaped([context.positions.shape[0], n, dh]).permuted([1, 0, 2])                 // [n, R, dh]

        func attend(_ q: Tensor, mask: Tensor?) -> (Tensor, Tensor) {                           // q: [B, n, L, dh]
            let biasShape = [1, n, 1, dh]
            let contentScores = matmul(q + contentBias.reshaped(biasShape), keys.transposed())  // [B, n, L, L]
            let rawPositions = matmul(q + positionBias.reshaped(biasShape), positionKeys.unsqueezed(axis: 0).transposed())
            var scores = contentScores + TwoStreamAttention.relativeShift(rawPositions, keyLength: l)
            if let difference = context.segmentDifference {
                // [B, n, L, 2]: each query's score against "same segment" (0) and "different" (1).
                let segmentScores = matmul(q + segmentBias.reshaped(biasShape), segmentEmbedding.permuted([1, 2, 0]).unsqueezed(axis: 0))
                let same = segmentScores.sliced(axis: 3, 0..<1), different = segmentScores.sliced(axis: 3, 1..<2)
                scores = scores + same + difference * (different - same)
            }
            scores = scores * (1 / Float(dh).squareRoot())
            if let mask { scores = scores + mask }
            let weights = softmax(scores, axis: -1)
            return (matmul(weights, values), weights)                                           // [B, n, L, dh]
        }
        func finish(_ vectors: Tensor, residual: Tensor) -> Tensor {        // [B, n, Q, dh] → LN(residual + vectors·O)
            let merged = mergeHeads(vectors)                                 // [B, Q, n·dh]
            return norm(residual + matmul(merged, output.reshaped([d, n * dh]).transposed()))
        }

        let (contentVectors, contentWeights) = attend(project(h, query), mask: context.contentMask)
        let newContent = finish(contentVectors, residual: h)
        guard let g else { return (newContent, nil, returningWeights ? contentWeights : nil, nil) }
        var queryHeads = project(g, query)                                                      // [B, n, P, dh]
        if let mapping = context.targetMapping {                                                // to sequence positions
            queryHeads = matmul(mapping.transposed().unsqueezed(axis: 1), queryHeads)           // [B, n, L, dh]
        }
        var (queryVectors, queryWeights) = attend(queryHeads, mask: context.queryMask)
        if let mapping = context.targetMapping {
            queryVectors = matmul(mapping.unsqueezed(axis: 1), queryVectors)                    // back to [B, n, P, dh]
        }
        return (newContent, finish(queryVectors, residual: g), returningWeights ? contentWeights : nil,
                returningWeights ? queryWeights : nil)
    }

    /// Transformer-XL's relative shift: from scores against every relative distance
    /// (`[…, Lq, Lk + Lq]`, distances `Lk, Lk−1, …, −Lq+1`) to scores against each key
    /// (`[…, Lq, Lk]`), entry `(i, j)` taking distance `i − j`.
    public static func relativeShift(_ x: Tensor, keyLength: Int) -> Tensor {
        let shape = x.shape
        let (q, r) = (shape[shape.count - 2], shape[shape.count - 1])
        let leading = Array(shape.dropLast(2))
        return x.reshaped(leading + [r, q]).sliced(axis: -2, 1..<r).reshaped(leading + [q, r - 1]).sliced(axis: -1, 0..<keyLength)
    }

    /// XLNet's relative position encodings for bidirectional attention: for distances
    /// `Lk, Lk−1, …, −Lq+1`, `[sin(p·ω), cos(p·ω)]` with `ω_i = 10000^(−2i/D)`; `[Lk + Lq, D]`.
    public static func relativePositionEncoding(queryLength: Int, keyLength: Int, dimension: Int) -> Tensor {
        let half = dimension / 2
        var values = [Float](repeating: 0, count: (keyLength + queryLength) * dimension)
        let frequencies = (0..<half).map { Float(1 / Foundation.pow(10_000, Double(2 * $0) / Double(dimension))) }
        for (row, distance) in stride(from: keyLength, to: -queryLength, by: -1).enumerated() {
            for i in 0..<half {
                // In float32, as the reference computes it.
                let angle = Float(distance) * frequencies[i]
                values[row * dimension + i] = Foundation.sin(angle)
                values[row * dimension + half + i] = Foundation.cos(angle)
            }
        }
        return Tensor(shape: [keyLength + queryLength, dimension], scalars: values)
    }
}
