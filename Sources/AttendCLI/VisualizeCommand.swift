import ArgumentParser
import Attend
import AttendModels
import AttendVisualization
import Foundation

struct VisualizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "visualize",
        abstract: "Draw a model's attention for a sentence: interactive HTML, or a PNG/SVG heatmap.",
        discussion: """
            The output format follows the file extension:
              .html  every layer and head, interactive (head view and model view), one self-contained file
              .png   one layer: all heads in a grid, or one head with --head
              .svg   the same as .png, as vector graphics
            Examples:
              attend visualize "The cat sat on the mat." -o cat.html
              attend visualize "The cat sat on the mat." --layer 2 --head 5 -o head.png
              attend visualize "How old are you?" --pair "I am 25." --mean-of-heads -o pair.svg
              attend visualize --model ~/.cache/attend/models/SmolLM2-135M-Instruct "The cat sat on the mat." -o causal.html
            """)

    @OptionGroup var options: ModelOptions
    @Argument(help: "The sentence.") var sentence: String
    @Option(help: "A second sentence (a sentence pair, as BERT's [SEP]-joined input).") var pair: String?
    @Option(name: [.short, .customLong("output")], help: "Where to write: a .html, .png or .svg file.") var output: String
    @Option(help: "Layer to draw in PNG/SVG (default: the last).") var layer: Int?
    @Option(help: "Head to draw in PNG/SVG (default: every head in a grid).") var head: Int?
    @Flag(help: "Draw the mean over heads in PNG/SVG.") var meanOfHeads = false

    enum Format: String { case html, png, svg }

    /// A language model's tokens (as text) and every layer's causal attention `[1, H, L, L]`.
    func causalAttention(modelPath: String) throws -> ([String], [Tensor]) {
        let generator = try TextGenerator.load(path: modelPath)
        let ids = generator.tokenizer.encode(sentence)
        guard !ids.isEmpty else { throw CLIError("the text has no tokens") }
        guard ids.count <= 512 else { throw CLIError("the text has \(ids.count) tokens; the view draws at most 512") }
        let tokens = ids.map { generator.tokenizer.decode([$0]) }
        return (tokens, generator.model.attentionWeights([ids]))
    }

    func validate() throws {
        try validateArgumentEncoding()
        guard Format(rawValue: (output as NSString).pathExtension.lowercased()) != nil else {
            throw ValidationError("--output must end in .html, .png or .svg, got \(output)")
        }
    }

    func run() throws {
        let format = Format(rawValue: (output as NSString).pathExtension.lowercased())!
        let (tokens, attentions): ([String], [Tensor])
        let name = (options.directory as NSString).lastPathComponent
        if LanguageModelOptions.isLanguageModel(options.directory) {
            if pair != nil { throw CLIError("--pair is for BERT models; a language model reads one text") }
            (tokens, attentions) = try causalAttention(modelPath: options.directory)
        } else {
            let embedder = try options.loadEmbedder()
            if pair != nil && embedder.model.configuration.typeVocabularySize < 2 {
                throw CLIError("\(options.directory) has one token type only (type_vocab_size 1), so it takes no sentence pairs")
            }
            (tokens, attentions) = embedder.attention(for: sentence, pair: pair)
        }
        let map = AttentionMap(title: "\(name) self-attention", queryTokens: tokens, layers: attentions)
        let layer = self.layer ?? map.layerCount - 1
        guard (0..<map.layerCount).contains(layer) else { throw CLIError("--layer \(layer) is outside 0..<\(map.layerCount)") }
        if let head, !(0..<map.headCount).contains(head) {
            throw CLIError("--head \(head) is outside 0..<\(map.headCount)")
        }
        let data: Data
        switch format {
        case .html:
            data = Data(AttentionView.html(title: "\(name): \(sentence)\(pair.map { " / \($0)" } ?? "")", maps: [map]).utf8)
        case .png:
            let image = meanOfHeads || head != nil ? Heatmap.image(map, layer: layer, head: head) : Heatmap.headGrid(map, layer: layer)
            data = PNG.encode(image)
        case .svg:
            let svg = meanOfHeads || head != nil ? Heatmap.svg(map, layer: layer, head: head) : Heatmap.svgHeadGrid(map, layer: layer)
            data = Data(svg.utf8)
        }
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError("cannot write \(output): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("wrote \(output) (\(tokens.count) tokens, \(map.layerCount) layers × \(map.headCount) heads)\n".utf8))
    }
}
