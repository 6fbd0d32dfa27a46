import Attend
import AttendModels
import FuzzSupport

/// GGUF files: the header, metadata and tensor table (`GGUFFile`), then what a model load reads
/// from them — the Llama configuration, the byte-level BPE tokenizer — and every tensor's
/// dequantization. Seeds: Tests/AttendTests/Goldens/gguf.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = FuzzInput.write(bytes, count)
    guard let file = try? GGUFFile(path: FuzzInput.path) else { return 0 }
    for info in file.tensorInfos.prefix(16) where info.elementCount <= 1 << 16 {
        _ = try? file.tensor(named: info.name)
    }
    _ = try? LlamaConfiguration(gguf: file)
    if let tokenizer = try? BytePairTokenizer(gguf: file) {
        _ = tokenizer.decode(tokenizer.encode("Hello, world! 123 <|im_start|> naïve"))
    }
    return 0
}
