import AttendModels
import Foundation
import Hummingbird

extension ServerRoutes {
    /// `POST /v1/embeddings`: OpenAI's embeddings, equal to what `attend embed` prints for the same texts.
    func embeddings(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(EmbeddingsRequest.self, from: request, limit: configuration.maxBodyBytes)
        let (name, batcher) = try models.embeddingModel(body.model)
        let embedder = batcher.embedder
        if let dimensions = body.dimensions, dimensions != embedder.dimension {
            throw APIError.invalid("'dimensions' must be \(embedder.dimension) for \(name) (it does not shorten its embeddings)", param: "dimensions")
        }
        let limit = embedder.maxSequenceLength
        var encodings: [Encoding] = []
        switch body.input {
        case .texts(let texts):
            for (index, text) in texts.enumerated() {
                if !body.truncate {
                    let length = embedder.pipeline.tokenizer.encode(text).ids.count
                    if length > limit {
                        throw APIError.invalid("input[\(index)] has \(length) tokens; \(name) takes at most \(limit) (send \"truncate\": true to cut it)",
                                               param: "input[\(index)]", code: "context_length_exceeded")
                    }
                }
                encodings.append(embedder.pipeline.encode(text))
            }
        case .tokens(let sequences):
            let vocabulary = embedder.model.configuration.vocabularySize
            for (index, ids) in sequences.enumerated() {
                if let bad = ids.first(where: { $0 < 0 || $0 >= vocabulary }) {
                    throw APIError.invalid("input[\(index)] holds token id \(bad), outside \(name)'s vocabulary of \(vocabulary)", param: "input[\(index)]")
                }
                if ids.count > limit && !body.truncate {
                    throw APIError.invalid("input[\(index)] has \(ids.count) tokens; \(name) takes at most \(limit) (send \"truncate\": true to cut it)",
                                           param: "input[\(index)]", code: "context_length_exceeded")
                }
                let kept = Array(ids.prefix(limit))
                encodings.append(Encoding(ids: kept, typeIds: Array(repeating: 0, count: kept.count),
                                          tokens: kept.map { $0 < embedder.tokenizer.tokens.count ? embedder.tokenizer.tokens[$0] : "[\($0)]" }))
            }
        }
        let vectors = try await batcher.embed(encodings)
        let items = vectors.enumerated().map { EmbeddingsResponse.Item(index: $0, embedding: .init($1, format: body.encodingFormat)) }
        let tokens = encodings.reduce(0) { $0 + $1.ids.count }
        return try JSONBody.response(EmbeddingsResponse(data: items, model: name, usage: Usage(promptTokens: tokens)))
    }
}
