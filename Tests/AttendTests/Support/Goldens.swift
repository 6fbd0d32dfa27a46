import Attend
import Foundation
import Testing

/// A tensor as the golden generators write it: shape, row-major data and, for non-contiguous
/// inputs, the permutation the data was stored in.
struct GoldenTensor: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]
    let permutation: [Int]?

    private enum CodingKeys: String, CodingKey { case shape, data, permutation }

    /// A number, or one of the strings "inf", "-inf", "nan" (JSON has no literal for them).
    private enum Scalar: Decodable {
        case number(Double)
        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) {
                self = .number(number)
                return
            }
            switch try container.decode(String.self) {
            case "inf": self = .number(.infinity)
            case "-inf": self = .number(-.infinity)
            default: self = .number(.nan)
            }
        }
        var value: Double { if case .number(let v) = self { v } else { .nan } }
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        shape = try container.decode([Int].self, forKey: .shape)
        data = try container.decode([Scalar].self, forKey: .data).map(\.value)
        permutation = try container.decodeIfPresent([Int].self, forKey: .permutation)
    }

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

/// The committed tiny random BERT folder (`Goldens/tiny-bert`), which every model-loading test can use.
let tinyBertDirectory = Bundle.module.url(forResource: "tiny-bert", withExtension: nil, subdirectory: "Goldens")!.path

/// Checks `actual` against `expected` elementwise: `|a − e| ≤ tolerance · max(|e|, floor)`
/// (relative above `floor`, absolute below), with matching shapes and matching infinities/NaNs.
/// `floor` is 1 unless given; pass the tensor's largest magnitude to measure errors against
/// the scale of the whole tensor (inputs whose float32 rounding is itself that large).
func expectClose(
    _ actual: Tensor, _ expected: Tensor, tolerance: Float, _ context: String = "",
    floor: Float = 1, sourceLocation: SourceLocation = #_sourceLocation
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
            error = abs(a[i] - e[i]) / max(abs(e[i]), floor)
        }
        if error > tolerance && error > (worst?.error ?? 0) { worst = (i, error) }
    }
    if let worst {
        Issue.record("\(context): element \(worst.index) is \(a[worst.index]), expected \(e[worst.index]) (error \(worst.error) > \(tolerance))",
                     sourceLocation: sourceLocation)
    }
}

/// ``expectClose(_:_:tolerance:_:floor:sourceLocation:)`` for each layer, after requiring as many
/// layers as expected: a short or empty result fails instead of crashing or passing vacuously.
func expectLayersClose(
    _ actual: [Tensor], _ expected: [GoldenTensor], tolerance: Float, _ context: String,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try #require(!expected.isEmpty && actual.count == expected.count,
                 "\(context): \(actual.count) layers, expected \(expected.count)", sourceLocation: sourceLocation)
    for (layer, (a, e)) in zip(actual, expected).enumerated() {
        expectClose(a, e.tensor, tolerance: tolerance, "\(context) \(layer)", sourceLocation: sourceLocation)
    }
}

/// Every expected gradient, by parameter name, after requiring that there are some and that
/// each has an actual counterpart.
func expectGradientsClose(
    _ actual: [String: Tensor], _ expected: [String: GoldenTensor], tolerance: Float,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    try #require(!expected.isEmpty, "no expected gradients", sourceLocation: sourceLocation)
    for (name, golden) in expected.sorted(by: { $0.key < $1.key }) {
        let gradient = try #require(actual[name], "no gradient for \(name)", sourceLocation: sourceLocation)
        expectClose(gradient, golden.tensor, tolerance: tolerance, "d\(name)", sourceLocation: sourceLocation)
    }
}
