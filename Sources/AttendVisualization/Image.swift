import Foundation

/// An 8-bit RGB raster that heatmaps are drawn on, with the few drawing operations they need.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// Row-major RGB triples.
    public var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGB = .white) {
        precondition(width > 0 && height > 0, "image size \(width)×\(height) must be positive")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
        fill(x: 0, y: 0, width: width, height: height, color: background)
    }

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "\(pixels.count) bytes for a \(width)×\(height) RGB image")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour at (x, y).
    public subscript(x: Int, y: Int) -> RGB {
        let i = (y * width + x) * 3
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Fills a rectangle, clipped to the image.
    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
        for row in Swift.max(0, y)..<Swift.min(height, y + h) {
            for column in Swift.max(0, x)..<Swift.min(width, x + w) {
                let i = (row * width + column) * 3
                (pixels[i], pixels[i + 1], pixels[i + 2]) = (color.red, color.green, color.blue)
            }
        }
    }

    /// Blends `color` into (x, y) with opacity `alpha` (0…255).
    mutating func blend(x: Int, y: Int, color: RGB, alpha: UInt8) {
        guard x >= 0, y >= 0, x < width, y < height, alpha > 0 else { return }
        let i = (y * width + x) * 3, a = Int(alpha)
        func mix(_ old: UInt8, _ new: UInt8) -> UInt8 { UInt8((Int(old) * (255 - a) + Int(new) * a + 127) / 255) }
        (pixels[i], pixels[i + 1], pixels[i + 2]) = (mix(pixels[i], color.red), mix(pixels[i + 1], color.green), mix(pixels[i + 2], color.blue))
    }

    /// Draws `text` in the bitmap font with its top-left corner at (x, y), or rotated 90°
    /// counter-clockwise (reading upwards) with its bottom-left corner at (x, y).
    public mutating func draw(_ text: String, x: Int, y: Int, color: RGB = .black, rotated: Bool = false) {
        let font = BitmapFont.mono
        for (index, character) in BitmapFont.transliterated(text).enumerated() {
            let glyph = font.glyph(for: character)
            for gy in 0..<font.glyphHeight {
                for gx in 0..<font.glyphWidth {
                    let coverage = font.coverage[glyph + gy * font.glyphWidth + gx]
                    guard coverage > 0 else { continue }
                    if rotated {
                        blend(x: x + gy, y: y - index * font.glyphWidth - gx, color: color, alpha: coverage)
                    } else {
                        blend(x: x + index * font.glyphWidth + gx, y: y + gy, color: color, alpha: coverage)
                    }
                }
            }
        }
    }
}

/// An 8-bit RGB colour.
public struct RGB: Sendable, Equatable, CustomStringConvertible {
    public var red: UInt8, green: UInt8, blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    public static let white = RGB(255, 255, 255)
    public static let black = RGB(0, 0, 0)
    public static let gray = RGB(110, 110, 110)

    /// `#rrggbb`.
    public var hex: String {
        "#" + [red, green, blue].map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    public var description: String { hex }
}

extension String {
    func leftPadded(to length: Int, with pad: Character = "0") -> String {
        count >= length ? self : String(repeating: pad, count: length - count) + self
    }
}

/// A monospaced bitmap font with 8-bit coverage per pixel (see BitmapFontData.swift).
public struct BitmapFont: Sendable {
    public let glyphWidth: Int
    public let glyphHeight: Int
    public let baseline: Int
    let coverage: [UInt8]

    /// The offset of the glyph for `character`; characters outside printable ASCII draw as `?`.
    func glyph(for character: Character) -> Int {
        let code = character.asciiValue.map(Int.init) ?? 63
        let index = (32...126).contains(code) ? code - 32 : 63 - 32
        return index * glyphWidth * glyphHeight
    }

    /// The width of `text` in pixels.
    public func width(of text: String) -> Int { BitmapFont.transliterated(text).count * glyphWidth }

    /// Common typographic characters spelled in ASCII, so titles and cut labels read well.
    static func transliterated(_ text: String) -> String {
        guard !text.allSatisfy(\.isASCII) else { return text }
        return text.replacingOccurrences(of: "…", with: "~").replacingOccurrences(of: "—", with: "-")
            .replacingOccurrences(of: "–", with: "-").replacingOccurrences(of: "→", with: ">")
    }
}
