import Foundation

/// A byte-level BPE tokenizer (GPT-2's scheme, used by SmolLM2, Llama 3, Qwen and most GGUF
/// language models), giving the same ids as llama.cpp.
///
/// Encoding cuts out special tokens typed in the text, splits the rest into words
/// (`PreTokenization`), spells each word's UTF-8 bytes in `ByteLevelAlphabet` and merges
/// adjacent symbols by rank — the lowest-ranked mergeable pair first, the leftmost of equal
/// ranks — until no pair of the word is in the merge list. Decoding maps the tokens' text back to
/// bytes; streaming decoding (`makeStreamingDecoder()`) holds back a character split across tokens.
///
/// Built from a GGUF file's `tokenizer.ggml.*` arrays or a Hugging Face `tokenizer.json`.
/// `encode` may run on many threads at once: it keeps its scratch space and word cache per call.
public struct BytePairTokenizer: Sendable {
    /// What a token is, as GGUF's `tokenizer.ggml.token_type` numbers it.
    public enum TokenType: Int, Sendable {
        /// Not set by the converter; decodes to nothing.
        case undefined = 0
        /// An ordinary token spelled in the byte-level alphabet.
        case normal = 1
        /// The unknown token: parsed and decoded like a control token.
        case unknown = 2
        /// A special token such as `<|im_end|>`: found verbatim in the text when special tokens
        /// are parsed, its text written as-is when decoding unless special tokens are skipped.
        case control = 3
        /// A token added by the model's authors: always found verbatim in the text and always
        /// decoded as its text.
        case userDefined = 4
        /// A placeholder that is never produced; decodes to nothing.
        case unused = 5
        /// A raw byte spelled `<0xAB>`; decodes to that byte.
        case byte = 6
    }

    /// Token strings by id, as the vocabulary spells them (`"Ġthe"` is `" the"`).
    public let tokens: [String]
    /// The type of each token, by id.
    public let tokenTypes: [TokenType]
    /// How text is split into words before the merges.
    public let preTokenization: PreTokenization
    /// The beginning-of-sequence token, if the model has one.
    public let beginningOfSequenceID: Int?
    /// The end-of-sequence token, if the model has one.
    public let endOfSequenceID: Int?
    /// Whether `encode` starts every sequence with `beginningOfSequenceID`.
    public let addsBeginningOfSequence: Bool

    /// Ids by token string.
    let vocabulary: [String: Int]
    /// Merge rank and merged token by the pair of token ids merged.
    let merges: MergeTable
    /// The token of each single byte's alphabet character, or -1 when the vocabulary has none:
    /// such a byte never merges and is left out of the ids, as llama.cpp and Hugging Face do.
    let byteTokenIDs: [Int32]
    /// Tokens found verbatim in the text before splitting, longest first.
    let specialTokens: [SpecialToken]
    /// Every token's decoded bytes, back to back: token `id`'s are `pieceBytes[pieceStarts[id]..<pieceStarts[id + 1]]`.
    let pieceBytes: [UInt8]
    let pieceStarts: [Int]
    /// Whether a word that is a whole token is taken as is, without merges (Llama 3).
    let ignoresMerges: Bool

    /// One entry of the merge table.
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// A token matched verbatim in the raw text.
    struct SpecialToken: Sendable {
        var id: Int
        var bytes: [UInt8]
        /// Matched even when special tokens are not parsed (user-defined tokens).
        var isAlwaysParsed: Bool
    }

    /// Builds a tokenizer from a vocabulary and merge list, as GGUF stores them.
    ///
    /// - Parameters:
    ///   - tokens: token strings by id in the byte-level alphabet (`tokenizer.ggml.tokens`). A
    ///     byte whose single character is not a token is dropped from the ids (SmolLM2 has no
    ///     token for the bytes that never occur in UTF-8, nor for a few control characters).
    ///   - merges: `"left right"` pairs, highest priority first (`tokenizer.ggml.merges`); both
    ///     halves and their concatenation must be tokens. A repeated pair keeps its first rank.
    ///   - tokenTypes: GGUF token types by id (`tokenizer.ggml.token_type`: 1 normal, 2 unknown,
    ///     3 control, 4 user-defined, 5 unused, 6 byte); `nil` makes every token normal.
    ///   - preTokenization: how text is split into words (`tokenizer.ggml.pre`).
    ///   - beginningOfSequenceID: `tokenizer.ggml.bos_token_id`.
    ///   - endOfSequenceID: `tokenizer.ggml.eos_token_id`.
    ///   - addsBeginningOfSequence: `tokenizer.ggml.add_bos_token`.
    /// - Throws: `TokenizerError` for a repeated token, a vocabulary with no byte-level token, a
    ///   merge of unknown tokens, a type or id out of range, or a beginning-of-sequence token requested but not given.
    public init(tokens: [String], merges: [String], tokenTypes: [Int]?, preTokenization: PreTokenization,
                beginningOfSequenceID: Int?, endOfSequenceID: Int?, addsBeginningOfSequence: Bool) throws {
        try self.init(tokens: tokens, merges: merges.map(Self.splitMerge), tokenTypes: tokenTypes,
                      preTokenization: preTokenization, beginningOfSequenceID: beginningOfSequenceID,
                      endOfSequenceID: endOfSequenceID, addsBeginningOfSequence: addsBeginningOfSequence,
                      source: "vocabulary")
    }

    /// `"left right"` cut at its first space after the first character (`nil` without one), as
    /// llama.cpp reads GGUF merges.
    static func splitMerge(_ merge: String) -> (String, String)? {
        let bytes = Array(merge.utf8)
        guard bytes.count > 2, let space = bytes[1...].firstIndex(of: 0x20) else { return nil }
        return (String(decoding: bytes[..<space], as: UTF8.self), String(decoding: bytes[(space + 1)...], as: UTF8.self))
    }

    /// The designated initializer; `source` names the file in error messages, and a `nil` merge
    /// is one that could not be split in two.
    init(tokens: [String], merges: [(String, String)?], tokenTypes: [Int]?, preTokenization: PreTokenization,
         beginningOfSequenceID: Int?, endOfSequenceID: Int?, addsBeginningOfSequence: Bool, source: String) throws {
        func fail(_ reason: String) -> TokenizerError { TokenizerError(file: source, reason: reason) }
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else {
            throw fail("the vocabulary has \(tokens.count) tokens (1 to \(Int32.max - 1) are supported)")
        }
        var vocabulary: [String: Int] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() {
            if let other = vocabulary.updateValue(id, forKey: token) {
                throw fail("the token \(Self.quoted(token)) appears twice, with ids \(other) and \(id)")
            }
        }
        var types = [TokenType](repeating: .normal, count: tokens.count)
        if let tokenTypes {
            guard tokenTypes.count == tokens.count else {
                throw fail("there are \(tokenTypes.count) token types for \(tokens.count) tokens")
            }
            for (id, raw) in tokenTypes.enumerated() {
                guard let type = TokenType(rawValue: raw) else {
                    throw fail("token \(id) \(Self.quoted(tokens[id])) has type \(raw) (0 to 6 are defined)")
                }
                types[id] = type
            }
        }
        // SmolLM2's vocabulary lacks 21 bytes (0xC0, 0xC1, 0xF5…, some controls): those get -1.
        let byteTokenIDs = ByteLevelAlphabet.scalars.map { Int32(vocabulary[String($0)] ?? -1) }
        guard byteTokenIDs.contains(where: { $0 >= 0 }) else {
            throw fail("no token is a single character of the byte-level alphabet (\"a\", \"Ġ\"…): this is not a byte-level BPE vocabulary")
        }
        var table = MergeTable(capacity: merges.count)
        for (rank, merge) in merges.enumerated() {
            guard let (left, right) = merge, !left.isEmpty, !right.isEmpty else {
                throw fail("merge \(rank) is not two tokens separated by a space")
            }
            guard let leftID = vocabulary[left], let rightID = vocabulary[right] else {
                throw fail("merge \(rank) (\(Self.quoted(left)) \(Self.quoted(right))) names a token that is not in the vocabulary")
            }
            guard let result = vocabulary[left + right] else {
                throw fail("merge \(rank) (\(Self.quoted(left)) \(Self.quoted(right))) makes \(Self.quoted(left + right)), "
                           + "which is not in the vocabulary")
            }
            table.insertIfAbsent(left: Int32(leftID), right: Int32(rightID), Merge(rank: Int32(clamping: rank), result: Int32(result)))
        }
        for (name, id) in [("beginning-of-sequence", beginningOfSequenceID), ("end-of-sequence", endOfSequenceID)] {
            if let id, !tokens.indices.contains(id) {
                throw fail("the \(name) token id \(id) is outside the vocabulary of \(tokens.count) tokens")
            }
        }
        if addsBeginningOfSequence && beginningOfSequenceID == nil {
            throw fail("a beginning-of-sequence token is to be added, but none is given")
        }

        // Tokens cut out of the raw text, longest (in bytes) first as llama.cpp tries them.
        var specials: [SpecialToken] = []
        for (id, type) in types.enumerated() where [.control, .userDefined, .unknown].contains(type) && !tokens[id].isEmpty {
            specials.append(SpecialToken(id: id, bytes: Array(tokens[id].utf8), isAlwaysParsed: type == .userDefined))
        }
        specials.sort { ($0.bytes.count, -$0.id) > ($1.bytes.count, -$1.id) }

        // What each token decodes to (special tokens' text as is; `skippingSpecialTokens` drops it).
        var pieceBytes: [UInt8] = []
        var pieceStarts: [Int] = [0]
        pieceBytes.reserveCapacity(tokens.count * 6)
        pieceStarts.reserveCapacity(tokens.count + 1)
        for (id, token) in tokens.enumerated() {
            switch types[id] {
            case .normal:
                for scalar in token.unicodeScalars {
                    if let byte = ByteLevelAlphabet.byte(for: scalar) {
                        pieceBytes.append(byte)
                    } else {
                        pieceBytes.append(contentsOf: String(scalar).utf8)   // not byte-level text: kept as written
                    }
                }
            case .unknown, .control, .userDefined:
                pieceBytes.append(contentsOf: token.utf8)
            case .byte:
                if let byte = Self.byteTokenValue(token) { pieceBytes.append(byte) }
            case .undefined, .unused:
                break
            }
            pieceStarts.append(pieceBytes.count)
        }

        self.tokens = tokens
        self.tokenTypes = types
        self.preTokenization = preTokenization
        self.beginningOfSequenceID = beginningOfSequenceID
        self.endOfSequenceID = endOfSequenceID
        self.addsBeginningOfSequence = addsBeginningOfSequence
        self.vocabulary = vocabulary
        self.merges = table
        self.byteTokenIDs = byteTokenIDs
        self.specialTokens = specials
        self.pieceBytes = pieceBytes
        self.pieceStarts = pieceStarts
        self.ignoresMerges = preTokenization == .llama3
    }

    /// The byte of a `<0xAB>` token.
    static func byteTokenValue(_ token: String) -> UInt8? {
        guard token.hasPrefix("<0x"), token.hasSuffix(">"), token.utf8.count == 6 else { return nil }
        return UInt8(token.dropFirst(3).prefix(2), radix: 16)
    }

    /// A token in quotes, with control characters escaped, for error messages.
    static func quoted(_ token: String) -> String {
        "\"" + token.unicodeScalars.map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }.joined() + "\""
    }

    /// The id of a token string as the vocabulary spells it (`"Ġthe"`, `"<|im_end|>"`), or `nil`.
    public func id(of token: String) -> Int? { vocabulary[token] }

    /// How many tokens the vocabulary has.
    public var vocabularySize: Int { tokens.count }

    /// Whether `id` is a control or unknown token: the ones `skippingSpecialTokens` leaves out.
    public func isSpecial(_ id: Int) -> Bool {
        tokens.indices.contains(id) && (tokenTypes[id] == .control || tokenTypes[id] == .unknown)
    }

    // MARK: Encoding

    /// The token ids of `text`.
    ///
    /// - Parameters:
    ///   - parsingSpecialTokens: whether control tokens typed in the text (`"<|im_start|>"`) become
    ///     their ids; when `false` they are encoded as ordinary text. User-defined tokens are
    ///     matched either way, as in llama.cpp and Hugging Face `tokenizers`.
    /// - Returns: the ids, after `beginningOfSequenceID` when `addsBeginningOfSequence`.
    public func encode(_ text: String, parsingSpecialTokens: Bool = true) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(text.utf8.count / 3 + 2)
        if addsBeginningOfSequence, let beginningOfSequenceID { output.append(beginningOfSequenceID) }
        let bytes = Array(text.utf8)
        var session = EncodingSession(tokenizer: self)
        for fragment in fragments(of: bytes, parsingSpecialTokens: parsingSpecialTokens) {
            switch fragment {
            case .token(let id): output.append(id)
            case .text(let range): session.encode(bytes[range], into: &output)
            }
        }
        return output
    }

    /// The words `text` is split into before BPE, as text (special tokens are not cut out).
    public func preTokenize(_ text: String) -> [String] {
        let bytes = Array(text.utf8)
        var session = EncodingSession(tokenizer: self)
        return session.words(bytes[...]).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A piece of the input: raw text (a byte range) or a special token found in it.
    enum Fragment {
        case text(Range<Int>)
        case token(Int)
    }

    /// `bytes` cut around the special tokens typed in it. Like llama.cpp, each special token in
    /// turn (longest first) is searched for in the text pieces left by the ones before it.
    func fragments(of bytes: [UInt8], parsingSpecialTokens: Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        for special in specialTokens where parsingSpecialTokens || special.isAlwaysParsed {
            guard fragments.contains(where: { if case .text(let range) = $0 { range.count >= special.bytes.count } else { false } }) else {
                continue
            }
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                while let match = Self.firstOccurrence(of: special.bytes, in: bytes, from: start, to: range.upperBound) {
                    if match > start { next.append(.text(start..<match)) }
                    next.append(.token(special.id))
                    start = match + special.bytes.count
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    /// Where `needle` first occurs in `haystack[start..<end]`.
    static func firstOccurrence(of needle: [UInt8], in haystack: [UInt8], from start: Int, to end: Int) -> Int? {
        guard !needle.isEmpty, start >= 0, end <= haystack.count, end - start >= needle.count else { return nil }
        return haystack.withUnsafeBufferPointer { haystack in
            needle.withUnsafeBufferPointer { needle in
                let base = haystack.baseAddress!
                var position = start
                let last = end - needle.count
                while position <= last {
                    guard let found = memchr(base + position, Int32(needle[0]), last - position + 1) else { return nil }
                    let candidate = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + candidate, needle.baseAddress!, needle.count) == 0 { return candidate }
                    position = candidate + 1
                }
                return nil
            }
        }
    }

    // MARK: Decoding

    /// The text of `ids`: the tokens' bytes joined and read as UTF-8, invalid sequences (a
    /// character cut off at either end) becoming U+FFFD.
    ///
    /// Control tokens give their text (`"<|im_end|>"`) unless `skippingSpecialTokens`; ids outside
    /// the vocabulary give U+FFFD.
    public func decode(_ ids: [Int], skippingSpecialTokens: Bool = false) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 6)
        for id in ids { appendBytes(of: id, skippingSpecialTokens: skippingSpecialTokens, to: &bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The bytes token `id` decodes to.
    public func bytes(of id: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        appendBytes(of: id, skippingSpecialTokens: false, to: &bytes)
        return bytes
    }

    func appendBytes(of id: Int, skippingSpecialTokens: Bool, to bytes: inout [UInt8]) {
        guard tokens.indices.contains(id) else {
            bytes.append(contentsOf: [0xEF, 0xBF, 0xBD])   // U+FFFD
            return
        }
        if skippingSpecialTokens && isSpecial(id) { return }
        bytes.append(contentsOf: pieceBytes[pieceStarts[id]..<pieceStarts[id + 1]])
    }

    /// A decoder for ids that arrive one at a time (generation), giving text as soon as it is
    /// whole.
    public func makeStreamingDecoder(skippingSpecialTokens: Bool = false) -> StreamingDecoder {
        StreamingDecoder(tokenizer: self, skippingSpecialTokens: skippingSpecialTokens)
    }

    /// Turns ids into text one at a time, never splitting a character: an emoji or CJK character
    /// whose UTF-8 bytes span tokens comes out whole with the token that completes it. The pieces
    /// joined equal `decode` of all the ids.
    public struct StreamingDecoder: Sendable {
        let tokenizer: BytePairTokenizer
        let skippingSpecialTokens: Bool
        /// Bytes of an incomplete character waiting for the next token.
        var pending: [UInt8] = []

        init(tokenizer: BytePairTokenizer, skippingSpecialTokens: Bool) {
            self.tokenizer = tokenizer
            self.skippingSpecialTokens = skippingSpecialTokens
        }

        /// Adds a token and returns the text it completes: all whole characters so far not yet
        /// returned (possibly empty, while a multi-byte character is incomplete). Bytes that can
        /// never form a character become U+FFFD right away.
        public mutating func append(_ id: Int) -> String {
            tokenizer.appendBytes(of: id, skippingSpecialTokens: skippingSpecialTokens, to: &pending)
            let complete = Self.completeLength(pending)
            guard complete > 0 else { return "" }
            let text = String(decoding: pending[..<complete], as: UTF8.self)
            pending.removeFirst(complete)
            return text
        }

        /// Returns what is held back, an incomplete character becoming U+FFFD, and starts afresh.
        public mutating func finish() -> String {
            defer { pending.removeAll() }
            return String(decoding: pending, as: UTF8.self)
        }

        /// How many leading bytes of `bytes` can be decoded now: all of them, except a trailing
        /// lead byte with fewer continuation bytes after it than it announces.
        static func completeLength(_ bytes: [UInt8]) -> Int {
            var start = bytes.count
            // Step back over at most three continuation bytes to the lead byte of the last character.
            while start > 0 && bytes.count - start < 3 && bytes[start - 1] & 0xC0 == 0x80 { start -= 1 }
            guard start > 0 else { return bytes.count }
            let lead = bytes[start - 1]
            let length = lead >= 0xF0 && lead <= 0xF4 ? 4 : lead >= 0xE0 && lead < 0xF0 ? 3 : lead >= 0xC2 && lead < 0xE0 ? 2 : 1
            let available = bytes.count - (start - 1)
            return length > available ? start - 1 : bytes.count
        }
    }
}

/// Scratch space and the word cache of one `encode` call.
struct EncodingSession {
    let tokenizer: BytePairTokenizer
    var values: [UInt32] = []
    var classes: [ScalarClass] = []
    var byteOffsets: [Int] = []
    var ends: [Int] = []
    /// Ids already found for the words of this call.
    var cache = WordCache()
    var symbols: [Int32] = []
    var heap = MergeHeap()
    /// Words longer than this many bytes merge with a priority queue (in time n log n) instead of
    /// by scanning for the best pair (n²), which is faster for short words.
    var linearMergeLimit = 64

    init(tokenizer: BytePairTokenizer) { self.tokenizer = tokenizer }

    /// Decodes `bytes` (valid UTF-8) into scalars, classifies them and splits them into words:
    /// afterwards word `k` is scalars `ends[k - 1]..<ends[k]` (from 0 for the first), that is bytes
    /// `byteOffsets[ends[k - 1]]..<byteOffsets[ends[k]]`.
    mutating func split(_ bytes: ArraySlice<UInt8>) {
        values.removeAll(keepingCapacity: true)
        classes.removeAll(keepingCapacity: true)
        byteOffsets.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        values.reserveCapacity(bytes.count)
        classes.reserveCapacity(bytes.count)
        byteOffsets.reserveCapacity(bytes.count + 1)
        let table = PreTokenizer.basicPlaneClasses
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            while index < buffer.count {
                let lead = buffer[index]
                var value = UInt32(lead), length = 1
                if lead >= 0x80 {
                    if lead >= 0xF0 {
                        length = 4
                        value = UInt32(lead & 0x07)
                    } else if lead >= 0xE0 {
                        length = 3
                        value = UInt32(lead & 0x0F)
                    } else {
                        length = 2
                        value = UInt32(lead & 0x1F)
                    }
                    for offset in 1..<Swift.min(length, buffer.count - index) { value = value << 6 | UInt32(buffer[index + offset] & 0x3F) }
                }
                values.append(value)
                classes.append(value < 0x10000 ? table[Int(value)] : PreTokenizer.classify(value))
                byteOffsets.append(bytes.startIndex + index)
                index += length
            }
        }
        byteOffsets.append(bytes.endIndex)
        let rule = tokenizer.preTokenization
        values.withUnsafeBufferPointer { values in
            classes.withUnsafeBufferPointer { classes in
                PreTokenizer.wordEnds(values: values, classes: classes, rule: rule, into: &ends)
            }
        }
    }

    /// The words of `bytes`, as byte slices.
    mutating func words(_ bytes: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        split(bytes)
        var start = 0
        return ends.map { end in
            defer { start = end }
            return bytes[byteOffsets[start]..<byteOffsets[end]]
        }
    }

    /// Appends the ids of raw text `bytes` to `output`.
    mutating func encode(_ bytes: ArraySlice<UInt8>, into output: inout [Int]) {
        split(bytes)
        var start = 0
        for end in ends {
            let word = bytes[byteOffsets[start]..<byteOffsets[end]]
            start = end
            encodeWord(word, into: &output)
        }
    }

    /// Appends the ids of one word.
    mutating func encodeWord(_ word: ArraySlice<UInt8>, into output: inout [Int]) {
        if word.count == 1 {
            let id = tokenizer.byteTokenIDs[Int(word[word.startIndex])]
            if id >= 0 { output.append(Int(id)) }
            return
        }
        let hash = WordCache.hash(word)
        if cache.appendIDs(of: word, hash: hash, to: &output) { return }
        let first = output.count
        defer { cache.insert(word, hash: hash, ids: output[first...]) }
        if tokenizer.ignoresMerges, let id = tokenizer.vocabulary[ByteLevelAlphabet.encode(word)] {
            output.append(id)
        } else if word.count <= linearMergeLimit {
            mergeByScanning(word, into: &output)
        } else {
            mergeWithHeap(word, into: &output)
        }
    }

    /// The merge of the pair `left`, `right`, or `nil`.
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> BytePairTokenizer.Merge? {
        tokenizer.merges.merge(left, right)
    }

    /// BPE on a short word: repeatedly merge the pair with the lowest rank (the leftmost of equal
    /// ranks), found by scanning.
    mutating func mergeByScanning(_ word: ArraySlice<UInt8>, into output: inout [Int]) {
        let table = tokenizer.merges, byteTokenIDs = tokenizer.byteTokenIDs
        let length = word.count
        // Symbols, then the rank and result of merging each symbol with the next, on the stack.
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * length) { scratch in
            let symbols = scratch.baseAddress!, ranks = symbols + length, results = symbols + 2 * length
            var count = 0
            for byte in word {
                symbols[count] = byteTokenIDs[Int(byte)]
                count += 1
            }
            func pair(_ index: Int) {
                let found = table.merge(symbols[index], symbols[index + 1])
                ranks[index] = found?.rank ?? .max
                results[index] = found?.result ?? -1
            }
            for index in 0..<(count - 1) { pair(index) }
            while true {
                var best = Int32.max, at = -1
                for index in 0..<(count - 1) where ranks[index] < best {
                    best = ranks[index]
                    at = index
                }
                guard at >= 0 else { break }
                symbols[at] = results[at]
                for index in (at + 1)..<(count - 1) {
                    symbols[index] = symbols[index + 1]
                    ranks[index - 1] = ranks[index]
                    results[index - 1] = results[index]
                }
                count -= 1
                if at > 0 { pair(at - 1) }
                if at < count - 1 { pair(at) }
            }
            for index in 0..<count where symbols[index] >= 0 { output.append(Int(symbols[index])) }
        }
    }

    /// BPE on a long word with a priority queue of candidate pairs, as llama.cpp does: pop the
    /// lowest (rank, left position), skip it if either symbol has changed since, merge, queue the
    /// new neighbours. Same result as `mergeByScanning`.
    mutating func mergeWithHeap(_ word: ArraySlice<UInt8>, into output: inout [Int]) {
        symbols.removeAll(keepingCapacity: true)
        for byte in word { symbols.append(tokenizer.byteTokenIDs[Int(byte)]) }
        let count = symbols.count
        var next = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = index + 1 < count ? Int32(index + 1) : -1 }
            initialized = count
        }
        var previous = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = Int32(index - 1) }
            initialized = count
        }
        var alive = [Bool](repeating: true, count: count)
        heap.removeAll()
        func push(_ left: Int32) {
            guard left >= 0 else { return }
            let right = next[Int(left)]
            guard right >= 0, let found = merge(symbols[Int(left)], symbols[Int(right)]) else { return }
            heap.push(MergeHeap.Entry(rank: found.rank, left: left, right: right,
                                      leftSymbol: symbols[Int(left)], rightSymbol: symbols[Int(right)], result: found.result))
        }
        for index in 0..<(count - 1) { push(Int32(index)) }
        while let entry = heap.pop() {
            let left = Int(entry.left), right = Int(entry.right)
            guard alive[left], alive[right], next[left] == entry.right,
                  symbols[left] == entry.leftSymbol, symbols[right] == entry.rightSymbol else { continue }
            symbols[left] = entry.result
            alive[right] = false
            next[left] = next[right]
            if next[right] >= 0 { previous[Int(next[right])] = Int32(left) }
            push(previous[left])
            push(Int32(left))
        }
        var index: Int32 = 0
        while index >= 0 {
            if symbols[Int(index)] >= 0 { output.append(Int(symbols[Int(index)])) }
            index = next[Int(index)]
        }
    }
}

/// A binary min-heap of candidate merges ordered by (rank, left position).
struct MergeHeap {
    struct Entry {
        var rank: Int32
        var left: Int32
        var right: Int32
        var leftSymbol: Int32
        var rightSymbol: Int32
        var result: Int32

        @inline(__always)
        static func precedes(_ a: Entry, _ b: Entry) -> Bool {
            a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
        }
    }

    var entries: [Entry] = []

    mutating func removeAll() { entries.removeAll(keepingCapacity: true) }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Entry.precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var smallest = parent
                if left < entries.count && Entry.precedes(entries[left], entries[smallest]) { smallest = left }
                if right < entries.count && Entry.precedes(entries[right], entries[smallest]) { smallest = right }
                guard smallest != parent else { break }
                entries.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return top
    }
}

/// The merge list as an open-addressing hash table keyed by the pair of token ids: BPE looks a
/// pair up for every merge it considers, and a multiplicative hash with linear probing is several
/// times cheaper than `Dictionary`'s seeded SipHash.
struct MergeTable: Sendable {
    /// Pair keys (`left << 32 | right`), `UInt64.max` where a slot is empty.
    private var keys: [UInt64]
    private var values: [BytePairTokenizer.Merge]
    private let shift: UInt64
    private let mask: Int

    /// An empty table for about `capacity` merges (kept at most half full).
    init(capacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < 2 * capacity {
            size *= 2
            bits += 1
        }
        keys = [UInt64](repeating: .max, count: size)
        values = [BytePairTokenizer.Merge](repeating: BytePairTokenizer.Merge(rank: 0, result: 0), count: size)
        shift = 64 - bits
        mask = size - 1
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// Adds the merge of `left`, `right` unless the pair is already there (the first rank wins, as
    /// in llama.cpp). Token ids are non-negative, so no key collides with the empty marker.
    mutating func insertIfAbsent(left: Int32, right: Int32, _ merge: BytePairTokenizer.Merge) {
        let key = Self.key(left, right)
        var index = slot(key)
        while keys[index] != .max {
            if keys[index] == key { return }
            index = (index + 1) & mask
        }
        keys[index] = key
        values[index] = merge
    }

    /// The merge of the pair `left`, `right`, or `nil` (always for a negative id: a byte without
    /// a token).
    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> BytePairTokenizer.Merge? {
        guard left >= 0 && right >= 0 else { return nil }
        let key = Self.key(left, right)
        return keys.withUnsafeBufferPointer { keys in
            var index = slot(key)
            while true {
                let found = keys[index]
                if found == key { return values[index] }
                if found == .max { return nil }
                index = (index + 1) & mask
            }
        }
    }
}

/// The ids of the words already encoded in one `encode` call: text repeats words, and a lookup
/// (a byte hash and a compare) is cheaper than merging again. An open-addressing table over copies
/// of the words' bytes; `Dictionary` keyed by byte slices cost more than the merges it saved.
struct WordCache {
    struct Slot {
        /// The word's hash with the low bit set; 0 marks an empty slot.
        var hash: UInt64 = 0
        var byteStart: Int32 = 0, byteCount: Int32 = 0
        var idStart: Int32 = 0, idCount: Int32 = 0
    }

    /// Power-of-two many slots, at most half full; allocated at the first insertion.
    private var slots: [Slot] = []
    private var count = 0
    private var bytes: [UInt8] = []
    private var ids: [Int32] = []

    /// FNV-1a of the word's bytes, low bit set so that it is never 0.
    @inline(__always)
    static func hash(_ word: ArraySlice<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in word { hash = (hash ^ UInt64(byte)) &* 0x0100_0000_01B3 }
        return hash | 1
    }

    /// Appends the cached ids of `word` to `output` and returns `true`, or returns `false`.
    func appendIDs(of word: ArraySlice<UInt8>, hash: UInt64, to output: inout [Int]) -> Bool {
        guard !slots.isEmpty else { return false }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash >> 7) & mask
        while slots[index].hash != 0 {
            let slot = slots[index]
            if slot.hash == hash && Int(slot.byteCount) == word.count
                && bytes[Int(slot.byteStart)..<Int(slot.byteStart + slot.byteCount)].elementsEqual(word) {
                for position in Int(slot.idStart)..<Int(slot.idStart + slot.idCount) { output.append(Int(ids[position])) }
                return true
            }
            index = (index + 1) & mask
        }
        return false
    }

    /// Remembers the ids of a word not yet in the cache.
    mutating func insert(_ word: ArraySlice<UInt8>, hash: UInt64, ids wordIDs: ArraySlice<Int>) {
        guard bytes.count + word.count < Int(Int32.max), ids.count + wordIDs.count < Int(Int32.max) else { return }
        if 2 * (count + 1) > slots.count { grow() }
        var slot = Slot(hash: hash, byteStart: Int32(bytes.count), byteCount: Int32(word.count),
                        idStart: Int32(ids.count), idCount: Int32(wordIDs.count))
        bytes.append(contentsOf: word)
        for id in wordIDs { ids.append(Int32(truncatingIfNeeded: id)) }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash >> 7) & mask
        while slots[index].hash != 0 { index = (index + 1) & mask }
        swap(&slots[index], &slot)
        count += 1
    }

    private mutating func grow() {
        let old = slots
        slots = [Slot](repeating: Slot(), count: Swift.max(64, old.count * 2))
        let mask = slots.count - 1
        for slot in old where slot.hash != 0 {
            var index = Int(truncatingIfNeeded: slot.hash >> 7) & mask
            while slots[index].hash != 0 { index = (index + 1) & mask }
            slots[index] = slot
        }
    }
}
