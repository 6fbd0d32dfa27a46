import ArgumentParser
import Attend
import RawDNNL

/// Attend's `matmul` against a direct oneDNN `dnnl_sgemm` call that threads itself with OpenMP,
/// n×n·n×n, with the rate as a share of this machine's measured FMA peak.
struct MatmulBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matmul",
        abstract: "GFLOP/s of matmul beside raw oneDNN sgemm for n = 256…2048, and % of the measured peak.")

    @Option(parsing: .upToNextOption, help: "Matrix sizes.")
    var sizes: [Int] = [256, 512, 1024, 2048]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() {
        let peaks = Dictionary(uniqueKeysWithValues: threads.map { ($0, Hardware.peakFlops(threads: $0) / 1e9) })
        if !json {
            print("Peak (FMA probe, \(Hardware.instructionSet)): " + threads.map { "\($0) thread(s) \(formatted(peaks[$0]!)) GFLOP/s" }.joined(separator: ", "))
            print("| n | threads | raw dnnl_sgemm (OpenMP) GFLOP/s | Attend matmul GFLOP/s | Attend / raw | Attend % of peak |")
            print("|---:|---:|---:|---:|---:|---:|")
        }
        for n in sizes {
            var generator = PhiloxGenerator(seed: 1)
            let a = Tensor.uniform([n, n], in: -1..<1, using: &generator)
            let b = Tensor.uniform([n, n], in: -1..<1, using: &generator)
            let (rawA, rawB) = (a.scalars, b.scalars)
            var rawC = [Float](repeating: 0, count: n * n)
            let flops = 2 * Double(n) * Double(n) * Double(n)
            for threadCount in threads {
                // Raw: oneDNN owns the threads for the whole product (OpenMP), Attend's pool idle.
                omp_set_num_threads(Int32(threadCount))
                let raw = Timing.measure {
                    _ = dnnl_sgemm(0x4E, 0x4E, dnnl_dim_t(n), dnnl_dim_t(n), dnnl_dim_t(n),
                                   1, rawA, dnnl_dim_t(n), rawB, dnnl_dim_t(n), 0, &rawC, dnnl_dim_t(n))
                }
                omp_set_num_threads(1)
                Parallelism.threadCount = threadCount
                let attend = Timing.measure { consume(matmul(a, b)) }
                let rawRate = flops / raw.median / 1e9, attendRate = flops / attend.median / 1e9
                let share = 100 * attendRate / peaks[threadCount]!
                if json {
                    print("{\"n\":\(n),\"threads\":\(threadCount),\"raw\":\(rawRate),\"attend\":\(attendRate),\"peak\":\(peaks[threadCount]!)}")
                } else {
                    print("| \(n) | \(threadCount) | \(formatted(rawRate)) | \(formatted(attendRate)) | \(formatted(attendRate / rawRate, 2)) | \(formatted(share))% |")
                }
            }
        }
    }
}
