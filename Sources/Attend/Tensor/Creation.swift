import Foundation

extension Tensor {
    /// A tensor of `shape` with every element equal to `value`.
    public static func full(_ shape: [Int], value: Float) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative axis")
        let result = Tensor(uninitializedShape: shape)
        let base = result.storage.base
        Parallelism.forEachChunk(of: result.scalarCount, minimumChunk: 1 << 16) { range in
            (base + range.lowerBound).initialize(repeating: value, count: range.count)
        }
        return result
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { full(shape, value: 0) }

    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { full(shape, value: 1) }

    /// Zeros shaped like `other`.
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

    /// `[start, start + step, …]` up to but excluding `end`, like `torch.arange`.
    public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
        precondition(step != 0 && step.isFinite, "arange needs a finite non-zero step, got \(step)")
        let count = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<count).map { start + Float($0) * step })
    }

    /// The `n × n` identity matrix.
    public static func eye(_ n: Int) -> Tensor {
        var result = zeros([n, n])
        result.withUnsafeMutableScalars { scalars in
            for i in 0..<n { scalars[i * n + i] = 1 }
        }
        return result
    }

    /// Elements drawn uniformly from `[lowerBound, upperBound)`.
    public static func uniform<Generator: RandomNumberGenerator>(
        _ shape: [Int], in range: Range<Float> = 0..<1, using generator: inout Generator
    ) -> Tensor {
        let width = range.upperBound - range.lowerBound
        let values = (0..<shape.reduce(1, *)).map { _ in
            range.lowerBound + width * generator.nextUnitFloat()
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// Elements drawn from a normal distribution (Box–Muller on the generator's uniforms).
    public static func normal<Generator: RandomNumberGenerator>(
        _ shape: [Int], mean: Float = 0, standardDeviation: Float = 1, using generator: inout Generator
    ) -> Tensor {
        let count = shape.reduce(1, *)
        var values = [Float]()
        values.reserveCapacity(count + 1)
        while values.count < count {
            // u1 in (0, 1] so the logarithm is finite.
            let u1 = (Double(generator.next() >> 11) + 1) * 0x1p-53
            let u2 = Double(generator.next() >> 11) * 0x1p-53
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            values.append(mean + standardDeviation * Float(radius * Foundation.cos(2 * Double.pi * u2)))
            values.append(mean + standardDeviation * Float(radius * Foundation.sin(2 * Double.pi * u2)))
        }
        return Tensor(shape: shape, scalars: Array(values.prefix(count)))
    }
}
