/// Small grayscale images as the digits models see them, and pictures of what explains them.
public enum DigitImage {
    /// `image` as a `side × side` grid of ink in 0…1 (dark on light: ink = 1 − brightness), each
    /// cell the mean over the pixels it covers.
    public static func inkGrid(_ image: RGBImage, side: Int) -> [Float] {
        var grid = [Float](repeating: 0, count: side * side), counts = [Float](repeating: 0, count: side * side)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let c = image[x, y]
                let cell = (y * side / image.height) * side + x * side / image.width
                grid[cell] += 1 - (Float(c.red) + Float(c.green) + Float(c.blue)) / (3 * 255)
                counts[cell] += 1
            }
        }
        return zip(grid, counts).map { $1 > 0 ? $0 / $1 : 0 }
    }

    /// The digit scaled up (16 pixels per cell) beside the same digit with the positive scores
    /// (`rows × columns`, patches or pixels) laid over it, a caption above.
    public static func picture(pixels: [Float], side: Int, scores: [Float], rows: Int, columns: Int, caption: String) -> RGBImage {
        let scale = 16, size = side * scale, header = 18
        // The digit as it is, and faded (ink at 30%) under the scores so that both show.
        func drawn(ink strength: Float) -> RGBImage {
            var image = RGBImage(width: size, height: size)
            for y in 0..<size {
                for x in 0..<size {
                    let ink = Swift.min(Swift.max(pixels[(y / scale) * side + x / scale], 0), 1) * strength
                    let v = UInt8(255 - Int(ink * 255))
                    image.fill(x: x, y: y, width: 1, height: 1, color: RGB(v, v, v))
                }
            }
            return image
        }
        let digit = drawn(ink: 1)
        let tinted = Heatmap.overlay(scores.map { Swift.max($0, 0) }, rows: rows, columns: columns, on: drawn(ink: 0.3), opacity: 0.8)
        let width = Swift.max(2 * size + 12, BitmapFont.mono.width(of: caption) + 8)
        var canvas = RGBImage(width: width, height: size + header + 4)
        canvas.draw(caption, x: 4, y: 3)
        for (offset, part) in [(4, digit), (size + 8, tinted)] {
            for y in 0..<size {
                for x in 0..<size { canvas.fill(x: offset + x, y: header + y, width: 1, height: 1, color: part[x, y]) }
            }
        }
        return canvas
    }
}
