import Foundation
import Hummingbird

/// Wraps the router with what every request gets: the API key check, errors as OpenAI's JSON
/// (404 for unknown paths, 405 with `Allow` for a known path's wrong method, before the router sees them), and metrics.
struct ServerResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let router: RouterResponder<BasicRequestContext>
    let routes: ServerRoutes

    func respond(to request: Request, context: Context) async throws -> Response {
        let start = ContinuousClock.now
        let path = request.uri.path
        let response: Response
        do {
            try authorize(request)
            guard let allowed = ServerRoutes.methods[path] else {
                throw APIError(.notFound, "no such endpoint: \(path)", code: "not_found")
            }
            guard allowed.contains(request.method) else { throw MethodNotAllowed(path: path, allowed: allowed) }
            response = try await router.respond(to: request, context: context)
        } catch {
            response = Self.response(for: error)
        }
        let route = ServerRoutes.methods[path] != nil ? path : "unmatched"
        routes.metrics.recordRequest(route: route, status: response.status.code, duration: ContinuousClock.now - start)
        return response
    }

    /// With an API key set, everything but `GET /health` needs `Authorization: Bearer KEY`.
    private func authorize(_ request: Request) throws {
        guard let key = routes.configuration.apiKey, request.uri.path != "/health" else { return }
        let given = request.headers[.authorization] ?? ""
        guard constantTimeEqual(given, "Bearer " + key) else {
            throw APIError(.unauthorized, given.isEmpty ? "missing API key: send 'Authorization: Bearer KEY'" : "invalid API key",
                           type: "authentication_error", code: "invalid_api_key")
        }
    }

    /// The JSON error response for anything a route threw.
    static func response(for error: any Error) -> Response {
        var apiError: APIError
        var headers = HTTPFields()
        switch error {
        case let error as APIError:
            apiError = error
        case let error as MethodNotAllowed:
            let names = error.allowed.map(\.rawValue).joined(separator: ", ")
            apiError = APIError(.methodNotAllowed, "\(error.path) answers \(names) only", code: "method_not_allowed")
            headers[.allow] = names
        case let error as HTTPError:
            apiError = APIError(error.status, error.body ?? error.status.reasonPhrase)
        default:
            apiError = APIError(.internalServerError, "internal error: \(error)", type: "server_error")
        }
        headers[.contentType] = "application/json"
        return Response(status: apiError.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: apiError.body)))
    }
}

/// A known path asked with a method it does not answer (405, with `Allow`).
private struct MethodNotAllowed: Error {
    let path: String
    let allowed: [HTTPRequest.Method]
}

/// Compares two strings in time that depends on their lengths only (no early exit on the first difference).
func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let (x, y) = (Array(a.utf8), Array(b.utf8))
    guard x.count == y.count else { return false }
    return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
}
