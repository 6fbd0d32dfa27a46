import AttendModels
import Foundation
import Hummingbird

extension ServerRoutes {
    /// `POST /v1/chat/completions`: the messages through the model's chat template, then generation
    /// (streamed as server-sent events with `"stream": true`).
    func chatCompletions(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(ChatCompletionRequest.self, from: request, limit: configuration.maxBodyBytes)
        let scheduler = try models.generationModel(body.fields.model)
        guard let template = scheduler.chatTemplate else {
            throw APIError.invalid("\(scheduler.modelName) has no chat template; use /v1/completions", param: "messages")
        }
        let prompt = scheduler.tokenizer.encode(template.render(body.messages))
        return try await generate(prompt, fields: body.fields, defaultMaxTokens: nil, scheduler: scheduler, chat: true)
    }

    /// `POST /v1/completions`: a prompt continued as it is (no template).
    func completions(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(CompletionRequest.self, from: request, limit: configuration.maxBodyBytes)
        let scheduler = try models.generationModel(body.fields.model)
        let prompt: [Int]
        switch body.prompt {
        case .text(let text): prompt = scheduler.tokenizer.encode(text)
        case .tokens(let ids):
            if let bad = ids.first(where: { $0 < 0 || $0 >= scheduler.vocabularySize }) {
                throw APIError.invalid("'prompt' holds token id \(bad), outside the vocabulary of \(scheduler.vocabularySize)", param: "prompt")
            }
            prompt = ids
        }
        return try await generate(prompt, fields: body.fields, defaultMaxTokens: 16, scheduler: scheduler, chat: false)
    }

    /// Queues the generation and answers with the whole completion, or with a stream of chunks.
    private func generate(_ prompt: [Int], fields: GenerationFields, defaultMaxTokens: Int?, scheduler: GenerationScheduler,
                          chat: Bool) async throws -> Response {
        guard !prompt.isEmpty else { throw APIError.badRequest("the prompt has no tokens", param: chat ? "messages" : "prompt") }
        let context = scheduler.contextLength
        let room = context - prompt.count
        guard room >= 1 else {
            throw APIError.invalid("the prompt has \(prompt.count) tokens; \(scheduler.modelName)'s context is \(context)",
                                   param: chat ? "messages" : "prompt", code: "context_length_exceeded")
        }
        let maxTokens = fields.maxTokens ?? Swift.min(defaultMaxTokens ?? room, room)
        guard maxTokens <= room else {
            throw APIError.invalid("the prompt (\(prompt.count) tokens) plus max_tokens (\(maxTokens)) exceeds \(scheduler.modelName)'s context of \(context)",
                                   param: "max_tokens", code: "context_length_exceeded")
        }
        let events = try scheduler.submit(prompt: prompt, options: fields.options(maxTokens: maxTokens))
        let header = Completion(id: (chat ? "chatcmpl-" : "cmpl-") + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""),
                                created: Int(Date().timeIntervalSince1970), model: scheduler.modelName, chat: chat)
        if fields.stream {
            return streamingResponse(events, header: header, includeUsage: fields.includeUsage)
        }
        var result: GenerationResult?
        for await event in events {
            if case .finished(let finished) = event { result = finished }
        }
        guard let result else { throw APIError(.internalServerError, "the generation ended without a result", type: "server_error") }
        return try JSONBody.response(header.object(text: result.text, finishReason: finishReason(result.finishReason),
                                                   usage: Usage(promptTokens: result.promptTokens.count, completionTokens: result.tokens.count)))
    }

    /// Server-sent events: `data: {chunk}` per piece of text, a last chunk with the finish reason
    /// (and one with the usage when asked), then `data: [DONE]`. A client that goes away ends
    /// the writes, which drops the stream, which stops the generation.
    private func streamingResponse(_ events: AsyncStream<GenerationScheduler.Event>, header: Completion, includeUsage: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let encoder = JSONEncoder()
            func send(_ object: CompletionObject) async throws {
                try await writer.write(ByteBuffer(string: "data: " + String(decoding: try encoder.encode(object), as: UTF8.self) + "\n\n"))
            }
            if header.chat { try await send(header.chunk(role: "assistant", text: "")) }
            for await event in events {
                switch event {
                case .text(let text):
                    try await send(header.chunk(text: text))
                case .finished(let result):
                    try await send(header.chunk(text: nil, finishReason: finishReason(result.finishReason)))
                    if includeUsage {
                        var usage = header.chunk(text: nil)
                        usage.choices = []
                        usage.usage = Usage(promptTokens: result.promptTokens.count, completionTokens: result.tokens.count)
                        try await send(usage)
                    }
                }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }
}

/// What every object of one completion shares (id, time, model, chat or text), and how each is made.
struct Completion: Sendable {
    let id: String
    let created: Int
    let model: String
    let chat: Bool

    /// The whole completion.
    func object(text: String, finishReason: String, usage: Usage) -> CompletionObject {
        let choice = chat
            ? CompletionObject.Choice(message: ChatMessage(role: "assistant", content: text), finishReason: finishReason, isText: false)
            : CompletionObject.Choice(text: text, finishReason: finishReason, isText: true)
        return CompletionObject(id: id, object: chat ? "chat.completion" : "text_completion", created: created, model: model,
                                choices: [choice], usage: usage)
    }

    /// One streamed chunk adding `text` (nil: none), with `finishReason` on the last.
    func chunk(role: String? = nil, text: String?, finishReason: String? = nil) -> CompletionObject {
        let choice = chat
            ? CompletionObject.Choice(delta: .init(role: role, content: text), finishReason: finishReason, isText: false)
            : CompletionObject.Choice(text: text ?? "", finishReason: finishReason, isText: true)
        return CompletionObject(id: id, object: chat ? "chat.completion.chunk" : "text_completion", created: created, model: model,
                                choices: [choice], usage: nil)
    }
}
