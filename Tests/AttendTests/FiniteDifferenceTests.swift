import Attend
import Testing

/// Analytic gradients against finite differences on random shapes with size-1 axes,
/// broadcasting and permuted (non-contiguous) inputs.
@Suite("Gradients against finite differences")
struct FiniteDifferenceTests {
    /// A named scalar function of tensors with input shapes that exercise broadcasting.
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let shapes: [[Int]]
        let positive: Bool
        let body: @Sendable ([Tensor]) -> Tensor
        var testDescription: String { name }

        init(_ name: String, _ shapes: [[Int]], positive: Bool = false, _ body: @escaping @Sendable ([Tensor]) -> Tensor) {
            self.name = name
            self.shapes = shapes
            self.positive = positive
            self.body = body
        }
    }

    static let cases: [Case] = [
        Case("broadcast product and quotient", [[3, 1, 4], [2, 1]]) { x in (x[0] * x[1] / (x[1] * x[1] + 2)).sum() },
        Case("softmax weighted", [[2, 5]]) { x in (softmax(x[0] * 2) * Tensor.arange(0, 5)).sum() },
        Case("log softmax along axis 0", [[4, 3]]) { x in (logSoftmax(x[0], axis: 0) * x[0]).sum() },
        Case("matmul of transposed view", [[4, 3], [4, 2]]) { x in tanh(matmul(x[0].transposed(), x[1])).sum() },
        Case("batched matmul broadcast", [[2, 1, 3, 4], [3, 4, 2]]) { x in sigmoid(matmul(x[0], x[1])).sum() },
        Case("layer norm with affine", [[3, 6], [6], [6]]) { x in
            (layerNorm(x[0], weight: x[1], bias: x[2]) * Tensor.arange(0, 6)).sum()
        },
        Case("variance and mean", [[3, 4]]) { x in x[0].variance(alongAxes: [1]).sum() + x[0].mean(alongAxes: [0]).sum() },
        Case("logsumexp over two axes", [[2, 3, 4]]) { x in x[0].logSumExp(alongAxes: [0, 2]).sum() },
        Case("gelu silu relu mix", [[5, 3]]) { x in (gelu(x[0]) * silu(x[0]) + relu(x[0] - 0.3)).sum() },
        Case("log sqrt rsqrt pow", [[4, 3]], positive: true) { x in
            (log(x[0]) + sqrt(x[0]) * rsqrt(x[0] + 1) + pow(x[0], 1.7)).sum()
        },
        Case("concatenate, slice, index select", [[2, 3], [2, 2]]) { x in
            let joined = Tensor.concatenate([x[0], x[1]], axis: 1)
            return (joined.sliced(axis: 1, 1..<4).indexSelect([2, 0, 2], axis: 1) * joined.sliced(axis: 1, 0..<3)).sum()
        },
        Case("permute, reshape, expand", [[2, 3, 4]]) { x in
            let y = x[0].permuted([2, 0, 1]).reshaped([4, 6])
            return (y * y.sum(alongAxes: [0], keepingDimensions: true).expanded(to: [4, 6])).sum()
        },
        Case("fan-out reuses a tensor", [[3, 3]]) { x in
            let y = exp(x[0] * 0.5)
            return (matmul(y, y) + y * x[0]).sum()
        },
        Case("stack and split", [[2, 4], [2, 4]]) { x in
            let parts = Tensor.stack([x[0], x[1]], axis: 0).split(count: 2, axis: 2)
            return (parts[0] * parts[1].sum()).sum()
        },
    ]

    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ testCase: Case) {
        var generator = PhiloxGenerator(seed: 11)
        let inputs = testCase.shapes.map { shape in
            testCase.positive
                ? Tensor.uniform(shape, in: 0.5..<2, using: &generator)
                : Tensor.uniform(shape, in: -1..<1, using: &generator)
        }
        let analytic = gradient(at: inputs, of: testCase.body)
        let numeric = numericalGradients(at: inputs, of: testCase.body)
        for index in inputs.indices {
            // Float32 central differences with h = 1e-2 are good to about 1e-3.
            expectClose(analytic[index], numeric[index], tolerance: 2e-3, "\(testCase.name) input \(index)")
        }
    }

    @Test func gradientsOfPermutedInputsKeepTheirShape() {
        let x = Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]).transposed()   // [2, 3], non-contiguous
        let g = gradient(at: [x]) { x in (x[0] * Tensor([1, 2, 3])).sum() }[0]
        #expect(g.shape == [2, 3])
        #expect(g.scalars == [1, 2, 3, 1, 2, 3])
    }

    @Test func unusedInputGetsZeroGradient() {
        let (value, gradients) = valueWithGradient(at: [Tensor([1, 2]), Tensor([3, 4])]) { x in (x[0] * x[0]).sum() }
        #expect(value.scalar == 5)
        #expect(gradients[0].scalars == [2, 4])
        #expect(gradients[1].scalars == [0, 0])
    }
}
