/// Where everything in a heatmap goes; the PNG and SVG renderers draw the same layout.
struct HeatmapLayout {
    static let labelLimit = 14                  // characters shown of a token
    static let padding = 8
    static let titleHeight = 20
    static let colorBarWidth = 14
    static let colorBarGap = 10
    static let tickLabelWidth = 5 * BitmapFont.mono.glyphWidth

    let rows: Int, columns: Int
    let cell: Int
    let showLabels: Bool
    let rowLabelWidth: Int, columnLabelHeight: Int
    let gridX: Int, gridY: Int
    let width: Int, height: Int

    init(rows: [String], columns: [String], cellSize: Int?, showLabels: Bool, title: String = "") {
        self.rows = rows.count
        self.columns = columns.count
        // Cells at least one text line tall, so a label fits beside every row and column.
        let font = BitmapFont.mono
        cell = cellSize ?? Swift.max(font.glyphHeight, Swift.min(40, 560 / Swift.max(rows.count, columns.count, 1)))
        self.showLabels = showLabels
        let longestRow = rows.map { HeatmapLayout.label($0).count }.max() ?? 0
        let longestColumn = columns.map { HeatmapLayout.label($0).count }.max() ?? 0
        rowLabelWidth = showLabels ? longestRow * font.glyphWidth + HeatmapLayout.padding : 0
        columnLabelHeight = showLabels ? longestColumn * font.glyphWidth + HeatmapLayout.padding : 0
        gridX = HeatmapLayout.padding + rowLabelWidth
        gridY = HeatmapLayout.padding + HeatmapLayout.titleHeight + columnLabelHeight
        width = Swift.max(gridX + columns.count * cell + HeatmapLayout.colorBarGap + HeatmapLayout.colorBarWidth
            + HeatmapLayout.tickLabelWidth + 2 * HeatmapLayout.padding, font.width(of: title) + 2 * HeatmapLayout.padding)
        height = gridY + rows.count * cell + HeatmapLayout.padding
    }

    var colorBarX: Int { gridX + columns * cell + HeatmapLayout.colorBarGap }

    /// A token as drawn: at most ``labelLimit`` characters, an ellipsis marking the cut.
    static func label(_ token: String) -> String {
        token.count <= labelLimit ? token : String(token.prefix(labelLimit - 1)) + "…"
    }

    /// The largest weight, the top of the colour scale (1 when all are zero).
    static func scaleMaximum(_ matrix: [Float]) -> Float {
        let maximum = matrix.filter(\.isFinite).max() ?? 0
        return maximum > 0 ? maximum : 1
    }
}
