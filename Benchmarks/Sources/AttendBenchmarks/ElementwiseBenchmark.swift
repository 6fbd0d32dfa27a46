import ArgumentParser
import Attend

/// Elementwise and row kernels over 16M floats: ns per element and bandwidth (bytes read +
/// written per second), on the kernel path in use (`ATTEND_ISA` forces a lower one).
struct ElementwiseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elementwise",
        abstract: "ns/element and GB/s of add, exp, GELU, SiLU, softmax, layerNorm and sum over 16M elements.")

    @Option(help: "Elements per tensor.")
    var count = 16 * 1024 * 1024

    @Option(help: "Row length for softmax and layerNorm.")
    var rowLength = 1024

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    func run() {
        var generator = PhiloxGenerator(seed: 2)
        let a = Tensor.uniform([count], in: -4..<4, using: &generator)
        let b = Tensor.uniform([count], in: -1..<1, using: &generator)
        let rows = a.reshaped([-1, rowLength])
        print("kernel path: \(Hardware.instructionSet)")
        print("| op | threads | ms | ns/element | GB/s |")
        print("|---|---:|---:|---:|---:|")
        for threadCount in threads {
            Parallelism.threadCount = threadCount
            // (name, bytes moved per element, work)
            let cases: [(String, Int, () -> Void)] = [
                ("add", 12, { consume(a + b) }),
                ("exp", 8, { consume(exp(a)) }),
                ("gelu", 8, { consume(gelu(a)) }),
                ("silu", 8, { consume(silu(a)) }),
                ("softmax rows", 8, { consume(softmax(rows)) }),
                ("layerNorm rows", 12, { consume(layerNorm(rows)) }),
                ("sum", 4, { consume(a.sum()) }),
            ]
            for (name, bytes, work) in cases {
                let timing = Timing.measure(work)
                let perElement = timing.median / Double(count)
                print("| \(name) | \(threadCount) | \(formatted(timing.median * 1e3, 2)) | \(formatted(perElement * 1e9, 3)) | \(formatted(Double(bytes) / perElement / 1e9)) |")
            }
        }
    }
}
