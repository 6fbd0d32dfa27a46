import ArgumentParser
import AttendModels
import Foundation

/// `--model DIR`, shared by every command that runs the embedding model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A sentence-transformers / Hugging Face BERT model folder (or, for tokenize and visualize, a Llama GGUF file).",
                                            discussion: "Default: $ATTEND_HOME/models/all-MiniLM-L6-v2 (see `attend model fetch`)."),
            completion: .directory)
    var model: String?

    var directory: String { model ?? ModelStore.defaultModelDirectory }

    /// Loads the embedder, turning a missing default model into advice.
    func loadEmbedder() throws -> SentenceEmbedder {
        try checkDefaultModelExists()
        return try SentenceEmbedder(directory: directory)
    }

    /// Loads the tokenizer and settings only (no weights), for commands that just tokenize.
    func loadPipeline() throws -> SentenceEmbeddingPipeline {
        try checkDefaultModelExists()
        return try SentenceEmbeddingPipeline(directory: directory)
    }

    private func checkDefaultModelExists() throws {
        if model == nil && !FileManager.default.fileExists(atPath: directory) {
            throw CLIError("no model at \(directory); run `attend model fetch` first, or pass --model DIR")
        }
    }
}

/// A one-line error for the user.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Refuses command-line arguments that are not valid UTF-8 (Swift would otherwise repair them
/// silently into U+FFFD before any command saw them).
func validateArgumentEncoding() throws {
    for index in 1..<Int(CommandLine.argc) {
        guard let pointer = CommandLine.unsafeArgv[index] else { continue }
        if String(validatingCString: pointer) == nil {
            throw CLIError("argument \(index) is not valid UTF-8")
        }
    }
}

/// Reads a text file strictly as UTF-8, one non-empty line per entry.
func readLines(_ path: String) throws -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
    guard let text = String(validating: data, as: UTF8.self) else { throw CLIError("\(path) is not valid UTF-8") }
    return text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
}

/// Encodes `value` as compact JSON on standard output.
func printJSON<Value: Encodable>(_ value: Value) throws {
    let encoder = JSONEncoder()
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
