import Attend
import AttendKernels
import Foundation
import Synchronization
import Testing

/// The instruction-set paths this CPU has, lowest first.
let kernelPaths: [attend_isa] = [ATTEND_ISA_PORTABLE, ATTEND_ISA_AVX2, ATTEND_ISA_AVX512].filter {
    attend_kernels_for($0) != nil
}

/// Every C kernel on every instruction-set path this CPU has, against float64 references and
/// against the portable path (the oracle), at lengths that exercise the vector bodies and the
/// masked tails, with inputs placed against an unreadable page so a read or write past the end
/// crashes. (CI also runs the whole kernel and attention suites with ATTEND_ISA=avx2 and portable.)
@Suite("C kernels on every instruction-set path")
struct KernelTests {
    static let lengths = [0, 1, 7, 15, 16, 17, 31, 33, 100, 1000, 1023, 4097]

    @Test func thePathInUseIsTheBestSupportedUnlessForced() {
        let forced = ProcessInfo.processInfo.environment["ATTEND_ISA"]
        #expect(kernelPaths.contains(ATTEND_ISA_PORTABLE))
        if let forced, let asked = InstructionSet.allCases.first(where: { $0.description == forced }) {
            #expect(Hardware.instructionSet == min(asked, Hardware.supportedInstructionSet))
        } else {
            #expect(Hardware.instructionSet == Hardware.supportedInstructionSet)
        }
        #expect(InstructionSet(rawValue: Int(kernelPaths.last!.rawValue)) == Hardware.supportedInstructionSet)
    }

    @Test(arguments: kernelPaths)
    func exponential(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for n in Self.lengths {
            let x = randomFloats(n, in: -100...88, seed: n)
            let y = GuardedBuffer.run(input: x) { table.exp($0, $1, n) }
            // Subnormal results keep what precision they have: half an ulp of the smallest subnormal.
            for i in 0..<n { expectRelative(y[i], Foundation.exp(Double(x[i])), 3e-7, "exp(\(x[i])) on \(name(isa))", absolute: 1e-45) }
        }
        let special: [Float] = [-.infinity, .infinity, .nan, -104, -103.4, -100, -87.4, 0, -0.0, 88.7, 88.8, 1e-30]
        let y = GuardedBuffer.run(input: special) { table.exp($0, $1, special.count) }
        #expect(y[0] == 0 && y[1] == .infinity && y[2].isNaN && y[3] == 0 && y[7] == 1 && y[8] == 1 && y[10] == .infinity)
        expectRelative(y[5], Foundation.exp(-100.0), 0.02, "subnormal exp(-100) is kept")
        expectRelative(y[9], Foundation.exp(Double(special[9])), 3e-7, "exp(88.7)")
    }

    @Test(arguments: kernelPaths)
    func shiftedExponentialSum(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for n in Self.lengths {
            let x = randomFloats(n, in: -90...5, seed: n + 1)
            let shift: Float = 5
            var total: Float = 0
            let y = GuardedBuffer.run(input: x) { total = table.exp_shifted_sum($0, $1, n, shift) }
            var expected: Double = 0
            for i in 0..<n {
                let argument = Double(x[i] - shift)
                let reference = argument < -87.3 ? 0 : Foundation.exp(argument)
                expected += reference
                if reference == 0 { #expect(y[i] == 0) } else { expectRelative(y[i], reference, 4e-7, "e^(\(argument))") }
            }
            expectRelative(total, expected, 1e-6, "Σ of \(n) on \(name(isa))")
        }
        var nanShift: [Float] = [1, 2, 3]
        _ = nanShift.withUnsafeMutableBufferPointer { table.exp_shifted_sum($0.baseAddress!, $0.baseAddress!, 3, .nan) }
        #expect(nanShift.allSatisfy { $0.isNaN })
        var masked: [Float] = [-.infinity, .nan, 0]
        _ = masked.withUnsafeMutableBufferPointer { table.exp_shifted_sum($0.baseAddress!, $0.baseAddress!, 3, 0) }
        #expect(masked[0] == 0 && masked[1].isNaN && masked[2] == 1)
    }

    @Test(arguments: kernelPaths)
    func reductions(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for n in Self.lengths {
            let x = randomFloats(n, in: -3...3, seed: n + 2)
            var (maximum, total): (Float, Double) = (0, 0)
            _ = GuardedBuffer.run(input: x) { input, _ in
                maximum = table.max(input, n)
                total = table.sum(input, n)
            }
            #expect(maximum == (x.max() ?? -.infinity))
            expectRelative(Float(total), x.reduce(0.0) { $0 + Double($1) }, 1e-6, "Σ of \(n)", absolute: 1e-5)
            if n > 3 {
                var withNaN = x
                withNaN[n - 2] = .nan
                #expect(withNaN.withUnsafeBufferPointer { table.max($0.baseAddress!, n) }.isNaN)
            }
        }
    }

    @Test(arguments: kernelPaths)
    func softmaxRows(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for n in Self.lengths where n > 0 {
            let x = randomFloats(n, in: -20...20, seed: n + 3)
            let maximum = Double(x.max()!)
            let exponentials = x.map { Foundation.exp(Double($0) - maximum) }
            let total = exponentials.reduce(0, +)
            let y = GuardedBuffer.run(input: x) { table.softmax($0, $1, n) }
            let logY = GuardedBuffer.run(input: x) { table.log_softmax($0, $1, n) }
            for i in 0..<n {
                expectRelative(y[i], exponentials[i] / total, 1e-6, "softmax[\(i)] of \(n)", absolute: 1e-12)
                expectRelative(logY[i], Double(x[i]) - maximum - Foundation.log(total), 1e-6, "log_softmax[\(i)] of \(n)", absolute: 1e-6)
            }
        }
        let masked: [Float] = [-.infinity, -.infinity, -.infinity]
        #expect(GuardedBuffer.run(input: masked) { table.softmax($0, $1, 3) } == [0, 0, 0])
        #expect(GuardedBuffer.run(input: masked) { table.log_softmax($0, $1, 3) }.allSatisfy { $0 == -.infinity })
        #expect(GuardedBuffer.run(input: [1, .nan, 2]) { table.softmax($0, $1, 3) }.allSatisfy { $0.isNaN })
        #expect(GuardedBuffer.run(input: [1, .infinity, 2]) { table.softmax($0, $1, 3) }.allSatisfy { $0.isNaN })
        let huge = GuardedBuffer.run(input: [1e4, 1e4 - 1, -1e4]) { table.softmax($0, $1, 3) }
        expectRelative(huge[0], 0.731_058_578_630_0049, 1e-6, "softmax of 1e4 logits")
        #expect(huge[2] == 0)
    }

    /// Tiles of one row through the online step, then `o / ℓ`, equal a softmax-weighted sum.
    @Test(arguments: kernelPaths)
    func onlineSoftmaxStepComposesTiles(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for (n, tile) in [(1, 1), (17, 5), (300, 64), (1000, 256), (1000, 17)] {
            let scores = randomFloats(n, in: -30...30, seed: n + tile)
            let values = randomFloats(n * 3, in: -1...1, seed: n * tile)   // 3 output features per key
            var (runningMax, runningSum) = (-Float.infinity, Float(0))
            var output = [Float](repeating: 0, count: 3)
            var start = 0
            while start < n {
                let count = min(tile, n - start)
                var weights = Array(scores[start..<start + count])
                weights.withUnsafeMutableBufferPointer { w in
                    output.withUnsafeMutableBufferPointer { o in
                        table.online_softmax_step(w.baseAddress!, count, &runningMax, &runningSum, o.baseAddress!, 3)
                    }
                }
                for j in 0..<count { for f in 0..<3 { output[f] += weights[j] * values[(start + j) * 3 + f] } }
                start += count
            }
            let maximum = Double(scores.max()!)
            let p = scores.map { Foundation.exp(Double($0) - maximum) }
            let total = p.reduce(0, +)
            for f in 0..<3 {
                let expected = (0..<n).reduce(0.0) { $0 + p[$1] * Double(values[$1 * 3 + f]) } / total
                expectRelative(output[f] / runningSum, expected, 2e-5, "feature \(f) of \(n) keys in tiles of \(tile)", absolute: 1e-6)
            }
            expectRelative(runningMax, maximum, 0, "running maximum")
        }
        // A fully masked tile changes nothing; a NaN score poisons the row.
        var (m, l): (Float, Float) = (2, 3)
        var output: [Float] = [4, 5]
        var masked: [Float] = [-.infinity, -.infinity]
        table.online_softmax_step(&masked, 2, &m, &l, &output, 2)
        #expect(m == 2 && l == 3 && output == [4, 5] && masked == [0, 0])
        var first: [Float] = [-.infinity, -.infinity]
        (m, l) = (-.infinity, 0)
        table.online_softmax_step(&first, 2, &m, &l, &output, 2)
        #expect(m == -.infinity && l == 0 && first == [0, 0])
        var poisoned: [Float] = [1, .nan]
        (m, l) = (0, 1)
        table.online_softmax_step(&poisoned, 2, &m, &l, &output, 2)
        #expect(m.isNaN && l.isNaN && output.allSatisfy { $0.isNaN })
    }

    @Test(arguments: kernelPaths)
    func activations(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        let erf = { (x: Double) in Foundation.erf(x) }
        let cases: [(String, ArrayKernelFunction, GradientKernelFunction?, (Double) -> Double, (Double) -> Double)] = [
            ("gelu", table.gelu, table.gelu_backward,
             { 0.5 * $0 * (1 + erf($0 / 2.squareRoot())) },
             { 0.5 * (1 + erf($0 / 2.squareRoot())) + $0 * Foundation.exp(-0.5 * $0 * $0) / (2 * Double.pi).squareRoot() }),
            ("gelu_tanh", table.gelu_tanh, table.gelu_tanh_backward,
             { 0.5 * $0 * (1 + Foundation.tanh(0.797_884_560_802_865_4 * ($0 + 0.044715 * $0 * $0 * $0))) },
             { x in
                 let t = Foundation.tanh(0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x))
                 return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * 0.797_884_560_802_865_4 * (1 + 3 * 0.044715 * x * x)
             }),
            ("silu", table.silu, table.silu_backward,
             { $0 / (1 + Foundation.exp(-$0)) },
             { x in let s = 1 / (1 + Foundation.exp(-x)); return s * (1 + x * (1 - s)) }),
            ("sigmoid", table.sigmoid, nil, { 1 / (1 + Foundation.exp(-$0)) }, { _ in 0 }),
            ("tanh", table.tanh, nil, { Foundation.tanh($0) }, { _ in 0 }),
        ]
        for (label, forward, backward, f, derivative) in cases {
            for n in Self.lengths {
                let x = randomFloats(n, in: -9...9, seed: n + label.count)
                let g = randomFloats(n, in: -1...1, seed: n + 7)
                let y = GuardedBuffer.run(input: x) { forward($0, $1, n) }
                for i in 0..<n {
                    // erf's approximation is within 1.5e-7 absolute; the others within a few ulp.
                    expectRelative(y[i], f(Double(x[i])), 2e-6, "\(label)(\(x[i])) on \(name(isa))", absolute: 3e-7 * Swift.max(1, Double(abs(x[i]))))
                }
                guard let backward else { continue }
                let dx = GuardedBuffer.run(input: g, x) { backward($0, $1, $2, n) }
                for i in 0..<n {
                    expectRelative(dx[i], Double(g[i]) * derivative(Double(x[i])), 2e-6, "\(label)′(\(x[i]))", absolute: 1e-6)
                }
            }
            let special: [Float] = [.infinity, -.infinity, .nan, 0, -0.0, 1e-30, -1e-30, 100, -100]
            let y = GuardedBuffer.run(input: special) { forward($0, $1, special.count) }
            for (x, value) in zip(special, y) where !x.isNaN && x.isFinite {
                expectRelative(value, f(Double(x)), 1e-6, "\(label)(\(x))", absolute: 1e-37)
            }
            #expect(y[2].isNaN, "\(label)(NaN) is NaN on \(name(isa))")
        }
        let tanhEnds = GuardedBuffer.run(input: [.infinity, -.infinity, 20, -20]) { table.tanh($0, $1, 4) }
        #expect(tanhEnds == [1, -1, 1, -1])
        let sigmoidEnds = GuardedBuffer.run(input: [.infinity, -.infinity, 100, -200]) { table.sigmoid($0, $1, 4) }
        #expect(sigmoidEnds[0] == 1 && sigmoidEnds[1] == 0 && sigmoidEnds[2] == 1 && sigmoidEnds[3] == 0)
    }

    @Test(arguments: kernelPaths)
    func normalizationRows(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for n in Self.lengths where n > 0 {
            let rows = 3
            let x = randomFloats(rows * n, in: -4...6, seed: n + 11).map { $0 * 100 + 1000 }   // a large mean
            let gamma = randomFloats(n, in: 0.5...1.5, seed: n + 12), beta = randomFloats(n, in: -1...1, seed: n + 13)
            let g = randomFloats(rows * n, in: -1...1, seed: n + 14)
            var normalized = [Float](repeating: 0, count: rows * n), inverse = [Float](repeating: 0, count: rows)
            let y = GuardedBuffer.run(input: x, gamma, beta) { x, gamma, beta, y in
                table.layer_norm(x, gamma, beta, 1e-5, rows, n, y, &normalized, &inverse)
            }
            let dx = GuardedBuffer.run(input: g, gamma, normalized, inverse) { g, gamma, hat, r, dx in
                table.layer_norm_backward(g, gamma, hat, r, rows, n, dx)
            }
            var rmsInverse = [Float](repeating: 0, count: rows)
            let rmsY = GuardedBuffer.run(input: x, gamma) { x, gamma, y in table.rms_norm(x, gamma, 1e-5, rows, n, y, &rmsInverse) }
            let rmsDx = GuardedBuffer.run(input: g, gamma, x, rmsInverse) { g, gamma, x, r, dx in
                table.rms_norm_backward(g, gamma, x, r, rows, n, dx)
            }
            for row in 0..<rows {
                let xs = x[row * n..<(row + 1) * n].map(Double.init), gs = g[row * n..<(row + 1) * n].map(Double.init)
                let mean = xs.reduce(0, +) / Double(n)
                let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
                let r = 1 / (variance + 1e-5).squareRoot()
                let hat = xs.map { ($0 - mean) * r }
                let scaled = (0..<n).map { gs[$0] * Double(gamma[$0]) }
                let meanScaled = scaled.reduce(0, +) / Double(n)
                let meanProduct = (0..<n).reduce(0.0) { $0 + scaled[$1] * hat[$1] } / Double(n)
                let rms = 1 / (xs.reduce(0) { $0 + $1 * $1 } / Double(n) + 1e-5).squareRoot()
                let meanScaledX = (0..<n).reduce(0.0) { $0 + scaled[$1] * xs[$1] } / Double(n)
                for j in 0..<n {
                    let i = row * n + j
                    expectRelative(y[i], hat[j] * Double(gamma[j]) + Double(beta[j]), 1e-5, "layer_norm y of \(n)", absolute: 2e-5)
                    expectRelative(dx[i], r * (scaled[j] - meanScaled - hat[j] * meanProduct), 1e-4, "layer_norm dx of \(n)", absolute: 1e-6 * r)
                    expectRelative(rmsY[i], xs[j] * rms * Double(gamma[j]), 1e-5, "rms_norm y of \(n)")
                    expectRelative(rmsDx[i], rms * scaled[j] - xs[j] * rms * rms * rms * meanScaledX, 1e-4, "rms_norm dx of \(n)", absolute: 1e-6 * rms)
                }
            }
        }
    }

    @Test(arguments: kernelPaths)
    func singleRowProducts(_ isa: attend_isa) {
        let table = attend_kernels_for(isa)!.pointee
        for (rows, k, stride) in [(1, 1, 1), (7, 15, 17), (9, 16, 16), (17, 33, 40), (64, 100, 100), (13, 1000, 1003)] {
            let a = randomFloats(rows * stride, in: -1...1, seed: rows * k)
            let x = randomFloats(k, in: -1...1, seed: k), xRows = randomFloats(rows, in: -1...1, seed: rows)
            // matvec: y = A·x over the first k of each stride-long row.
            let y = GuardedBuffer.run(input: [Float](repeating: 0, count: rows), a, x) { _, a, x, y in
                table.matvec(a, stride, x, y, rows, k)
            }
            // vecmat: y = xᵀ·A with A seen as `rows` × k (the first k columns of each row).
            let z = GuardedBuffer.run(input: [Float](repeating: .nan, count: k), a, xRows) { _, a, x, z in
                table.vecmat(x, a, stride, z, rows, k)
            }
            for r in 0..<rows {
                let expected = (0..<k).reduce(0.0) { $0 + Double(a[r * stride + $1]) * Double(x[$1]) }
                expectRelative(y[r], expected, 1e-5, "matvec row \(r) of \(rows)×\(k) on \(name(isa))", absolute: 1e-5)
            }
            for j in 0..<k {
                let expected = (0..<rows).reduce(0.0) { $0 + Double(xRows[$1]) * Double(a[$1 * stride + j]) }
                expectRelative(z[j], expected, 1e-5, "vecmat column \(j) of \(rows)×\(k) on \(name(isa))", absolute: 1e-5)
            }
        }
    }

    /// Each path within a few ulp of the portable one (the oracle) on the same inputs.
    @Test(arguments: kernelPaths.filter { $0 != ATTEND_ISA_PORTABLE })
    func fastPathsAgreeWithThePortablePath(_ isa: attend_isa) {
        let (fast, portable) = (attend_kernels_for(isa)!.pointee, attend_kernels_for(ATTEND_ISA_PORTABLE)!.pointee)
        let n = 4097
        let x = randomFloats(n, in: -12...12, seed: 99)
        let pairs: [(String, ArrayKernelFunction, ArrayKernelFunction)] = [
            ("exp", fast.exp, portable.exp), ("softmax", fast.softmax, portable.softmax),
            ("log_softmax", fast.log_softmax, portable.log_softmax), ("gelu", fast.gelu, portable.gelu),
            ("gelu_tanh", fast.gelu_tanh, portable.gelu_tanh), ("silu", fast.silu, portable.silu),
            ("sigmoid", fast.sigmoid, portable.sigmoid), ("tanh", fast.tanh, portable.tanh),
        ]
        for (label, a, b) in pairs {
            let (y, reference) = (GuardedBuffer.run(input: x) { a($0, $1, n) }, GuardedBuffer.run(input: x) { b($0, $1, n) })
            for i in 0..<n {
                expectRelative(y[i], Double(reference[i]), 1e-6, "\(label) \(name(isa)) vs portable at x = \(x[i])", absolute: 1e-7)
            }
        }
    }

    /// oneDNN's OpenMP threads never appear: every product runs on the thread that asks for it
    /// (Attend's pool workers included), so no thread inherits a pool worker's or the caller's name.
    @Test func matrixProductsCreateNoThreadsOfTheirOwn() throws {
        let finished = DispatchSemaphore(value: 0)
        let seen = Mutex<[String]>([])
        let probe = Thread {
            attend_name_current_thread("kernel-probe")
            var generator = PhiloxGenerator(seed: 3)
            let a = Tensor.normal([512, 512], using: &generator), b = Tensor.normal([512, 512], using: &generator)
            for _ in 0..<3 { _ = matmul(a, b).sum().scalars }   // split across the pool
            let q = Tensor.normal([2, 4, 300, 64], using: &generator)
            _ = scaledDotProductAttention(query: q, key: q, value: q).sum().scalars
            // Read while this thread lives: a team made for it would carry its name.
            seen.withLock { $0 = (try? KernelTests.threadNames()) ?? [] }
            finished.signal()
        }
        probe.start()
        finished.wait()
        let names = seen.withLock { $0 }
        #expect(names.filter { $0 == "kernel-probe" }.count == 1, "threads: \(names)")
        let workers = names.filter { $0.hasPrefix("attend-pool-") }
        #expect(Set(workers).count == workers.count, "duplicate worker names: \(workers.sorted())")
        #expect(Parallelism.threadCount == 1 || !workers.isEmpty, "the pool's workers are named")
    }

    private static func threadNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").map {
            try String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}

typealias ArrayKernelFunction = @convention(c) (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
typealias GradientKernelFunction = @convention(c) (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void

private func name(_ isa: attend_isa) -> String { String(cString: attend_isa_name(isa)) }

private func randomFloats(_ count: Int, in range: ClosedRange<Float>, seed: Int) -> [Float] {
    var generator = PhiloxGenerator(seed: UInt64(seed))
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

private func expectRelative(_ actual: Float, _ expected: Double, _ tolerance: Double, _ label: String,
                            absolute: Double = 0, sourceLocation: SourceLocation = #_sourceLocation) {
    if expected.isNaN { #expect(actual.isNaN, "\(label): expected NaN, got \(actual)", sourceLocation: sourceLocation); return }
    if expected.isInfinite { #expect(Double(actual) == expected, "\(label): expected \(expected), got \(actual)", sourceLocation: sourceLocation); return }
    let error = abs(Double(actual) - expected)
    #expect(error <= tolerance * abs(expected) + absolute,
            "\(label): got \(actual), expected \(expected) (error \(error))", sourceLocation: sourceLocation)
}
