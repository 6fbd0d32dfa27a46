import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Attend's one thread-count knob, and the parallel loop every kernel uses.
///
/// Work is split into at most ``threadCount`` chunks and run on ``ThreadPool``'s workers (the
/// caller included). Loops nested inside a parallel region run serially, and oneDNN always runs single-threaded
/// under Attend's own split, so the cores are never oversubscribed.
public enum Parallelism {
    private static let storedThreadCount = Atomic<Int>(Parallelism.defaultThreadCount)

    /// The number of CPUs this process may use (at least 1) — shared among the processes that
    /// `mpirun` started on this host (`OMPI_COMM_WORLD_LOCAL_SIZE`), so that N ranks on one
    /// machine don't each start a thread per core.
    public static var defaultThreadCount: Int {
        let processors = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
        let localRanks = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        return Swift.max(1, processors / Swift.max(1, localRanks))
    }

    /// How many threads Attend's kernels (BLAS products included) may use. Defaults to the
    /// number of CPUs available to the process, or to `ATTEND_NUM_THREADS` when that is set.
    public static var threadCount: Int {
        get {
            configureOnce
            return storedThreadCount.load(ordering: .relaxed)
        }
        set {
            precondition(newValue >= 1, "Parallelism.threadCount must be at least 1, got \(newValue)")
            configureOnce
            storedThreadCount.store(newValue, ordering: .relaxed)
        }
    }

    /// Runs once, before the first kernel: `ATTEND_NUM_THREADS` is honoured. (oneDNN needs no
    /// setting here: ``BLAS`` makes every call single-threaded on the thread that makes it.)
    private static let configureOnce: Void = {
        if let text = getenv("ATTEND_NUM_THREADS").map({ String(cString: $0) }),
           let count = Int(text), count >= 1 {
            storedThreadCount.store(count, ordering: .relaxed)
        }
    }()

    /// True on a thread that is currently running one chunk of a parallel loop.
    static var isInsideParallelRegion: Bool {
        pthread_getspecific(regionKey.key) != nil
    }

    /// Runs `body` with nested parallel loops made serial on this thread.
    static func withinParallelRegion(_ body: () -> Void) {
        let previous = pthread_getspecific(regionKey.key)
        pthread_setspecific(regionKey.key, UnsafeRawPointer(bitPattern: 1))
        body()
        pthread_setspecific(regionKey.key, previous)
    }

    /// Marks a pool worker: every loop it runs is already a chunk of a parallel one.
    static func markAsWorkerThread() {
        pthread_setspecific(regionKey.key, UnsafeRawPointer(bitPattern: 1))
    }

    private struct ThreadKey: @unchecked Sendable { let key: pthread_key_t }
    private static let regionKey: ThreadKey = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return ThreadKey(key: key)
    }()

    /// The number of chunks a loop of `count` items should be split into, when every chunk
    /// should hold at least `minimumChunk` items.
    static func chunkCount(for count: Int, minimumChunk: Int) -> Int {
        if count <= minimumChunk || isInsideParallelRegion { return 1 }
        return Swift.max(1, Swift.min(threadCount, count / Swift.max(1, minimumChunk)))
    }

    /// Calls `body` on disjoint subranges that cover `0..<count`, in parallel when the loop is
    /// large enough that every chunk gets at least `minimumChunk` items.
    ///
    /// - Parameters:
    ///   - count: the number of items.
    ///   - minimumChunk: the smallest number of items worth a thread (about 10 µs of work).
    ///   - body: processes one subrange; chunks run concurrently, so they must write disjoint memory.
    @inline(__always)
    static func forEachChunk(
        of count: Int, minimumChunk: Int, _ body: (Range<Int>) -> Void
    ) {
        guard count > 0 else { return }
        let chunks = chunkCount(for: count, minimumChunk: minimumChunk)
        if chunks == 1 {
            body(0..<count)
            return
        }
        ThreadPool.shared.run(chunks: chunks, threads: chunks) { chunk in
            body((count * chunk / chunks)..<(count * (chunk + 1) / chunks))
        }
    }

    /// Calls `body(item)` for every item in `0..<count`, handing items to ``threadCount``
    /// threads as they become free, for work items of uneven cost (list the costly ones first).
    /// Attend operations inside `body` run single-threaded (no oversubscription), so this is
    /// how to run independent model calls side by side. Items must write disjoint memory.
    public static func forEachItem(count: Int, _ body: (Int) -> Void) {
        if count == 1 || isInsideParallelRegion || threadCount == 1 {
            for item in 0..<count { body(item) }
            return
        }
        ThreadPool.shared.run(chunks: count, threads: threadCount, body)
    }
}

/// Carries a value that is not `Sendable` across a boundary the caller has proved safe
/// (chunks of a parallel loop that touch disjoint memory).
/// (`package`: Attend's other targets hand buffers to ``Parallelism/forEachItem(count:_:)`` too.)
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
