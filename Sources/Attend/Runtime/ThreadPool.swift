import AttendKernels
import Foundation
import Synchronization

/// Persistent worker threads that run the chunks of one parallel loop at a time.
///
/// Dispatch wakes its workers in tens of microseconds, which is as long as a whole small
/// kernel. These workers spin briefly after each job before sleeping, so back-to-back kernels
/// (a forward pass) start in well under a microsecond. The calling thread runs chunks too.
///
/// A job is published by bumping a generation number; claims pack the generation and the next
/// chunk index into one atomic word, so a worker that wakes late can never run a chunk of a
/// newer job with an older closure. A finished job's claim word is marked exhausted, so a late
/// worker that pairs its generation with a newer job's chunk count claims nothing either.
final class ThreadPool: @unchecked Sendable {
    static let shared = ThreadPool()

    /// How long an idle worker polls for new work before sleeping, in polls.
    private static let spinLimit = 1 << 17

    /// Generation (high 32 bits) and next unclaimed chunk (low 32 bits) of the current job.
    private let claims = Atomic<UInt64>(0)
    private let generation = Atomic<UInt32>(0)
    private let unfinished = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    /// Address of the current job's ``Job`` box.
    private let currentJob = Atomic<UInt>(0)
    private let chunkCount = Atomic<Int>(0)
    /// Workers still allowed to join the current job (the caller is not counted).
    private let seats = Atomic<Int>(0)
    private let workerCount = Atomic<Int>(0)

    private let sleepLock = NSCondition()
    /// Serializes callers: a second thread that finds the pool busy runs its loop serially.
    private let callerLock = NSLock()

    private final class Job {
        let body: (Int) -> Void
        init(_ body: @escaping (Int) -> Void) { self.body = body }
    }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` on up to `threads` threads (the
    /// caller included), handing out chunks dynamically, and returns when all have finished.
    func run(chunks: Int, threads: Int, _ body: (Int) -> Void) {
        let helpers = Swift.min(chunks, threads) - 1
        guard helpers > 0, callerLock.try() else {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        defer { callerLock.unlock() }
        ensureWorkers(helpers)
        withoutActuallyEscaping(body) { body in
            let job = Job(body)
            let address = UInt(bitPattern: Unmanaged.passUnretained(job).toOpaque())
            withExtendedLifetime(job) {
                currentJob.store(address, ordering: .sequentiallyConsistent)
                chunkCount.store(chunks, ordering: .sequentiallyConsistent)
                seats.store(helpers, ordering: .sequentiallyConsistent)
                unfinished.store(chunks, ordering: .sequentiallyConsistent)
                let next = generation.load(ordering: .relaxed) &+ 1
                claims.store(UInt64(next) << 32, ordering: .sequentiallyConsistent)
                generation.store(next, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    sleepLock.lock()
                    sleepLock.broadcast()
                    sleepLock.unlock()
                }
                Parallelism.withinParallelRegion {
                    runChunks(of: next, chunks: chunks)
                }
                while unfinished.load(ordering: .acquiring) > 0 {}
                // Close the job before the next one publishes its chunk count: a worker that read
                // this generation but the next job's count must not find a chunk left to claim.
                claims.store(UInt64(next) << 32 | 0xFFFF_FFFF, ordering: .sequentiallyConsistent)
                currentJob.store(0, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Claims and runs chunks of job `jobGeneration` until none are left.
    ///
    /// The job is looked up only after a claim succeeds: a claimed chunk keeps `unfinished`
    /// above zero, so the caller (and with it the job) is still waiting.
    private func runChunks(of jobGeneration: UInt32, chunks: Int) {
        while true {
            var value = claims.load(ordering: .acquiring)
            var claimed = -1
            while UInt32(truncatingIfNeeded: value >> 32) == jobGeneration && Int(value & 0xFFFF_FFFF) < chunks {
                let (exchanged, original) = claims.compareExchange(
                    expected: value, desired: value + 1, ordering: .acquiringAndReleasing)
                if exchanged { claimed = Int(value & 0xFFFF_FFFF); break }
                value = original
            }
            guard claimed >= 0 else { return }
            do {
                let address = currentJob.load(ordering: .acquiring)
                let job = Unmanaged<Job>.fromOpaque(UnsafeRawPointer(bitPattern: address)!).takeUnretainedValue()
                job.body(claimed)
            }
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    private func ensureWorkers(_ needed: Int) {
        while workerCount.load(ordering: .relaxed) < needed {
            let index = workerCount.add(1, ordering: .relaxed).newValue
            let thread = Thread { [self] in
                // One name per worker (the kernel keeps 15 bytes), so a thread that inherits a
                // worker's name — an OpenMP team a library made behind Attend's back — shows as a duplicate.
                attend_name_current_thread("attend-pool-\(index)")
                workerLoop()
            }
            thread.start()
        }
    }

    private func workerLoop() {
        Parallelism.markAsWorkerThread()
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen && spins < ThreadPool.spinLimit {
                spins += 1
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                sleepLock.lock()
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { sleepLock.wait() }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                sleepLock.unlock()
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            // Join only while seats are left (the thread count may be below the worker count).
            // A worker that wakes late fails its claims on the generation check.
            if seats.subtract(1, ordering: .acquiringAndReleasing).oldValue > 0 {
                runChunks(of: seen, chunks: chunkCount.load(ordering: .acquiring))
            }
        }
    }
}
