import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a safetensors file could not be read or written. Every case names the file, and the
/// tensor when one is at fault.
public enum SafeTensorsError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(file: String, reason: String)
    case truncatedHeader(file: String, size: Int)
    case headerOutOfBounds(file: String, headerLength: UInt64, fileSize: Int)
    case invalidHeader(file: String, reason: String)
    case invalidEntry(file: String, tensor: String, reason: String)
    case unsupportedDataType(file: String, tensor: String, dataType: String)
    case sizeMismatch(file: String, tensor: String, shape: [Int], dataType: String, byteCount: Int)
    case dataOutOfBounds(file: String, tensor: String, range: Range<Int>, dataSize: Int)
    case overlappingData(file: String, first: String, second: String)
    case missingTensor(file: String, tensor: String)
    case cannotWrite(file: String, reason: String)

    public var description: String {
        switch self {
        case let .cannotOpen(file, reason): "\(file): cannot open: \(reason)"
        case let .truncatedHeader(file, size): "\(file): \(size) bytes is too short for a safetensors header"
        case let .headerOutOfBounds(file, length, size): "\(file): header length \(length) exceeds the file size \(size)"
        case let .invalidHeader(file, reason): "\(file): invalid header: \(reason)"
        case let .invalidEntry(file, tensor, reason): "\(file): tensor '\(tensor)': \(reason)"
        case let .unsupportedDataType(file, tensor, type): "\(file): tensor '\(tensor)': unsupported dtype \(type)"
        case let .sizeMismatch(file, tensor, shape, type, bytes):
            "\(file): tensor '\(tensor)': shape \(shape) of \(type) does not fit its \(bytes) bytes"
        case let .dataOutOfBounds(file, tensor, range, size):
            "\(file): tensor '\(tensor)': data range \(range.lowerBound)..<\(range.upperBound) lies outside the \(size) data bytes"
        case let .overlappingData(file, first, second): "\(file): tensors '\(first)' and '\(second)' overlap"
        case let .missingTensor(file, tensor): "\(file): no tensor named '\(tensor)'"
        case let .cannotWrite(file, reason): "\(file): cannot write: \(reason)"
        }
    }
}

/// A safetensors file (Hugging Face's format: an 8-byte little-endian header length, a JSON
/// header of `{name: {dtype, shape, data_offsets}}`, then the raw little-endian data), memory
/// mapped and validated on open. Tensors of dtype F32, F16, BF16 (and the integer types, for
/// index buffers) are read as Float32.
///
/// ```swift
/// let file = try SafeTensorsFile(path: "model.safetensors")
/// let weight = try file.tensor(named: "embeddings.word_embeddings.weight")
/// ```
public final class SafeTensorsFile: @unchecked Sendable {
    /// One tensor's description from the header.
    public struct Entry: Sendable, Equatable {
        public let dataType: String
        public let shape: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
    }

    public let path: String
    /// The header's `__metadata__` strings.
    public let metadata: [String: String]
    /// Every tensor, by name.
    public let entries: [String: Entry]
    private let mapping: UnsafeRawBufferPointer
    private let dataStart: Int

    /// The stored element types this reader converts to Float32.
    enum StoredType: String {
        case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"
        case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        var byteCount: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16, .i16: 2
            case .i8, .u8, .bool: 1
            }
        }
    }

    /// Maps and validates the file: header length against the file size, the JSON, every
    /// dtype and shape, that every data range lies inside the data section and that no two overlap.
    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw SafeTensorsError.cannotOpen(file: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw SafeTensorsError.cannotOpen(file: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(status.st_size)
        guard size >= 8 else { throw SafeTensorsError.truncatedHeader(file: path, size: size) }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw SafeTensorsError.cannotOpen(file: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        mapping = UnsafeRawBufferPointer(start: address, count: size)
        do {
            (metadata, entries, dataStart) = try SafeTensorsFile.parseHeader(mapping, file: path)
        } catch {
            munmap(address, size)
            throw error
        }
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    /// Tensor names, sorted.
    public var tensorNames: [String] { entries.keys.sorted() }

    /// The tensor `name` as Float32.
    public func tensor(named name: String) throws -> Tensor {
        guard let entry = entries[name] else { throw SafeTensorsError.missingTensor(file: path, tensor: name) }
        let count = entry.shape.reduce(1, *)
        let bytes = UnsafeRawBufferPointer(rebasing: mapping[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)])
        let result = Tensor(uninitializedShape: entry.shape)
        let out = result.storage.base
        func load<T>(_ type: T.Type, _ convert: (T) -> Float) {
            for i in 0..<count { out[i] = convert(bytes.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self)) }
        }
        // The header parser admitted only dtypes that StoredType names.
        switch StoredType(rawValue: entry.dataType)! {
        case .f32: load(UInt32.self) { Float(bitPattern: UInt32(littleEndian: $0)) }
        case .f16: load(UInt16.self) { SafeTensorsFile.float(fromHalf: UInt16(littleEndian: $0)) }
        case .bf16: load(UInt16.self) { Float(bitPattern: UInt32(UInt16(littleEndian: $0)) << 16) }
        case .f64: load(UInt64.self) { Float(Double(bitPattern: UInt64(littleEndian: $0))) }
        case .i64: load(Int64.self) { Float(Int64(littleEndian: $0)) }
        case .i32: load(Int32.self) { Float(Int32(littleEndian: $0)) }
        case .i16: load(Int16.self) { Float(Int16(littleEndian: $0)) }
        case .i8: load(Int8.self) { Float($0) }
        case .u8, .bool: load(UInt8.self) { Float($0) }
        }
        return result
    }

    /// Every tensor, by name.
    public func tensors() throws -> [String: Tensor] {
        try Dictionary(uniqueKeysWithValues: tensorNames.map { ($0, try tensor(named: $0)) })
    }

    /// IEEE binary16 → binary32, subnormals and infinities included.
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits >> 15) << 31
        let exponent = Int((bits >> 10) & 0x1F), mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }

    private static func parseHeader(
        _ file: UnsafeRawBufferPointer, file path: String
    ) throws -> ([String: String], [String: Entry], Int) {
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(file.count - 8) else {
            throw SafeTensorsError.headerOutOfBounds(file: path, headerLength: headerLength, fileSize: file.count)
        }
        let dataStart = 8 + Int(headerLength)
        let headerBytes = Data(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerBytes)
        } catch {
            throw SafeTensorsError.invalidHeader(file: path, reason: "not JSON (\(error.localizedDescription))")
        }
        guard let header = json as? [String: Any] else {
            throw SafeTensorsError.invalidHeader(file: path, reason: "not a JSON object")
        }
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        let dataSize = file.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                guard let strings = value as? [String: String] else {
                    throw SafeTensorsError.invalidHeader(file: path, reason: "__metadata__ must map strings to strings")
                }
                metadata = strings
                continue
            }
            guard let fields = value as? [String: Any], let dataType = fields["dtype"] as? String,
                  let shapeValues = fields["shape"] as? [Any], let offsetValues = fields["data_offsets"] as? [Any] else {
                throw SafeTensorsError.invalidEntry(file: path, tensor: name, reason: "needs dtype, shape and data_offsets")
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            let offsets = offsetValues.compactMap { ($0 as? NSNumber).flatMap { Int(exactly: $0.doubleValue) } }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw SafeTensorsError.invalidEntry(file: path, tensor: name, reason: "shape \(shapeValues) is not a list of sizes")
            }
            guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw SafeTensorsError.invalidEntry(file: path, tensor: name, reason: "data_offsets \(offsetValues) is not [begin, end]")
            }
            guard let elementSize = StoredType(rawValue: dataType)?.byteCount else {
                throw SafeTensorsError.unsupportedDataType(file: path, tensor: name, dataType: dataType)
            }
            let range = offsets[0]..<offsets[1]
            let (elements, overflow) = shape.reduce((1, false)) { partial, size in
                let (product, overflowed) = partial.0.multipliedReportingOverflow(by: size)
                return (product, partial.1 || overflowed)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: elementSize).partialValue == range.count,
                  !elements.multipliedReportingOverflow(by: elementSize).overflow else {
                throw SafeTensorsError.sizeMismatch(file: path, tensor: name, shape: shape, dataType: dataType, byteCount: range.count)
            }
            guard range.upperBound <= dataSize else {
                throw SafeTensorsError.dataOutOfBounds(file: path, tensor: name, range: range, dataSize: dataSize)
            }
            entries[name] = Entry(dataType: dataType, shape: shape, range: range)
        }
        // In order of start, each range must begin after every earlier one has ended (compared
        // with the one reaching furthest, not just the previous one; empty ranges hold nothing).
        let ordered = entries.filter { !$0.value.range.isEmpty }
            .sorted { ($0.value.range.lowerBound, $0.key) < ($1.value.range.lowerBound, $1.key) }
        var furthest: (name: String, end: Int)?
        for (name, entry) in ordered {
            if let furthest, entry.range.lowerBound < furthest.end {
                throw SafeTensorsError.overlappingData(file: path, first: furthest.name, second: name)
            }
            if entry.range.upperBound > furthest?.end ?? Int.min { furthest = (name, entry.range.upperBound) }
        }
        return (metadata, entries, dataStart)
    }
}

/// Writing safetensors files.
public enum SafeTensors {
    /// The element type a tensor is stored as. Attend's tensors are Float32 in memory; integer
    /// types hold quantized weights (`I8`) and byte data (`U8`), whose values must be integers
    /// in range.
    public enum DataType: String, Sendable {
        case float32 = "F32", int8 = "I8", uint8 = "U8"

        var byteCount: Int { self == .float32 ? 4 : 1 }
        var range: ClosedRange<Float> { self == .int8 ? -128...127 : 0...255 }
    }

    /// Writes `tensors` with sorted names, the header padded to 8 bytes, atomically: the bytes
    /// go to a temporary file beside `path`, which is then renamed over it, so a crash mid-write
    /// never leaves a truncated file in place of the previous one.
    ///
    /// - Parameter dataTypes: the stored type of each tensor not written as F32 (e.g. a quantized
    ///   layer's `weight` as `.int8`); throws if a value does not fit its type.
    public static func write(_ tensors: [String: Tensor], dataTypes: [String: DataType] = [:],
                             metadata: [String: String] = [:], to path: String) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        let names = tensors.keys.sorted()
        for name in dataTypes.keys where tensors[name] == nil {
            throw SafeTensorsError.cannotWrite(file: path, reason: "a data type is given for '\(name)', which is not among the tensors")
        }
        for name in names {
            let tensor = tensors[name]!, type = dataTypes[name] ?? .float32
            let byteCount = type.byteCount * tensor.scalarCount
            header[name] = ["dtype": type.rawValue, "shape": tensor.shape, "data_offsets": [offset, offset + byteCount]]
            offset += byteCount
        }
        var headerBytes = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        headerBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - headerBytes.count % 8) % 8))
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(headerBytes)
        for name in names {
            let type = dataTypes[name] ?? .float32
            try tensors[name]!.withUnsafeScalars { scalars in
                switch type {
                case .float32:
                    #if _endian(little)
                    data.append(UnsafeBufferPointer(start: scalars.baseAddress, count: scalars.count))
                    #else
                    for value in scalars { withUnsafeBytes(of: value.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
                    #endif
                case .int8, .uint8:
                    var bytes = [UInt8](repeating: 0, count: scalars.count)
                    for (index, value) in scalars.enumerated() {
                        guard type.range.contains(value), value.rounded() == value else {
                            throw SafeTensorsError.cannotWrite(
                                file: path, reason: "tensor '\(name)' element \(index) is \(value), not an \(type.rawValue) value")
                        }
                        bytes[index] = type == .int8 ? UInt8(bitPattern: Int8(value)) : UInt8(value)
                    }
                    data.append(contentsOf: bytes)
                }
            }
        }
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw SafeTensorsError.cannotWrite(file: path, reason: error.localizedDescription)
        }
    }
}
