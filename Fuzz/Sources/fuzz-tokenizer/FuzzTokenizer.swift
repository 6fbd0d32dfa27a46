import Attend
import AttendModels
import Foundation
import FuzzSupport

/// `tokenizer.json` files (byte-level BPE and WordPiece loaders), and the tokenizers' `encode` of
/// the same bytes read as text: a loader must refuse what it cannot use, and `encode` must take any
/// string. Seeds: Tests/AttendTests/Goldens/tokenizer.json and small tokenizer.json files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = FuzzInput.write(bytes, count)
    let text = String(decoding: data, as: UTF8.self)
    if let tokenizer = try? BytePairTokenizer(tokenizerJSON: FuzzInput.path) {
        _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 naïve"))
    }
    if let tokenizer = try? WordPieceTokenizer(tokenizerJSON: FuzzInput.path) {
        _ = tokenizer.encode("Hello, world! naïve", maxLength: 16)
    }
    _ = Tokenizers.wordPiece.encode(text, pair: text, maxLength: 64)
    _ = Tokenizers.bytePair.map { $0.decode($0.encode(text)) }
    return 0
}

/// Fixed tokenizers for `encode` on arbitrary text: a small WordPiece vocabulary, and SmolLM2's
/// byte-level BPE when `ATTEND_FUZZ_GGUF` names its file.
enum Tokenizers {
    static let wordPiece = try! WordPieceTokenizer(vocabulary: Dictionary(uniqueKeysWithValues:
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "na", "##ive", ",", "!", "1", "##2"].enumerated().map { ($1, $0) }))
    static let bytePair: BytePairTokenizer? = ProcessInfo.processInfo.environment["ATTEND_FUZZ_GGUF"]
        .flatMap { try? GGUFFile(path: $0) }.flatMap { try? BytePairTokenizer(gguf: $0) }
}
