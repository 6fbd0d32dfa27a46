import Attend
import AttendModels
import Foundation
import Synchronization

/// Runs every generation request of the server with continuous batching: each step, the active
/// sequences — up to `maxBatchSequences`, each with its own KV cache, sampler and stop strings —
/// read their next token in one forward pass (``LlamaModel/logits(nextTokens:caches:)``), so the
/// weights stream from memory once per step for all of them. A request that arrives joins at the
/// next step (its prompt read in one pass of its own); one that finishes or whose client leaves
/// frees its place at once. Requests beyond `capacity` (waiting and active) are refused (429).
final class GenerationScheduler: ModelWorker, @unchecked Sendable {
    /// What a request's stream carries: text as it becomes final, then the whole result.
    enum Event: Sendable {
        case text(String)
        case finished(GenerationResult)
    }

    let modelName: String
    private let model: LlamaModel
    let tokenizer: BytePairTokenizer
    let chatTemplate: ChatTemplate?
    private let endOfGenerationIDs: Set<Int>
    private let maxBatchSequences: Int
    private let capacity: Int
    private let metrics: ServerMetrics

    /// A request: its prompt, options, where its events go, and whether its client left.
    private final class Job: Sendable {
        let prompt: [Int]
        let options: GenerationOptions
        let events: AsyncStream<Event>.Continuation
        let isCancelled = Atomic<Bool>(false)
        init(prompt: [Int], options: GenerationOptions, events: AsyncStream<Event>.Continuation) {
            self.prompt = prompt
            self.options = options
            self.events = events
        }
    }
    /// A job being generated (worker thread only); its cache lives at the same index of `caches`.
    private struct Active {
        let job: Job
        var sequence: GenerationSequence
        let promptSeconds: Double
        let decodeStart: ContinuousClock.Instant
    }

    // Guarded by `condition`:
    private var waiting: [Job] = []
    private var inFlight = 0
    private var chores: [(LlamaModel) -> Void] = []
    // Worker thread only:
    private var active: [Active] = []
    private var caches: [LlamaCache] = []

    init(generator: TextGenerator, modelName: String, maxBatchSequences: Int, capacity: Int, metrics: ServerMetrics) {
        model = generator.model
        tokenizer = generator.tokenizer
        chatTemplate = generator.chatTemplate
        endOfGenerationIDs = generator.endOfGenerationIDs
        self.modelName = modelName
        self.maxBatchSequences = maxBatchSequences
        self.capacity = capacity
        self.metrics = metrics
        super.init()
        start(name: "attend-generation")
    }

    /// The model's context length (prompt and new tokens together).
    var contextLength: Int { model.configuration.contextLength }
    var vocabularySize: Int { model.configuration.vocabularySize }

    /// Queues a generation of `prompt`; its events arrive on the returned stream. Dropping the
    /// stream (a client that disconnects) stops the generation at the next step.
    ///
    /// - Throws: ``APIError`` 429 when `capacity` requests are already waiting or running.
    func submit(prompt: [Int], options: GenerationOptions) throws -> AsyncStream<Event> {
        let (stream, events) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        let job = Job(prompt: prompt, options: options, events: events)
        events.onTermination = { reason in
            if case .cancelled = reason { job.isCancelled.store(true, ordering: .relaxed) }
        }
        condition.lock()
        defer { condition.unlock() }
        guard inFlight < capacity, !isStopping else { throw APIError.queueFull("generation", limit: capacity) }
        inFlight += 1
        waiting.append(job)
        metrics.setQueueDepth(waiting.count, queue: "generation")
        condition.signal()
        return stream
    }

    /// Runs `work` with the model on this thread, between steps (it counts against `capacity`).
    ///
    /// - Throws: ``APIError`` 429 when the queue is full, or what `work` throws.
    func perform<Value: Sendable>(_ work: @escaping @Sendable (LlamaModel) throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            defer { condition.unlock() }
            guard inFlight + chores.count < capacity, !isStopping else {
                return continuation.resume(throwing: APIError.queueFull("generation", limit: capacity))
            }
            chores.append { model in continuation.resume(with: Swift.Result { try work(model) }) }
            condition.signal()
        }
    }

    override func runOnce() -> Bool {
        condition.lock()
        while waiting.isEmpty && active.isEmpty && chores.isEmpty && !isStopping { condition.wait() }
        if waiting.isEmpty && active.isEmpty && chores.isEmpty { condition.unlock(); return false }
        let joining = Array(waiting.prefix(maxBatchSequences - active.count))
        waiting.removeFirst(joining.count)
        let work = chores
        chores = []
        metrics.setQueueDepth(waiting.count, queue: "generation")
        condition.unlock()

        for chore in work { chore(model) }
        for job in joining { start(job) }
        step()
        return true
    }

    /// Reads a new job's prompt and samples its first token.
    private func start(_ job: Job) {
        guard !job.isCancelled.load(ordering: .relaxed) else { return finish(job, result: nil) }
        // Room for the prompt and a typical reply; a longer one grows the cache (by doubling), so a
        // request for the whole context does not hold 8192 positions (377 MB for SmolLM2) from the start.
        var cache = model.makeCache(capacity: job.prompt.count + Swift.min(job.options.maxTokens, 512))
        let promptStart = ContinuousClock.now
        let logits = model.logits(for: job.prompt, cache: &cache)
        let promptSeconds = (ContinuousClock.now - promptStart).seconds
        metrics.addTokens(job.prompt.count, kind: "prompt")
        var entry = Active(job: job, sequence: GenerationSequence(prompt: job.prompt, options: job.options, tokenizer: tokenizer,
                                                                endOfGenerationIDs: endOfGenerationIDs),
                           promptSeconds: promptSeconds, decodeStart: .now)
        emit(entry.sequence.advance(logits: logits.scalars), to: job)
        active.append(entry)
        caches.append(cache)
        retireFinished()
    }

    /// One decoding step for every active sequence together.
    private func step() {
        for index in active.indices where active[index].job.isCancelled.load(ordering: .relaxed) {
            active[index].sequence.cancel()
        }
        retireFinished()
        guard !active.isEmpty else { return }
        let tokens = active.map { $0.sequence.nextToken! }
        let started = ContinuousClock.now
        let logits = model.logits(nextTokens: tokens, caches: &caches).scalars
        let seconds = (ContinuousClock.now - started).seconds
        metrics.recordBatch(tokens.count, queue: "generation")
        metrics.addTokens(tokens.count, kind: "generated")
        metrics.setGenerationThroughput(Double(tokens.count) / Swift.max(seconds, 1e-9))
        let width = vocabularySize
        for index in active.indices {
            let row = Array(logits[(index * width)..<((index + 1) * width)])
            emit(active[index].sequence.advance(logits: row), to: active[index].job)
        }
        retireFinished()
    }

    private func emit(_ text: String, to job: Job) {
        if !text.isEmpty { job.events.yield(.text(text)) }
    }

    /// Sends the finished sequences' results and frees their places (and caches).
    private func retireFinished() {
        var index = 0
        while index < active.count {
            guard active[index].sequence.isFinished else { index += 1; continue }
            let entry = active.remove(at: index)
            caches.remove(at: index)
            var sequence = entry.sequence
            sequence.recordTimes(promptSeconds: entry.promptSeconds, decodeSeconds: (ContinuousClock.now - entry.decodeStart).seconds)
            finish(entry.job, result: sequence.result)
        }
    }

    private func finish(_ job: Job, result: GenerationResult?) {
        if let result { job.events.yield(.finished(result)) }
        job.events.finish()
        condition.lock()
        inFlight -= 1
        condition.unlock()
    }
}

extension Duration {
    /// The duration in seconds.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
