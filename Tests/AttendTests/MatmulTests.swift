import Attend
import Testing

/// Matrix products against a naive triple loop in double precision, on sizes that exercise
/// batch folding, row-block splitting across threads and transposed views.
@Suite("Matrix products")
struct MatmulTests {
    static func naive(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var total: Double = 0
                for p in 0..<k { total += Double(a[i * k + p]) * Double(b[p * n + j]) }
                c[i * n + j] = Float(total)
            }
        }
        return c
    }

    @Test(arguments: [(1, 1, 1), (1, 300, 700), (3, 5, 2), (17, 33, 9), (130, 70, 257), (300, 64, 300)])
    func matchesNaiveProduct(_ size: (Int, Int, Int)) {
        let (m, k, n) = size
        var generator = PhiloxGenerator(seed: UInt64(m * 1000 + n))
        let a = Tensor.uniform([m, k], in: -1..<1, using: &generator)
        let b = Tensor.uniform([k, n], in: -1..<1, using: &generator)
        let expected = Tensor(shape: [m, n], scalars: Self.naive(a.scalars, b.scalars, m: m, k: k, n: n))
        expectClose(matmul(a, b), expected, tolerance: 1e-5, "\(m)×\(k)·\(k)×\(n)")
        // The same product through transposed views (sgemm transpose flags).
        let viaTransposes = matmul(a.transposed().contiguous().transposed(), b.transposed().contiguous().transposed())
        expectClose(viaTransposes, expected, tolerance: 1e-5, "transposed views")
    }

    @Test func batchedProductsMatchPerEntryProducts() {
        var generator = PhiloxGenerator(seed: 5)
        let a = Tensor.uniform([3, 1, 37, 20], in: -1..<1, using: &generator)
        let b = Tensor.uniform([4, 20, 29], in: -1..<1, using: &generator)
        let c = matmul(a, b)
        #expect(c.shape == [3, 4, 37, 29])
        for i in 0..<3 {
            for j in 0..<4 {
                let expected = matmul(a.selecting(axis: 0, index: i).selecting(axis: 0, index: 0), b.selecting(axis: 0, index: j))
                expectClose(c.selecting(axis: 0, index: i).selecting(axis: 0, index: j), expected, tolerance: 1e-6, "entry \(i),\(j)")
            }
        }
    }

    @Test func threadCountDoesNotChangeResults() {
        var generator = PhiloxGenerator(seed: 9)
        let a = Tensor.uniform([3, 200, 150], in: -1..<1, using: &generator)
        let b = Tensor.uniform([150, 170], in: -1..<1, using: &generator)
        let saved = Parallelism.threadCount
        defer { Parallelism.threadCount = saved }
        Parallelism.threadCount = 1
        let serial = matmul(a, b), serialSum = exp(a * 0.1).sum(alongAxes: [1])
        Parallelism.threadCount = 2
        let parallel = matmul(a, b), parallelSum = exp(a * 0.1).sum(alongAxes: [1])
        // Row blocks change sgemm's blocking, so the last bits may differ.
        expectClose(parallel, serial, tolerance: 1e-5, "matmul")
        expectClose(parallelSum, serialSum, tolerance: 1e-6, "reduction")
    }
}
