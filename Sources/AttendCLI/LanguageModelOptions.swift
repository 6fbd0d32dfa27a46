import ArgumentParser
import Attend
import AttendModels
import Foundation

/// `--model FILE_OR_DIR` and `--threads`, shared by the language-model commands.
struct LanguageModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A Llama-family GGUF file, a folder holding one, or a Hugging Face Llama folder.",
                                            discussion: "Default: $ATTEND_HOME/models/SmolLM2-135M-Instruct (see `attend model fetch SmolLM2-135M-Instruct`)."),
            completion: .file(extensions: ["gguf"]))
    var model: String?

    @Option(help: "Threads to compute with (default: every core this process may use).")
    var threads: Int?

    var location: String { model ?? ModelStore.defaultLanguageModelFile }

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads must be in 1...1024") }
    }

    /// Loads the model, turning a missing default model into advice.
    func loadGenerator() throws -> TextGenerator {
        if let threads { Parallelism.threadCount = threads }
        if model == nil && !FileManager.default.fileExists(atPath: location) {
            throw CLIError("no model at \(location); run `attend model fetch SmolLM2-135M-Instruct` first, or pass --model FILE")
        }
        return try TextGenerator.load(path: location)
    }

    /// Whether `path` is a language model (a GGUF file or a folder with one, or a Llama folder)
    /// rather than a BERT folder.
    static func isLanguageModel(_ path: String) -> Bool {
        if path.hasSuffix(".gguf") { return true }
        let files = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if files.contains(where: { $0.hasSuffix(".gguf") }) { return true }
        guard let data = FileManager.default.contents(atPath: path + "/config.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return json["model_type"] as? String == "llama"
    }

    /// The tokenizer of a language model, without loading its weights.
    static func loadTokenizer(_ path: String) throws -> BytePairTokenizer {
        if path.hasSuffix(".gguf") { return try BytePairTokenizer(gguf: GGUFFile(path: path)) }
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".gguf") }.sorted()
        if let first = files.first { return try BytePairTokenizer(gguf: GGUFFile(path: path + "/" + first)) }
        return try BytePairTokenizer(tokenizerJSON: path + "/tokenizer.json")
    }
}
