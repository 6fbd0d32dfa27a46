import ArgumentParser
import Attend
import Foundation

/// Scaled dot-product attention timings (fused kernel), forward and forward+backward.
struct AttentionBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Milliseconds of scaled dot-product attention for [B, H, L, D] shapes.",
        discussion: "Prints one JSON object per line when --json is given (scripts/compare_attention_with_pytorch.py reads them).")

    @Option(parsing: .upToNextOption, help: "Shapes as B,H,L,D.")
    var shapes: [String] = ["1,8,128,64", "1,8,512,64", "1,8,1024,64", "4,12,256,64", "1,8,4096,64"]

    @Option(parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Option(help: "Which passes: forward, backward (forward+backward) or both.")
    var passes: String = "forward"

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    @Option(help: "Seconds to spend per measurement.")
    var budget: Double = 1.0

    func run() throws {
        if !json { print("| shape | causal | threads | pass | ms |\n|---|---|---:|---|---:|") }
        for text in shapes {
            let (q, k, v) = try randomAttentionInputs(shape: text)
            for causal in [false, true] {
                let mask: AttentionMask = causal ? .causal : .none
                for threadCount in threads {
                    Parallelism.threadCount = threadCount
                    var results: [(String, Timing)] = []
                    if passes != "backward" {
                        results.append(("forward", Timing.measure(budget: budget) {
                            consume(scaledDotProductAttention(query: q, key: k, value: v, mask: mask))
                        }))
                    }
                    if passes != "forward" {
                        results.append(("forward+backward", Timing.measure(budget: budget) {
                            consume(gradient(at: [q, k, v]) { x in
                                scaledDotProductAttention(query: x[0], key: x[1], value: x[2], mask: mask).sum()
                            })
                        }))
                    }
                    for (pass, timing) in results {
                        if json {
                            print("{\"shape\":\"\(text)\",\"causal\":\(causal),\"threads\":\(threadCount),\"pass\":\"\(pass)\",\"ms\":\(timing.median * 1e3)}")
                        } else {
                            print("| \(text) | \(causal) | \(threadCount) | \(pass) | \(formatted(timing.median * 1e3, 3)) |")
                        }
                    }
                }
            }
        }
    }
}

/// Peak resident memory added by one fused attention forward pass.
struct AttentionMemoryBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention-memory",
        abstract: "Extra peak memory (MiB) of one attention forward at [B, H, L, D], output included.")

    @Option(help: "Shape as B,H,L,D.")
    var shape = "1,8,16384,64"

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let (q, k, v) = try randomAttentionInputs(shape: shape)
        resetPeakResidentBytes()
        let before = residentBytes(field: "VmRSS:")
        let output = scaledDotProductAttention(query: q, key: k, value: v)
        let after = residentBytes(field: "VmHWM:")
        consume(output)
        let extra = Double(after - before) / 1_048_576
        if json {
            print("{\"shape\":\"\(shape)\",\"extraMiB\":\(extra)}")
        } else {
            print("extra peak memory for attention at [\(shape)]: \(formatted(extra)) MiB (output: \(formatted(Double(output.scalarCount * 4) / 1_048_576)) MiB)")
        }
    }
}

/// Standard-normal query, key and value of the shape written "B,H,L,D".
func randomAttentionInputs(shape text: String) throws -> (Tensor, Tensor, Tensor) {
    let dims = text.split(separator: ",").compactMap { Int($0) }
    guard dims.count == 4, dims.allSatisfy({ $0 > 0 }) else {
        throw ValidationError("shape \(text) is not four positive sizes B,H,L,D")
    }
    var generator = PhiloxGenerator(seed: 1)
    return (Tensor.normal(dims, using: &generator), Tensor.normal(dims, using: &generator),
            Tensor.normal(dims, using: &generator))
}

/// Resets the kernel's peak-RSS counter (`VmHWM`) to the current RSS (Linux ≥ 4.0).
func resetPeakResidentBytes() {
    try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
}

/// A memory figure from `/proc/self/status` (`VmRSS:` now, `VmHWM:` peak), in bytes.
func residentBytes(field: String) -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix(field) {
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }
    return 0
}
