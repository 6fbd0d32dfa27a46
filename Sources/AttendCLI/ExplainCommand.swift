import ArgumentParser
import Attend
import AttendDemos
import AttendModels
import AttendNN
import AttendTraining
import AttendVisualization
import Foundation

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Which tokens an output rests on: attention rollout, attention flow, gradient-weighted attention or integrated gradients.",
        discussion: """
            With an embedder (BERT folder, all-MiniLM-L6-v2 by default) the target is the sentence embedding
            (rollout, flow) or its similarity to --pair (integrated-gradients). With a language model (a GGUF
            file, e.g. SmolLM2) it is the next token: the most likely one, or --target (a token's text or id).
            The output format follows the extension: .html (the text shaded token by token), .png or .svg (bars).
            Examples:
              attend explain --method integrated-gradients "A man is eating food." --pair "Someone is having lunch." -o why.html
              attend explain --model ~/.cache/attend/models/SmolLM2-135M-Instruct --method grad-attention "The capital of France is" -o next.png
            With --image (a PNG of a handwritten digit, dark on light) and --checkpoint (the folder
            `attend train digits --output DIR` wrote), the Vision Transformer's class is explained over its
            4×4 patches (rollout, flow) or its pixels (integrated-gradients), laid over the image (.png).
              attend train digits --output runs/digits
              attend explain --image seven.png --checkpoint runs/digits --method integrated-gradients -o why-7.png
            Rollout averages heads and can credit tokens no head uses for the output; gradients saturate and
            can miss a token that matters. Compare methods before trusting one.
            """)

    @Option(name: .long, help: ArgumentHelp("A BERT folder or a language model (GGUF file, a folder with one, a Llama folder).",
                                            discussion: "Default: $ATTEND_HOME/models/all-MiniLM-L6-v2."))
    var model: String?
    @Option(help: "rollout, flow, grad-attention or integrated-gradients.") var method: String = "rollout"
    @Option(help: "Language models: the next token to explain (its text or id; default: the most likely).") var target: String?
    @Option(help: "Embedders: the second text, whose similarity integrated gradients explain.") var pair: String?
    @Option(help: "Integration steps for integrated-gradients.") var steps = 32
    @Option(help: "A PNG image of a digit to explain with the digits Vision Transformer (see --checkpoint).") var image: String?
    @Option(help: "With --image: the folder `attend train digits --output DIR` wrote (its checkpoint/ holds the model).") var checkpoint: String?
    @Option(name: [.short, .customLong("output")], help: "Where to write: a .html, .png or .svg file (.png for --image).") var output: String
    @Argument(help: "The text (not with --image).") var text: String?

    func validate() throws {
        try validateArgumentEncoding()
        guard ExplanationMethod(rawValue: method) != nil else {
            throw ValidationError("--method must be one of " + ExplanationMethod.allCases.map(\.rawValue).joined(separator: ", "))
        }
        guard ["html", "png", "svg"].contains((output as NSString).pathExtension.lowercased()) else {
            throw ValidationError("--output must end in .html, .png or .svg, got \(output)")
        }
        guard (1...1000).contains(steps) else { throw ValidationError("--steps must be in 1...1000") }
        if image != nil {
            guard text == nil, pair == nil, model == nil else { throw ValidationError("--image explains an image: no text, --pair or --model") }
            guard checkpoint != nil else { throw ValidationError("--image needs --checkpoint DIR (from `attend train digits --output DIR`)") }
            guard (output as NSString).pathExtension.lowercased() == "png" else { throw ValidationError("--image writes a .png") }
        } else if text == nil {
            throw ValidationError("give the text to explain, or --image FILE.png")
        }
    }

    func run() throws {
        let method = ExplanationMethod(rawValue: self.method)!
        if let image, let checkpoint {
            try explainImage(image, checkpoint: checkpoint, method: method)
            return
        }
        let text = self.text!
        let location = model ?? ModelStore.defaultModelDirectory
        let explanation: TokenExplanation
        do {
            if LanguageModelOptions.isLanguageModel(location) {
                if pair != nil { throw CLIError("--pair is for embedders; a language model explains its next token (--target)") }
                let generator = try TextGenerator.load(path: location)
                explanation = try generator.explainNextToken(text, target: try targetID(generator.tokenizer), method: method, steps: steps)
            } else {
                if target != nil { throw CLIError("--target is for language models; an embedder explains its embedding, or its similarity to --pair") }
                if model == nil && !FileManager.default.fileExists(atPath: location) {
                    throw CLIError("no model at \(location); run `attend model fetch` first, or pass --model")
                }
                explanation = try SentenceEmbedder(directory: location).explain(text, similarTo: pair, method: method, steps: steps)
            }
        } catch let error as ExplanationError {
            throw CLIError("\(error)")
        }
        let attribution = TokenAttribution(method: explanation.method, target: explanation.target,
                                           tokens: explanation.tokens, scores: explanation.scores)
        let data: Data
        switch (output as NSString).pathExtension.lowercased() {
        case "html": data = Data(attribution.html(title: "\((location as NSString).lastPathComponent): \(text)").utf8)
        case "png": data = PNG.encode(attribution.image())
        default: data = Data(attribution.svg().utf8)
        }
        do {
            try data.write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError("cannot write \(output): \(error.localizedDescription)")
        }
        let top = zip(explanation.tokens, explanation.scores).sorted { $0.1 > $1.1 }.prefix(3)
        FileHandle.standardError.write(Data(("wrote \(output): \(explanation.method); \(explanation.target); most credited: "
            + top.map { "\($0.0.debugDescription) \(String(format: "%.3g", $0.1))" }.joined(separator: ", ") + "\n").utf8))
    }

    /// The digits ViT's class for `path`, explained and drawn over the image.
    func explainImage(_ path: String, checkpoint: String, method: ExplanationMethod) throws {
        let model = VisionTransformerClassifier(configuration: DigitsDemo.configuration)
        let folder = FileManager.default.fileExists(atPath: checkpoint + "/checkpoint") ? checkpoint + "/checkpoint" : checkpoint
        _ = try Checkpoint.loadModel(from: folder, into: model)
        model.eval()
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let picture = try PNG.decode(data)
        let pixels = DigitImage.inkGrid(picture, side: 8)                                       // 64 values in 0…1
        let classTarget = try target.map { text -> Int in
            guard let digit = Int(text), (0...9).contains(digit) else { throw CLIError("--target for a digit image is a class 0…9, got \(text)") }
            return digit
        }
        let explanation: ImageExplanation
        do {
            explanation = try model.explain(image: Tensor(shape: [1, 1, 8, 8], scalars: pixels), target: classTarget, method: method, steps: steps)
        } catch let error as ExplanationError {
            throw CLIError("\(error)")
        }
        let drawn = DigitImage.picture(pixels: pixels, side: 8, scores: explanation.scores, rows: explanation.rows, columns: explanation.columns,
                                       caption: "class \(explanation.target) (predicted \(explanation.predicted)) - \(explanation.method)")
        do {
            try PNG.encode(drawn).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw CLIError("cannot write \(output): \(error.localizedDescription)")
        }
        FileHandle.standardError.write(Data("wrote \(output): predicted \(explanation.predicted), explained class \(explanation.target); \(explanation.method)\n".utf8))
    }

    /// `--target` as a token id: a number, or text that is exactly one token.
    func targetID(_ tokenizer: BytePairTokenizer) throws -> Int? {
        guard let target else { return nil }
        if let id = Int(target) { return id }
        let ids = tokenizer.encode(target)
        guard ids.count == 1 else { throw CLIError("--target \(target.debugDescription) is \(ids.count) tokens (\(ids)); give one token's text or its id") }
        return ids[0]
    }
}
