import Foundation
import Hummingbird

/// An error as the OpenAI API reports it — a status and the body
/// `{"error": {"message", "type", "param", "code"}}` — thrown anywhere in a route and written by
/// ``ServerResponder``.
struct APIError: Error, Sendable {
    let status: HTTPResponse.Status
    let message: String
    /// OpenAI's `type`: `invalid_request_error`, `authentication_error`, `rate_limit_error`, `server_error`, …
    let type: String
    /// The request field at fault, when there is one (`input`, `messages[0].content`, …).
    let param: String?
    let code: String?

    init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error", param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    /// 400: the body is not JSON, or a required part is empty.
    static func badRequest(_ message: String, param: String? = nil) -> APIError { APIError(.badRequest, message, param: param) }
    /// 422: well-formed JSON with a wrong type or value.
    static func invalid(_ message: String, param: String?, code: String? = nil) -> APIError {
        APIError(.unprocessableContent, message, param: param, code: code)
    }
    static func unknownModel(_ name: String, available: [String]) -> APIError {
        invalid("the model '\(name)' is not served here (models: \(available.joined(separator: ", ")))", param: "model", code: "model_not_found")
    }
    /// 429: the queue is full; the client should retry later.
    static func queueFull(_ what: String, limit: Int) -> APIError {
        APIError(.tooManyRequests, "the server is busy: \(limit) \(what) requests are already queued or running; retry later",
                 type: "rate_limit_error", code: "queue_full")
    }

    /// The JSON body.
    var body: Data {
        let error: [String: Any] = ["message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull()]
        return (try? JSONSerialization.data(withJSONObject: ["error": error], options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    }
}
