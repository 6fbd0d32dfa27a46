import AttendVisualization
import Foundation

/// `PNG.decode` (chunks, CRCs, zlib streams, filters, bit depths) on arbitrary bytes; what decodes
/// must encode again. Seeds: PNGs the test suite writes (docs/images).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    if let image = try? PNG.decode(Data(bytes: bytes, count: count)) { _ = PNG.encode(image) }
    return 0
}
