import Attend
import AttendModels
import AttendNN
import Foundation
import Testing

/// Rollout, flow, integrated gradients and gradient-weighted attention against
/// scripts/goldens/generate_explain.py (numpy after vit-explain and the paper's code, Captum, torch).
@Suite("Explaining attention")
struct ExplanationTests {
    static var golden: [String: Any] {
        let url = Bundle.module.url(forResource: "explain", withExtension: "json", subdirectory: "Goldens")!
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// A nested list of numbers as a tensor.
    static func tensor(_ value: Any) -> Tensor {
        var shape: [Int] = []
        var level: Any = value
        while let list = level as? [Any] { shape.append(list.count); level = list.first as Any }
        func flatten(_ value: Any) -> [Float] {
            if let list = value as? [Any] { return list.flatMap(flatten) }
            return [(value as! NSNumber).floatValue]
        }
        return Tensor(shape: shape, scalars: flatten(value))
    }

    @Test func rolloutMatchesTheReference() {
        for case let entry as [String: Any] in Self.golden["rollout"] as! [Any] {
            let layers = (entry["attention"] as! [Any]).map(Self.tensor)
            let fusion = HeadFusion(rawValue: entry["headFusion"] as! String)!
            let rollout = attentionRollout(layers, headFusion: fusion, discardRatio: (entry["discardRatio"] as! NSNumber).floatValue)
            expectClose(rollout, Self.tensor(entry["rollout"]!), tolerance: 1e-5, "\(entry["name"]!)")
            // Rows stay stochastic; a causal stack stays lower-triangular.
            for row in rollout.sum(alongAxes: [1]).scalars { #expect(abs(row - 1) < 1e-5) }
            if entry["causal"] as! Bool {
                let n = rollout.shape[0]
                for i in 0..<n { for j in (i + 1)..<n { #expect(rollout.scalars[i * n + j] == 0) } }
            }
        }
    }

    @Test func flowMatchesTheReference() throws {
        for case let entry as [String: Any] in Self.golden["flow"] as! [Any] {
            let layers = (entry["attention"] as! [Any]).map(Self.tensor)
            let expected = Self.tensor(entry["flow"]!)                              // [layers, L, L]: after layer m
            let flow = try attentionFlow(layers)
            expectClose(flow, expected.selecting(axis: 0, index: layers.count - 1), tolerance: 1e-5, "\(entry["name"]!)")
            let firstLayer = try attentionFlow(Array(layers.prefix(1)))
            expectClose(firstLayer, expected.selecting(axis: 0, index: 0), tolerance: 1e-5, "\(entry["name"]!) one layer")
        }
    }

    @Test func flowRefusesLongInputs() {
        let long = Tensor.ones([1, 1, 80, 80]) / 80
        #expect(throws: ExplanationError.tooLongForFlow(tokens: 80, limit: 64)) { try attentionFlow([long]) }
    }

    /// The golden's tiny classifier: a post-norm encoder layer, mean over positions, a linear head.
    static func tinyClassifier() throws -> (Tensor) -> Tensor {
        let model = golden["model"] as! [String: Any]
        let state = (model["state"] as! [String: Any]).mapValues(Self.tensor)
        let layer = TransformerEncoderLayer(modelDimension: 8, headCount: 2, feedForwardDimension: 16, dropout: 0, normFirst: false)
        try layer.loadStateDict(Dictionary(uniqueKeysWithValues: state.filter { $0.key.hasPrefix("encoder.") }
            .map { (String($0.key.dropFirst("encoder.".count)), $0.value) }))
        layer.eval()
        let classifier = Linear(8, 3)
        try classifier.loadStateDict(["weight": state["classifier.weight"]!, "bias": state["classifier.bias"]!])
        return { x in classifier(layer(x.reshaped([1, 5, 8])).mean(alongAxes: [1])).sliced(axis: 1, 1..<2).sum() }
    }

    @Test func integratedGradientsMatchCaptumAndAreComplete() throws {
        let f = try Self.tinyClassifier()
        let input = Self.tensor(Self.golden["input"]!), baseline = Self.tensor(Self.golden["baseline"]!)
        expectClose(Tensor(f(input).scalar), Tensor(Self.tensor(Self.golden["logits"]!).scalars[1]), tolerance: 1e-5)
        let cases: [(String, IntegrationRule)] = [("riemann_middle", .midpoint)]
        for case let entry as [String: Any] in Self.golden["ig"] as! [Any] {
            guard let rule = cases.first(where: { $0.0 == entry["method"] as! String })?.1 else { continue }
            let steps = entry["steps"] as! Int
            let (attributions, gap) = integratedGradients(of: f, at: input, baseline: baseline, steps: steps, rule: rule)
            expectClose(attributions, Self.tensor(entry["attributions"]!), tolerance: 1e-4, floor: 1e-2)
            #expect(abs(gap - (entry["completenessError"] as! NSNumber).floatValue) < 2e-5, "\(steps) steps")
        }
        for case let entry as [String: Any] in Self.golden["igTextbookTrapezoid"] as! [Any] {
            let (attributions, _) = integratedGradients(of: f, at: input, baseline: baseline, steps: entry["steps"] as! Int, rule: .trapezoid)
            expectClose(attributions, Self.tensor(entry["attributions"]!), tolerance: 1e-4, floor: 1e-2)
        }
        // Completeness: the gap shrinks as the steps grow.
        let coarse = abs(integratedGradients(of: f, at: input, baseline: baseline, steps: 8).completenessError)
        let fine = abs(integratedGradients(of: f, at: input, baseline: baseline, steps: 400).completenessError)
        #expect(fine < coarse && fine < 1e-4)
        expectClose(gradientTimesInput(of: f, at: input), Self.tensor(Self.golden["gradientTimesInput"]!), tolerance: 1e-4, floor: 1e-2)
    }

    @Test func gradientWeightedAttentionMatchesTorch() {
        let entry = Self.golden["gradientWeightedAttention"] as! [String: Any]
        let relevance = gradientWeightedAttention(weights: Self.tensor(entry["attention"]!), gradients: Self.tensor(entry["attentionGradient"]!))
        expectClose(relevance, Self.tensor(entry["relevance"]!), tolerance: 1e-5, floor: 1e-3)
    }
}
