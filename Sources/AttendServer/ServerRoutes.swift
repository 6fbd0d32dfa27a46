import Foundation
import Hummingbird

/// The server's endpoints: what each path does, with the state they share.
struct ServerRoutes: Sendable {
    let configuration: ServerConfiguration
    let models: ServedModels
    let metrics: ServerMetrics
    let started = Int(Date().timeIntervalSince1970)

    /// Every path and the methods it answers (others get 405 with `Allow`).
    static let methods: [String: [HTTPRequest.Method]] = [
        "/v1/embeddings": [.post], "/v1/chat/completions": [.post], "/v1/completions": [.post], "/v1/attention": [.post],
        "/tokenize": [.post], "/v1/models": [.get], "/health": [.get], "/metrics": [.get],
    ]

    /// A Hummingbird router over these routes.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/embeddings") { request, _ in try await embeddings(request) }
        router.post("/v1/chat/completions") { request, _ in try await chatCompletions(request) }
        router.post("/v1/completions") { request, _ in try await completions(request) }
        router.post("/v1/attention") { request, _ in try await attention(request) }
        router.post("/tokenize") { request, _ in try await tokenize(request) }
        router.get("/v1/models") { _, _ in try listModels() }
        router.get("/health") { _, _ in try JSONBody.response(["status": "ok"]) }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        return router
    }

    /// `GET /v1/models`.
    func listModels() throws -> Response {
        struct Model: Encodable {
            let id: String
            let object = "model"
            let created: Int
            let ownedBy = "attend"
            enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by" }
        }
        struct List: Encodable {
            let object = "list"
            let data: [Model]
        }
        return try JSONBody.response(List(data: models.names.map { Model(id: $0, created: started) }))
    }

    /// `POST /tokenize` `{"input": TEXT, "model"?: NAME}`: the ids and token strings the model reads
    /// (the embedding model's `[CLS] … [SEP]`, truncated as embeddings are; or the language model's).
    func tokenize(_ request: Request) async throws -> Response {
        struct Body: Decodable {
            let input: String
            let model: String?
        }
        struct Answer: Encodable {
            let model: String
            let tokens: [Int]
            let tokenStrings: [String]
            enum CodingKeys: String, CodingKey { case model, tokens, tokenStrings = "token_strings" }
        }
        let body = try await JSONBody.decode(Body.self, from: request, limit: configuration.maxBodyBytes)
        guard !body.input.isEmpty else { throw APIError.badRequest("'input' is empty", param: "input") }
        if let scheduler = models.generation, body.model == scheduler.modelName || (body.model == nil && models.embedding == nil) {
            let ids = scheduler.tokenizer.encode(body.input)
            return try JSONBody.response(Answer(model: scheduler.modelName, tokens: ids, tokenStrings: ids.map { scheduler.tokenizer.tokens[$0] }))
        }
        let (name, batcher) = try models.embeddingModel(body.model)
        let encoding = batcher.embedder.pipeline.encode(body.input)
        return try JSONBody.response(Answer(model: name, tokens: encoding.ids, tokenStrings: encoding.tokens))
    }
}
