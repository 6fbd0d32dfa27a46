import Prometheus

/// The server's Prometheus metrics (`GET /metrics`, text format): requests by route and status,
/// latency, queue depth, batch sizes and token throughput.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "attend", metricName: metric, unitName: unit, helpText: help)
    }
    private static var requests: MetricNameDescriptor { name("http_requests", "total", "HTTP requests answered, by route and status.") }
    private static var latency: MetricNameDescriptor { name("http_request_duration", "seconds", "Time to a response's head (streams: to the first byte), by route.") }
    private static var queueDepth: MetricNameDescriptor { name("queue_depth", "requests", "Requests waiting for a model, by queue.") }
    private static var batchSize: MetricNameDescriptor { name("batch_size", "sequences", "Sequences per model call: an embedding batch, or a decoding step.") }
    private static var tokens: MetricNameDescriptor { name("tokens", "total", "Tokens processed, by kind: embedded, prompt, generated.") }
    private static var throughput: MetricNameDescriptor { name("generation_throughput", "tokens_per_second", "Tokens the last decoding step produced per second, all sequences together.") }

    private static let latencyBuckets: [Duration] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
        .map { Duration.nanoseconds(Int64($0 * 1e9)) }
    private static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]

    /// One answered request.
    func recordRequest(route: String, status: Int, duration: Duration) {
        registry.makeCounter(descriptor: Self.requests, labels: [("route", route), ("status", String(status))]).increment()
        registry.makeDurationHistogram(descriptor: Self.latency, labels: [("route", route)], buckets: Self.latencyBuckets).record(duration)
    }

    /// The number of requests waiting in `queue` (`embeddings` or `generation`).
    func setQueueDepth(_ depth: Int, queue: String) {
        registry.makeGauge(descriptor: Self.queueDepth, labels: [("queue", queue)]).set(Double(depth))
    }

    /// One model call over `sequences` sequences.
    func recordBatch(_ sequences: Int, queue: String) {
        registry.makeValueHistogram(descriptor: Self.batchSize, labels: [("queue", queue)], buckets: Self.batchBuckets).record(Double(sequences))
    }

    /// `count` tokens of `kind` (`embedded`, `prompt`, `generated`).
    func addTokens(_ count: Int, kind: String) {
        guard count > 0 else { return }
        registry.makeCounter(descriptor: Self.tokens, labels: [("kind", kind)]).increment(by: Int64(count))
    }

    func setGenerationThroughput(_ tokensPerSecond: Double) {
        registry.makeGauge(descriptor: Self.throughput).set(tokensPerSecond)
    }

    /// Everything, in Prometheus's text exposition format.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
