import AttendModels
import FuzzSupport

/// `config.json` as BERT and Llama loaders read it: every size is checked before a model is built
/// from it. Seeds: the tiny models' config.json files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = FuzzInput.write(bytes, count)
    _ = try? BertConfiguration.load(FuzzInput.path)
    _ = try? LlamaConfiguration(configurationFile: FuzzInput.path)
    return 0
}
