import ArgumentParser
import Attend

/// Bandwidth of elementwise kernels over 16M floats (bytes read + written per second).
struct ElementwiseBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "elementwise",
        abstract: "GB/s of add and exp over 16M elements, 1 and 2 threads.")

    @Option(help: "Elements per tensor.")
    var count = 16 * 1024 * 1024

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    func run() {
        var generator = PhiloxGenerator(seed: 2)
        let a = Tensor.uniform([count], in: -1..<1, using: &generator)
        let b = Tensor.uniform([count], in: -1..<1, using: &generator)
        print("| op | threads | ms | GB/s |")
        print("|---|---:|---:|---:|")
        for threadCount in threads {
            Parallelism.threadCount = threadCount
            let add = Timing.measure { consume(a + b) }
            let exponential = Timing.measure { consume(exp(a)) }
            let sum = Timing.measure { consume(a.sum()) }
            for (name, timing, bytes) in [("add", add, 12), ("exp", exponential, 8), ("sum", sum, 4)] {
                let rate = Double(bytes * count) / timing.median / 1e9
                print("| \(name) | \(threadCount) | \(formatted(timing.median * 1e3, 2)) | \(formatted(rate)) |")
            }
        }
    }
}
