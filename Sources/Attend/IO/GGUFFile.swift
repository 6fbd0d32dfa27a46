import AttendKernels
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a GGUF file could not be read: one line naming the file and, where one is at fault, the
/// metadata key or tensor.
public struct GGUFError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String
    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }
    public var description: String { "\(file): \(reason)" }
}

/// A GGUF file (llama.cpp's model format), memory mapped and validated on open.
///
/// Layout (little-endian): `"GGUF"`, version (2 or 3), tensor count and metadata count (u64),
/// the metadata `key → typed value` pairs, one info per tensor `{name, dims (ne₀ first), type,
/// offset}`, padding to the alignment (`general.alignment`, default 32), then the data section.
/// Opening checks every count and length against the bytes that remain, that every tensor's
/// bytes lie inside the data section at an aligned offset, that no two overlap and that every
/// type is known — so a damaged file gives an error, never a crash or a huge allocation.
///
/// ```swift
/// let file = try GGUFFile(path: "SmolLM2-135M-Instruct.Q4_1.gguf")
/// let layers = file.metadata["llama.block_count"]?.integer          // 30
/// let norm = try file.tensor(named: "output_norm.weight")            // Float32 [576]
/// ```
public final class GGUFFile: @unchecked Sendable {
    /// One tensor's description.
    public struct TensorInfo: Sendable, Equatable {
        public let name: String
        public let type: GGMLType
        /// Sizes as GGUF stores them, fastest-varying first (ggml's `ne`).
        public let dimensions: [Int]
        /// Byte range within the data section.
        public let range: Range<Int>
        /// Row-major shape (``dimensions`` reversed): a `[out, in]` matrix has `dimensions == [in, out]`.
        public var shape: [Int] { dimensions.reversed() }
        public var elementCount: Int { dimensions.reduce(1, *) }
    }

    public let path: String
    public let version: Int
    /// Metadata in file order.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensors in file order.
    public let tensorInfos: [TensorInfo]
    public let alignment: Int
    /// Where the data section starts in the file.
    public let dataOffset: Int
    private let tensorIndex: [String: Int]
    private let mapping: UnsafeRawBufferPointer

    /// Maps and validates `path`.
    ///
    /// - Throws: ``GGUFError`` naming what is wrong.
    public init(path: String) throws {
        self.path = path
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw GGUFError(file: path, reason: "cannot open: " + String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw GGUFError(file: path, reason: "cannot stat: " + String(cString: strerror(errno)))
        }
        let size = Int(status.st_size)
        guard size >= 24 else { throw GGUFError(file: path, reason: "\(size) bytes is too short for a GGUF header") }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw GGUFError(file: path, reason: "mmap failed: " + String(cString: strerror(errno)))
        }
        mapping = UnsafeRawBufferPointer(start: address, count: size)
        do {
            var reader = Reader(bytes: mapping, file: path)
            let parsed = try reader.parseHeader()
            (version, metadataKeys, metadata, tensorInfos, alignment, dataOffset) = parsed
        } catch {
            munmap(address, size)
            throw error
        }
        tensorIndex = Dictionary(uniqueKeysWithValues: tensorInfos.enumerated().map { ($1.name, $0) })
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: mapping.baseAddress), mapping.count)
    }

    /// The info of tensor `name`.
    public func info(named name: String) throws -> TensorInfo {
        guard let index = tensorIndex[name] else { throw GGUFError(file: path, reason: "no tensor named '\(name)'") }
        return tensorInfos[index]
    }

    /// Whether the file has a tensor `name`.
    public func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    /// The raw bytes of tensor `name`, valid while this file is alive.
    public func bytes(of info: TensorInfo) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: mapping[(dataOffset + info.range.lowerBound)..<(dataOffset + info.range.upperBound)])
    }

    /// Tensor `name` as Float32 in row-major ``TensorInfo/shape``, dequantized exactly as ggml does
    /// (F32, F16, BF16, Q8_0, Q4_0, Q4_1).
    ///
    /// - Throws: ``GGUFError`` for a missing tensor or a type Attend cannot dequantize.
    public func tensor(named name: String) throws -> Tensor {
        let info = try info(named: name)
        guard info.type.isDequantizable else {
            throw GGUFError(file: path, reason: "tensor '\(name)': cannot dequantize type \(info.type)")
        }
        let result = Tensor(uninitializedShape: info.shape)
        Self.dequantize(bytes(of: info).baseAddress, type: info.type, count: info.elementCount, into: result.storage.base)
        return result
    }

    /// Rows `rows` of a matrix tensor (`[rows, columns]` in ``TensorInfo/shape``) as Float32 `[rows.count, columns]`:
    /// an embedding lookup that leaves the rest of the table quantized.
    public func rows(_ rows: [Int], of info: TensorInfo) -> Tensor {
        precondition(info.dimensions.count == 2 && info.type.isDequantizable, "GGUFFile.rows needs a dequantizable matrix, got \(info.name)")
        let columns = info.dimensions[0], rowBytes = info.type.byteCount(elements: columns)!
        let result = Tensor(uninitializedShape: [rows.count, columns])
        let base = bytes(of: info).baseAddress!
        for (index, row) in rows.enumerated() {
            precondition(row >= 0 && row < info.dimensions[1], "row \(row) outside \(info.name) with \(info.dimensions[1]) rows")
            Self.dequantize(base + row * rowBytes, type: info.type, count: columns, into: result.storage.base + index * columns)
        }
        return result
    }

    /// Dequantizes `count` elements of `type` at `source` into `destination`.
    static func dequantize(_ source: UnsafeRawPointer?, type: GGMLType, count: Int, into destination: UnsafeMutablePointer<Float>) {
        guard count > 0, let source else { return }
        let kernels = Kernels.active
        switch type {
        case .f32: destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        case .f16: kernels.dequantize_f16(source, destination, count)
        case .bf16: kernels.dequantize_bf16(source, destination, count)
        case .q8_0: kernels.dequantize_q8_0(source, destination, count)
        case .q4_0: kernels.dequantize_q4_0(source, destination, count)
        case .q4_1: kernels.dequantize_q4_1(source, destination, count)
        default: preconditionFailure("GGUF type \(type) is not dequantizable")
        }
    }
}

/// A bounds-checked cursor over the file's header.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var position = 0

    var remaining: Int { bytes.count - position }

    func error(_ reason: String) -> GGUFError { GGUFError(file: file, reason: reason) }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        guard remaining >= MemoryLayout<T>.size else {
            throw error("truncated at byte \(position) reading \(what())")
        }
        let value = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return value
    }

    /// A count of items of at least `itemSize` bytes each, checked against the bytes left.
    mutating func count(_ what: @autoclosure () -> String, itemSize: Int) throws -> Int {
        let raw = try load(UInt64.self, what())
        guard raw <= UInt64(remaining / Swift.max(itemSize, 1)) else {
            throw error("\(what()) is \(raw), more than the \(remaining) remaining bytes can hold")
        }
        return Int(raw)
    }

    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let length = try load(UInt64.self, "the length of \(what())")
        guard length <= UInt64(remaining) else {
            throw error("\(what()) has length \(length), past the end of the file (\(remaining) bytes remain)")
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(length))]), as: UTF8.self)
        position += Int(length)
        return text
    }

    mutating func value(of code: UInt32, key: String, depth: Int = 0) throws -> GGUFValue {
        guard let type = GGUFValue.TypeCode(rawValue: code) else { throw error("metadata '\(key)': unknown value type \(code)") }
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, "metadata '\(key)'"))
        case .int8: return .int8(try load(Int8.self, "metadata '\(key)'"))
        case .uint16: return .uint16(try load(UInt16.self, "metadata '\(key)'"))
        case .int16: return .int16(try load(Int16.self, "metadata '\(key)'"))
        case .uint32: return .uint32(try load(UInt32.self, "metadata '\(key)'"))
        case .int32: return .int32(try load(Int32.self, "metadata '\(key)'"))
        case .uint64: return .uint64(try load(UInt64.self, "metadata '\(key)'"))
        case .int64: return .int64(try load(Int64.self, "metadata '\(key)'"))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, "metadata '\(key)'")))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, "metadata '\(key)'")))
        case .bool:
            let byte = try load(UInt8.self, "metadata '\(key)'")
            guard byte <= 1 else { throw error("metadata '\(key)': bool byte \(byte) is neither 0 nor 1") }
            return .bool(byte == 1)
        case .string: return .string(try string("metadata '\(key)'"))
        case .array:
            guard depth < 8 else { throw error("metadata '\(key)': arrays nested deeper than 8") }
            let elementCode = try load(UInt32.self, "the element type of metadata '\(key)'")
            guard let elementType = GGUFValue.TypeCode(rawValue: elementCode) else {
                throw error("metadata '\(key)': unknown array element type \(elementCode)")
            }
            let n = try count("the length of array '\(key)'", itemSize: elementType.minimumByteCount)
            var elements: [GGUFValue] = []
            elements.reserveCapacity(n)
            for _ in 0..<n { elements.append(try value(of: elementCode, key: key, depth: depth + 1)) }
            return .array(elements)
        }
    }

    mutating func parseHeader() throws
        -> (Int, [String], [String: GGUFValue], [GGUFFile.TensorInfo], Int, Int) {
        let magic = try load(UInt32.self, "the magic")
        guard magic == 0x4655_4747 else {   // "GGUF"
            throw error(String(format: "not a GGUF file (magic 0x%08x, expected \"GGUF\")", magic))
        }
        let version = Int(try load(UInt32.self, "the version"))
        guard version == 2 || version == 3 else { throw error("unsupported GGUF version \(version) (2 and 3 are read)") }
        // A tensor info takes at least 24 bytes (name length, dimension count, type, offset).
        let tensorCount = try count("the tensor count", itemSize: 24)
        let metadataCount = try count("the metadata count", itemSize: 13)

        var keys: [String] = [], metadata: [String: GGUFValue] = [:]
        for index in 0..<metadataCount {
            let key = try string("metadata key \(index)")
            let code = try load(UInt32.self, "the type of metadata '\(key)'")
            guard metadata[key] == nil else { throw error("metadata '\(key)' appears twice") }
            metadata[key] = try value(of: code, key: key)
            keys.append(key)
        }
        var alignment = 32
        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a > 0, a & (a - 1) == 0 else {
                throw error("metadata 'general.alignment' must be a uint32 power of two, got \(value)")
            }
            alignment = Int(a)
        }

        var raw: [(name: String, dimensions: [Int], type: GGMLType, offset: UInt64)] = []
        var names = Set<String>()
        for index in 0..<tensorCount {
            let name = try string("the name of tensor \(index)")
            guard names.insert(name).inserted else { throw error("tensor '\(name)' appears twice") }
            let rank = Int(try load(UInt32.self, "the dimension count of tensor '\(name)'"))
            guard (1...4).contains(rank) else { throw error("tensor '\(name)': \(rank) dimensions (1 to 4 allowed)") }
            var dimensions: [Int] = []
            for axis in 0..<rank {
                let size = try load(UInt64.self, "dimension \(axis) of tensor '\(name)'")
                guard size <= UInt64(Int32.max) else { throw error("tensor '\(name)': dimension \(axis) is \(size)") }
                dimensions.append(Int(size))
            }
            let code = try load(UInt32.self, "the type of tensor '\(name)'")
            guard let type = GGMLType(rawValue: code) else { throw error("tensor '\(name)': unknown ggml type \(code)") }
            let offset = try load(UInt64.self, "the offset of tensor '\(name)'")
            raw.append((name, dimensions, type, offset))
        }
        let dataOffset = (position + alignment - 1) / alignment * alignment
        guard dataOffset <= bytes.count else { throw error("the data section starts at \(dataOffset), past the end of the file") }
        let dataSize = bytes.count - dataOffset

        var infos: [GGUFFile.TensorInfo] = []
        for (name, dimensions, type, offset) in raw {
            let (elements, overflow) = dimensions.reduce((1, false)) { partial, size in
                let (product, overflowed) = partial.0.multipliedReportingOverflow(by: size)
                return (product, partial.1 || overflowed)
            }
            guard !overflow, dimensions[0] % type.blockSize == 0, let byteCount = type.byteCount(elements: elements) else {
                throw error("tensor '\(name)': dimensions \(dimensions) do not fit whole \(type) blocks of \(type.blockSize)")
            }
            guard offset % UInt64(alignment) == 0 else {
                throw error("tensor '\(name)': offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            guard offset <= UInt64(dataSize), byteCount <= dataSize - Int(offset) else {
                throw error("tensor '\(name)': bytes \(offset)..<\(offset &+ UInt64(byteCount)) lie outside the \(dataSize)-byte data section")
            }
            infos.append(.init(name: name, type: type, dimensions: dimensions, range: Int(offset)..<(Int(offset) + byteCount)))
        }
        let ordered = infos.filter { !$0.range.isEmpty }.sorted { ($0.range.lowerBound, $0.name) < ($1.range.lowerBound, $1.name) }
        for (previous, next) in zip(ordered, ordered.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw error("tensors '\(previous.name)' and '\(next.name)' overlap")
        }
        return (version, keys, metadata, infos, alignment, dataOffset)
    }
}
