import ArgumentParser
import Attend

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the version, the thread count and the BLAS library in use."
    )

    func run() throws {
        print("Attend \(AttendInfo.version)")
        print("threads: \(Parallelism.threadCount) (of \(Parallelism.defaultThreadCount) available; set ATTEND_NUM_THREADS to change)")
        print("BLAS:    \(AttendInfo.blas)")
    }
}
