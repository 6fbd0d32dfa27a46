import AttendModels
import Foundation
import Testing

/// `attend generate`, `chat`, `tokenize`, `visualize` and `model fetch` with SmolLM2, as a person runs them.
@Suite("attend with a language model", .serialized)
struct LanguageModelCLITests {
    static func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String, error: String) {
        let result = try runSubprocess(CLITests.binary, arguments, input: input)
        return (result.status, String(decoding: result.output, as: UTF8.self), String(decoding: result.error, as: UTF8.self))
    }

    @Test func generateStreamsAContinuation() throws {
        guard RealLanguageModel.isAvailable else { return }
        let result = try Self.run(["generate", "--max-tokens", "6", "The capital of France is"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.hasPrefix(" Paris"))
        #expect(result.error.contains("prompt tokens at") && result.error.contains("generated at"))
    }

    @Test func generateJSONHasTheContractedKeys() throws {
        guard RealLanguageModel.isAvailable else { return }
        let result = try Self.run(["generate", "--json", "--chat", "--max-tokens", "40", "What is 2+2?"])
        #expect(result.status == 0, "\(result.error)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let prompt = try #require(object["prompt_tokens"] as? [Int])
        let tokens = try #require(object["tokens"] as? [Int])
        let text = try #require(object["text"] as? String)
        #expect(prompt.count == 37 && prompt.first == 1)                   // <|im_start|>system… (the default system prompt)
        #expect(tokens.last == 2)                                         // ended by <|im_end|>
        #expect(text.contains("4"))
        #expect(object["finish_reason"] as? String == "stop")
    }

    @Test func sameSeedSameText() throws {
        guard RealLanguageModel.isAvailable else { return }
        let arguments = ["generate", "--json", "--max-tokens", "12", "--temperature", "1", "--top-p", "0.9", "--seed", "7", "Once upon a time"]
        let first = try Self.run(arguments), second = try Self.run(arguments)
        #expect(first.status == 0)
        let a = try JSONSerialization.jsonObject(with: Data(first.output.utf8)) as? [String: Any]
        let b = try JSONSerialization.jsonObject(with: Data(second.output.utf8)) as? [String: Any]
        #expect(a?["tokens"] as? [Int] == b?["tokens"] as? [Int])
    }

    @Test func badArgumentsGiveOneLineErrors() throws {
        guard RealLanguageModel.isAvailable else { return }
        for (arguments, message) in [(["generate", "--temperature", "-1", "hi"], "temperature"),
                                     (["generate", "--top-p", "1.5", "hi"], "top-p"),
                                     (["generate", "--max-tokens", "9000", "hi"], "context"),
                                     (["generate", "--model", "/nonexistent.gguf", "hi"], "no such file"),
                                     (["generate", "--system", "be brief", "hi"], "--chat"),
                                     (["model", "fetch", "GPT-5"], "unknown model")] {
            let result = try Self.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.error.contains(message), "\(arguments): \(result.error)")
            #expect(!result.error.contains("Fatal error"), "\(arguments)")
        }
    }

    @Test func modelInfoDescribesTheLanguageModel() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let result = try Self.run(["model", "info", "--model", path])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("30 layers, 9 query heads sharing 3 key/value heads"))
        #expect(result.output.contains("210 Q4_1, 1 Q8_0 matrices kept quantized"))
        #expect(result.output.contains("ChatML"))
    }

    @Test func tokenizePrintsLlamaCppIds() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let result = try Self.run(["tokenize", "--model", path, "Hello, world!"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "[19556,28,905,17]")
    }

    @Test func chatKeepsTheConversationAndReportsSpeeds() throws {
        guard RealLanguageModel.isAvailable else { return }
        let result = try Self.run(["chat", "--max-tokens", "30"], input: "What is 2+2?\n/reset\nSay hello.\n")
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("4"))
        #expect(result.error.contains("(conversation reset)"))
        #expect(result.error.contains("prefill:") && result.error.contains("decode:"))
    }

    @Test func visualizeDrawsCausalAttention() throws {
        guard RealLanguageModel.isAvailable, let path = RealLanguageModel.path else { return }
        let folder = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try Self.run(["visualize", "--model", path, "The cat sat on the mat.", "-o", folder + "/view.html"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("30 layers × 9 heads"))
        let html = try String(contentsOfFile: folder + "/view.html", encoding: .utf8)
        #expect(html.contains("<canvas") || html.contains("canvas"))
    }
}
