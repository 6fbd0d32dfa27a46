import Foundation

/// GPT-2's reversible map between the 256 byte values and 256 printable Unicode characters.
///
/// Byte-level BPE vocabularies (GPT-2, SmolLM2, Llama 3, Qwen…) store tokens as text in this
/// alphabet, so that every byte sequence, valid UTF-8 or not, has a spelling without spaces or
/// control characters. The printable Latin-1 bytes stand for themselves (`!`…`~`, `¡`…`¬`,
/// `®`…`ÿ`); the other 68 bytes (controls, space, DEL, NBSP, soft hyphen) take U+0100 and up in
/// byte order: `0x00` is `Ā`, the space `0x20` is `Ġ`, the newline `0x0A` is `Ċ`.
public enum ByteLevelAlphabet {
    /// The character standing for each byte, indexed by the byte value.
    public static let scalars: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte each alphabet character stands for, indexed by scalar value (`-1` outside the
    /// alphabet). The alphabet's largest scalar is U+0143.
    static let bytesByScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalars.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// Whether a byte is printable Latin-1 and so spelled by its own code point.
    private static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The byte `scalar` stands for, or `nil` when it is not one of the alphabet's 256 characters.
    @inline(__always)
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = Int(scalar.value)
        guard value < bytesByScalar.count else { return nil }
        let byte = bytesByScalar[value]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// `bytes` spelled in the alphabet: the form byte-level vocabularies store tokens in.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalars[Int(byte)]) }
        return String(text)
    }

    /// The bytes that `text` spells, or `nil` when a character of it is outside the alphabet.
    public static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
