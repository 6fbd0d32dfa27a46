import Attend
import AttendDemos
import AttendModels
import AttendNN
import AttendVisualization
import Foundation
import Testing

/// Explanations of the real models and their pictures, as `attend explain` makes them.
@Suite("Explaining real models", .serialized)
struct ExplanationPictureTests {
    static let attribution = TokenAttribution(method: "integrated gradients", target: "similarity", tokens: ["[CLS]", "cat", "sat", "[SEP]"],
                                              scores: [0.01, 0.9, -0.5, 0.02])

    @Test func barsShowTheMostAndLeastCreditedTokens() throws {
        let image = try PNG.decode(PNG.encode(Self.attribution.image()))
        // The strongest credit is a full-length orange bar, the blame a blue one to the left.
        func count(_ color: RGB) -> Int {
            var n = 0
            for y in 0..<image.height { for x in 0..<image.width where image[x, y] == color { n += 1 } }
            return n
        }
        #expect(count(Self.attribution.color(0.9)) > 200)
        #expect(count(Self.attribution.color(-0.5)) > 100)
        #expect(Self.attribution.color(0.9) == RGB(230, 97, 1))
        let svg = Self.attribution.svg()
        #expect(svg.contains("#e66101") && svg.contains(">cat<"))
    }

    @Test(.enabled(if: VisualizationTests.chromium != nil || VisualizationTests.chromiumRequired))
    func theHTMLRendersInChromium() throws {
        let chromium = try #require(VisualizationTests.chromium)
        let folder = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let page = URL(fileURLWithPath: folder + "/why.html")
        try Self.attribution.html(title: "a <test>").write(to: page, atomically: true, encoding: .utf8)
        let dom = try VisualizationTests.runChromium(chromium, ["--dump-dom", page.absoluteString])
        #expect(dom.contains("id=\"method\"") && dom.contains("integrated gradients"))
        #expect(dom.components(separatedBy: "class=\"t\"").count - 1 == 4)
        #expect(dom.contains("a &lt;test&gt;"))
    }

    @Test func embedderSimilarityRestsOnTheSharedMeaning() throws {
        guard RealModel.isAvailable, let embedder = RealModel.embedder else { return }
        let explanation = try embedder.explain("A man is eating food.", similarTo: "Someone is having lunch.", method: .integratedGradients, steps: 32)
        let best = zip(explanation.tokens, explanation.scores).max { $0.1 < $1.1 }!.0
        #expect(["food", "eating"].contains(best), "\(zip(explanation.tokens, explanation.scores).map { "\($0) \($1)" })")
        let rollout = try embedder.explain("A man is eating food.", method: .rollout)
        #expect(abs(rollout.scores.reduce(0, +) - 1) < 1e-4)                      // mean of stochastic rows
        #expect(throws: ExplanationError.self) { try embedder.explain("text", method: .integratedGradients) }
    }

    @Test func languageModelExplainsItsNextToken() throws {
        guard RealLanguageModel.isAvailable, let generator = RealLanguageModel.generator else { return }
        for method in ExplanationMethod.allCases {
            let explanation = try generator.explainNextToken("The capital of France is", method: method, steps: 8)
            #expect(explanation.tokens.count == 5 && explanation.scores.allSatisfy { $0.isFinite }, "\(method)")
            #expect(explanation.target.contains("Paris"), "\(method)")
        }
        let flow = try generator.explainNextToken("The capital of France is", method: .flow)
        #expect(abs(flow.scores.reduce(0, +) - 1) < 1e-4)
        #expect(throws: ExplanationError.self) { try generator.explainNextToken("The capital of France is", target: 10_000_000, method: .rollout) }
    }

    @Test func explainCommandWritesEveryFormat() throws {
        guard RealModel.isAvailable else { return }
        let folder = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for format in ["png", "svg", "html"] {
            let result = try CLITests.run("explain", "--method", "integrated-gradients", "A man is eating food.",
                                          "--pair", "Someone is having lunch.", "-o", folder + "/why." + format)
            #expect(result.status == 0, "\(result.error)")
            #expect(result.error.contains("most credited"))
        }
        let bad = try CLITests.run("explain", "--method", "magic", "text", "-o", folder + "/x.png")
        #expect(bad.status != 0 && bad.error.contains("--method must be one of"))
        let noPair = try CLITests.run("explain", "--method", "integrated-gradients", "text", "-o", folder + "/x.png")
        #expect(noPair.status != 0 && noPair.error.contains("--pair"))
    }

    @Test func imageExplanationsCoverPatchesAndPixels() throws {
        Initialization.seed(3)
        let model = VisionTransformerClassifier(configuration: DigitsDemo.configuration)
        model.eval()
        let (images, _) = try DigitsDemo.dataset()
        let image = images.sliced(axis: 0, 0..<1)
        let rollout = try model.explain(image: image, method: .rollout)
        #expect(rollout.rows == 4 && rollout.columns == 4 && rollout.scores.count == 16)
        let pixels = try model.explain(image: image, target: 3, method: .integratedGradients, steps: 64)
        #expect(pixels.rows == 8 && pixels.scores.count == 64 && pixels.target == 3)
        // Completeness: the attributions add up to the class logit's change from a black image.
        let logit: (Tensor) -> Float = { model($0).scalars[3] }
        let change = logit(image) - logit(Tensor.zeros(image.shape))
        #expect(abs(pixels.scores.reduce(0, +) - change) < 0.02 * max(abs(change), 1))
        #expect(throws: ExplanationError.self) { try model.explain(image: image, target: 12, method: .rollout) }
    }

    @Test func explainCommandDrawsADigit() throws {
        let folder = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let trained = try CLITests.run("train", "digits", "--steps", "60", "--output", folder + "/digits")
        #expect(trained.status == 0, "\(trained.error)")
        // A digit from the dataset, drawn dark on light at 8× (what a person would save).
        let (images, _) = try DigitsDemo.dataset()
        let ink = images.sliced(axis: 0, 0..<1).scalars
        var picture = RGBImage(width: 64, height: 64)
        for y in 0..<64 {
            for x in 0..<64 {
                let v = UInt8(255 - Int(ink[(y / 8) * 8 + x / 8] * 255))
                picture.fill(x: x, y: y, width: 1, height: 1, color: RGB(v, v, v))
            }
        }
        try PNG.encode(picture).write(to: URL(fileURLWithPath: folder + "/digit.png"))
        #expect(DigitImage.inkGrid(picture, side: 8).enumerated().allSatisfy { abs($0.element - ink[$0.offset]) < 1e-2 })
        for method in ["rollout", "integrated-gradients"] {
            let result = try CLITests.run("explain", "--image", folder + "/digit.png", "--checkpoint", folder + "/digits",
                                          "--method", method, "-o", folder + "/why.png")
            #expect(result.status == 0, "\(result.error)")
            #expect(result.error.contains("predicted"))
            let drawn = try PNG.decode(Data(contentsOf: URL(fileURLWithPath: folder + "/why.png")))
            #expect(drawn.width >= 2 * 128 && drawn.height > 128)
        }
        let missing = try CLITests.run("explain", "--image", folder + "/digit.png", "-o", folder + "/x.png")
        #expect(missing.status != 0 && missing.error.contains("--checkpoint"))
    }
}
