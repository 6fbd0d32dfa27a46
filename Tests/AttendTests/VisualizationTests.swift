import Attend
import AttendVisualization
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

@Suite("Seeing attention")
struct VisualizationTests {
    /// A hand-made 2 × 2 matrix: colours at its cells are known exactly.
    static let matrix: [Float] = [0, 1, 0.5, 0.25]

    @Test func pngDecodesAndShowsTheExpectedColours() throws {
        let image = Heatmap.image(Self.matrix, rows: ["a", "b"], columns: ["x", "y"], title: "test", cellSize: 20)
        let data = PNG.encode(image)
        #expect(Array(data.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let decoded = try PNG.decode(data)                        // checks every chunk CRC and the inflated size
        #expect(decoded == image)
        // Find the grid: the first viridis(0) pixel scanning rows, then sample cell centres.
        let low = ColorMap.viridis.color(0)
        var origin: (Int, Int)? = nil
        search: for y in 0..<decoded.height { for x in 0..<decoded.width where decoded[x, y] == low { origin = (x, y); break search } }
        let (gx, gy) = try #require(origin)
        #expect(decoded[gx + 10, gy + 10] == ColorMap.viridis.color(0))
        #expect(decoded[gx + 30, gy + 10] == ColorMap.viridis.color(1))
        #expect(decoded[gx + 10, gy + 30] == ColorMap.viridis.color(0.5))
        #expect(decoded[gx + 30, gy + 30] == ColorMap.viridis.color(0.25))
        #expect(ColorMap.viridis.color(0) == RGB(68, 1, 84) && ColorMap.viridis.color(1) == RGB(253, 231, 37))
    }

    static let pillow = TestPython.interpreter(importing: "PIL")

    /// Our encoder read by an outside decoder (Pillow), pixel for pixel: the round trip above
    /// alone could hide a bug shared by our encoder and decoder.
    @Test(.enabled(if: pillow != nil || TestPython.isRequired("ATTEND_REQUIRE_PILLOW")))
    func pillowReadsOurPNGs() throws {
        let python = try #require(Self.pillow, "ATTEND_REQUIRE_PILLOW=1 but no Python with Pillow (set ATTEND_TEST_PYTHON)")
        let image = Heatmap.image(Self.matrix, rows: ["a", "b"], columns: ["x", "y"], title: "test", cellSize: 20)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-\(UUID().uuidString).png").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try PNG.encode(image).write(to: URL(fileURLWithPath: path))
        let script = """
            import json, sys
            from PIL import Image
            im = Image.open(sys.argv[1]); im.load()
            print(json.dumps({"mode": im.mode, "size": im.size, "pixels": [list(p) for p in im.convert("RGB").getdata()]}))
            """
        let (status, output) = try TestPython.run(python, ["-c", script, path])
        try #require(status == 0, "Pillow could not open the PNG")
        struct Decoded: Decodable { let mode: String; let size: [Int]; let pixels: [[Int]] }
        let decoded = try JSONDecoder().decode(Decoded.self, from: output)
        #expect(decoded.mode == "RGB" && decoded.size == [image.width, image.height])
        var mismatches = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let c = image[x, y], p = decoded.pixels[y * image.width + x]
                if p != [Int(c.red), Int(c.green), Int(c.blue)] { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "\(mismatches) pixels differ")
    }

    @Test func pngDecoderRejectsCorruption() {
        var data = PNG.encode(RGBImage(width: 3, height: 2))
        data[data.count - 20] ^= 0xFF                             // inside IDAT: CRC no longer matches
        #expect(throws: PNGError.self) { try PNG.decode(data) }
        #expect(throws: PNGError.self) { try PNG.decode(Data([1, 2, 3])) }
    }

    @Test func labelsAreLegibleUpTo128Tokens() throws {
        let tokens = (0..<128).map { "tok\($0)" }
        let image = Heatmap.image([Float](repeating: 1, count: 128 * 128), rows: tokens, columns: tokens, title: "big")
        // Find the grid (every cell has the top colour of the scale) and its cell size.
        let cellColor = ColorMap.viridis.color(1), background = image[0, 0]
        var origin: (x: Int, y: Int)?
        search: for y in 0..<image.height { for x in 0..<image.width where image[x, y] == cellColor { origin = (x, y); break search } }
        let (gx, gy) = try #require(origin)
        let gridWidth = (gx..<image.width).prefix { image[$0, gy] == cellColor }.count
        let cell = gridWidth / 128
        #expect(gridWidth == 128 * cell && cell >= BitmapFont.mono.glyphHeight, "cells of \(cell) px hold a text line")
        // Every row's band left of the grid has its label drawn in it.
        let unlabelled = (0..<128).filter { row in
            !((gy + row * cell)..<(gy + (row + 1) * cell)).contains { y in (0..<gx).contains { x in image[x, y] != background } }
        }
        #expect(unlabelled.isEmpty, "rows without a label: \(unlabelled)")
    }

    final class SVGCounter: NSObject, XMLParserDelegate {
        var rectangles = 0, texts = 0
        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if name == "rect" { rectangles += 1 }
            if name == "text" { texts += 1 }
        }
    }

    @Test func svgIsWellFormedXML() throws {
        let svg = Heatmap.svg(Self.matrix, rows: ["<a>", "b & c"], columns: ["\"x\"", "y\u{0001}"], title: "a → b")
        let parser = XMLParser(data: Data(svg.utf8))
        let counter = SVGCounter()
        parser.delegate = counter
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(counter.rectangles == 4 + 2)                      // cells, background, colour bar
        #expect(counter.texts >= 1 + 4)
    }

    static func sampleMaps() -> [AttentionMap] {
        var generator = PhiloxGenerator(seed: 61)
        let tokens = ["[CLS]", "the", "cat", "sat", "[SEP]"]
        let selfAttention = (0..<2).map { _ in softmax(Tensor.normal([3, 5, 5], using: &generator)) }
        let cross = (0..<2).map { _ in softmax(Tensor.normal([3, 5, 7], using: &generator)) }
        return [AttentionMap(title: "content stream", queryTokens: tokens, layers: selfAttention),
                AttentionMap(title: "query stream", queryTokens: tokens, keyTokens: (0..<7).map { "patch\($0)" }, layers: cross)]
    }

    @Test func mapsComeFromTensorsAndAverageHeads() {
        let map = Self.sampleMaps()[1]
        #expect(map.layerCount == 2 && map.headCount == 3 && map.keyTokens.count == 7)
        let mean = map.matrix(layer: 1, head: nil)
        #expect(abs(mean[0] - (map.weights[1][0][0] + map.weights[1][1][0] + map.weights[1][2][0]) / 3) < 1e-7)
    }

    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let chromiumRequired = ProcessInfo.processInfo.environment["ATTEND_REQUIRE_CHROMIUM"] == "1"

    static func runChromium(_ chromium: String, _ arguments: [String]) throws -> String {
        let result = try runSubprocess(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] + arguments)
        return String(decoding: result.output, as: UTF8.self)
    }

    /// Headless Chromium opens the page as a person would: it renders, hovering a token changes
    /// the drawn lines, a thumbnail enlarges, and a screenshot is not blank.
    @Test(.enabled(if: chromium != nil || chromiumRequired))
    func htmlRendersAndRespondsInChromium() throws {
        let chromium = try #require(Self.chromium, "ATTEND_REQUIRE_CHROMIUM=1 but no chromium found")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("attend-html-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("view.html")
        let html = AttentionView.html(title: "two streams </script>", maps: Self.sampleMaps())
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<script src"))
        try html.write(to: page, atomically: true, encoding: .utf8)

        let dom = try Self.runChromium(chromium, ["--dump-dom", page.absoluteString + "#selftest"])
        let json = try #require(dom.range(of: "id=\"attend-selftest\"").flatMap { range -> Substring? in
            let rest = dom[range.upperBound...]
            guard let open = rest.firstIndex(of: ">"), let close = rest.range(of: "</pre>") else { return nil }
            return rest[rest.index(after: open)..<close.lowerBound]
        })
        struct SelfTest: Decodable {
            let ready: Bool; let tokens: Int; let thumbnails: Int; let lines: Int; let streams: Int
            let linesWhileHovering: Int; let focused: Int; let linesAfterHover: Int; let modalOpen: Bool
        }
        let result = try JSONDecoder().decode(SelfTest.self, from: Data(json.utf8))
        #expect(result.ready && result.streams == 2)
        #expect(result.tokens == 5 + 5 + 5 + 7)
        #expect(result.thumbnails == 2 * 2 * 3)
        #expect(result.lines > 0 && result.linesWhileHovering > 0 && result.linesWhileHovering < result.lines)
        #expect(result.focused == 1 && result.linesAfterHover == result.lines && result.modalOpen)

        let screenshot = directory.appendingPathComponent("shot.png")
        _ = try Self.runChromium(chromium, ["--screenshot=\(screenshot.path)", "--window-size=1000,700", page.absoluteString])
        let image = try PNG.decode(Data(contentsOf: screenshot))
        var colors = Set<UInt32>()
        for y in stride(from: 0, to: image.height, by: 4) {
            for x in stride(from: 0, to: image.width, by: 4) {
                let c = image[x, y]
                colors.insert(UInt32(c.red) << 16 | UInt32(c.green) << 8 | UInt32(c.blue))
            }
        }
        #expect(colors.count > 20, "the screenshot has \(colors.count) colours: blank?")
    }
}

@Suite("Attention overlays")
struct OverlayTests {
    @Test func patchWeightsTintTheirPatches() {
        let image = RGBImage(width: 8, height: 8, background: RGB(255, 255, 255))
        let tinted = Heatmap.overlay([0, 0, 0, 1], rows: 2, columns: 2, on: image, opacity: 1)
        #expect(tinted[1, 1] == RGB(255, 255, 255))               // zero weight: untouched
        #expect(tinted[6, 6] == ColorMap.viridis.color(1))         // the largest weight, fully tinted
        #expect(tinted[6, 1] == RGB(255, 255, 255))
    }
}
