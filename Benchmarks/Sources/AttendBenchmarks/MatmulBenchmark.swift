import ArgumentParser
import Attend
import RawBLAS

/// Attend's `matmul` against a direct OpenBLAS `cblas_sgemm` call, n×n·n×n, 1 and 2 threads.
struct MatmulBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "GFLOP/s of matmul beside raw OpenBLAS sgemm for n = 256…2048.")

    @Option(parsing: .upToNextOption, help: "Matrix sizes.")
    var sizes: [Int] = [256, 512, 1024, 2048]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    func run() {
        print("| n | threads | raw sgemm GFLOP/s | Attend matmul GFLOP/s | Attend / raw |")
        print("|---:|---:|---:|---:|---:|")
        for n in sizes {
            var generator = PhiloxGenerator(seed: 1)
            let a = Tensor.uniform([n, n], in: -1..<1, using: &generator)
            let b = Tensor.uniform([n, n], in: -1..<1, using: &generator)
            let (rawA, rawB) = (a.scalars, b.scalars)
            var rawC = [Float](repeating: 0, count: n * n)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            for threadCount in threads {
                // Raw: OpenBLAS threads itself.
                openblas_set_num_threads(Int32(threadCount))
                let raw = Timing.measure {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(n), blasint(n), blasint(n),
                                1, rawA, blasint(n), rawB, blasint(n), 0, &rawC, blasint(n))
                }
                openblas_set_num_threads(1)   // Attend keeps OpenBLAS single-threaded and splits work itself.
                Parallelism.threadCount = threadCount
                let attend = Timing.measure { consume(matmul(a, b)) }
                let rawRate = flops / raw.median / 1e9, attendRate = flops / attend.median / 1e9
                print("| \(n) | \(threadCount) | \(formatted(rawRate)) | \(formatted(attendRate)) | \(formatted(attendRate / rawRate, 2)) |")
            }
        }
    }
}
