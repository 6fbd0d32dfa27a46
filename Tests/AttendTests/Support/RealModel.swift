import AttendModels
import Foundation
import Testing

/// The real all-MiniLM-L6-v2 folder, when it has been fetched (`attend model fetch`;
/// `ATTEND_TEST_MODEL` overrides the path). CI fetches it and sets `ATTEND_REQUIRE_MODEL=1`,
/// which turns a missing model into a failure instead of a skip.
enum RealModel {
    static let directory: String? = {
        let path = ProcessInfo.processInfo.environment["ATTEND_TEST_MODEL"] ?? ModelStore.defaultModelDirectory
        return FileManager.default.fileExists(atPath: path + "/model.safetensors") ? path : nil
    }()

    static let isRequired = ProcessInfo.processInfo.environment["ATTEND_REQUIRE_MODEL"] == "1"

    /// Whether tests that need the model should run; records an issue when it is required but absent.
    static var isAvailable: Bool {
        if directory == nil && isRequired {
            Issue.record("ATTEND_REQUIRE_MODEL=1 but no model at \(ModelStore.defaultModelDirectory): run `attend model fetch`")
        }
        return directory != nil
    }

    static let embedder: SentenceEmbedder? = directory.flatMap { try? SentenceEmbedder(directory: $0) }
}

/// The real SmolLM2-135M-Instruct GGUF file, when fetched (`attend model fetch SmolLM2-135M-Instruct`;
/// `ATTEND_TEST_LLM` overrides the path). Required, like MiniLM, when `ATTEND_REQUIRE_MODEL=1`.
enum RealLanguageModel {
    static let path: String? = {
        let path = ProcessInfo.processInfo.environment["ATTEND_TEST_LLM"] ?? ModelStore.defaultLanguageModelFile
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }()

    static var isAvailable: Bool {
        if path == nil && RealModel.isRequired {
            Issue.record("ATTEND_REQUIRE_MODEL=1 but no model at \(ModelStore.defaultLanguageModelFile): run `attend model fetch SmolLM2-135M-Instruct`")
        }
        return path != nil
    }

    /// A fresh generator (one conversation each; loading maps the file and reads the tokenizer, ~0.2 s).
    static var generator: TextGenerator? { path.flatMap { try? TextGenerator.load(path: $0) } }
}
