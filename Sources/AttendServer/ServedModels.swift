import AttendModels
import Foundation

/// The models a server answers with, loaded once, each behind its own worker thread.
final class ServedModels: Sendable {
    /// The embedding model: its name (the folder's) and its batcher.
    let embedding: (name: String, batcher: EmbeddingBatcher)?
    /// The language model's scheduler (its name is ``GenerationScheduler/modelName``).
    let generation: GenerationScheduler?

    init(embeddingModel: String?, generationModel: String?, configuration: ServerConfiguration, metrics: ServerMetrics) throws {
        embedding = try embeddingModel.map { directory in
            let embedder = try SentenceEmbedder(directory: directory)
            return (Self.name(of: directory), EmbeddingBatcher(embedder: embedder, maxBatchTokens: configuration.maxBatchTokens,
                                                               capacity: configuration.maxConcurrentRequests, metrics: metrics))
        }
        generation = try generationModel.map { path in
            GenerationScheduler(generator: try TextGenerator.load(path: path), modelName: Self.name(of: path),
                                maxBatchSequences: configuration.maxBatchSequences, capacity: configuration.maxConcurrentRequests,
                                metrics: metrics)
        }
    }

    /// Every model's name, as `/v1/models` lists them.
    var names: [String] { [embedding?.name, generation?.modelName].compactMap { $0 } }

    /// A model's name: its folder's, or its file's without the extension.
    static func name(of path: String) -> String {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        return url.pathExtension == "gguf" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
    }

    /// The embedding model `requested` names (any when nil).
    ///
    /// - Throws: ``APIError`` 422 when none is served or the name is another's.
    func embeddingModel(_ requested: String?) throws -> (name: String, batcher: EmbeddingBatcher) {
        guard let embedding else {
            throw APIError.invalid("this server has no embedding model (start it with --embedding-model DIR)", param: "model", code: "model_not_found")
        }
        if let requested, requested != embedding.name { throw APIError.unknownModel(requested, available: [embedding.name]) }
        return embedding
    }

    /// The language model `requested` names (any when nil).
    ///
    /// - Throws: ``APIError`` 422 when none is served or the name is another's.
    func generationModel(_ requested: String?) throws -> GenerationScheduler {
        guard let generation else {
            throw APIError.invalid("this server has no generation model (start it with --generation-model FILE)", param: "model", code: "model_not_found")
        }
        if let requested, requested != generation.modelName { throw APIError.unknownModel(requested, available: [generation.modelName]) }
        return generation
    }

    /// Lets every worker finish what it holds, then stops it.
    func stop() {
        embedding?.batcher.stop()
        generation?.stop()
    }
}
