import Foundation
import Hummingbird

/// Request bodies in, JSON responses out, with the API's errors: 413 for a body over the limit,
/// 400 for text that is not JSON or lacks a required field, 422 for a field of the wrong type or value.
enum JSONBody {
    /// The request's body, at most `limit` bytes.
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        let tooLarge = APIError(.contentTooLarge, "the request body exceeds \(limit) bytes (--max-body-bytes)", code: "body_too_large")
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit { throw tooLarge }
        var data = Data()
        for try await buffer in request.body {
            guard data.count + buffer.readableBytes <= limit else { throw tooLarge }
            data.append(contentsOf: buffer.readableBytesView)
        }
        return data
    }

    /// Decodes the body as `T`, turning every failure into the API error that names the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let data = try await collect(request, limit: limit)
        guard !data.isEmpty else { throw APIError.badRequest("the request body is empty; send a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as APIError {
            throw error
        } catch DecodingError.dataCorrupted(let context)
                    where context.codingPath.isEmpty && (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])) == nil {
            throw APIError.badRequest("the request body is not valid JSON")
        } catch let DecodingError.keyNotFound(key, context) {
            let param = path(context.codingPath + [key])
            throw APIError.badRequest("the required field '\(param)' is missing", param: param)
        } catch let DecodingError.typeMismatch(expected, context) {
            let param = path(context.codingPath)
            throw APIError.invalid(param.isEmpty ? "the request body must be a JSON object"
                                                 : "'\(param)' must be \(describe(expected))", param: param.isEmpty ? nil : param)
        } catch let DecodingError.valueNotFound(_, context) {
            let param = path(context.codingPath)
            throw APIError.invalid("'\(param)' must not be null", param: param)
        } catch let DecodingError.dataCorrupted(context) {
            let param = path(context.codingPath)
            throw APIError.invalid("'\(param)': \(context.debugDescription)", param: param)
        }
    }

    /// A 200 (or `status`) response with `value` as JSON.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return response(data: try encoder.encode(value), status: status)
    }

    static func response(data: Data, status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `messages[0].content` from a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
        keys.reduce(into: "") { text, key in
            if let index = key.intValue { text += "[\(index)]" } else { text += (text.isEmpty ? "" : ".") + key.stringValue }
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is UInt64.Type: "an integer"
        case is Double.Type, is Float.Type: "a number"
        default: "of another type (\(type))"
        }
    }
}
