import ArgumentParser
import Attend

/// The machine's float32 ceiling: independent fused multiply-adds on each instruction set's
/// vectors, on 1…N threads at once. Every other benchmark states its rates against this.
struct PeakBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "The FMA peak of this machine, per instruction set and thread count (GFLOP/s).")

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Option(help: "Seconds per measurement.")
    var seconds: Double = 1.0

    func run() {
        let cpu = Hardware.cpu
        print("CPU: \(cpu.brand.isEmpty ? cpu.vendor : cpu.brand) (vendor \(cpu.vendor), family \(cpu.family), model \(cpu.model))")
        print("kernel path in use: \(Hardware.instructionSet) (best supported: \(Hardware.supportedInstructionSet))")
        print("| instruction set | threads | GFLOP/s |")
        print("|---|---:|---:|")
        for instructionSet in InstructionSet.allCases.reversed() where instructionSet <= Hardware.supportedInstructionSet {
            for count in threads {
                let rate = Hardware.peakFlops(instructionSet: instructionSet, threads: count, seconds: seconds)
                print("| \(instructionSet) | \(count) | \(formatted(rate / 1e9)) |")
            }
        }
    }
}
