import Foundation

/// Writes scalar summaries as a TensorBoard event file (`events.out.tfevents.<time>.<host>`):
/// TFRecord framing (length, masked CRC-32C of the length, the serialized `Event` protocol buffer,
/// masked CRC-32C of the data), the `brain.Event:2` version record first, then one `Event` with a
/// `Summary.Value{tag, simple_value}` per scalar. TensorBoard and its readers open it as is.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates the event file in `directory` (created if needed).
    public init(directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "localhost"
        path = directory + "/events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        self.handle = handle
        var version = ProtocolBuffer()
        version.double(1, Date().timeIntervalSince1970)
        version.string(3, "brain.Event:2")
        write(record: version.bytes)
    }

    deinit { try? handle.close() }

    /// Appends `value` for `tag` at `step`.
    public func add(scalar value: Float, tag: String, step: Int, wallTime: Date = Date()) {
        var summaryValue = ProtocolBuffer()
        summaryValue.string(1, tag)
        summaryValue.float(2, value)
        var summary = ProtocolBuffer()
        summary.message(1, summaryValue)
        var event = ProtocolBuffer()
        event.double(1, wallTime.timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.message(5, summary)
        write(record: event.bytes)
    }

    /// Flushes to disk.
    public func flush() { try? handle.synchronize() }

    private func write(record data: [UInt8]) {
        var frame = [UInt8]()
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian, Array.init)
        frame += length
        frame += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
        frame += data
        frame += withUnsafeBytes(of: CRC32C.masked(data).littleEndian, Array.init)
        handle.write(Data(frame))
    }
}

/// The few protocol-buffer encodings an `Event` needs.
struct ProtocolBuffer {
    private(set) var bytes: [UInt8] = []

    private mutating func key(_ field: Int, _ wireType: UInt64) { appendVarint(UInt64(field) << 3 | wireType) }

    private mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func varint(_ field: Int, _ value: UInt64) { key(field, 0); appendVarint(value) }
    mutating func double(_ field: Int, _ value: Double) { key(field, 1); bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    mutating func float(_ field: Int, _ value: Float) { key(field, 5); bytes += withUnsafeBytes(of: value.bitPattern.littleEndian, Array.init) }
    mutating func string(_ field: Int, _ value: String) { key(field, 2); appendVarint(UInt64(value.utf8.count)); bytes += Array(value.utf8) }
    mutating func message(_ field: Int, _ value: ProtocolBuffer) { key(field, 2); appendVarint(UInt64(value.bytes.count)); bytes += value.bytes }
}

/// CRC-32C (Castagnoli), and TFRecord's masked form `((c >> 15) | (c << 17)) + 0xa282ead8`.
public enum CRC32C {
    private static let table: [UInt32] = (0..<256).map { index in
        var c = UInt32(index)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
        return c
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public static func masked(_ bytes: [UInt8]) -> UInt32 {
        let c = checksum(bytes)
        return ((c >> 15) | (c << 17)) &+ 0xA282_EAD8
    }
}

/// Appends rows of named metrics to a CSV file (header on first write).
public final class CSVLogger {
    public let path: String
    private let columns: [String]
    private let handle: FileHandle

    public init(path: String, columns: [String]) throws {
        self.path = path
        self.columns = columns
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data((columns.joined(separator: ",") + "\n").utf8)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    deinit { try? handle.close() }

    /// One row; missing columns stay empty.
    public func log(_ values: [String: Double]) {
        let row = columns.map { values[$0].map { String($0) } ?? "" }.joined(separator: ",")
        handle.write(Data((row + "\n").utf8))
    }
}
