import Foundation

/// BERT's text normalization, as Hugging Face `tokenizers`' `BertNormalizer` does it, in order:
/// drop NUL, U+FFFD and control/format/unassigned characters and turn whitespace into spaces;
/// surround CJK ideographs with spaces; strip accents (NFD, then drop nonspacing marks);
/// lowercase character by character.
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText = true
    public var handleChineseCharacters = true
    /// Defaults to `lowercase` when unset, as in BERT.
    public var stripAccents: Bool? = nil
    public var lowercase = true

    public init(cleanText: Bool = true, handleChineseCharacters: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseCharacters = handleChineseCharacters
        self.stripAccents = stripAccents
        self.lowercase = lowercase
    }

    public func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if cleanText {
                if scalar.value == 0 || scalar.value == 0xFFFD || BertNormalizer.isControl(scalar) { continue }
                if BertNormalizer.isWhitespace(scalar) {
                    scalars.append(" ")
                    continue
                }
            }
            if handleChineseCharacters && BertNormalizer.isChineseCharacter(scalar) {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        var result = String(scalars)
        if stripAccents ?? lowercase {
            result = String(String.UnicodeScalarView(result.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
                $0.properties.generalCategory != .nonspacingMark
            }))
        }
        if lowercase {
            var lowered = String.UnicodeScalarView()
            for scalar in result.unicodeScalars { lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars) }
            result = String(lowered)
        }
        return result
    }

    /// Rust's `char::is_whitespace` plus tab, newline and return.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    /// "Other" characters (control, format, unassigned, private use, surrogate) except tab, newline, return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT treats as single-character words.
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B820...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }

    /// ASCII punctuation (including `$+<=>^`|~`) or any Unicode punctuation category.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
}
