import Foundation

/// Heatmaps of attention matrices — query tokens down the side, key tokens across the top
/// (reading upwards), a colour bar from 0 to the largest weight — as PNG images or SVG.
///
/// ```swift
/// let map = AttentionMap(title: "BERT layer 5", queryTokens: tokens, layers: attentions)
/// try PNG.encode(Heatmap.image(map, layer: 5, head: 3)).write(to: url)
/// try Heatmap.svg(map, layer: 5, head: nil).write(to: svgURL, atomically: true, encoding: .utf8)   // mean over heads
/// ```
public enum Heatmap {
    /// One matrix (`rows.count × columns.count`, row-major) as an image.
    public static func image(_ matrix: [Float], rows: [String], columns: [String], title: String,
                             colorMap: ColorMap = .viridis, cellSize: Int? = nil, showLabels: Bool = true) -> RGBImage {
        precondition(matrix.count == rows.count * columns.count,
                     "heatmap of \(matrix.count) values for \(rows.count) rows × \(columns.count) columns")
        let layout = HeatmapLayout(rows: rows, columns: columns, cellSize: cellSize, showLabels: showLabels, title: title)
        var image = RGBImage(width: layout.width, height: layout.height)
        draw(matrix, rows: rows, columns: columns, title: title, colorMap: colorMap, layout: layout, into: &image, at: (0, 0))
        return image
    }

    /// One layer's head (or the mean over heads when `head` is nil) of `map` as an image.
    public static func image(_ map: AttentionMap, layer: Int, head: Int?, colorMap: ColorMap = .viridis) -> RGBImage {
        image(map.matrix(layer: layer, head: head), rows: map.queryTokens, columns: map.keyTokens,
              title: title(map, layer: layer, head: head), colorMap: colorMap)
    }

    /// Every head of one layer, `columns` panels per row.
    public static func headGrid(_ map: AttentionMap, layer: Int, columns: Int = 4, colorMap: ColorMap = .viridis) -> RGBImage {
        let panels = panelLayouts(map)
        let (panelWidth, panelHeight) = (panels.width, panels.height)
        let perRow = Swift.min(columns, Swift.max(map.headCount, 1))
        let rowCount = (map.headCount + perRow - 1) / perRow
        var image = RGBImage(width: panelWidth * perRow, height: HeatmapLayout.titleHeight + panelHeight * Swift.max(rowCount, 1))
        image.draw(map.title + " — layer \(layer)", x: HeatmapLayout.padding, y: 3)
        for head in 0..<map.headCount {
            draw(map.weights[layer][head], rows: map.queryTokens, columns: map.keyTokens, title: "head \(head)",
                 colorMap: colorMap, layout: panels.layout, into: &image,
                 at: ((head % perRow) * panelWidth, HeatmapLayout.titleHeight + (head / perRow) * panelHeight))
        }
        return image
    }

    /// One matrix as a standalone SVG document (the same layout as the PNG, with Unicode labels).
    public static func svg(_ matrix: [Float], rows: [String], columns: [String], title: String,
                           colorMap: ColorMap = .viridis, showLabels: Bool = true) -> String {
        let layout = HeatmapLayout(rows: rows, columns: columns, cellSize: nil, showLabels: showLabels, title: title)
        var body = ""
        svgPanel(matrix, rows: rows, columns: columns, title: title, colorMap: colorMap, layout: layout, at: (0, 0), into: &body)
        return svgDocument(width: layout.width, height: layout.height, body: body)
    }

    /// One layer's head (or the mean over heads) of `map` as SVG.
    public static func svg(_ map: AttentionMap, layer: Int, head: Int?, colorMap: ColorMap = .viridis) -> String {
        svg(map.matrix(layer: layer, head: head), rows: map.queryTokens, columns: map.keyTokens,
            title: title(map, layer: layer, head: head), colorMap: colorMap)
    }

    /// Every head of one layer as SVG panels, `columns` per row.
    public static func svgHeadGrid(_ map: AttentionMap, layer: Int, columns: Int = 4, colorMap: ColorMap = .viridis) -> String {
        let panels = panelLayouts(map)
        let perRow = Swift.min(columns, Swift.max(map.headCount, 1))
        let rowCount = (map.headCount + perRow - 1) / perRow
        var body = "<text x=\"\(HeatmapLayout.padding)\" y=\"15\" class=\"title\">\(escape(map.title + " — layer \(layer)"))</text>\n"
        for head in 0..<map.headCount {
            svgPanel(map.weights[layer][head], rows: map.queryTokens, columns: map.keyTokens, title: "head \(head)",
                     colorMap: colorMap, layout: panels.layout,
                     at: ((head % perRow) * panels.width, HeatmapLayout.titleHeight + (head / perRow) * panels.height), into: &body)
        }
        return svgDocument(width: panels.width * perRow, height: HeatmapLayout.titleHeight + panels.height * Swift.max(rowCount, 1), body: body)
    }

    // MARK: - Drawing

    static func title(_ map: AttentionMap, layer: Int, head: Int?) -> String {
        "\(map.title) — layer \(layer), " + (head.map { "head \($0)" } ?? "mean of \(map.headCount) heads")
    }

    /// Panels of a grid get smaller cells, and labels only while they stay legible.
    private static func panelLayouts(_ map: AttentionMap) -> (layout: HeatmapLayout, width: Int, height: Int) {
        let tokens = Swift.max(map.queryTokens.count, map.keyTokens.count)
        let layout = HeatmapLayout(rows: map.queryTokens, columns: map.keyTokens,
                                   cellSize: tokens <= 24 ? BitmapFont.mono.glyphHeight : Swift.max(3, 280 / Swift.max(tokens, 1)),
                                   showLabels: tokens <= 24)
        return (layout, layout.width, layout.height)
    }

    private static func draw(_ matrix: [Float], rows: [String], columns: [String], title: String, colorMap: ColorMap,
                             layout: HeatmapLayout, into image: inout RGBImage, at origin: (x: Int, y: Int)) {
        let font = BitmapFont.mono
        let (ox, oy) = origin
        image.draw(title, x: ox + HeatmapLayout.padding, y: oy + HeatmapLayout.padding - 4)
        let top = HeatmapLayout.scaleMaximum(matrix)
        for r in 0..<rows.count {
            for c in 0..<columns.count {
                image.fill(x: ox + layout.gridX + c * layout.cell, y: oy + layout.gridY + r * layout.cell,
                           width: layout.cell, height: layout.cell, color: colorMap.color(matrix[r * columns.count + c] / top))
            }
        }
        if layout.showLabels {
            let inset = (layout.cell - font.glyphHeight) / 2
            for (r, token) in rows.enumerated() {
                let label = HeatmapLayout.label(token)
                image.draw(label, x: ox + layout.gridX - HeatmapLayout.padding / 2 - font.width(of: label),
                           y: oy + layout.gridY + r * layout.cell + inset, color: .black)
            }
            for (c, token) in columns.enumerated() {
                image.draw(HeatmapLayout.label(token), x: ox + layout.gridX + c * layout.cell + inset,
                           y: oy + layout.gridY - HeatmapLayout.padding / 2, color: .black, rotated: true)
            }
        }
        // Colour bar with ticks at 0, half and the maximum.
        let barHeight = rows.count * layout.cell
        for y in 0..<barHeight {
            image.fill(x: ox + layout.colorBarX, y: oy + layout.gridY + y, width: HeatmapLayout.colorBarWidth, height: 1,
                       color: colorMap.color(1 - Float(y) / Float(Swift.max(barHeight - 1, 1))))
        }
        for (fraction, value) in [(0.0, top), (0.5, top / 2), (1.0, Float(0))] {
            let y = oy + layout.gridY + Int(Double(barHeight - font.glyphHeight) * fraction)
            image.draw(String(format: "%.2f", value), x: ox + layout.colorBarX + HeatmapLayout.colorBarWidth + 3, y: y, color: .gray)
        }
    }

    private static func svgPanel(_ matrix: [Float], rows: [String], columns: [String], title: String, colorMap: ColorMap,
                                 layout: HeatmapLayout, at origin: (x: Int, y: Int), into body: inout String) {
        let (ox, oy) = origin
        let top = HeatmapLayout.scaleMaximum(matrix)
        body += "<g transform=\"translate(\(ox),\(oy))\">\n"
        body += "<text x=\"\(HeatmapLayout.padding)\" y=\"\(HeatmapLayout.padding + 10)\" class=\"title\">\(escape(title))</text>\n"
        for r in 0..<rows.count {
            for c in 0..<columns.count {
                let value = matrix[r * columns.count + c]
                body += "<rect x=\"\(layout.gridX + c * layout.cell)\" y=\"\(layout.gridY + r * layout.cell)\" width=\"\(layout.cell)\" height=\"\(layout.cell)\" fill=\"\(colorMap.color(value / top).hex)\"><title>\(escape(rows[r])) → \(escape(columns[c])): \(String(format: "%.4f", value))</title></rect>\n"
            }
        }
        if layout.showLabels {
            for (r, token) in rows.enumerated() {
                body += "<text x=\"\(layout.gridX - 4)\" y=\"\(layout.gridY + r * layout.cell + layout.cell / 2 + 4)\" text-anchor=\"end\">\(escape(HeatmapLayout.label(token)))</text>\n"
            }
            for (c, token) in columns.enumerated() {
                let x = layout.gridX + c * layout.cell + layout.cell / 2 + 4, y = layout.gridY - 4
                body += "<text x=\"\(x)\" y=\"\(y)\" transform=\"rotate(-90 \(x) \(y))\">\(escape(HeatmapLayout.label(token)))</text>\n"
            }
        }
        let barHeight = rows.count * layout.cell
        body += "<defs><linearGradient id=\"bar\(ox)_\(oy)\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        for step in 0...10 { body += "<stop offset=\"\(Double(step) / 10)\" stop-color=\"\(colorMap.color(Float(step) / 10).hex)\"/>" }
        body += "</linearGradient></defs>\n"
        body += "<rect x=\"\(layout.colorBarX)\" y=\"\(layout.gridY)\" width=\"\(HeatmapLayout.colorBarWidth)\" height=\"\(barHeight)\" fill=\"url(#bar\(ox)_\(oy))\"/>\n"
        for (fraction, value) in [(0.0, top), (0.5, top / 2), (1.0, Float(0))] {
            body += "<text x=\"\(layout.colorBarX + HeatmapLayout.colorBarWidth + 3)\" y=\"\(layout.gridY + Int(Double(barHeight) * fraction) + (fraction == 0 ? 10 : 0))\" class=\"tick\">\(String(format: "%.2f", value))</text>\n"
        }
        body += "</g>\n"
    }

    private static func svgDocument(width: Int, height: Int, body: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="DejaVu Sans Mono, Menlo, monospace" font-size="11">
        <style>.title { font-size: 12px; font-weight: bold; } .tick { fill: #666; }</style>
        <rect width="100%" height="100%" fill="#ffffff"/>
        \(body)</svg>

        """
    }

    /// Escapes text for XML content and attributes; drops characters XML 1.0 forbids.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default:
                let v = scalar.value
                if v == 0x9 || v == 0xA || v == 0xD || (0x20...0xD7FF).contains(v) || (0xE000...0xFFFD).contains(v) || v >= 0x10000 {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }
}

extension Heatmap {
    /// Attention over image patches drawn on the image (the ViT class token's attention, say):
    /// each patch of a `rows × columns` grid is tinted with the colour of its weight, with
    /// `opacity` (0…1) for the largest weight scaled down to none for zero.
    ///
    /// - Parameters:
    ///   - image: the input image.
    ///   - weights: one weight per patch, row-major over the grid.
    public static func overlay(_ weights: [Float], rows: Int, columns: Int, on image: RGBImage,
                               colorMap: ColorMap = .viridis, opacity: Float = 0.7) -> RGBImage {
        precondition(weights.count == rows * columns && rows > 0 && columns > 0,
                     "overlay of \(weights.count) weights on a \(rows) × \(columns) patch grid")
        let top = HeatmapLayout.scaleMaximum(weights)
        var result = image
        for y in 0..<image.height {
            for x in 0..<image.width {
                let weight = weights[(y * rows / image.height) * columns + x * columns / image.width] / top
                let alpha = UInt8((Swift.min(Swift.max(weight, 0), 1) * opacity * 255).rounded())
                result.blend(x: x, y: y, color: colorMap.color(weight), alpha: alpha)
            }
        }
        return result
    }
}
