import Attend
import Foundation
import Testing

@Suite("SafeTensors")
struct SafeTensorsTests {
    static let goldens = Bundle.module.url(forResource: "dtypes", withExtension: "safetensors", subdirectory: "Goldens")!.path

    @Test func readsEveryDataTypeWrittenByTheReferenceLibrary() throws {
        let file = try SafeTensorsFile(path: Self.goldens)
        #expect(file.metadata == ["format": "pt", "note": "dtype goldens"])
        #expect(file.tensorNames == ["bf16", "empty", "f16", "f32", "i64"])
        let expected = try loadGoldens("dtypes", as: [String: GoldenTensor].self)
        for name in file.tensorNames {
            let tensor = try file.tensor(named: name)
            #expect(tensor.shape == expected[name]!.shape, "\(name)")
            // Exact: every value was rounded to its dtype by PyTorch before being written.
            #expect(tensor.scalars == expected[name]!.data.map { Float($0) }, "\(name)")
        }
    }

    @Test func roundTripsAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attend-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("weights.safetensors").path
        var generator = PhiloxGenerator(seed: 51)
        let tensors = ["b": Tensor.normal([3, 5], using: &generator), "a.weight": Tensor.normal([7], using: &generator),
                       "scalar": Tensor(2.5), "transposed": Tensor.normal([4, 3], using: &generator).transposed()]
        try SafeTensors.write(tensors, metadata: ["step": "12"], to: path)
        try SafeTensors.write(tensors, to: path)                      // overwrite in place
        let file = try SafeTensorsFile(path: path)
        for (name, tensor) in tensors { #expect(try file.tensor(named: name).scalars == tensor.scalars) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["weights.safetensors"])
    }

    /// Writes `header` (and `data`) as a safetensors file and returns the error opening it.
    func openError(header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) -> SafeTensorsError? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bytes = Data()
        withUnsafeBytes(of: (lengthOverride ?? UInt64(header.utf8.count)).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: Array(header.utf8) + data)
        _ = FileManager.default.createFile(atPath: path, contents: bytes)
        do {
            _ = try SafeTensorsFile(path: path)
            return nil
        } catch let error as SafeTensorsError {
            #expect(error.description.contains(path), "errors name the file")
            return error
        } catch {
            return nil
        }
    }

    @Test func rejectsMalformedFilesWithNamedErrors() {
        let ok = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        #expect(openError(header: ok, data: Array(repeating: 0, count: 8)) == nil)
        #expect(openError(header: ok, data: [], lengthOverride: 1 << 40).map { if case .headerOutOfBounds = $0 { true } else { false } } == true)
        #expect(openError(header: "{not json").map { if case .invalidHeader = $0 { true } else { false } } == true)
        #expect(openError(header: "[1, 2]").map { if case .invalidHeader = $0 { true } else { false } } == true)
        let truncated = openError(header: ok, data: Array(repeating: 0, count: 4))
        #expect(truncated?.description.contains("tensor 'w'") == true)
        #expect(openError(header: #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
                    .map { if case .sizeMismatch(_, "w", _, _, _) = $0 { true } else { false } } == true)
        #expect(openError(header: #"{"w":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
                    .map { if case .unsupportedDataType(_, "w", "C64") = $0 { true } else { false } } == true)
        #expect(openError(header: #"{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))
                    .map { if case .invalidEntry(_, "w", _) = $0 { true } else { false } } == true)
        let overlapping = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        #expect(openError(header: overlapping, data: Array(repeating: 0, count: 12))
                    .map { if case .overlappingData = $0 { true } else { false } } == true)
        // An empty tensor between two overlapping ones must not hide the overlap.
        let hidden = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"e":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"#
            + #""c":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}}"#
        #expect(openError(header: hidden, data: Array(repeating: 0, count: 16))
                    .map { if case .overlappingData(_, "a", "c") = $0 { true } else { false } } == true)
        #expect((try? SafeTensorsFile(path: "/nonexistent/model.safetensors")) == nil)
    }
}
