import CZlib
import Foundation

/// Why PNG bytes could not be decoded.
public struct PNGError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { "PNG: \(reason)" }
}

/// PNG encoding and decoding for 8-bit RGB images (deflate and CRC-32 from zlib).
public enum PNG {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// The PNG file for `image`: IHDR (8-bit RGB, no interlace), one IDAT of deflated rows
    /// (filter type 0 per row), IEND.
    public static func encode(_ image: RGBImage) -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity((image.width * 3 + 1) * image.height)
        for row in 0..<image.height {
            raw.append(0)
            raw.append(contentsOf: image.pixels[(row * image.width * 3)..<((row + 1) * image.width * 3)])
        }
        var header = [UInt8]()
        header.appendBigEndian(UInt32(image.width))
        header.appendBigEndian(UInt32(image.height))
        header += [8, 2, 0, 0, 0]          // bit depth 8, colour type RGB, deflate, adaptive filtering, no interlace
        var file = Data(signature)
        appendChunk("IHDR", header, to: &file)
        appendChunk("IDAT", deflate(raw), to: &file)
        appendChunk("IEND", [], to: &file)
        return file
    }

    /// Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Attend writes, and what most tools
    /// write), checking the signature, every chunk's CRC and the inflated size.
    public static func decode(_ data: Data) throws -> RGBImage {
        let bytes = [UInt8](data)
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { throw PNGError(reason: "missing signature") }
        var offset = 8
        var (width, height, channels) = (0, 0, 0)
        var compressed = [UInt8]()
        var sawEnd = false
        while offset + 12 <= bytes.count && !sawEnd {
            let length = Int(bytes.bigEndianUInt32(at: offset))
            guard offset + 12 + length <= bytes.count else { throw PNGError(reason: "chunk at byte \(offset) runs past the end") }
            let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let stored = bytes.bigEndianUInt32(at: offset + 8 + length)
            guard crc(Array(bytes[(offset + 4)..<(offset + 8)]) + body) == stored else {
                throw PNGError(reason: "CRC mismatch in \(type) chunk")
            }
            switch type {
            case "IHDR":
                guard length == 13 else { throw PNGError(reason: "IHDR has \(length) bytes") }
                width = Int(body.bigEndianUInt32(at: 0))
                height = Int(body.bigEndianUInt32(at: 4))
                guard body[8] == 8, body[10] == 0, body[11] == 0, body[12] == 0 else {
                    throw PNGError(reason: "only 8-bit, non-interlaced images are supported")
                }
                switch body[9] {
                case 2: channels = 3
                case 6: channels = 4
                default: throw PNGError(reason: "colour type \(body[9]) is not supported (RGB and RGBA are)")
                }
                guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else {
                    throw PNGError(reason: "image size \(width)×\(height) is out of range")
                }
            case "IDAT": compressed += body
            case "IEND": sawEnd = true
            default: break
            }
            offset += 12 + length
        }
        guard sawEnd, channels > 0 else { throw PNGError(reason: "missing IHDR or IEND") }
        let stride = width * channels
        let raw = try inflate(compressed, expectedSize: (stride + 1) * height)
        guard raw.count == (stride + 1) * height else {
            throw PNGError(reason: "image data inflates to \(raw.count) bytes, expected \((stride + 1) * height)")
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        var previous = [UInt8](repeating: 0, count: stride), current = previous
        for row in 0..<height {
            let filter = raw[row * (stride + 1)]
            for i in 0..<stride {
                let x = raw[row * (stride + 1) + 1 + i]
                let a = i >= channels ? Int(current[i - channels]) : 0, b = Int(previous[i])
                let c = i >= channels ? Int(previous[i - channels]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = a
                case 2: predictor = b
                case 3: predictor = (a + b) / 2
                case 4:
                    let p = a + b - c, pa = Swift.abs(p - a), pb = Swift.abs(p - b), pc = Swift.abs(p - c)
                    predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                default: throw PNGError(reason: "unknown filter type \(filter) in row \(row)")
                }
                current[i] = UInt8(truncatingIfNeeded: Int(x) + predictor)
            }
            for column in 0..<width {
                for channel in 0..<3 { pixels[(row * width + column) * 3 + channel] = current[column * channels + channel] }
            }
            swap(&previous, &current)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// CRC-32 (ISO 3309), as PNG chunks use it.
    public static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, uInt($0.count))) }
    }

    private static func appendChunk(_ type: String, _ body: [UInt8], to file: inout Data) {
        var chunk = [UInt8]()
        chunk.appendBigEndian(UInt32(body.count))
        let typed = Array(type.utf8) + body
        chunk += typed
        chunk.appendBigEndian(crc(typed))
        file.append(contentsOf: chunk)
    }

    private static func deflate(_ raw: [UInt8]) -> [UInt8] {
        var size = compressBound(uLong(raw.count))
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = raw.withUnsafeBufferPointer { input in
            compress2(&output, &size, input.baseAddress, uLong(raw.count), 9)
        }
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Array(output.prefix(Int(size)))
    }

    private static func inflate(_ compressed: [UInt8], expectedSize: Int) throws -> [UInt8] {
        var size = uLong(expectedSize + 1)
        var output = [UInt8](repeating: 0, count: Int(size))
        let status = compressed.withUnsafeBufferPointer { input in
            uncompress(&output, &size, input.baseAddress, uLong(compressed.count))
        }
        guard status == Z_OK else { throw PNGError(reason: "image data does not inflate (zlib status \(status))") }
        return Array(output.prefix(Int(size)))
    }
}

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)])
    }

    func bigEndianUInt32(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 << 8 | UInt32(self[offset + $1]) }
    }
}
