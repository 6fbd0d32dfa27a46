import Foundation

extension BytePairTokenizer {
    /// How text is cut into words before BPE merges them (GGUF `tokenizer.ggml.pre`).
    ///
    /// Each rule is a hand-written scanner over Unicode scalars that gives the same words as
    /// llama.cpp's own scanners for the regular expression named below (and as Hugging Face
    /// `tokenizers` with that pattern): letters are general category L*, numbers N*, whitespace the
    /// Unicode `White_Space` property. BPE never merges across words.
    public enum PreTokenization: String, Sendable, CaseIterable {
        /// GPT-2's pattern, with case-sensitive contractions:
        /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
        /// A run of whitespace before a word leaves its last character to that word (`"  a"` is
        /// `" "`, `" a"`).
        case gpt2
        /// SmolLM2's and StarCoder's: every number character is a word of its own (`\p{N}`), then
        /// GPT-2's pattern runs on the text between them (`"in 2024"` is `"in"`, `" "`, `"2"`, `"0"`…).
        case smollm
        /// Llama 3's: contractions match either case, one non-letter may lead a letter run,
        /// numbers go in groups of at most three, line breaks gather the whitespace before them:
        /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
        /// Words that are whole tokens skip the merges (Hugging Face's `ignore_merges`).
        case llama3 = "llama-bpe"

        /// The rule for a GGUF `tokenizer.ggml.pre` name, including the names llama.cpp treats as
        /// the same rule (`"starcoder"` and `"refact"` split like `"smollm"`, `"llama3"` like
        /// `"llama-bpe"`…); `nil` for the others.
        ///
        /// For the Llama 3 names llama.cpp also adds the beginning-of-sequence token when the
        /// GGUF has no `tokenizer.ggml.add_bos_token`; the caller decides `addsBeginningOfSequence`.
        public init?(ggufName: String) {
            switch ggufName {
            case "gpt2", "gpt-2", "mpt", "olmo", "jais", "trillion", "exaone4", "granite-docling": self = .gpt2
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b": self = .smollm
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2": self = .llama3
            default: return nil
            }
        }
    }
}

/// The kinds of Unicode scalars the splitting rules tell apart.
enum ScalarClass: UInt8, Sendable {
    /// Neither a letter, a number nor whitespace: punctuation, symbols, marks, controls, unassigned.
    case other
    /// General category L* (`\p{L}`).
    case letter
    /// General category N* (`\p{N}`): digits, letter numbers (Ⅻ), other numbers (½, ²).
    case number
    /// The Unicode `White_Space` property (`\s`): tab to carriage return, space, NEL, NBSP, U+2000…
    case whitespace
}

/// The word-splitting scanners behind `BytePairTokenizer.PreTokenization`.
enum PreTokenizer {
    /// The class of every scalar of the Basic Multilingual Plane, computed once.
    static let basicPlaneClasses: [ScalarClass] = (0..<0x10000).map { value in
        Unicode.Scalar(UInt32(value)).map(computeClass) ?? .other
    }

    private static func computeClass(_ scalar: Unicode.Scalar) -> ScalarClass {
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return .other
        }
    }

    /// The class of the scalar with this value.
    @inline(__always)
    static func classify(_ value: UInt32) -> ScalarClass {
        if value < 0x10000 { return basicPlaneClasses[Int(value)] }
        return Unicode.Scalar(value).map(computeClass) ?? .other
    }

    /// Appends to `ends` the end (a scalar index, exclusive) of every word of `values`, in order;
    /// the first word starts at 0 and each of the others where the previous one ends.
    static func wordEnds(values: UnsafeBufferPointer<UInt32>, classes: UnsafeBufferPointer<ScalarClass>,
                         rule: BytePairTokenizer.PreTokenization, into ends: inout [Int]) {
        switch rule {
        case .gpt2:
            gpt2(values, classes, from: 0, to: values.count, into: &ends)
        case .llama3:
            llama3(values, classes, from: 0, to: values.count, into: &ends)
        case .smollm:
            // `\p{N}` first: each number its own segment, GPT-2's rule inside the segments between.
            var start = 0
            for position in 0..<values.count where classes[position] == .number {
                if start < position { gpt2(values, classes, from: start, to: position, into: &ends) }
                ends.append(position + 1)
                start = position + 1
            }
            if start < values.count { gpt2(values, classes, from: start, to: values.count, into: &ends) }
        }
    }

    /// Whether `value` is one of the contraction letters after an apostrophe (`'s`, `'t`, `'m`,
    /// `'d`), and of the two-letter ones (`'re`, `'ve`, `'ll`).
    @inline(__always)
    private static func isSingleContraction(_ value: UInt32) -> Bool {
        value == 0x73 || value == 0x74 || value == 0x6D || value == 0x64   // s t m d
    }

    @inline(__always)
    private static func isDoubleContraction(_ first: UInt32, _ second: UInt32) -> Bool {
        (first == 0x72 && second == 0x65) || (first == 0x76 && second == 0x65) || (first == 0x6C && second == 0x6C)  // re ve ll
    }

    /// ASCII letters lowercased; everything else unchanged (enough for the contraction letters).
    @inline(__always)
    private static func asciiLowercased(_ value: UInt32) -> UInt32 {
        (0x41...0x5A).contains(value) ? value + 0x20 : value
    }

    /// GPT-2's pattern on `values[start..<end]`; nothing outside the range is looked at, so
    /// `(?!\S)` at the range's end sees the end of the text.
    private static func gpt2(_ values: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<ScalarClass>,
                             from start: Int, to end: Int, into ends: inout [Int]) {
        var position = start
        while position < end {
            let value = values[position]
            // 's|'t|'re|'ve|'m|'ll|'d
            if value == 0x27, position + 1 < end {
                if isSingleContraction(values[position + 1]) {
                    position += 2
                    ends.append(position)
                    continue
                }
                if position + 2 < end, isDoubleContraction(values[position + 1], values[position + 2]) {
                    position += 3
                    ends.append(position)
                    continue
                }
            }
            // ' ?\p{L}+', ' ?\p{N}+' and ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one class.
            let leadingSpace = value == 0x20
            let head: ScalarClass? = leadingSpace ? (position + 1 < end ? classes[position + 1] : nil) : classes[position]
            if let head, head != .whitespace {
                position += leadingSpace ? 1 : 0
                while position < end && classes[position] == head { position += 1 }
                ends.append(position)
                continue
            }
            // '\s+(?!\S)|\s+': a whitespace run gives its last character to a word that follows.
            var count = 0
            while position + count < end && classes[position + count] == .whitespace { count += 1 }
            position += (count > 1 && position + count < end) ? count - 1 : Swift.max(count, 1)
            ends.append(position)
        }
    }

    /// Llama 3's pattern on `values[start..<end]`.
    private static func llama3(_ values: UnsafeBufferPointer<UInt32>, _ classes: UnsafeBufferPointer<ScalarClass>,
                               from start: Int, to end: Int, into ends: inout [Int]) {
        var position = start
        var last = start
        func emit(_ end: Int) {
            if end > last { ends.append(end) }
            last = end
        }
        func isLineBreak(_ value: UInt32) -> Bool { value == 0x0A || value == 0x0D }
        while position < end {
            let value = values[position], kind = classes[position]
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if value == 0x27, position + 1 < end {
                let next = asciiLowercased(values[position + 1])
                if isSingleContraction(next) {
                    position += 2
                    emit(position)
                    continue
                }
                if position + 2 < end, isDoubleContraction(next, asciiLowercased(values[position + 2])) {
                    position += 3
                    emit(position)
                    continue
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if !isLineBreak(value) && kind != .number {
                if kind == .letter || (position + 1 < end && classes[position + 1] == .letter) {
                    position += 1
                    while position < end && classes[position] == .letter { position += 1 }
                    emit(position)
                    continue
                }
            }
            // \p{N}{1,3}
            if kind == .number {
                var groupStart = position
                while position < end && classes[position] == .number {
                    position += 1
                    if position - groupStart >= 3 {
                        emit(position)
                        groupStart = position
                    }
                }
                emit(position)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
            let leadingSpace = value == 0x20
            let head: ScalarClass? = leadingSpace ? (position + 1 < end ? classes[position + 1] : nil) : kind
            if head == nil || head == .other {
                position += leadingSpace ? 1 : 0
                while position < end && classes[position] == .other { position += 1 }
                while position < end && isLineBreak(values[position]) { position += 1 }
                emit(position)
                continue
            }
            // \s*[\r\n]+ | \s+(?!\S) | \s+
            var count = 0, afterLastLineBreak = 0
            while position + count < end && classes[position + count] == .whitespace {
                if isLineBreak(values[position + count]) { afterLastLineBreak = position + count + 1 }
                count += 1
            }
            if afterLastLineBreak > 0 {
                position = afterLastLineBreak
            } else {
                position += (count > 1 && position + count < end) ? count - 1 : Swift.max(count, 1)
            }
            emit(position)
        }
    }
}
