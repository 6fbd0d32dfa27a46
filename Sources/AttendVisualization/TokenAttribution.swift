import Foundation

/// A score per token — what an explanation method (rollout, flow, gradient-weighted attention,
/// integrated gradients) credits each input token with for one target — and the pictures of it:
/// bars per token (PNG, SVG) and the text with each token shaded (HTML).
public struct TokenAttribution: Sendable, Equatable {
    /// The method, e.g. `"attention rollout (mean over heads)"`.
    public var method: String
    /// What is explained, e.g. `"similarity to “Someone is having lunch.”"`.
    public var target: String
    public var tokens: [String]
    /// One score per token; negative scores (gradients) count against the target.
    public var scores: [Float]

    public init(method: String, target: String, tokens: [String], scores: [Float]) {
        precondition(tokens.count == scores.count, "TokenAttribution: \(tokens.count) tokens but \(scores.count) scores")
        self.method = method
        self.target = target
        self.tokens = tokens
        self.scores = scores
    }

    /// The largest |score| (1 when all are zero), what bars and shades are scaled by.
    var scale: Float { Swift.max(scores.map { Swift.abs($0).isFinite ? Swift.abs($0) : 0 }.max() ?? 0, .leastNormalMagnitude) }

    /// Orange for credit, blue for blame, at strength |score|/scale.
    public func color(_ score: Float) -> RGB {
        let t = Swift.min(Swift.abs(score) / scale, 1)
        let (r, g, b): (Float, Float, Float) = score >= 0 ? (230, 97, 1) : (33, 102, 172)
        func mix(_ c: Float) -> UInt8 { UInt8((255 + (c - 255) * t).rounded()) }
        return RGB(mix(r), mix(g), mix(b))
    }

    /// Bars, one row per token: the token, then a bar to the right (credit) or left (blame) of a centre line.
    public func image() -> RGBImage {
        let font = BitmapFont.mono
        let (rowHeight, barWidth, pad) = (font.glyphHeight + 6, 240, 8)
        let labelWidth = (tokens.map { font.width(of: $0) }.max() ?? 0) + pad
        let header = 2 * (font.glyphHeight + 4) + pad
        let width = Swift.max(pad + labelWidth + 2 * barWidth + 80, font.width(of: method) + 2 * pad, font.width(of: target) + 2 * pad)
        var image = RGBImage(width: width, height: header + rowHeight * tokens.count + pad)
        image.draw(method, x: pad, y: 3)
        image.draw(target, x: pad, y: 3 + font.glyphHeight + 4, color: .gray)
        let centre = pad + labelWidth + barWidth
        for (row, (token, score)) in zip(tokens, scores).enumerated() {
            let y = header + row * rowHeight
            image.draw(token, x: pad + labelWidth - pad - font.width(of: token), y: y + 3)
            let length = Int((Swift.abs(score) / scale * Float(barWidth)).rounded())
            image.fill(x: score >= 0 ? centre : centre - length, y: y + 2, width: length, height: rowHeight - 4, color: color(score))
            image.draw(String(format: "%.3g", score), x: centre + barWidth + 6, y: y + 3, color: .gray)
        }
        image.fill(x: centre, y: header, width: 1, height: rowHeight * tokens.count, color: .gray)
        return image
    }

    /// The same bars as an SVG document (Unicode labels).
    public func svg() -> String {
        let rowHeight = 18, barWidth = 240, labelWidth = 8 * (tokens.map(\.count).max() ?? 1) + 16, header = 44
        let centre = 8 + labelWidth + barWidth, width = centre + barWidth + 90
        var body = "<text x=\"8\" y=\"16\" font-size=\"14\">\(escaped(method))</text>"
            + "<text x=\"8\" y=\"34\" font-size=\"12\" fill=\"#6e6e6e\">\(escaped(target))</text>"
        for (row, (token, score)) in zip(tokens, scores).enumerated() {
            let y = header + row * rowHeight
            let length = Swift.abs(score) / scale * Float(barWidth)
            body += "<text x=\"\(centre - barWidth - 6)\" y=\"\(y + 13)\" font-size=\"12\" text-anchor=\"end\">\(escaped(token))</text>"
            body += String(format: "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%@\"/>",
                           score >= 0 ? Float(centre) : Float(centre) - length, y + 2, length, rowHeight - 4, color(score).hex)
            body += String(format: "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#6e6e6e\">%.3g</text>", centre + barWidth + 6, y + 13, score)
        }
        body += "<line x1=\"\(centre)\" y1=\"\(header)\" x2=\"\(centre)\" y2=\"\(header + rowHeight * tokens.count)\" stroke=\"#6e6e6e\"/>"
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(header + rowHeight * tokens.count + 8)\" "
            + "font-family=\"monospace\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>\(body)</svg>\n"
    }

    /// A self-contained HTML page: the text with each token shaded by its score (hover for the
    /// value), the method and target stated, and the bars below.
    public func html(title: String) -> String {
        let spans = zip(tokens, scores).map { token, score in
            "<span class=\"t\" style=\"background:\(color(score).hex)\" title=\"\(String(format: "%.4g", score))\">\(escaped(token))</span>"
        }.joined(separator: " ")
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>\(escaped(title))</title>
            <style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}.t{padding:2px 3px;border-radius:3px;line-height:2}
            .method{font-weight:600}.target{color:#555}.legend span{padding:2px 6px;margin-right:1em}</style></head>
            <body><h1>\(escaped(title))</h1>
            <p class="method" id="method">\(escaped(method))</p><p class="target" id="target">\(escaped(target))</p>
            <p id="tokens">\(spans)</p>
            <p class="legend"><span style="background:\(color(scale).hex)">credit</span><span style="background:\(color(-scale).hex)">blame</span></p>
            \(svg())
            </body></html>
            """
    }

    private func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
