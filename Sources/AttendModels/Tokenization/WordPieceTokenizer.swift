import Foundation

/// Why a tokenizer could not be built from its files.
public struct TokenizerError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}

/// Token ids for one text (or pair), with token type ids and an attention mask.
public struct Encoding: Sendable, Equatable {
    public var ids: [Int]
    public var typeIds: [Int]
    public var tokens: [String]
    public var attentionMask: [Int] { [Int](repeating: 1, count: ids.count) }

    public init(ids: [Int], typeIds: [Int], tokens: [String]) {
        self.ids = ids
        self.typeIds = typeIds
        self.tokens = tokens
    }
}

/// BERT's WordPiece tokenizer: normalization, splitting on whitespace and punctuation, greedy
/// longest-match subwords with a `##` continuation prefix, `[UNK]` for words that don't split
/// (or are longer than `maxCharactersPerWord`), then `[CLS] A [SEP] (B [SEP])`.
///
/// Special tokens typed in the text (`"[MASK]"`, `"[SEP]"`) stay whole, as Hugging Face's added
/// tokens do: they are split out verbatim before normalization.
///
/// Built from a Hugging Face `tokenizer.json` (BertNormalizer, BertPreTokenizer, WordPiece) or a
/// `vocab.txt` with `tokenizer_config.json`; gives the same ids as Hugging Face `tokenizers`.
public struct WordPieceTokenizer: Sendable {
    public let normalizer: BertNormalizer
    public let vocabulary: [String: Int]
    /// Token strings by id.
    public let tokens: [String]
    public let unknownToken: String
    public let continuingSubwordPrefix: String
    public let maxCharactersPerWord: Int
    public let classTokenId: Int, separatorTokenId: Int, paddingTokenId: Int, unknownTokenId: Int
    /// Tokens matched verbatim in the raw text and kept whole (longest first), e.g. `[MASK]`.
    public let addedTokens: [String]

    /// - Parameter addedTokens: tokens to keep whole when they appear in the text; by default the
    ///   special tokens (unknown, class, separator, padding and `[MASK]`) the vocabulary has.
    public init(vocabulary: [String: Int], normalizer: BertNormalizer = BertNormalizer(), unknownToken: String = "[UNK]",
                classToken: String = "[CLS]", separatorToken: String = "[SEP]", paddingToken: String = "[PAD]",
                continuingSubwordPrefix: String = "##", maxCharactersPerWord: Int = 100, addedTokens: [String]? = nil,
                file: String = "vocabulary") throws {
        self.vocabulary = vocabulary
        self.normalizer = normalizer
        self.unknownToken = unknownToken
        self.continuingSubwordPrefix = continuingSubwordPrefix
        self.maxCharactersPerWord = maxCharactersPerWord
        func id(_ token: String) throws -> Int {
            guard let id = vocabulary[token] else { throw TokenizerError(file: file, reason: "the vocabulary has no \(token) token") }
            return id
        }
        (classTokenId, separatorTokenId, unknownTokenId) = (try id(classToken), try id(separatorToken), try id(unknownToken))
        paddingTokenId = vocabulary[paddingToken] ?? 0
        guard let largest = vocabulary.values.max(), vocabulary.values.allSatisfy({ $0 >= 0 }) else {
            throw TokenizerError(file: file, reason: "the vocabulary is empty or has negative ids")
        }
        // Ids index a table, so they must be (nearly) dense: a stray huge id would allocate gigabytes.
        guard largest < 2 * vocabulary.count + 1024 else {
            throw TokenizerError(file: file, reason: "id \(largest) is far beyond the \(vocabulary.count) tokens of the vocabulary")
        }
        var table = [String?](repeating: nil, count: largest + 1)
        for (token, id) in vocabulary {
            if let other = table[id] {
                throw TokenizerError(file: file, reason: "tokens \(other) and \(token) share the id \(id)")
            }
            table[id] = token
        }
        tokens = table.map { $0 ?? "" }
        let specials = [unknownToken, classToken, separatorToken, paddingToken, "[MASK]"].filter { vocabulary[$0] != nil }
        self.addedTokens = Array(Set(addedTokens ?? specials)).filter { !$0.isEmpty }
            .sorted { ($0.unicodeScalars.count, $0) > ($1.unicodeScalars.count, $1) }
    }

    /// Reads a Hugging Face `tokenizer.json` with a WordPiece model.
    public init(tokenizerJSON path: String) throws {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw TokenizerError(file: path, reason: "cannot read as JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw TokenizerError(file: path, reason: "has no \"model\" object")
        }
        guard (model["type"] as? String) == "WordPiece", let vocab = model["vocab"] as? [String: Any] else {
            throw TokenizerError(file: path, reason: "model type \(model["type"] ?? "missing") is not WordPiece with a vocab")
        }
        var vocabulary: [String: Int] = [:]
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue else { throw TokenizerError(file: path, reason: "vocab entry \(token) has no integer id") }
            vocabulary[token] = id
        }
        var normalizer = BertNormalizer()
        if let settings = root["normalizer"] as? [String: Any] {
            guard (settings["type"] as? String) == "BertNormalizer" else {
                throw TokenizerError(file: path, reason: "normalizer \(settings["type"] ?? "?") is not supported (BertNormalizer is)")
            }
            normalizer = BertNormalizer(cleanText: settings["clean_text"] as? Bool ?? true,
                                        handleChineseCharacters: settings["handle_chinese_chars"] as? Bool ?? true,
                                        stripAccents: settings["strip_accents"] as? Bool,
                                        lowercase: settings["lowercase"] as? Bool ?? true)
        }
        if let pre = root["pre_tokenizer"] as? [String: Any], (pre["type"] as? String) != "BertPreTokenizer" {
            throw TokenizerError(file: path, reason: "pre-tokenizer \(pre["type"] ?? "?") is not supported (BertPreTokenizer is)")
        }
        var (classToken, separatorToken) = ("[CLS]", "[SEP]")
        if let post = root["post_processor"] as? [String: Any], let special = post["special_tokens"] as? [String: Any] {
            classToken = special.keys.first { $0.contains("CLS") } ?? classToken
            separatorToken = special.keys.first { $0.contains("SEP") } ?? separatorToken
        }
        let padding = (root["padding"] as? [String: Any])?["pad_token"] as? String ?? "[PAD]"
        // `added_tokens` entries (BERT's are its special tokens). Their lstrip/rstrip flags change
        // nothing here: the pre-tokenizer drops whitespace anyway.
        let added = (root["added_tokens"] as? [[String: Any]])?.compactMap { $0["content"] as? String }
        try self.init(vocabulary: vocabulary, normalizer: normalizer, unknownToken: model["unk_token"] as? String ?? "[UNK]",
                      classToken: classToken, separatorToken: separatorToken, paddingToken: padding,
                      continuingSubwordPrefix: model["continuing_subword_prefix"] as? String ?? "##",
                      maxCharactersPerWord: (model["max_input_chars_per_word"] as? NSNumber)?.intValue ?? 100,
                      addedTokens: added, file: path)
    }

    /// Reads `vocab.txt` (one token per line; the line number is the id) and, when present,
    /// `tokenizer_config.json` (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`).
    public init(vocabularyFile path: String, configurationFile: String? = nil) throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TokenizerError(file: path, reason: "cannot read as UTF-8 text")
        }
        var vocabulary: [String: Int] = [:]
        for (id, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            vocabulary[String(line.hasSuffix("\r") ? line.dropLast() : line)] = id
        }
        var normalizer = BertNormalizer()
        if let configurationFile, let data = FileManager.default.contents(atPath: configurationFile) {
            guard let settings = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw TokenizerError(file: configurationFile, reason: "is not a JSON object")
            }
            normalizer.lowercase = settings["do_lower_case"] as? Bool ?? true
            normalizer.stripAccents = settings["strip_accents"] as? Bool
            normalizer.handleChineseCharacters = settings["tokenize_chinese_chars"] as? Bool ?? true
        }
        try self.init(vocabulary: vocabulary, normalizer: normalizer, file: path)
    }

    /// Loads the tokenizer of a model folder: `tokenizer.json`, else `vocab.txt` (+ `tokenizer_config.json`).
    public static func load(modelDirectory directory: String) throws -> WordPieceTokenizer {
        let json = directory + "/tokenizer.json"
        if FileManager.default.fileExists(atPath: json) { return try WordPieceTokenizer(tokenizerJSON: json) }
        let vocab = directory + "/vocab.txt"
        guard FileManager.default.fileExists(atPath: vocab) else {
            throw TokenizerError(file: directory, reason: "has neither tokenizer.json nor vocab.txt")
        }
        return try WordPieceTokenizer(vocabularyFile: vocab, configurationFile: directory + "/tokenizer_config.json")
    }

    /// Words after normalization: split on whitespace, with each punctuation character its own word.
    public func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            if !current.isEmpty { words.append(String(current)) }
            current = String.UnicodeScalarView()
        }
        for scalar in normalizer.normalize(text).unicodeScalars {
            if BertNormalizer.isWhitespace(scalar) {
                flush()
            } else if BertNormalizer.isPunctuation(scalar) {
                flush()
                words.append(String(scalar))
            } else {
                current.append(scalar)
            }
        }
        flush()
        return words
    }

    /// WordPiece tokens of `text` (no `[CLS]`/`[SEP]` around it); added tokens typed in the text
    /// come out whole.
    public func tokenize(_ text: String) -> [String] {
        segments(text).flatMap { segment, isAdded in isAdded ? [segment] : words(segment).flatMap(wordPieces) }
    }

    /// `text` cut around every occurrence of an added token (leftmost first, the longest token
    /// at a position winning), with each piece marked as an added token or plain text.
    func segments(_ text: String) -> [(text: String, isAdded: Bool)] {
        guard !addedTokens.isEmpty else { return [(text, false)] }
        let scalars = Array(text.unicodeScalars)
        let candidates = addedTokens.map { Array($0.unicodeScalars) }
        var result: [(String, Bool)] = []
        var plainStart = 0, position = 0
        while position < scalars.count {
            let match = candidates.first { token in
                token.count <= scalars.count - position && scalars[position..<(position + token.count)].elementsEqual(token)
            }
            guard let match else {
                position += 1
                continue
            }
            if plainStart < position { result.append((String(String.UnicodeScalarView(scalars[plainStart..<position])), false)) }
            result.append((String(String.UnicodeScalarView(match)), true))
            position += match.count
            plainStart = position
        }
        if plainStart < scalars.count { result.append((String(String.UnicodeScalarView(scalars[plainStart...])), false)) }
        return result
    }

    /// Greedy longest-match-first subwords of one word, or `[UNK]`.
    func wordPieces(_ word: String) -> [String] {
        let scalars = Array(word.unicodeScalars)
        if scalars.count > maxCharactersPerWord { return [unknownToken] }
        var pieces: [String] = []
        var start = 0
        while start < scalars.count {
            var end = scalars.count
            var match: String?
            while start < end {
                var candidate = String(String.UnicodeScalarView(scalars[start..<end]))
                if start > 0 { candidate = continuingSubwordPrefix + candidate }
                if vocabulary[candidate] != nil {
                    match = candidate
                    break
                }
                end -= 1
            }
            guard let match else { return [unknownToken] }
            pieces.append(match)
            start = end
        }
        return pieces
    }

    /// `[CLS] text [SEP]` (or `[CLS] text [SEP] pair [SEP]` with type ids 0 then 1) as ids,
    /// truncated to `maxLength` tokens (special tokens included) by removing tokens from the end
    /// of the longer sequence first (Hugging Face's `longest_first`).
    public func encode(_ text: String, pair: String? = nil, maxLength: Int? = nil) -> Encoding {
        var first = tokenize(text)
        var second = pair.map(tokenize)
        if let maxLength {
            let budget = Swift.max(0, maxLength - (second == nil ? 2 : 3))
            while first.count + (second?.count ?? 0) > budget {
                if let count = second?.count, count > first.count { second!.removeLast() } else { first.removeLast() }
            }
        }
        let cls = tokens[classTokenId], sep = tokens[separatorTokenId]
        var pieces = [cls] + first + [sep]
        var typeIds = [Int](repeating: 0, count: pieces.count)
        if let second {
            pieces += second + [sep]
            typeIds += [Int](repeating: 1, count: second.count + 1)
        }
        return Encoding(ids: pieces.map { vocabulary[$0] ?? unknownTokenId }, typeIds: typeIds, tokens: pieces)
    }
}
