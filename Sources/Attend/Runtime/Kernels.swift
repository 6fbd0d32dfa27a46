import AttendKernels

/// The instruction-set paths of Attend's C kernels (``Hardware`` says which one runs).
public enum InstructionSet: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    /// Plain C at the baseline instruction set: the oracle the others are tested against.
    case portable = 0
    /// AVX2 with FMA, 256-bit vectors.
    case avx2 = 1
    /// AVX-512 F, VL, BW and DQ, 512-bit vectors.
    case avx512 = 2

    public static func < (a: InstructionSet, b: InstructionSet) -> Bool { a.rawValue < b.rawValue }

    /// `"portable"`, `"avx2"` or `"avx512"`, the spelling `ATTEND_ISA` takes.
    public var description: String { String(cString: attend_isa_name(cValue)) }

    var cValue: attend_isa { attend_isa(UInt32(rawValue)) }
}

/// What this machine is and what Attend runs on it: the CPU, the kernel path chosen from its
/// features (or forced lower by `ATTEND_ISA=avx512|avx2|portable`), and a probe of its float32 peak.
public enum Hardware {
    /// The CPU as CPUID describes it.
    public struct CPU: Sendable {
        /// `"AuthenticAMD"`, `"GenuineIntel"`, … (empty off x86).
        public let vendor: String
        /// The brand string, e.g. `"AMD EPYC 9R14 96-Core Processor"` (may be empty).
        public let brand: String
        /// Display family and model (AMD family 25 is Zen 3/Zen 4, 26 is Zen 5).
        public let family: Int, model: Int, stepping: Int
        /// The features the dispatch looks at that this CPU has, e.g. `["avx2", "fma", "avx512f", …]`.
        public let features: [String]
    }

    /// This machine's CPU.
    public static let cpu: CPU = {
        var description = attend_cpu_description()
        attend_describe_cpu(&description)
        func text<T>(_ field: T) -> String {
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return CPU(vendor: text(description.vendor), brand: text(description.brand),
                   family: Int(description.family), model: Int(description.model), stepping: Int(description.stepping),
                   features: text(description.features).split(separator: " ").map(String.init))
    }()

    /// The best kernel path this CPU supports.
    public static var supportedInstructionSet: InstructionSet {
        InstructionSet(rawValue: Int(attend_isa_supported().rawValue)) ?? .portable
    }

    /// The kernel path in use: ``supportedInstructionSet`` unless `ATTEND_ISA` asks for a lower one.
    public static var instructionSet: InstructionSet {
        InstructionSet(rawValue: Int(attend_kernels().pointee.isa.rawValue)) ?? .portable
    }

    /// The float32 FLOP/s that `threads` threads reach together with independent fused
    /// multiply-adds on `instructionSet`'s vectors (0 if the CPU lacks it): the ceiling every
    /// benchmark states its rates against. Takes about `seconds`.
    public static func peakFlops(instructionSet: InstructionSet = Hardware.instructionSet,
                                 threads: Int = Parallelism.threadCount, seconds: Double = 0.3) -> Double {
        var rates = [Double](repeating: 0, count: threads)
        rates.withUnsafeMutableBufferPointer { rates in
            let slots = UncheckedSendable(rates.baseAddress!)
            ThreadPool.shared.run(chunks: threads, threads: threads) { thread in
                slots.value[thread] = attend_fma_probe(instructionSet.cValue, seconds)
            }
        }
        return rates.reduce(0, +)
    }
}

/// A C kernel `y = f(x)` over `n` floats.
typealias ArrayKernel = @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
/// A C kernel `dx = g · f′(x)` over `n` floats.
typealias GradientKernel = @convention(c) (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

/// The C kernels' dispatch table, for Attend's operations.
enum Kernels {
    /// The table in use (``Hardware/instructionSet``), read once.
    static let active: attend_kernel_table = attend_kernels().pointee
}
