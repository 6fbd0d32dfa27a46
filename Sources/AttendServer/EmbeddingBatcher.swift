import AttendModels
import Foundation

/// Runs every embedding request of the server, merging concurrent ones into batches: whenever the
/// model is free it takes queued requests until their tokens reach `maxBatchTokens` (always at
/// least one request) and embeds them together — no timer, so a lone request waits for nothing,
/// and under load batches fill while the previous one runs (text-embeddings-inference's scheme).
/// Requests beyond `capacity` are refused at once (429).
final class EmbeddingBatcher: ModelWorker, @unchecked Sendable {
    let embedder: SentenceEmbedder
    private let maxBatchTokens: Int
    private let capacity: Int
    private let metrics: ServerMetrics

    private struct Job {
        let encodings: [Encoding]
        let tokens: Int
        let continuation: CheckedContinuation<[[Float]], any Error>
    }
    /// Waiting jobs, oldest first (guarded by ``ModelWorker/condition``).
    private var queue: [Job] = []
    /// Chores (attention views) to run on this thread between batches.
    private var chores: [() -> Void] = []
    /// Requests in the batch now running.
    private var running = 0
    /// Requests waiting or running, chores included (guarded by ``ModelWorker/condition``).
    private var load: Int { queue.count + running + chores.count }

    init(embedder: SentenceEmbedder, maxBatchTokens: Int, capacity: Int, metrics: ServerMetrics) {
        self.embedder = embedder
        self.maxBatchTokens = maxBatchTokens
        self.capacity = capacity
        self.metrics = metrics
        super.init()
        start(name: "attend-embeddings")
    }

    /// The embeddings of `encodings`, in order, once a batch has run them.
    ///
    /// - Throws: ``APIError`` 429 when `capacity` requests are already waiting or running.
    func embed(_ encodings: [Encoding]) async throws -> [[Float]] {
        let tokens = encodings.reduce(0) { $0 + $1.ids.count }
        return try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard load < capacity, !isStopping else {
                continuation.resume(throwing: APIError.queueFull("embedding", limit: capacity))
                return
            }
            queue.append(Job(encodings: encodings, tokens: tokens, continuation: continuation))
            metrics.setQueueDepth(queue.count, queue: "embeddings")
            condition.signal()
        }
    }

    /// Runs `work` with the embedder on this thread, between batches (the model is not shared
    /// with a running batch); it counts against `capacity`.
    ///
    /// - Throws: ``APIError`` 429 when the queue is full, or what `work` throws.
    func perform<Value: Sendable>(_ work: @escaping @Sendable (SentenceEmbedder) throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard load < capacity, !isStopping else {
                return continuation.resume(throwing: APIError.queueFull("embedding", limit: capacity))
            }
            chores.append { [embedder] in continuation.resume(with: Swift.Result { try work(embedder) }) }
            condition.signal()
        }
    }

    override func runOnce() -> Bool {
        condition.lock()
        while queue.isEmpty && chores.isEmpty && !isStopping { condition.wait() }
        if queue.isEmpty && chores.isEmpty { condition.unlock(); return false }
        let work = chores
        chores = []
        var batch: [Job] = []
        var tokens = 0
        while let job = queue.first, batch.isEmpty || tokens + job.tokens <= maxBatchTokens {
            batch.append(queue.removeFirst())
            tokens += job.tokens
        }
        running = batch.count
        metrics.setQueueDepth(queue.count, queue: "embeddings")
        condition.unlock()
        defer {
            condition.lock()
            running = 0
            condition.unlock()
        }

        for chore in work { chore() }
        guard !batch.isEmpty else { return true }
        let vectors = embedder.embed(encodings: batch.flatMap(\.encodings))
        metrics.recordBatch(batch.reduce(0) { $0 + $1.encodings.count }, queue: "embeddings")
        metrics.addTokens(tokens, kind: "embedded")
        var start = 0
        for job in batch {
            job.continuation.resume(returning: Array(vectors[start..<(start + job.encodings.count)]))
            start += job.encodings.count
        }
        return true
    }
}
