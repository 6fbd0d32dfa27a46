import AttendModels
import Foundation
import Testing

@Suite("Byte-level BPE tokenizer")
struct BytePairTokenizerTests {
    /// The 256 byte characters (id = byte), a few merged tokens, a control and a user-defined token.
    static let extraTokens = ["ll", "he", "hell", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld", "<|end|>", "[tool]"]
    static let tokens = ByteLevelAlphabet.scalars.map { String($0) } + extraTokens
    static let merges = ["l l", "h e", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]
    static let tokenTypes = [Int](repeating: 1, count: 256 + extraTokens.count - 2) + [3, 4]

    static func id(_ token: String) -> Int { tokens.firstIndex(of: token)! }

    func tiny(_ rule: BytePairTokenizer.PreTokenization = .gpt2, tokens: [String] = tokens,
              types: [Int]? = tokenTypes) throws -> BytePairTokenizer {
        try BytePairTokenizer(tokens: tokens, merges: Self.merges, tokenTypes: types, preTokenization: rule,
                              beginningOfSequenceID: nil, endOfSequenceID: Self.id("<|end|>"), addsBeginningOfSequence: false)
    }

    @Test func alphabetIsGPT2s() {
        #expect(ByteLevelAlphabet.scalars.count == 256 && Set(ByteLevelAlphabet.scalars).count == 256)
        #expect(ByteLevelAlphabet.encode([0x20, 0x0A, 0x00, 0x41, 0xFF]) == "ĠĊĀAÿ")
        #expect(ByteLevelAlphabet.decode("ĠĊĀAÿ") == [0x20, 0x0A, 0x00, 0x41, 0xFF])
        #expect(ByteLevelAlphabet.decode("日") == nil)
    }

    @Test func mergesByRankLeftmostFirst() throws {
        let tokenizer = try tiny()
        #expect(tokenizer.encode("hello world") == [Self.id("hello"), Self.id("Ġworld")])
        #expect(tokenizer.encode("lll") == [Self.id("ll"), 0x6C])   // equal ranks: the leftmost pair merges
        #expect(tokenizer.encode("hel") == [Self.id("he"), 0x6C])
        // Longer than the scanning limit: the priority-queue path gives the same kind of result.
        #expect(tokenizer.encode(String(repeating: "l", count: 201)) == [Int](repeating: Self.id("ll"), count: 100) + [0x6C])
        #expect(tokenizer.decode(tokenizer.encode(String(repeating: "l", count: 201))) == String(repeating: "l", count: 201))
    }

    @Test func preTokenizationRules() throws {
        let gpt2 = try tiny(.gpt2), smollm = try tiny(.smollm), llama3 = try tiny(.llama3)
        #expect(gpt2.preTokenize("Hello world! 123") == ["Hello", " world", "!", " 123"])
        #expect(smollm.preTokenize("Hello world! 123") == ["Hello", " world", "!", " ", "1", "2", "3"])
        #expect(llama3.preTokenize("Hello world! 123") == ["Hello", " world", "!", " ", "123"])
        // A whitespace run leaves its last character to the word after it.
        #expect(gpt2.preTokenize("  a  b\n\nc  ") == [" ", " a", " ", " b", "\n", "\n", "c", "  "])
        #expect(llama3.preTokenize("  a  b\n\nc  ") == [" ", " a", " ", " b", "\n\n", "c", "  "])
        // Contractions: case-sensitive for GPT-2 and SmolLM2, not for Llama 3.
        #expect(smollm.preTokenize("it's I'M we'll 'S") == ["it", "'s", " I", "'", "M", " we", "'ll", " '", "S"])
        #expect(llama3.preTokenize("it's I'M we'll 'S") == ["it", "'s", " I", "'M", " we", "'ll", " '", "S"])
        #expect(gpt2.preTokenize("x\r\n\r\n  y\t\tz") == ["x", "\r\n\r\n ", " y", "\t", "\t", "z"])
        #expect(llama3.preTokenize("x\r\n\r\n  y\t\tz") == ["x", "\r\n\r\n", " ", " y", "\t", "\tz"])
        #expect(smollm.preTokenize("1234567 ½") == ["1", "2", "3", "4", "5", "6", "7", " ", "½"])
        #expect(llama3.preTokenize("1234567 ½") == ["123", "456", "7", " ", "½"])
        #expect(gpt2.preTokenize("naïve café 日本 😀!!") == ["naïve", " café", " 日本", " 😀!!"])
        // Only U+0020 joins the next word; other whitespace (here NBSP) stands alone.
        #expect(gpt2.preTokenize("a\u{A0}b") == ["a", "\u{A0}", "b"])
        #expect(BytePairTokenizer.PreTokenization(ggufName: "smollm") == .smollm)
        #expect(BytePairTokenizer.PreTokenization(ggufName: "llama-bpe") == .llama3)
        #expect(BytePairTokenizer.PreTokenization(ggufName: "qwen2") == nil)
    }

    @Test func specialTokens() throws {
        let tokenizer = try tiny()
        let end = Self.id("<|end|>"), tool = Self.id("[tool]")
        #expect(tokenizer.encode("hello<|end|>[tool]") == [Self.id("hello"), end, tool])
        let plain = tokenizer.encode("hello<|end|>[tool]", parsingSpecialTokens: false)
        #expect(!plain.contains(end) && plain.last == tool)   // user-defined tokens are always matched
        #expect(tokenizer.decode(plain) == "hello<|end|>[tool]")
        #expect(tokenizer.decode([Self.id("hello"), end, tool]) == "hello<|end|>[tool]")
        #expect(tokenizer.decode([Self.id("hello"), end, tool], skippingSpecialTokens: true) == "hello[tool]")
        #expect(tokenizer.id(of: "<|end|>") == end && tokenizer.id(of: "nope") == nil)
        #expect(tokenizer.endOfSequenceID == end && tokenizer.beginningOfSequenceID == nil)
        let withBOS = try BytePairTokenizer(tokens: Self.tokens, merges: Self.merges, tokenTypes: Self.tokenTypes,
                                            preTokenization: .gpt2, beginningOfSequenceID: end, endOfSequenceID: end,
                                            addsBeginningOfSequence: true)
        #expect(withBOS.encode("hello") == [end, Self.id("hello")])
        #expect(withBOS.encode("") == [end])
    }

    @Test func streamingDecoderHoldsBackSplitCharacters() throws {
        let tokenizer = try tiny()
        let ids = tokenizer.encode("a😀b")   // no merges: one token per byte
        #expect(ids.count == 6)
        var decoder = tokenizer.makeStreamingDecoder()
        #expect(ids.map { decoder.append($0) } == ["a", "", "", "", "😀", "b"])
        #expect(decoder.finish() == "")
        var cut = tokenizer.makeStreamingDecoder()
        #expect(cut.append(ids[1]) == "" && cut.append(ids[2]) == "")
        #expect(cut.finish() == "\u{FFFD}")
        #expect(tokenizer.decode(Array(ids[1...2])) == "\u{FFFD}")
        #expect(tokenizer.decode([1_000_000]) == "\u{FFFD}")
    }

    @Test func bytesWithoutTokensAreDropped() throws {
        // SmolLM2 has no token for 0x04 and a few other bytes; llama.cpp and Hugging Face drop them.
        var tokens = Self.tokens
        tokens[0x04] = "<unused>"
        let tokenizer = try tiny(tokens: tokens, types: nil)
        #expect(tokenizer.encode("a\u{4}b") == [0x61, 0x62])
    }

    @Test func tokenizerJSONMatchesArrays() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bpe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let vocabulary = Dictionary(uniqueKeysWithValues: Self.tokens.dropLast(2).enumerated().map { ($1, $0) })
        let json: [String: Any] = [
            "model": ["type": "BPE", "vocab": vocabulary, "merges": Self.merges.map { $0.split(separator: " ").map(String.init) }],
            "pre_tokenizer": ["type": "Sequence", "pretokenizers": [["type": "Digits", "individual_digits": true],
                                                                    ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true]]],
            "added_tokens": [["id": Self.id("<|end|>"), "content": "<|end|>", "special": true],
                             ["id": Self.id("[tool]"), "content": "[tool]", "special": false]],
        ]
        let path = directory.appendingPathComponent("tokenizer.json").path
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        try JSONSerialization.data(withJSONObject: ["eos_token": "<|end|>"])
            .write(to: directory.appendingPathComponent("tokenizer_config.json"))
        let fromJSON = try BytePairTokenizer(tokenizerJSON: path)
        let fromArrays = try tiny(.smollm)
        #expect(fromJSON.tokens == fromArrays.tokens && fromJSON.preTokenization == .smollm)
        #expect(fromJSON.endOfSequenceID == Self.id("<|end|>") && !fromJSON.addsBeginningOfSequence)
        for text in ["hello world 42", "hello<|end|>[tool] lll", "  spaced\n\nout  "] {
            #expect(fromJSON.encode(text) == fromArrays.encode(text))
            #expect(fromJSON.encode(text, parsingSpecialTokens: false) == fromArrays.encode(text, parsingSpecialTokens: false))
        }
    }

    @Test func invalidVocabulariesAreErrors() throws {
        let bytes = ByteLevelAlphabet.scalars.map { String($0) }
        func make(_ tokens: [String], _ merges: [String] = [], types: [Int]? = nil, bos: Int? = nil, addsBOS: Bool = false) throws {
            _ = try BytePairTokenizer(tokens: tokens, merges: merges, tokenTypes: types, preTokenization: .gpt2,
                                      beginningOfSequenceID: bos, endOfSequenceID: nil, addsBeginningOfSequence: addsBOS)
        }
        #expect(throws: TokenizerError.self, "a repeated token") { try make(bytes + ["a"]) }
        #expect(throws: TokenizerError.self, "a merge whose result is not a token") { try make(bytes, ["a b"]) }
        #expect(throws: TokenizerError.self, "a merge of unknown tokens") { try make(bytes, ["ab c"]) }
        #expect(throws: TokenizerError.self, "a merge without a space") { try make(bytes, ["ab"]) }
        #expect(throws: TokenizerError.self, "an undefined token type") { try make(bytes, types: [Int](repeating: 9, count: 256)) }
        #expect(throws: TokenizerError.self, "a beginning token out of range") { try make(bytes, bos: 256) }
        #expect(throws: TokenizerError.self, "a beginning token to add but none given") { try make(bytes, addsBOS: true) }
        #expect(throws: TokenizerError.self, "not byte-level") { try make(["<a>", "<b>"]) }
        #expect(throws: TokenizerError.self) { try BytePairTokenizer(tokenizerJSON: "/nonexistent/tokenizer.json") }
    }
}
