import AttendModels
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `attend serve` as a client sees it: a live server process on a loopback port, real models,
/// requests written byte by byte (Support/LiveServer.swift).
@Suite("attend serve", .serialized, SharedServer())
struct ServerTests {
    static var modelsAvailable: Bool { RealModel.isAvailable && RealLanguageModel.isAvailable }
    static var modelArguments: [String] { ["--embedding-model", RealModel.directory!, "--generation-model", RealLanguageModel.path!] }

    /// A client of the server most tests share.
    static func server() throws -> LoopbackHTTPClient {
        guard let server = SharedServer.current else { throw LiveServerError(message: "the shared server did not start") }
        return server.client
    }

    static let texts = ["A man is eating food.", "Someone is having lunch.", "The cat sleeps on the sofa all afternoon.", "Attention is all you need."]

    static func floats(_ value: Any?) -> [Float] { (value as? [NSNumber])?.map(\.floatValue) ?? [] }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    // MARK: Embeddings

    @Test(.enabled(if: modelsAvailable)) func embeddingsEqualTheLibrarys() throws {
        let client = try Self.server()
        let expected = RealModel.embedder!.embed(Self.texts)
        // One string.
        let single = try client.post("/v1/embeddings", ["input": Self.texts[0], "model": "all-MiniLM-L6-v2"])
        #expect(single.status == 200)
        #expect(single.json["object"] as? String == "list")
        let data = single.json["data"] as? [[String: Any]] ?? []
        #expect(data.count == 1 && data.first?["object"] as? String == "embedding" && data.first?["index"] as? Int == 0)
        #expect(Self.maxDifference(Self.floats(data.first?["embedding"]), expected[0]) < 1e-5)
        let usage = single.json["usage"] as? [String: Any]
        #expect(usage?["prompt_tokens"] as? Int == RealModel.embedder!.tokenize(Self.texts[0]).count)
        // A batch, in order.
        let batch = try client.post("/v1/embeddings", ["input": Self.texts])
        let items = batch.json["data"] as? [[String: Any]] ?? []
        #expect(items.count == Self.texts.count)
        for (index, item) in items.enumerated() {
            #expect(item["index"] as? Int == index)
            #expect(Self.maxDifference(Self.floats(item["embedding"]), expected[index]) < 1e-5)
        }
        // Token ids, as /tokenize gives them: the same vectors.
        let ids = try client.post("/tokenize", ["input": Self.texts[1]]).json["tokens"] as? [Int] ?? []
        #expect(ids == RealModel.embedder!.tokenize(Self.texts[1]))
        let fromIDs = try client.post("/v1/embeddings", ["input": ids]).json["data"] as? [[String: Any]] ?? []
        #expect(Self.maxDifference(Self.floats(fromIDs.first?["embedding"]), expected[1]) < 1e-5)
        let fromIDBatch = try client.post("/v1/embeddings", ["input": [ids, ids]]).json["data"] as? [[String: Any]] ?? []
        #expect(fromIDBatch.count == 2)
        // Base64: little-endian float32, the same numbers.
        let encoded = try client.post("/v1/embeddings", ["input": Self.texts[2], "encoding_format": "base64"])
        let text = (encoded.json["data"] as? [[String: Any]])?.first?["embedding"] as? String ?? ""
        let bytes = Data(base64Encoded: text) ?? Data()
        let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
            Float(bitPattern: bytes[bytes.startIndex + offset..<bytes.startIndex + offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) })
        }
        #expect(decoded.count == 384)
        #expect(Self.maxDifference(decoded, expected[2]) < 1e-5)
    }

    @Test(.enabled(if: modelsAvailable)) func embeddingsEqualTheCommandLine() throws {
        let cli = try CLITests.run(["embed", "--model", RealModel.directory!] + Self.texts)
        #expect(cli.status == 0)
        let printed = (try JSONSerialization.jsonObject(with: Data(cli.output.utf8)) as? [[NSNumber]])?.map { $0.map(\.floatValue) } ?? []
        let served = try Self.server().post("/v1/embeddings", ["input": Self.texts]).json["data"] as? [[String: Any]] ?? []
        #expect(printed.count == served.count && served.count == Self.texts.count)
        for (row, item) in zip(printed, served) { #expect(Self.maxDifference(row, Self.floats(item["embedding"])) < 1e-5) }
    }

    // MARK: Generation

    static var chat: [String: Any] { ["messages": [["role": "user", "content": "Write one sentence about the sea."]],
                                      "temperature": 0.8, "top_p": 0.95, "seed": 42, "max_tokens": 24] }

    @Test(.enabled(if: modelsAvailable)) func seededChatIsReproducibleAndEqualsGenerate() throws {
        let client = try Self.server()
        let first = try client.post("/v1/chat/completions", Self.chat), second = try client.post("/v1/chat/completions", Self.chat)
        #expect(first.status == 200)
        #expect(first.json["object"] as? String == "chat.completion")
        let choice = (first.json["choices"] as? [[String: Any]])?.first
        let message = choice?["message"] as? [String: Any]
        let text = message?["content"] as? String ?? ""
        #expect(message?["role"] as? String == "assistant")
        #expect(!text.isEmpty)
        #expect(text == ((second.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String)
        let cli = try CLITests.run(["generate", "--model", RealLanguageModel.path!, "--chat", "--temperature", "0.8", "--top-p", "0.95",
                                    "--seed", "42", "--max-tokens", "24", "--json", "Write one sentence about the sea."])
        #expect(cli.status == 0)
        let generated = (try JSONSerialization.jsonObject(with: Data(cli.output.utf8)) as? [String: Any]) ?? [:]
        #expect(generated["text"] as? String == text)
        let usage = first.json["usage"] as? [String: Any]
        #expect(usage?["completion_tokens"] as? Int == (generated["tokens"] as? [Int])?.count)
        #expect(usage?["prompt_tokens"] as? Int == (generated["prompt_tokens"] as? [Int])?.count)
    }

    /// The `data:` payloads of a server-sent-event body, `[DONE]` last.
    static func events(_ body: String) -> [String] {
        body.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            #expect(event.hasPrefix("data: "), "not an SSE data line: \(event)")
            return String(event.dropFirst(6))
        }
    }

    @Test(.enabled(if: modelsAvailable)) func streamConcatenatesToTheWholeText() throws {
        let client = try Self.server()
        let whole = try client.post("/v1/chat/completions", Self.chat)
        let wholeText = ((whole.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        var streamed = Self.chat
        streamed["stream"] = true
        streamed["stream_options"] = ["include_usage": true]
        let reply = try client.post("/v1/chat/completions", streamed)
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "text/event-stream")
        let events = Self.events(reply.text)
        #expect(events.last == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(chunks.count == events.count - 1)
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let choices = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first }
        let text = choices.compactMap { ($0["delta"] as? [String: Any])?["content"] as? String }.joined()
        #expect(text == wholeText)
        #expect(choices.first.flatMap { ($0["delta"] as? [String: Any])?["role"] as? String } == "assistant")
        #expect(choices.last?["finish_reason"] as? String != nil)
        #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int != nil)
        // Text completions stream too.
        let completion = try client.post("/v1/completions", ["prompt": "The capital of France is", "max_tokens": 8, "temperature": 0, "stream": true])
        let pieces = Self.events(completion.text).dropLast().compactMap {
            ((try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["choices"] as? [[String: Any]])?.first?["text"] as? String
        }
        let plain = try client.post("/v1/completions", ["prompt": "The capital of France is", "max_tokens": 8, "temperature": 0])
        #expect(pieces.joined() == (plain.json["choices"] as? [[String: Any]])?.first?["text"] as? String)
        #expect(plain.json["object"] as? String == "text_completion")
    }

    /// `attend_tokens_total{kind="generated"}` from /metrics.
    static func generatedTokens(_ client: LoopbackHTTPClient) throws -> Double {
        let metrics = try client.request("GET", "/metrics").text
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("attend_tokens_total{kind=\"generated\"}") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
    }

    @Test(.enabled(if: modelsAvailable)) func aClientThatLeavesStopsItsGeneration() throws {
        let client = try Self.server()
        let before = try Self.generatedTokens(client)
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,", "max_tokens": 3000,
                                                               "temperature": 0, "stream": true])
        let socket = try client.open("POST", "/v1/completions", body: body)
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(recv(socket, &buffer, buffer.count, 0) > 0)                   // the stream has started
        close(socket)
        // The count must settle (two readings 1 s apart agree) well before 3000 tokens' time.
        var (settled, later) = (-1.0, try Self.generatedTokens(client))
        for _ in 0..<10 where later != settled {
            usleep(1_000_000)
            (settled, later) = (later, try Self.generatedTokens(client))
        }
        #expect(later == settled, "generation went on after the client left")
        #expect(later - before < 1000, "\(later - before) tokens generated for a client that left at once")
    }

    // MARK: Other endpoints

    @Test(.enabled(if: modelsAvailable)) func modelsHealthMetricsAndTokenize() throws {
        let client = try Self.server()
        #expect(try client.request("GET", "/health").json["status"] as? String == "ok")
        let models = try client.request("GET", "/v1/models").json["data"] as? [[String: Any]] ?? []
        #expect(Set(models.compactMap { $0["id"] as? String }) == ["all-MiniLM-L6-v2", "SmolLM2-135M-Instruct.Q4_1"])
        let tokens = try client.post("/tokenize", ["input": "Hello world", "model": "SmolLM2-135M-Instruct.Q4_1"]).json["tokens"] as? [Int]
        #expect(tokens == RealLanguageModel.generator!.tokenizer.encode("Hello world"))
        _ = try client.post("/v1/embeddings", ["input": "warm"])
        let metrics = try client.request("GET", "/metrics")
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        for name in ["attend_http_requests_total{route=\"/v1/embeddings\",status=\"200\"}", "attend_http_request_duration_seconds_bucket",
                     "attend_queue_depth_requests", "attend_batch_size_sequences_bucket", "attend_tokens_total{kind=\"embedded\"}"] {
            #expect(metrics.text.contains(name), "no \(name) in /metrics")
        }
    }

    @Test(.enabled(if: modelsAvailable)) func attentionAsJSONAndHTML() throws {
        let client = try Self.server()
        let reply = try client.post("/v1/attention", ["input": "The cat sat on the mat."])
        #expect(reply.status == 200)
        let tokens = reply.json["tokens"] as? [String] ?? []
        #expect(tokens.first == "[CLS]" && tokens.last == "[SEP]")
        let layers = reply.json["layers"] as? [[[[NSNumber]]]] ?? []
        #expect(layers.count == 6 && layers.allSatisfy { $0.count == 12 })
        for row in layers[0][0] {
            #expect(row.count == tokens.count)
            #expect(abs(row.map(\.doubleValue).reduce(0, +) - 1) < 1e-4)
        }
        let causal = try client.post("/v1/attention", ["input": "Hello there", "model": "SmolLM2-135M-Instruct.Q4_1"])
        let first = (causal.json["layers"] as? [[[[NSNumber]]]])?.first?.first ?? []
        #expect(first.first?.dropFirst().allSatisfy { $0.doubleValue == 0 } == true, "a language model attends causally")
        let page = try client.post("/v1/attention", ["input": "The cat sat.", "pair": "It was tired.", "format": "html"])
        #expect(page.status == 200 && page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<html") && page.text.contains("[SEP]"))
    }

    // MARK: Bad input

    @Test(.enabled(if: modelsAvailable)) func everyBadRequestGetsItsStatusAndAJSONError() throws {
        let client = try Self.server()
        func expectError(_ reply: LoopbackHTTPClient.Reply, _ status: Int, param: String? = nil, _ comment: Comment) {
            #expect(reply.status == status, comment)
            #expect(reply.headers["content-type"] == "application/json", comment)
            #expect(reply.error["message"] is String && reply.error["type"] is String, comment)
            if let param { #expect(reply.error["param"] as? String == param, comment) }
        }
        expectError(try client.request("POST", "/v1/embeddings", body: Data("{\"input\": ".utf8)), 400, "malformed JSON")
        expectError(try client.request("POST", "/v1/embeddings", body: Data()), 400, "empty body")
        expectError(try client.request("POST", "/v1/embeddings", body: Data(String(repeating: "[", count: 1_000_000).utf8)), 400, "nested a million deep")
        expectError(try client.request("POST", "/v1/embeddings", body: Data([0xFF, 0xFE, 0x7B, 0x7D])), 400, "not UTF-8")
        expectError(try client.post("/v1/embeddings", ["input": ""]), 400, param: "input", "empty input")
        expectError(try client.post("/v1/embeddings", ["input": []]), 400, param: "input", "empty input array")
        expectError(try client.post("/v1/embeddings", ["model": "all-MiniLM-L6-v2"]), 400, param: "input", "no input")
        expectError(try client.post("/v1/embeddings", ["input": 5]), 422, param: "input", "input of the wrong type")
        expectError(try client.post("/v1/embeddings", ["input": [1.5]]), 422, param: "input", "fractional token ids")
        expectError(try client.post("/v1/embeddings", ["input": [[1, 999_999]]]), 422, param: "input[0]", "a token id outside the vocabulary")
        expectError(try client.post("/v1/embeddings", ["input": "x", "model": "gpt-4"]), 422, param: "model", "unknown model")
        expectError(try client.post("/v1/embeddings", ["input": "x", "encoding_format": "int8"]), 422, param: "encoding_format", "bad format")
        expectError(try client.post("/v1/embeddings", ["input": Array(repeating: "x", count: 2049)]), 422, param: "input", "too many inputs")
        let long = Array(repeating: "word", count: 400).joined(separator: " ")
        expectError(try client.post("/v1/embeddings", ["input": [long], "truncate": false]), 422, param: "input[0]", "too long, truncation off")
        #expect(try client.post("/v1/embeddings", ["input": [long]]).status == 200, "too long is cut by default")
        let chat: [String: Any] = ["messages": [["role": "user", "content": "hi"]]]
        func chatWith(_ key: String, _ value: Any) -> [String: Any] { chat.merging([key: value]) { $1 } }
        expectError(try client.post("/v1/chat/completions", chatWith("max_tokens", -1)), 422, param: "max_tokens", "negative max_tokens")
        expectError(try client.post("/v1/chat/completions", chatWith("temperature", 3)), 422, param: "temperature", "temperature out of range")
        expectError(try client.post("/v1/chat/completions", chatWith("top_p", 0)), 422, param: "top_p", "top_p out of range")
        expectError(try client.post("/v1/chat/completions", chatWith("temperature", "hot")), 422, param: "temperature", "temperature of the wrong type")
        expectError(try client.post("/v1/chat/completions", chatWith("n", 2)), 422, param: "n", "several choices")
        expectError(try client.post("/v1/chat/completions", chatWith("max_tokens", 100_000)), 422, param: "max_tokens", "past the context")
        expectError(try client.post("/v1/chat/completions", ["messages": []]), 400, param: "messages", "no messages")
        expectError(try client.post("/v1/chat/completions", ["messages": [["role": "wizard", "content": "hi"]]]), 422,
                    param: "messages[0].role", "unknown role")
        expectError(try client.post("/v1/chat/completions", ["messages": [["role": "user", "content": 7]]]), 422,
                    param: "messages[0].content", "content of the wrong type")
        expectError(try client.post("/v1/completions", ["prompt": [-3]]), 422, param: "prompt", "negative token id")
        expectError(try client.post("/v1/attention", ["input": "x", "format": "pdf"]), 422, param: "format", "unknown attention format")
        expectError(try client.request("GET", "/v1/nothing"), 404, "unknown path")
        let wrongMethod = try client.request("GET", "/v1/embeddings")
        expectError(wrongMethod, 405, "wrong method")
        #expect(wrongMethod.headers["allow"] == "POST")
        #expect(try client.request("GET", "/health").status == 200, "the server still answers")
    }

    @Test(.enabled(if: modelsAvailable)) func limitsAnswer413And429() throws {
        let server = try LiveServer(Self.modelArguments + ["--max-body-bytes", "4096", "--max-concurrent-requests", "1"])
        let client = server.client
        let big = ["input": String(repeating: "a", count: 5000)]
        let tooLarge = try client.post("/v1/embeddings", big)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.error["message"] is String)
        // One long generation holds the only place; the next request is refused at once.
        let body = try JSONSerialization.data(withJSONObject: ["prompt": "1, 2, 3, 4, 5,", "max_tokens": 400, "temperature": 0, "stream": true])
        let socket = try client.open("POST", "/v1/completions", body: body)
        var buffer = [UInt8](repeating: 0, count: 4096)
        #expect(recv(socket, &buffer, buffer.count, 0) > 0)
        let start = Date()
        let refused = try client.post("/v1/completions", ["prompt": "Hi", "max_tokens": 4])
        #expect(refused.status == 429)
        #expect(refused.error["type"] as? String == "rate_limit_error")
        #expect(Date().timeIntervalSince(start) < 2, "429 must come at once, not after a wait")
        close(socket)
        #expect(try client.request("GET", "/health").status == 200)
        #expect(server.stop() == 0)
    }

    @Test(.enabled(if: modelsAvailable)) func apiKeyIsRequiredWhenSet() throws {
        let server = try LiveServer(["--embedding-model", RealModel.directory!], environment: ["ATTEND_API_KEY": "s3cret"])
        let client = server.client
        #expect(try client.post("/v1/embeddings", ["input": "x"]).status == 401)
        #expect(try client.post("/v1/embeddings", ["input": "x"], headers: ["Authorization": "Bearer wrong"]).status == 401)
        #expect(try client.request("GET", "/v1/models").error["type"] as? String == "authentication_error")
        #expect(try client.post("/v1/embeddings", ["input": "x"], headers: ["Authorization": "Bearer s3cret"]).status == 200)
        #expect(try client.request("GET", "/health").status == 200, "/health needs no key")
        // Without a key (the shared server) no header is needed: every other test.
        #expect(try Self.server().post("/v1/embeddings", ["input": "x"]).status == 200)
    }

    @Test(.enabled(if: modelsAvailable)) func sixtyFourConcurrentClientsGetCorrectAnswers() throws {
        let client = try Self.server()
        let expected = RealModel.embedder!.embed(Self.texts)
        let reference = try client.post("/v1/completions", ["prompt": "The capital of France is", "max_tokens": 6, "temperature": 0])
        let referenceText = (reference.json["choices"] as? [[String: Any]])?.first?["text"] as? String
        let failures = Failures()
        let deadline = Date().addingTimeInterval(4)
        let group = DispatchGroup()
        for worker in 0..<64 {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var round = 0
                repeat {
                    do {
                        if worker % 8 == 7 {                              // one client in 8 generates
                            let reply = try client.post("/v1/completions", ["prompt": "The capital of France is", "max_tokens": 6, "temperature": 0])
                            let text = (reply.json["choices"] as? [[String: Any]])?.first?["text"] as? String
                            if reply.status != 200 || text != referenceText { failures.add("completion \(reply.status): \(reply.text.prefix(200))") }
                        } else {
                            let index = (worker + round) % Self.texts.count
                            let reply = try client.post("/v1/embeddings", ["input": Self.texts[index]])
                            let vector = Self.floats((reply.json["data"] as? [[String: Any]])?.first?["embedding"])
                            if reply.status != 200 || Self.maxDifference(vector, expected[index]) >= 1e-5 {
                                failures.add("embedding \(reply.status): \(reply.text.prefix(200))")
                            }
                        }
                    } catch {
                        failures.add("\(error)")
                    }
                    round += 1
                } while Date() < deadline
                failures.countRequests(round)
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        #expect(group.wait(timeout: .now() + 120) == .success)
        #expect(failures.messages.isEmpty, "\(failures.messages.count) failures, first: \(failures.messages.first ?? "")")
        #expect(failures.requests >= 64)
    }

    @Test(.enabled(if: modelsAvailable)) func sigtermLetsRequestsInFlightFinish() throws {
        let server = try LiveServer(["--generation-model", RealLanguageModel.path!])
        let client = server.client
        let result = Failures()
        let done = DispatchSemaphore(value: 0)
        Thread {
            do {
                // Short enough to finish within the shutdown grace period under ThreadSanitizer too.
                let reply = try client.post("/v1/completions", ["prompt": "1, 2, 3, 4, 5,", "max_tokens": 40, "temperature": 0])
                let usage = reply.json["usage"] as? [String: Any]
                if reply.status != 200 || usage?["completion_tokens"] as? Int != 40 { result.add("\(reply.status) \(reply.text.prefix(300))") }
            } catch {
                result.add("\(error)")
            }
            done.signal()
        }.start()
        usleep(300_000)                                                       // the request is being generated
        kill(server.process.processIdentifier, SIGTERM)
        #expect(done.wait(timeout: .now() + 60) == .success)
        #expect(result.messages.isEmpty, "the request in flight failed: \(result.messages)")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect((try? client.request("GET", "/health")) == nil, "the server still answers after SIGTERM")
    }
}

/// Starts one server for the whole suite and stops it after the last test (so that no server
/// outlives the test process).
struct SharedServer: SuiteTrait, TestScoping {
    @TaskLocal static var current: LiveServer?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard ServerTests.modelsAvailable else { return try await function() }
        let server = try LiveServer(ServerTests.modelArguments)
        defer { server.stop() }
        try await Self.$current.withValue(server) { try await function() }
    }
}

/// Failure messages and request counts gathered from many threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var messages: [String] = []
    private(set) var requests = 0
    func add(_ message: String) { lock.lock(); messages.append(message); lock.unlock() }
    func countRequests(_ count: Int) { lock.lock(); requests += count; lock.unlock() }
}
