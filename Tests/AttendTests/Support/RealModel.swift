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
