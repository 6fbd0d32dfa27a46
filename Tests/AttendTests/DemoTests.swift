import Attend
import AttendDemos
import AttendTraining
import AttendVisualization
import Foundation
import Testing

/// Shorter runs of the `attend train` demos: each must clearly learn, and write its files.
@Suite("Training demos (short runs)", .serialized)
struct DemoTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-demo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func expectRunFiles(_ directory: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.contains("metrics.json") && files.contains("metrics.csv") && files.contains("checkpoint") && files.contains("logs"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory + "/logs").contains { $0.hasPrefix("events.out.tfevents") })
    }

    @Test func translationLearnsNumberWords() throws {
        #expect(TranslationDemo.words(4071) == ["four", "thousand", "seventy", "one"])
        #expect(TranslationDemo.words(0) == ["zero"] && TranslationDemo.words(1515) == ["one", "thousand", "five", "hundred", "fifteen"])
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = TranslationDemo.Settings()
        (settings.steps, settings.evaluationCount) = (1200, 200)
        let (metrics, _) = try TranslationDemo.run(settings, output: directory, showingProgress: false)
        #expect(metrics["exact_match"]! >= 0.7, "exact match \(metrics["exact_match"]!)")
        try Self.expectRunFiles(directory)
        let alignment = try PNG.decode(Data(contentsOf: URL(fileURLWithPath: directory + "/alignment.png")))
        #expect(alignment.width > 100 && alignment.height > 80)
    }

    @Test func vitLearnsDigits() throws {
        let (images, labels) = try DigitsDemo.dataset()
        #expect(images.shape == [1797, 1, 8, 8] && labels.count == 1797 && Set(labels) == Set(0..<10))
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var settings = DigitsDemo.Settings()
        settings.steps = 500
        let (metrics, _, _) = try DigitsDemo.run(settings, output: directory, showingProgress: false)
        #expect(metrics["test_accuracy"]! >= 0.85, "accuracy \(metrics["test_accuracy"]!)")
        try Self.expectRunFiles(directory)
        #expect(try PNG.decode(Data(contentsOf: URL(fileURLWithPath: directory + "/attention.png"))).height == 128)
    }

    @Test func permutationLanguageModelBeatsCausalOnRandomOrders() throws {
        var settings = PermutationLanguageModelDemo.Settings()
        settings.steps = 600
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let m = try PermutationLanguageModelDemo.run(settings, output: directory, showingProgress: false)
        let page = try String(contentsOfFile: directory + "/two-stream-attention.html", encoding: .utf8)
        #expect(page.contains("content stream") && page.contains("query stream"))
        #expect(m["permutation_lm_random_order_loss"]! < m["causal_lm_random_order_loss"]!)
        #expect(m["causal_lm_left_to_right_loss"]! < m["uniform_token_loss"]!)     // it learned to mirror
        #expect(m["permutation_lm_random_order_loss"]! < m["uniform_token_loss"]!)
    }

    @Test func crossModalFusionsCompare() throws {
        var settings = CrossModalDemo.Settings()
        (settings.retrievalSteps, settings.questionSteps) = (1000, 1000)
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let m = try CrossModalDemo.run(settings, output: directory, showingProgress: false)
        #expect(m["retrieval_recall_at_1"]! >= 0.5, "recall@1 \(m["retrieval_recall_at_1"]!)")
        #expect(m["qa_accuracy_early"]! >= 0.7, "early fusion \(m["qa_accuracy_early"]!)")
        #expect(m["qa_accuracy_hybrid"]! >= 0.7, "hybrid fusion \(m["qa_accuracy_hybrid"]!)")
        // Late fusion cannot tie a question's words to the right object: it stays far behind.
        #expect(m["qa_accuracy_early"]! > m["qa_accuracy_late"]! + 0.2)
        #expect(m["qa_accuracy_hybrid"]! > m["qa_accuracy_late"]! + 0.2)
        for run in ["retrieval", "qa-early", "qa-late", "qa-hybrid"] { try Self.expectRunFiles(directory + "/" + run) }
        let saved = try JSONDecoder().decode([String: Double].self, from: Data(contentsOf: URL(fileURLWithPath: directory + "/metrics.json")))
        #expect(saved == m)
    }
}
