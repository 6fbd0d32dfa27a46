import AttendModels
import Foundation
import Testing

struct TokenizerGoldens: Decodable {
    struct Case: Decodable { let text: String; let ids: [Int]; let pipelineIds: [Int] }
    struct Pair: Decodable { let first: String; let second: String; let ids: [Int]; let typeIds: [Int] }
    let maxSequenceLength: Int
    let cases: [Case]
    let pairs: [Pair]
}

@Suite("WordPiece tokenizer")
struct TokenizerTests {
    static let vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "affable", "the", "cafe",
                             ",", "!", "hello", "world", "我", "##s", "s"]

    func tiny(maxCharacters: Int = 100) throws -> WordPieceTokenizer {
        try WordPieceTokenizer(vocabulary: Dictionary(uniqueKeysWithValues: Self.vocabulary.enumerated().map { ($1, $0) }),
                               maxCharactersPerWord: maxCharacters)
    }

    @Test func greedyLongestMatchWithContinuationPrefix() throws {
        let tokenizer = try tiny()
        #expect(tokenizer.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(tokenizer.tokenize("Hello, WORLD!") == ["hello", ",", "world", "!"])
        #expect(tokenizer.tokenize("Café") == ["cafe"])                    // accents stripped, lowercased
        #expect(tokenizer.tokenize("unknownword the") == ["[UNK]", "the"])  // no split → [UNK]
        #expect(tokenizer.tokenize("我我") == ["我", "我"])                  // CJK characters are words
        #expect(tokenizer.tokenize("the\u{200B}s") == ["the", "##s"])        // zero-width space removed
        #expect(tokenizer.tokenize(" \t\n ") == [])
        #expect(try tiny(maxCharacters: 3).tokenize("unaffable the") == ["[UNK]", "the"])
    }

    @Test func specialTokensPairsAndTruncation() throws {
        let tokenizer = try tiny()
        let single = tokenizer.encode("hello world")
        #expect(single.tokens == ["[CLS]", "hello", "world", "[SEP]"])
        #expect(single.ids == [2, 12, 13, 3] && single.typeIds == [0, 0, 0, 0])
        let pair = tokenizer.encode("hello", pair: "the world")
        #expect(pair.tokens == ["[CLS]", "hello", "[SEP]", "the", "world", "[SEP]"])
        #expect(pair.typeIds == [0, 0, 0, 1, 1, 1])
        #expect(tokenizer.encode("hello world the hello", maxLength: 4).tokens == ["[CLS]", "hello", "world", "[SEP]"])
        // Longest first: the longer sequence loses tokens first.
        #expect(tokenizer.encode("hello", pair: "the world hello the", maxLength: 6).tokens
                == ["[CLS]", "hello", "[SEP]", "the", "world", "[SEP]"])
    }

    @Test func missingSpecialTokensAreAnError() {
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(vocabulary: ["a": 0]) }
        #expect(throws: TokenizerError.self) { try WordPieceTokenizer(tokenizerJSON: "/nonexistent/tokenizer.json") }
        let specials = ["[UNK]": 0, "[CLS]": 1, "[SEP]": 2]
        #expect(throws: TokenizerError.self, "a stray huge id") {
            try WordPieceTokenizer(vocabulary: specials.merging(["a": 1 << 40]) { $1 })
        }
        #expect(throws: TokenizerError.self, "two tokens, one id") {
            try WordPieceTokenizer(vocabulary: specials.merging(["a": 2]) { $1 })
        }
    }

    /// Ids identical to Hugging Face `tokenizers` on varied text (scripts/goldens/generate_tokenizer.py).
    @Test(.enabled(if: RealModel.isAvailable || RealModel.isRequired))
    func matchesHuggingFaceTokenizers() throws {
        let goldens = try loadGoldens("tokenizer", as: TokenizerGoldens.self)
        let directory = try #require(RealModel.directory)
        for tokenizer in [try WordPieceTokenizer.load(modelDirectory: directory),
                          try WordPieceTokenizer(vocabularyFile: directory + "/vocab.txt",
                                                 configurationFile: directory + "/tokenizer_config.json")] {
            for golden in goldens.cases {
                #expect(tokenizer.encode(golden.text).ids == golden.ids, "\(golden.text.prefix(40).debugDescription)")
                #expect(tokenizer.encode(golden.text, maxLength: goldens.maxSequenceLength).ids == golden.pipelineIds)
            }
            for pair in goldens.pairs {
                let encoding = tokenizer.encode(pair.first, pair: pair.second)
                #expect(encoding.ids == pair.ids && encoding.typeIds == pair.typeIds, "\(pair.first) / \(pair.second)")
            }
        }
    }
}
