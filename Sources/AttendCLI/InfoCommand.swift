import ArgumentParser
import Attend
import AttendDistributed

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print the version, the CPU, the kernel path chosen for it, the threads and the matrix-product library.",
        discussion: """
            ATTEND_ISA=avx512|avx2|portable forces a lower kernel path (never one the CPU lacks);
            ATTEND_NUM_THREADS sets the thread count. --peak measures this machine's float32 ceiling.
            """
    )

    @Flag(help: "Also measure the float32 FMA peak of this machine on each thread count up to the one in use.")
    var peak = false

    func run() throws {
        let cpu = Hardware.cpu
        print("Attend \(AttendInfo.version)")
        print("CPU:      \(cpu.brand.isEmpty ? "unknown" : cpu.brand) (\(cpu.vendor.isEmpty ? "unknown vendor" : cpu.vendor), family \(cpu.family), model \(cpu.model), stepping \(cpu.stepping))")
        print("features: \(cpu.features.isEmpty ? "none detected" : cpu.features.joined(separator: " "))")
        print("kernels:  \(Hardware.instructionSet) (best supported: \(Hardware.supportedInstructionSet); set ATTEND_ISA to force a lower one)")
        print("threads:  \(Parallelism.threadCount) (of \(Parallelism.defaultThreadCount) available; set ATTEND_NUM_THREADS to change)")
        print("GEMM:     \(AttendInfo.blas)")
        let group = try ProcessGroup.world()
        print("MPI:      " + (group.size == 1 ? "one process (start with mpirun -np N for data parallelism)" : "rank \(group.rank) of \(group.size)"))
        if peak {
            for threads in 1...Parallelism.threadCount {
                let rate = Hardware.peakFlops(threads: threads, seconds: 0.5) / 1e9
                print("peak:     \(String(format: "%.1f", rate)) GFLOP/s float32 FMA on \(threads) thread\(threads == 1 ? "" : "s") (\(Hardware.instructionSet))")
            }
        }
    }
}
