import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs kernels on copies of float arrays that end exactly where an unreadable page begins, so a
/// kernel that reads or writes one element past its count crashes the test instead of passing.
enum GuardedBuffer {
    /// Calls `body` with a copy of `values` (read-write) that ends at a guard page.
    static func withGuardedCopy<Result>(of values: [Float], _ body: (UnsafeMutablePointer<Float>) -> Result) -> Result {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let bytes = values.count * MemoryLayout<Float>.stride
        let dataPages = (bytes + page - 1) / page
        let total = (dataPages + 1) * page
        guard let base = mmap(nil, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              base != MAP_FAILED else { fatalError("mmap of \(total) bytes failed") }
        defer { munmap(base, total) }
        mprotect(base + dataPages * page, page, PROT_NONE)
        let start = (base + dataPages * page - bytes).bindMemory(to: Float.self, capacity: values.count)
        values.withUnsafeBufferPointer { if let source = $0.baseAddress { start.update(from: source, count: values.count) } }
        return body(start)
    }

    /// One input; the output has the input's count.
    static func run(input a: [Float], _ body: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        withGuardedCopy(of: a) { pa in output(count: a.count) { body(pa, $0) } }
    }

    /// Inputs of any counts; the output has the first input's count.
    static func run(input a: [Float], _ b: [Float],
                    _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        withGuardedCopy(of: a) { pa in withGuardedCopy(of: b) { pb in
            output(count: a.count) { body(pa, pb, $0) }
        } }
    }

    static func run(input a: [Float], _ b: [Float], _ c: [Float],
                    _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        withGuardedCopy(of: a) { pa in withGuardedCopy(of: b) { pb in withGuardedCopy(of: c) { pc in
            output(count: a.count) { body(pa, pb, pc, $0) }
        } } }
    }

    static func run(input a: [Float], _ b: [Float], _ c: [Float], _ d: [Float],
                    _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>,
                             UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        withGuardedCopy(of: a) { pa in withGuardedCopy(of: b) { pb in withGuardedCopy(of: c) { pc in withGuardedCopy(of: d) { pd in
            output(count: a.count) { body(pa, pb, pc, pd, $0) }
        } } } }
    }

    private static func output(count: Int, _ body: (UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        withGuardedCopy(of: [Float](repeating: 0, count: count)) { y in
            body(y)
            return Array(UnsafeBufferPointer(start: y, count: count))
        }
    }
}
