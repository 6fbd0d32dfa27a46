/// How `attend serve` listens and what it accepts.
public struct ServerConfiguration: Sendable, Equatable {
    /// The address to bind: loopback unless told otherwise.
    public var host: String
    /// The port; 0 picks a free one (``ModelServer`` reports the port it got).
    public var port: Int
    /// When set, every request but `GET /health` needs `Authorization: Bearer <apiKey>`.
    public var apiKey: String?
    /// Tokens per embedding batch: queued requests are merged until their tokens reach this.
    public var maxBatchTokens: Int
    /// Requests queued or running per model at once; one more is answered 429 at once.
    public var maxConcurrentRequests: Int
    /// Request bodies larger than this are answered 413.
    public var maxBodyBytes: Int
    /// Sequences that share one decoding step at most (continuous batching); more wait their turn.
    public var maxBatchSequences: Int
    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT.
    public var shutdownTimeoutSeconds: Double

    public init(host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil, maxBatchTokens: Int = 16384,
                maxConcurrentRequests: Int = 512, maxBodyBytes: Int = 2_000_000, maxBatchSequences: Int = 16,
                shutdownTimeoutSeconds: Double = 30) {
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maxBatchTokens = maxBatchTokens
        self.maxConcurrentRequests = maxConcurrentRequests
        self.maxBodyBytes = maxBodyBytes
        self.maxBatchSequences = maxBatchSequences
        self.shutdownTimeoutSeconds = shutdownTimeoutSeconds
    }

    /// Checks every limit's range.
    ///
    /// - Throws: ``ServerConfigurationError`` naming the setting.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw ServerConfigurationError(message: message) }
        }
        try check(!host.isEmpty, "the host is empty")
        try check((0...65535).contains(port), "port \(port) is outside 0...65535")
        try check(apiKey.map { !$0.isEmpty } ?? true, "the API key is empty")
        try check((1...1 << 24).contains(maxBatchTokens), "max batch tokens \(maxBatchTokens) must be in 1...16777216")
        try check((1...1 << 20).contains(maxConcurrentRequests), "max concurrent requests \(maxConcurrentRequests) must be in 1...1048576")
        try check((64...1 << 30).contains(maxBodyBytes), "max body bytes \(maxBodyBytes) must be in 64...1073741824")
        try check((1...256).contains(maxBatchSequences), "max batch sequences \(maxBatchSequences) must be in 1...256")
        try check(shutdownTimeoutSeconds.isFinite && shutdownTimeoutSeconds >= 0, "the shutdown timeout must be ≥ 0 seconds")
    }
}

/// A server setting out of range.
public struct ServerConfigurationError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { message }
}
