import Foundation

/// A thread of its own for a model: requests arrive from the server's event loops and async
/// tasks, the model runs here (it computes for milliseconds to seconds, which must never block an
/// event loop or Swift's cooperative threads), and results go back through continuations.
///
/// A subclass's ``runOnce()`` takes what is queued and runs one model call (an embedding batch, a
/// decoding step); ``condition`` guards its queue.
class ModelWorker: @unchecked Sendable {
    /// Guards the subclass's queue; signalled when work arrives or the worker is told to stop.
    let condition = NSCondition()
    /// Set by ``stop()``: finish what is queued, then exit.
    private(set) var isStopping = false
    private var thread: Thread?
    private let exited = DispatchSemaphore(value: 0)

    /// Starts the thread (named `name`, with room on its stack for the model's recursion-free but wide frames).
    func start(name: String) {
        let thread = Thread { [self] in
            while runOnce() {}
            exited.signal()
        }
        thread.name = name
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
    }

    /// Waits for work and does one unit of it; returns false when stopped with nothing left.
    /// Called only on the worker's thread.
    func runOnce() -> Bool { fatalError("ModelWorker.runOnce must be overridden") }

    /// Lets queued and running work finish, then ends the thread (and waits for that).
    func stop() {
        condition.lock()
        isStopping = true
        condition.broadcast()
        condition.unlock()
        if thread != nil { exited.wait() }
    }
}
