import Foundation

/// The parsers under test read files (as users' models arrive), so each input is written to one
/// scratch file per process, rewritten for every run.
public enum FuzzInput {
    /// This process's scratch file.
    public static let path: String = {
        let directory = ProcessInfo.processInfo.environment["ATTEND_FUZZ_SCRATCH"] ?? NSTemporaryDirectory()
        return directory + "/attend-fuzz-\(getpid())"
    }()

    /// Writes the fuzzer's bytes to ``path`` and returns them as `Data`.
    public static func write(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Data {
        let data = Data(bytes: bytes, count: count)
        _ = FileManager.default.createFile(atPath: path, contents: data)
        return data
    }
}
