import Attend
import Testing

@Suite("Tensor basics")
struct TensorTests {
    @Test func creation() {
        #expect(Tensor.zeros([2, 2]).scalars == [0, 0, 0, 0])
        #expect(Tensor.full([3], value: 2.5).scalars == [2.5, 2.5, 2.5])
        #expect(Tensor.arange(0, 5, step: 2).scalars == [0, 2, 4])
        #expect(Tensor.arange(1, 0, step: -0.25).scalars == [1, 0.75, 0.5, 0.25])
        #expect(Tensor.eye(3).scalars == [1, 0, 0, 0, 1, 0, 0, 0, 1])
        #expect(Tensor(3).shape == [] && Tensor(3).scalar == 3)
    }

    @Test func philoxMatchesRandom123KnownAnswers() {
        // Known-answer vectors from the Random123 distribution (kat_vectors, philox4x32_10).
        let zero = PhiloxGenerator.block(seed: 0, counter: 0)
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
    }

    @Test func randomTensorsAreReproducible() {
        var a = PhiloxGenerator(seed: 1234), b = PhiloxGenerator(seed: 1234), c = PhiloxGenerator(seed: 1235)
        let x = Tensor.normal([1000], using: &a), y = Tensor.normal([1000], using: &b), z = Tensor.normal([1000], using: &c)
        #expect(x.scalars == y.scalars)
        #expect(x.scalars != z.scalars)
        let mean = x.mean().scalar, deviation = x.variance(alongAxes: [0]).scalar.squareRoot()
        #expect(abs(mean) < 0.1 && abs(deviation - 1) < 0.1)
        let u = Tensor.uniform([1000], in: -2..<3, using: &a).scalars
        #expect(u.allSatisfy { $0 >= -2 && $0 < 3 })
    }

    @Test func copyOnWrite() {
        let a = Tensor([1, 2, 3])
        var b = a
        b.withUnsafeMutableScalars { $0[0] = 10 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
        var view = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4]).transposed()
        view.withUnsafeMutableScalars { $0[1] = 0 }
        #expect(view.scalars == [1, 0, 2, 4])
    }

    @Test func viewsShareNothingVisible() {
        let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        #expect(x.transposed().scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.sliced(axis: 1, 1..<3).scalars == [2, 3, 5, 6])
        #expect(x.selecting(axis: 0, index: 1).scalars == [4, 5, 6])
        #expect(x.transposed().reshaped([6]).scalars == [1, 4, 2, 5, 3, 6])
        #expect(x.unsqueezed(axis: 0).shape == [1, 2, 3])
        #expect(x.reshaped([3, 1, 2]).squeezed().shape == [3, 2])
        #expect(x.expanded(to: [2, 2, 3]).scalars == [1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6])
        let parts = x.split(sizes: [1, 2], axis: 1)
        #expect(parts[0].scalars == [1, 4] && parts[1].scalars == [2, 3, 5, 6])
        #expect(Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1).scalars == [1, 3, 2, 4])
    }

    @Test func argmaxPicksFirstMaximum() {
        let x = Tensor(shape: [2, 3], scalars: [1, 5, 5, 7, 0, 7])
        #expect(x.argmax(alongAxis: 1).scalars == [1, 0])
        #expect(x.argmax(alongAxis: 0, keepingDimensions: true).shape == [1, 3])
    }

    @Test func whereSelects() {
        let c = Tensor([1, 0, 1])
        #expect(Tensor.where(c, Tensor([1, 2, 3]), Tensor(-1)).scalars == [1, -1, 3])
    }

    @Test func emptyTensors() {
        let empty = Tensor.zeros([0, 3])
        #expect(empty.sum().scalar == 0)
        #expect(empty.sum(alongAxes: [0]).scalars == [0, 0, 0])
        #expect(matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars == [0, 0, 0, 0, 0, 0])
        // Strided and broadcast kernels on empty shapes do nothing (no division by a zero run length).
        #expect((Tensor.zeros([2, 0]) + Tensor.zeros([0])).shape == [2, 0])
        #expect(exp(Tensor.zeros([0, 3]).transposed()).shape == [3, 0])
        #expect(Tensor.zeros([0, 3]).transposed().contiguous().shape == [3, 0])
        #expect(Tensor.where(Tensor.zeros([4, 0]), Tensor.zeros([0]), Tensor(1)).shape == [4, 0])
    }

    @Test func scalarOperandsSplitAcrossThreads() {
        // A contiguous tensor against a scalar is one run, cut into pieces for the threads.
        var generator = PhiloxGenerator(seed: 2)
        let x = Tensor.normal([300_001], using: &generator)
        let quotient = x / 4, clamped = maximum(x, Tensor(0))
        let values = x.scalars
        #expect(quotient.scalars == values.map { $0 / 4 })
        #expect(clamped.scalars == values.map { Swift.max($0, 0) })
    }
}
