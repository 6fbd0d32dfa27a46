import Attend
import AttendModels
import AttendVisualization
import Foundation
import Hummingbird

extension ServerRoutes {
    /// `POST /v1/attention` `{"input": TEXT, "pair"?: TEXT, "model"?: NAME, "format"?: "json" | "html"}`:
    /// every layer's attention weights for the text (a sentence pair for BERT models) —
    /// `{"model", "tokens", "layers": [layer][head][query][key]}` — or, with `"format": "html"`,
    /// the interactive page `attend visualize` writes. The embedding model unless `model` names the
    /// language model (causal attention, at most ``maximumLanguageModelTokens`` tokens).
    func attention(_ request: Request) async throws -> Response {
        struct Body: Decodable {
            let input: String
            let pair: String?
            let model: String?
            let format: String?
        }
        let body = try await JSONBody.decode(Body.self, from: request, limit: configuration.maxBodyBytes)
        guard !body.input.isEmpty else { throw APIError.badRequest("'input' is empty", param: "input") }
        let format = body.format ?? "json"
        guard format == "json" || format == "html" else { throw APIError.invalid("'format' must be \"json\" or \"html\"", param: "format") }

        let name: String, map: AttentionMap
        if let scheduler = models.generation, body.model == scheduler.modelName || (body.model == nil && models.embedding == nil) {
            guard body.pair == nil else { throw APIError.invalid("'pair' is for BERT models; a language model reads one text", param: "pair") }
            let ids = scheduler.tokenizer.encode(body.input)
            guard ids.count <= Self.maximumLanguageModelTokens else {
                throw APIError.invalid("the text has \(ids.count) tokens; the attention view takes at most \(Self.maximumLanguageModelTokens)",
                                       param: "input", code: "context_length_exceeded")
            }
            let tokens = ids.map { scheduler.tokenizer.decode([$0]) }
            name = scheduler.modelName
            let layers = try await scheduler.perform { model in model.attentionWeights([ids]) }
            map = AttentionMap(title: "\(name) self-attention", queryTokens: tokens, layers: layers)
        } else {
            let (embeddingName, batcher) = try models.embeddingModel(body.model)
            if body.pair != nil && batcher.embedder.model.configuration.typeVocabularySize < 2 {
                throw APIError.invalid("\(embeddingName) has one token type only, so it takes no sentence pairs", param: "pair")
            }
            let (input, pair) = (body.input, body.pair)
            let (tokens, layers) = try await batcher.perform { embedder in embedder.attention(for: input, pair: pair) }
            name = embeddingName
            map = AttentionMap(title: "\(name) self-attention", queryTokens: tokens, layers: layers)
        }
        if format == "html" {
            let title = "\(name): \(body.input)\(body.pair.map { " / \($0)" } ?? "")"
            return JSONBody.response(data: Data(AttentionView.html(title: title, maps: [map]).utf8), contentType: "text/html; charset=utf-8")
        }
        struct Answer: Encodable {
            let model: String
            let tokens: [String]
            let layers: [[[[Float]]]]
        }
        let count = map.queryTokens.count
        let layers = map.weights.map { heads in
            heads.map { matrix in (0..<count).map { row in Array(matrix[(row * count)..<((row + 1) * count)]) } }
        }
        return try JSONBody.response(Answer(model: name, tokens: map.queryTokens, layers: layers))
    }

    /// Tokens a language model's attention view takes at most (every layer's H·L² weights go out as JSON).
    static let maximumLanguageModelTokens = 512
}
