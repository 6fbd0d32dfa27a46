import Attend
import Foundation
import Testing

@Suite("GGUF")
struct GGUFTests {
    static let allTypes = Bundle.module.url(forResource: "all-types", withExtension: "gguf", subdirectory: "Goldens/gguf")!.path
    static let kQuants = Bundle.module.url(forResource: "k-quants", withExtension: "gguf", subdirectory: "Goldens/gguf")!.path

    static func golden(_ name: String) throws -> [String: Any] {
        let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Goldens/gguf")!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    /// A golden metadata value (gguf-py's reading) in Attend's form.
    static func value(_ entry: [String: Any]) -> GGUFValue {
        let type = entry["type"] as! String
        let raw = entry["value"]
        func bits() -> UInt64 { UInt64(entry["bits"] as! String, radix: 16)! }
        switch type {
        case "UINT8": return .uint8(UInt8((raw as! NSNumber).intValue))
        case "INT8": return .int8(Int8((raw as! NSNumber).intValue))
        case "UINT16": return .uint16(UInt16((raw as! NSNumber).intValue))
        case "INT16": return .int16(Int16((raw as! NSNumber).intValue))
        case "UINT32": return .uint32(UInt32((raw as! NSNumber).int64Value))
        case "INT32": return .int32(Int32((raw as! NSNumber).intValue))
        case "UINT64": return .uint64(UInt64(entry["text"] as! String)!)
        case "INT64": return .int64(Int64(entry["text"] as! String)!)
        case "FLOAT32": return .float32(Float(bitPattern: UInt32(bits())))
        case "FLOAT64": return .float64(Double(bitPattern: bits()))
        case "BOOL": return .bool(raw as! Bool)
        case "STRING": return .string(raw as! String)
        default:
            let elementType = entry["element_type"] as! String
            return .array((raw as! [Any]).map { element in
                if let nested = element as? [String: Any] { return value(nested) }
                return value(["type": elementType, "value": element])
            })
        }
    }

    @Test func readsEveryValueTypeAndTensorWrittenByGGUFPy() throws {
        let file = try GGUFFile(path: Self.allTypes)
        let golden = try Self.golden("all-types")
        #expect(file.version == golden["version"] as! Int)
        #expect(file.alignment == golden["alignment"] as! Int)
        #expect(file.dataOffset == golden["tensor_data_offset"] as! Int)
        let metadata = golden["metadata"] as! [[String: Any]]
        #expect(file.metadataKeys == metadata.map { $0["key"] as! String })
        for entry in metadata {
            let key = entry["key"] as! String
            #expect(file.metadata[key] == Self.value(entry), "\(key)")
        }
        let tensors = golden["tensors"] as! [[String: Any]]
        #expect(file.tensorInfos.map(\.name) == tensors.map { $0["name"] as! String })
        for expected in tensors {
            let name = expected["name"] as! String
            let info = try file.info(named: name)
            #expect(info.type.description == expected["type"] as! String, "\(name)")
            #expect(info.dimensions == expected["shape_gguf"] as! [Int], "\(name)")
            #expect(info.shape == expected["shape_numpy"] as! [Int], "\(name)")
            #expect(info.range == (expected["offset"] as! Int)..<((expected["offset"] as! Int) + (expected["n_bytes"] as! Int)), "\(name)")
            // Bit for bit: gguf-py's numpy dequantizers, as float32 bit patterns.
            let bits = (expected["values_f32_hex"] as! [String]).map { UInt32($0, radix: 16)! }
            let values = try file.tensor(named: name)
            #expect(values.shape == info.shape, "\(name)")
            #expect(values.scalars.map(\.bitPattern) == bits, "\(name)")
        }
    }

    @Test func dequantizesOnEveryInstructionSetPathAlike() throws {
        // The Swift reader calls the active path; the kernel suite runs again under ATTEND_ISA=avx2
        // and portable in CI. Here: a row lookup agrees with the whole-tensor dequantization.
        let file = try GGUFFile(path: Self.allTypes)
        for name in ["q8_0.3x64", "q4_0.2x96", "q4_1.4x32"] {
            let info = try file.info(named: name)
            let whole = try file.tensor(named: name)
            let rows = file.rows([info.shape[0] - 1, 0], of: info)
            #expect(rows.selecting(axis: 0, index: 0).scalars == whole.selecting(axis: 0, index: info.shape[0] - 1).scalars)
            #expect(rows.selecting(axis: 0, index: 1).scalars == whole.selecting(axis: 0, index: 0).scalars)
            let matrix = try BlockQuantizedMatrix(file: file, tensor: name)
            #expect(matrix.dequantized().scalars == whole.scalars, "\(name)")
        }
    }

    @Test func namesTypesItCannotDequantize() throws {
        let file = try GGUFFile(path: Self.kQuants)
        let info = try #require(file.tensorInfos.first)
        #expect(info.type == .q4_K)
        #expect(throws: GGUFError.self) { try file.tensor(named: info.name) }
        #expect(throws: GGUFError.self) { try file.tensor(named: "no.such.tensor") }
    }

    // MARK: Damaged files

    /// Opens `bytes` written to a temporary file; returns the error's text (nil if it opened).
    func openError(_ bytes: [UInt8]) -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).gguf").path
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            return nil
        } catch let error as GGUFError {
            #expect(!error.description.contains("\n"), "one line: \(error)")
            return error.reason
        } catch {
            Issue.record("unexpected error type \(error)")
            return "\(error)"
        }
    }

    var original: [UInt8] { get throws { Array(try Data(contentsOf: URL(fileURLWithPath: Self.allTypes))) } }

    func write<T: FixedWidthInteger>(_ value: T, at offset: Int, in bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { for (index, byte) in $0.enumerated() { bytes[offset + index] = byte } }
    }

    /// The byte offset of tensor `name`'s info (its name's length field).
    func tensorInfoOffset(_ name: String, in bytes: [UInt8]) -> Int {
        let needle = Array(name.utf8)
        let dataStart = try! GGUFFile(path: Self.allTypes).dataOffset
        for start in stride(from: dataStart - needle.count, through: 8, by: -1) where Array(bytes[start..<(start + needle.count)]) == needle {
            return start - 8
        }
        fatalError("no tensor info for \(name)")
    }

    @Test func everyTruncationIsAnErrorNotACrash() throws {
        let bytes = try original
        let file = try GGUFFile(path: Self.allTypes)
        let lastTensorEnd = file.dataOffset + file.tensorInfos.map(\.range.upperBound).max()!
        for length in stride(from: 0, to: lastTensorEnd, by: 7) {
            #expect(openError(Array(bytes.prefix(length))) != nil, "truncated to \(length) bytes")
        }
    }

    @Test func badMagicAndVersion() throws {
        var bytes = try original
        bytes[0] = UInt8(ascii: "X")
        #expect(openError(bytes)?.contains("not a GGUF file") == true)
        bytes = try original
        write(UInt32(7), at: 4, in: &bytes)
        #expect(openError(bytes)?.contains("version 7") == true)
    }

    @Test func hugeCountsAreRefusedBeforeAllocating() throws {
        var bytes = try original
        write(UInt64(1) << 60, at: 8, in: &bytes)                       // tensor count
        #expect(openError(bytes)?.contains("tensor count") == true)
        bytes = try original
        write(UInt64(1) << 60, at: 16, in: &bytes)                      // metadata count
        #expect(openError(bytes)?.contains("metadata count") == true)
        bytes = try original
        write(UInt64(1) << 40, at: 24, in: &bytes)                      // the first key's length
        #expect(openError(bytes)?.contains("past the end") == true)
    }

    @Test func tensorDamageNamesTheTensor() throws {
        let bytes = try original
        let name = "q4_0.2x96"
        let info = tensorInfoOffset(name, in: bytes)
        let typeOffset = info + 8 + name.utf8.count + 4 + 2 * 8         // name, n_dims, two dims
        let offsetOffset = typeOffset + 4

        var damaged = bytes
        write(UInt32(99), at: typeOffset, in: &damaged)
        #expect(openError(damaged) == "tensor '\(name)': unknown ggml type 99")

        damaged = bytes
        write(UInt64(1 << 20), at: offsetOffset, in: &damaged)
        #expect(openError(damaged)?.contains("tensor '\(name)'") == true)
        #expect(openError(damaged)?.contains("outside") == true)

        damaged = bytes
        write(UInt64(768), at: offsetOffset, in: &damaged)              // onto q8_0.3d (bytes 768..<1040)
        #expect(openError(damaged)?.contains("overlap") == true)

        damaged = bytes
        write(UInt64(100), at: offsetOffset, in: &damaged)              // not a multiple of 64
        #expect(openError(damaged)?.contains("alignment") == true)

        damaged = bytes
        write(UInt64(33), at: info + 8 + name.utf8.count + 4, in: &damaged)   // ne0 = 33: not whole blocks
        #expect(openError(damaged)?.contains("blocks") == true)
    }
}
