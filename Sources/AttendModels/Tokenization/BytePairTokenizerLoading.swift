import Foundation

extension BytePairTokenizer {
    /// GPT-2's pattern as Hugging Face `Split` pre-tokenizers spell it.
    static let gpt2Pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
    /// Llama 3's pattern as its `tokenizer.json` spells it.
    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// Reads a Hugging Face `tokenizer.json` with a byte-level BPE model.
    ///
    /// Supported: `model.type == "BPE"` (merges as `"a b"` strings or `["a", "b"]` pairs), no
    /// normalizer, and a pre-tokenizer that is `ByteLevel` (GPT-2's pattern), or a `Sequence` of
    /// `Digits` with `individual_digits` then `ByteLevel` (SmolLM2's), or of a `Split` on GPT-2's
    /// or Llama 3's pattern then `ByteLevel` without its own pattern. `added_tokens` become control
    /// tokens (`special: true`) or user-defined ones. The beginning- and end-of-sequence tokens
    /// come from `tokenizer_config.json` beside the file when there is one (`bos_token`,
    /// `eos_token`, `add_bos_token`), and a `TemplateProcessing` post-processor that starts with a
    /// special token adds that token.
    /// - Throws: `TokenizerError` naming the file and what in it is missing or unsupported.
    public init(tokenizerJSON path: String) throws {
        func fail(_ reason: String) -> TokenizerError { TokenizerError(file: path, reason: reason) }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw fail("cannot read as JSON (\(error.localizedDescription))")
        }
        guard let root = object as? [String: Any], let model = root["model"] as? [String: Any] else {
            throw fail("has no \"model\" object")
        }
        guard (model["type"] as? String) == "BPE", let vocab = model["vocab"] as? [String: Any],
              let mergeList = model["merges"] as? [Any] else {
            throw fail("model type \(model["type"] ?? "missing") is not BPE with a vocab and merges")
        }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = model[key] as? String, !affix.isEmpty {
                throw fail("the BPE model's \(key) \"\(affix)\" is not supported")
            }
        }
        if (model["byte_fallback"] as? Bool) == true { throw fail("the BPE model's byte_fallback is not supported") }
        if let normalizer = root["normalizer"] as? [String: Any] {
            throw fail("normalizer \(normalizer["type"] ?? "?") is not supported (byte-level BPE has none)")
        }
        let preTokenization = try Self.preTokenization(of: root["pre_tokenizer"], path: path)

        // Ids: the model's vocab plus the added tokens (which may repeat vocab entries).
        var byID: [Int: String] = [:]
        for (token, value) in vocab {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else { throw fail("vocab entry \(Self.quoted(token)) has no id") }
            if let other = byID.updateValue(token, forKey: id) {
                throw fail("tokens \(Self.quoted(other)) and \(Self.quoted(token)) share the id \(id)")
            }
        }
        var types: [Int: Int] = [:]
        for entry in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = (entry["id"] as? NSNumber)?.intValue, id >= 0, let content = entry["content"] as? String else {
                throw fail("an added token has no id or content")
            }
            if let other = byID.updateValue(content, forKey: id), other != content {
                throw fail("added token \(Self.quoted(content)) takes the id \(id) of \(Self.quoted(other))")
            }
            types[id] = (entry["special"] as? Bool ?? false) ? TokenType.control.rawValue : TokenType.userDefined.rawValue
        }
        guard let largest = byID.keys.max(), largest + 1 == byID.count else {
            throw fail("token ids are not 0 to \(byID.count - 1) without gaps")
        }
        let tokens = (0...largest).map { byID[$0]! }
        let tokenTypes = tokens.indices.map { types[$0] ?? TokenType.normal.rawValue }
        var merges: [(String, String)?] = []
        merges.reserveCapacity(mergeList.count)
        for merge in mergeList {
            if let text = merge as? String {
                merges.append(Self.splitMerge(text))
            } else if let pair = merge as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                merges.append(nil)
            }
        }

        // Beginning and end of sequence.
        var beginning: String?, end: String?, addsBeginning = false
        if let post = root["post_processor"] as? [String: Any], (post["type"] as? String) == "TemplateProcessing",
           let single = post["single"] as? [[String: Any]], let first = single.first?["SpecialToken"] as? [String: Any],
           let token = first["id"] as? String {
            beginning = token
            addsBeginning = true
        }
        let configuration = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("tokenizer_config.json").path
        if let data = FileManager.default.contents(atPath: configuration),
           let settings = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] {
            func token(_ key: String) -> String? {
                settings[key] as? String ?? (settings[key] as? [String: Any])?["content"] as? String
            }
            beginning = token("bos_token") ?? beginning
            end = token("eos_token")
            if let adds = settings["add_bos_token"] as? Bool { addsBeginning = adds }
        }
        let lookup = Dictionary(tokens.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        for (name, token) in [("beginning-of-sequence", beginning), ("end-of-sequence", end)] {
            if let token, lookup[token] == nil { throw fail("the \(name) token \(Self.quoted(token)) is not in the vocabulary") }
        }
        try self.init(tokens: tokens, merges: merges, tokenTypes: tokenTypes, preTokenization: preTokenization,
                      beginningOfSequenceID: beginning.flatMap { lookup[$0] }, endOfSequenceID: end.flatMap { lookup[$0] },
                      addsBeginningOfSequence: addsBeginning, source: path)
    }

    /// The rule a `tokenizer.json` pre-tokenizer amounts to.
    static func preTokenization(of object: Any?, path: String) throws -> PreTokenization {
        func fail(_ reason: String) -> TokenizerError { TokenizerError(file: path, reason: reason) }
        guard let pre = object as? [String: Any] else { throw fail("has no pre_tokenizer (byte-level BPE needs ByteLevel)") }
        func byteLevel(_ step: [String: Any], withPattern: Bool) throws {
            guard (step["type"] as? String) == "ByteLevel" else {
                throw fail("pre-tokenizer \(step["type"] ?? "?") is not supported here (ByteLevel is)")
            }
            if (step["add_prefix_space"] as? Bool) == true { throw fail("ByteLevel's add_prefix_space is not supported") }
            guard (step["use_regex"] as? Bool ?? true) == withPattern else {
                throw fail(withPattern ? "ByteLevel without use_regex and without a Split before it is not supported"
                                       : "ByteLevel with use_regex after a Split is not supported")
            }
        }
        if (pre["type"] as? String) == "ByteLevel" {
            try byteLevel(pre, withPattern: true)
            return .gpt2
        }
        guard (pre["type"] as? String) == "Sequence", let steps = pre["pretokenizers"] as? [[String: Any]], steps.count == 2 else {
            throw fail("pre-tokenizer \(pre["type"] ?? "?") is not supported (ByteLevel, or a Sequence of Digits or Split then ByteLevel, is)")
        }
        switch steps[0]["type"] as? String {
        case "Digits":
            guard (steps[0]["individual_digits"] as? Bool) == true else { throw fail("Digits without individual_digits is not supported") }
            try byteLevel(steps[1], withPattern: true)
            return .smollm
        case "Split":
            let pattern = (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String
            guard (steps[0]["invert"] as? Bool ?? false) == false, (steps[0]["behavior"] as? String ?? "Isolated") == "Isolated" else {
                throw fail("only an isolating, non-inverted Split is supported")
            }
            try byteLevel(steps[1], withPattern: false)
            switch pattern {
            case gpt2Pattern: return .gpt2
            case llama3Pattern: return .llama3
            default: throw fail("the Split pattern \(pattern ?? "(none)") is not one of the supported (GPT-2's, Llama 3's)")
            }
        default:
            throw fail("pre-tokenizer step \(steps[0]["type"] ?? "?") is not supported (Digits or Split is)")
        }
    }
}
