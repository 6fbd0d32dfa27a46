import Attend
import FuzzSupport

/// safetensors files: the header (JSON, offsets, dtypes, shapes) and every tensor it describes.
/// Seeds: Tests/AttendTests/Goldens/dtypes.safetensors and the tiny models' weights.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = FuzzInput.write(bytes, count)
    guard let file = try? SafeTensorsFile(path: FuzzInput.path) else { return 0 }
    for name in file.tensorNames.prefix(16) { _ = try? file.tensor(named: name) }
    return 0
}
