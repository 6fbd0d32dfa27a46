import Attend
import AttendNN
import Foundation
import Testing

@Suite("Dual-stream, cross-modal attention and fusion (hand-checked)")
struct CrossModalTests {
    static func identity(_ n: Int) -> Tensor { Tensor.eye(n) }

    @Test func dualStreamDotProductAndCosine() {
        let attention = DualStreamAttention(queryDimension: 2, contentDimension: 2, attentionDimension: 2)
        attention.queryProjection.weight = Self.identity(2)
        attention.contentProjection.weight = Self.identity(2)
        let query = Tensor(shape: [1, 1, 2], scalars: [1, 0])
        let content = Tensor(shape: [1, 2, 2], scalars: [2, 0, 0, 2])
        // Scores 2/√2 and 0: weights e^√2/(e^√2 + 1), 1/(e^√2 + 1); output = weights · content.
        let e = Float(Foundation.exp(2.0.squareRoot()))
        let (output, weights) = attention(query: query, content: content)
        expectClose(weights, Tensor(shape: [1, 1, 2], scalars: [e / (e + 1), 1 / (e + 1)]), tolerance: 1e-6, "dot weights")
        expectClose(output, Tensor(shape: [1, 1, 2], scalars: [2 * e / (e + 1), 2 / (e + 1)]), tolerance: 1e-6, "dot output")
        // Cosine: cos = 1 and 0, times the scale 3.
        let cosine = DualStreamAttention(queryDimension: 2, contentDimension: 2, attentionDimension: 2, scoring: .cosine(scale: 3))
        cosine.queryProjection.weight = Self.identity(2)
        cosine.contentProjection.weight = Self.identity(2)
        let e3 = Float(Foundation.exp(3.0))
        expectClose(cosine(query: query, content: content).weights,
                    Tensor(shape: [1, 1, 2], scalars: [e3 / (e3 + 1), 1 / (e3 + 1)]), tolerance: 1e-6, "cosine weights")
        // Different widths: queries 3 wide, content 5 wide; the output has the content's width.
        Initialization.seed(71)
        var generator = PhiloxGenerator(seed: 72)
        let wide = DualStreamAttention(queryDimension: 3, contentDimension: 5, attentionDimension: 4)
        #expect(wide(query: Tensor.normal([2, 4, 3], using: &generator), content: Tensor.normal([2, 6, 5], using: &generator)).output.shape == [2, 4, 5])
    }

    @Test func crossModalMasksPaddedTextAndMissingRegions() {
        Initialization.seed(73)
        var generator = PhiloxGenerator(seed: 74)
        let layer = CrossModalAttention(queryDimension: 8, contextDimension: 6, headCount: 2)
        let text = Tensor.normal([2, 5, 8], using: &generator)
        var image = Tensor.normal([2, 7, 6], using: &generator)
        let (output, weights) = layer(text, context: image, queryLengths: [5, 3], contextLengths: [7, 4], returningWeights: true)
        #expect(output.shape == [2, 5, 8])
        #expect(output.selecting(axis: 0, index: 1).sliced(axis: 0, 3..<5).scalars.allSatisfy { $0 == 0 })
        #expect(weights!.selecting(axis: 0, index: 1).sliced(axis: 2, 4..<7).scalars.allSatisfy { $0 == 0 })
        // Regions beyond the count do not matter, even as NaN.
        image.withUnsafeMutableScalars { s in for j in 4..<7 { for d in 0..<6 { s[(7 + j) * 6 + d] = .nan } } }
        let again = layer(text, context: image, queryLengths: [5, 3], contextLengths: [7, 4]).output
        expectClose(again, output, tolerance: 1e-6, "masked regions ignored")
    }

    @Test func multiHopReturnsOneWeightMapPerHop() {
        Initialization.seed(75)
        var generator = PhiloxGenerator(seed: 76)
        let hops = MultiHopAttention(textDimension: 8, imageDimension: 4, headCount: 2, hopCount: 3)
        let (text, weights) = hops(text: Tensor.normal([2, 5, 8], using: &generator), image: Tensor.normal([2, 6, 4], using: &generator),
                                   textLengths: [5, 2], regionCounts: [6, 3])
        #expect(text.shape == [2, 5, 8] && weights.count == 3)
        for hop in weights {
            let sums = hop.sum(alongAxes: [3]).selecting(axis: 0, index: 1).selecting(axis: 0, index: 0).scalars
            #expect(sums.allSatisfy { abs($0 - 1) < 1e-5 })
            #expect(hop.selecting(axis: 0, index: 1).sliced(axis: 2, 3..<6).scalars.allSatisfy { $0 == 0 })
        }
    }

    @Test func coAttentionStreamsReadEachOther() {
        Initialization.seed(77)
        var generator = PhiloxGenerator(seed: 78)
        let text = Tensor.normal([1, 4, 8], using: &generator)
        let image = Tensor.normal([1, 3, 6], using: &generator)
        let vilbert = ViLBERTCoAttentionLayer(textDimension: 8, imageDimension: 6, headCount: 2)
        let (t, v) = vilbert(text: text, image: image)
        #expect(t.shape == [1, 4, 8] && v.shape == [1, 3, 6])
        // Each direction has its own projections; the text output changes with the image and vice versa.
        #expect(vilbert.textAttention.attention.keyDimension == 6 && vilbert.imageAttention.attention.keyDimension == 8)
        let (t2, v2) = vilbert(text: text, image: image * 2)
        #expect(t2.scalars != t.scalars && v2.scalars != v.scalars)
        // LXMERT's layer shares one cross-attention module between the directions.
        let lxmert = LXMERTCoAttentionLayer(dimension: 8, headCount: 2, feedForwardDimension: 16)
        let names = lxmert.namedParameters().map(\.name)
        #expect(names.filter { $0.hasPrefix("cross_attention.attention.") }.count == 4)
        let image8 = Tensor.normal([1, 3, 8], using: &generator)
        let (_, gradients) = valueWithGradient(of: lxmert) { m in
            let (a, b) = m(text: text, image: image8)
            return a.sum() * 0 + (b * b).sum()                 // image stream only
        }
        #expect(gradients["cross_attention.attention.in_proj_weight"]!.scalars.contains { $0 != 0 })
        #expect(gradients["text_layer.linear1.weight"]!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func fusionRules() {
        let a = Tensor(shape: [1, 2], scalars: [1, 3]), b = Tensor(shape: [1, 2], scalars: [3, 7])
        #expect(LateFusion(modalityCount: 2, rule: .mean)(predictions: [a, b]).scalars == [2, 5])
        #expect(LateFusion(modalityCount: 2, rule: .weighted([3, 1]))(predictions: [a, b]).scalars == [1.5, 4])
        let gated = LateFusion(modalityCount: 2, rule: .learnedGate(featureDimensions: [2, 2]))
        gated.gate!.weight = Tensor.zeros([2, 4])
        gated.gate!.bias = Tensor.zeros([2])
        #expect(gated(predictions: [a, b], features: [a, b]).scalars == [2, 5])         // a zero gate is the mean
        gated.gate!.bias = Tensor([100, -100])
        expectClose(gated(predictions: [a, b], features: [a, b]), a, tolerance: 1e-6, "gate picks modality 0")

        let early = EarlyFusion(inputDimensions: [2, 2], outputDimension: 2, combination: .concatenate)
        for projection in early.projections { projection.weight = Tensor.eye(2); projection.bias = Tensor.zeros([2]) }
        #expect(early([a, b]).scalars == [1, 3, 3, 7])
        let summed = EarlyFusion(inputDimensions: [2, 2], outputDimension: 2, combination: .sum)
        for projection in summed.projections { projection.weight = Tensor.eye(2); projection.bias = Tensor.zeros([2]) }
        #expect(summed([a, b]).scalars == [4, 10])
    }

    @Test func hybridFusionTrainsEndToEnd() {
        Initialization.seed(79)
        var generator = PhiloxGenerator(seed: 80)
        let model = HybridFusion(dimension: 8, headCount: 2, layerCount: 2, coAttentionLayers: [1], classCount: 3,
                                 rule: .learnedGate(featureDimensions: [8, 8]))
        let text = Tensor.normal([2, 4, 8], using: &generator), image = Tensor.normal([2, 5, 8], using: &generator)
        let logits = model(text: text, image: image, textLengths: [4, 2], regionCounts: [5, 3])
        #expect(logits.shape == [2, 3])
        let (_, gradients) = valueWithGradient(of: model) { m in m(text: text, image: image, textLengths: [4, 2], regionCounts: [5, 3]).sum() }
        #expect(gradients.values.allSatisfy { $0.scalars.allSatisfy(\.isFinite) })
        #expect(gradients["co_attention.0.cross_attention.attention.in_proj_weight"]!.scalars.contains { $0 != 0 })
    }
}
