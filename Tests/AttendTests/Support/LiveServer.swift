import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `attend serve` running as a real process on a free loopback port, for the server tests.
/// Stopped (SIGTERM, then SIGKILL if it lingers) by ``stop()`` or when released.
final class LiveServer: @unchecked Sendable {
    let process = Process()
    private(set) var port = 0
    private let output = Pipe()

    /// Starts `attend serve --port 0 arguments…` and waits (up to 120 s) for its `listening on` line.
    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = URL(fileURLWithPath: CLITests.binary)
        process.arguments = ["serve", "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        let handle = output.fileHandleForReading
        var text = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let data = handle.availableData
            if data.isEmpty { break }                                // the process exited
            text += String(decoding: data, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("listening on http://") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                self.port = port
                return
            }
        }
        process.terminate()
        throw LiveServerError(message: "attend serve did not report a port; it printed: \(text)")
    }

    /// A client for this server.
    var client: LoopbackHTTPClient { LoopbackHTTPClient(port: port) }

    /// Sends SIGTERM and waits for the exit (SIGKILL after `timeout` seconds); returns the exit status.
    @discardableResult
    func stop(timeout: Double = 30) -> Int32 {
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { stop(timeout: 5) }
}

struct LiveServerError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A minimal HTTP/1.1 client over a blocking loopback socket (one request per connection), so the
/// tests control every byte: malformed bodies, huge bodies, streams read piece by piece and
/// clients that hang up. Never goes through a proxy.
struct LoopbackHTTPClient: Sendable {
    let port: Int

    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object (empty when it is not one).
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }
        /// The OpenAI error object's fields, when the body is one.
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    }

    /// Sends one request and reads the whole reply.
    func request(_ method: String, _ path: String, body: Data? = nil, headers: [String: String] = [:]) throws -> Reply {
        let socket = try connect()
        defer { close(socket) }
        try send(socket, method: method, path: path, body: body, headers: headers)
        var raw = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            raw.append(contentsOf: buffer[0..<count])
        }
        return try Self.parse(raw)
    }

    /// POSTs a JSON object.
    func post(_ path: String, _ object: Any, headers: [String: String] = [:]) throws -> Reply {
        try request("POST", path, body: try JSONSerialization.data(withJSONObject: object), headers: headers)
    }

    /// Sends a request and returns the open socket without reading (the caller reads and closes).
    func open(_ method: String, _ path: String, body: Data) throws -> Int32 {
        let socket = try connect()
        try send(socket, method: method, path: path, body: body, headers: [:])
        return socket
    }

    private func connect() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LiveServerError(message: "socket() failed") }
        var timeout = timeval(tv_sec: 120, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { close(fd); throw LiveServerError(message: "cannot connect to 127.0.0.1:\(port)") }
        return fd
    }

    private func send(_ socket: Int32, method: String, path: String, body: Data?, headers: [String: String]) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Data((head + "\r\n").utf8) + (body ?? Data())
        var sent = 0
        try bytes.withUnsafeBytes { raw in
            while sent < raw.count {
                let count = Glibc.send(socket, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if count <= 0 { throw LiveServerError(message: "send failed after \(sent) bytes") }
                sent += count
            }
        }
    }

    /// Status, headers and the body (de-chunked) of a raw reply.
    static func parse(_ raw: Data) throws -> Reply {
        guard let split = raw.firstRange(of: Data("\r\n\r\n".utf8)) else { throw LiveServerError(message: "no HTTP head in \(raw.count) bytes") }
        let lines = String(decoding: raw[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 "), let status = Int(statusLine.split(separator: " ")[1]) else {
            throw LiveServerError(message: "bad status line")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            if let colon = line.firstIndex(of: ":") {
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = Data(raw[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return Reply(status: status, headers: headers, body: body)
    }

    /// The payload of a chunked body (a truncated one gives what arrived).
    static func dechunk(_ data: Data) -> Data {
        var result = Data(), index = data.startIndex
        while let lineEnd = data[index...].firstRange(of: Data("\r\n".utf8)) {
            let sizeText = String(decoding: data[index..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd.upperBound, end = Swift.min(start + size, data.endIndex)
            result.append(data[start..<end])
            index = Swift.min(end + 2, data.endIndex)
        }
        return result
    }
}
