import ArgumentParser
import Attend
import AttendDistributed
import Foundation

/// `ProcessGroup.allReduce` bandwidth between ranks — run under `mpirun -np N`. Prints JSON lines
/// on rank 0 (scripts/compare_allreduce_with_mpi4py.sh reads them beside mpi4py's).
struct AllReduceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allreduce",
        abstract: "GB/s of ProcessGroup.allReduce(.sum) for 1 KiB … 64 MiB buffers (run under mpirun).")

    @Option(parsing: .upToNextOption, help: "Buffer sizes in bytes.")
    var sizes: [Int] = [1 << 10, 1 << 14, 1 << 18, 1 << 22, 1 << 26]

    @Option(help: "Repetitions per size (the fastest is reported).")
    var repetitions = 20

    func run() throws {
        let group = try ProcessGroup.world()
        for bytes in sizes {
            let tensor = Tensor.ones([bytes / 4])
            var best = Double.infinity
            for _ in 0..<repetitions {
                try group.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                consume(try group.allReduce(tensor, op: .sum))
                best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            // Bus bandwidth as NCCL and mpi4py benchmarks state it: 2(n−1)/n · bytes / time.
            let factor = group.size > 1 ? 2 * Double(group.size - 1) / Double(group.size) : 1
            if group.rank == 0 {
                print("{\"bytes\":\(bytes),\"ranks\":\(group.size),\"seconds\":\(best),\"gbps\":\(factor * Double(bytes) / best / 1e9)}")
            }
        }
    }
}
