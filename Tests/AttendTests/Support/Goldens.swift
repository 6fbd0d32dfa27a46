import Attend
import Foundation
import Testing

/// A tensor as the golden generators write it: shape, row-major data and, for non-contiguous
/// inputs, the permutation the data was stored in.
struct GoldenTensor: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]
    let permutation: [Int]?

    /// The tensor with `shape`; stored permuted, it comes back as a non-contiguous view.
    var tensor: Tensor {
        let values = data.map { Float($0) }
        guard let permutation else { return Tensor(shape: shape, scalars: values) }
        let stored = Tensor(shape: permutation.map { shape[$0] }, scalars: values)
        var inverse = [Int](repeating: 0, count: permutation.count)
        for (position, axis) in permutation.enumerated() { inverse[axis] = position }
        return stored.permuted(inverse)
    }
}

/// Loads a golden file from the test bundle's `Goldens` folder.
func loadGoldens<Value: Decodable>(_ name: String, as type: Value.Type) throws -> Value {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Goldens") else {
        throw GoldenError.missing(name)
    }
    return try JSONDecoder().decode(Value.self, from: Data(contentsOf: url))
}

enum GoldenError: Error { case missing(String) }

/// Checks `actual` against `expected` elementwise: `|a − e| ≤ tolerance · max(|e|, 1)`
/// (relative above 1, absolute below), with matching shapes and matching infinities/NaNs.
func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float, _ context: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(actual.shape == expected.shape, "\(context): shape \(actual.shape) != \(expected.shape)",
            sourceLocation: sourceLocation)
    guard actual.shape == expected.shape else { return }
    let (a, e) = (actual.scalars, expected.scalars)
    var worst: (index: Int, error: Float)? = nil
    for i in a.indices {
        let error: Float
        if e[i].isNaN || a[i].isNaN {
            error = e[i].isNaN && a[i].isNaN ? 0 : .infinity
        } else if e[i].isInfinite || a[i].isInfinite {
            error = a[i] == e[i] ? 0 : .infinity
        } else {
            error = abs(a[i] - e[i]) / max(abs(e[i]), 1)
        }
        if error > tolerance && error > (worst?.error ?? 0) { worst = (i, error) }
    }
    if let worst {
        Issue.record("\(context): element \(worst.index) is \(a[worst.index]), expected \(e[worst.index]) (error \(worst.error) > \(tolerance))",
                     sourceLocation: sourceLocation)
    }
}
