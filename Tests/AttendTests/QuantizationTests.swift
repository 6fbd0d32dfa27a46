import Attend
import AttendKernels
import AttendNN
import Foundation
import Testing

/// One PyTorch `quantize_dynamic` case from `Goldens/quantization.json`
/// (scripts/goldens/generate_quantization.py).
struct QuantizationCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let weight: GoldenTensor
    let bias: [Double]?
    let input: GoldenTensor
    let int8_weight: [Double]
    let scales: [Double]
    let output: GoldenTensor
    var testDescription: String { name }
}

private struct QuantizationGoldenFile: Decodable { let cases: [QuantizationCase] }
private let quantizationCases = (try? loadGoldens("quantization", as: QuantizationGoldenFile.self).cases) ?? []

@Suite("Int8 quantization against PyTorch's quantize_dynamic")
struct QuantizationTests {
    @Test func goldensAreLoaded() { #expect(quantizationCases.count == 4) }

    /// Weights and scales as PyTorch stores them; the output within one input-quantization step
    /// of PyTorch's (which quantizes the activation per tensor, Attend per row), and equal to
    /// Attend's own formula evaluated exactly.
    @Test(arguments: quantizationCases)
    func matchesPyTorch(_ golden: QuantizationCase) {
        let weight = golden.weight.tensor
        let matrix = try! QuantizedMatrix(quantizing: weight)
        #expect(matrix.values.scalars == golden.int8_weight.map(Float.init), "int8 weights of \(golden.name)")
        #expect(matrix.scales.scalars == golden.scales.map(Float.init), "scales of \(golden.name)")

        let x = golden.input.tensor
        let bias = golden.bias.map { Tensor($0.map(Float.init)) }
        let y = quantizedLinear(x, matrix, bias: bias)
        #expect(y.shape == golden.output.shape)
        let (n, k) = (matrix.outputCount, matrix.inputCount)
        let rows = x.scalarCount / k
        let xs = x.scalars, ys = y.scalars, expected = golden.output.data
        let q = matrix.values.scalars, s = matrix.scales.scalars
        let torchRange = Double(Swift.max(xs.max()!, 0) - Swift.min(xs.min()!, 0))
        for r in 0..<rows {
            let row = xs[(r * k)..<((r + 1) * k)].map { $0 }
            // Attend's per-row quantization, evaluated in exact integer and double arithmetic.
            let (lo, hi) = (Swift.min(row.min()!, 0), Swift.max(row.max()!, 0))
            let scale: Float = hi == lo ? 1 : (hi - lo) / 255
            let inverse = 1 / scale
            let zeroPoint = Int(Swift.min(Swift.max((-lo * inverse).rounded(.toNearestOrEven), 0), 255))
            let quantizedRow = row.map { Int(Swift.min(Swift.max(($0 * inverse).rounded(.toNearestOrEven) + Float(zeroPoint), 0), 255)) }
            for j in 0..<n {
                var accumulator = 0, columnSum = 0
                for i in 0..<k {
                    accumulator += quantizedRow[i] * Int(q[j * k + i])
                    columnSum += Int(q[j * k + i])
                }
                let exact = Double(accumulator - zeroPoint * columnSum) * Double(scale * s[j]) + (golden.bias?[j] ?? 0)
                let actual = Double(ys[r * n + j])
                #expect(abs(actual - exact) <= 1e-5 * Swift.max(1, abs(exact)), "\(golden.name) [\(r), \(j)]: \(actual) vs \(exact)")
                // One step of either side's input quantization, through this channel's weights.
                let weightMass = (0..<k).reduce(0.0) { $0 + abs(Double(q[j * k + $1]) * Double(s[j])) }
                let step = (Double(scale) + torchRange / 127) * weightMass
                #expect(abs(actual - expected[r * n + j]) <= step, "\(golden.name) [\(r), \(j)] vs PyTorch: \(actual) vs \(expected[r * n + j]) (step \(step))")
            }
        }
    }

    /// The three kernel paths give the same bits: quantized rows, packed weights, outputs.
    @Test func everyPathGivesTheSameBits() {
        var generator = PhiloxGenerator(seed: 5)
        for (rows, k, n) in [(1, 1, 1), (3, 17, 19), (5, 64, 100), (13, 384, 1536), (33, 1000, 33)] {
            let x = Tensor.normal([rows, k], using: &generator) * 3
            let w = (Tensor.uniform([n, k], in: -128..<128, using: &generator)).scalars.map { $0.rounded(.down) }
            let bias = Tensor.normal([n], using: &generator).scalars
            let scales = (0..<n).map { _ in Float.random(in: 0.001...0.1, using: &generator) }
            let ldq = (k + 3) / 4 * 4
            var outputs: [[Float]] = [], quantizedRows: [[UInt8]] = []
            for isa in kernelPaths {
                let table = attend_kernels_for(isa)!.pointee
                var q = [UInt8](repeating: 7, count: rows * ldq), rowScales = [Float](repeating: 0, count: rows)
                var zeroPoints = [Int32](repeating: 0, count: rows)
                x.withUnsafeScalars { table.quantize_rows_u8($0.baseAddress!, k, rows, k, &q, ldq, &rowScales, &zeroPoints) }
                let bytes = w.map { Int8($0) }
                var packed = [Int8](repeating: 0, count: attend_packed_weights_size(n, k)), sums = [Int32](repeating: 0, count: n)
                table.pack_weights_s8(bytes, k, n, k, &packed, &sums)
                var y = [Float](repeating: .nan, count: rows * n)
                table.quantized_linear(q, ldq, rowScales, zeroPoints, rows, k, packed, sums, scales, bias, n, &y, n)
                outputs.append(y)
                quantizedRows.append(q)
            }
            for (path, y) in zip(kernelPaths, outputs).dropFirst() {
                #expect(y.map(\.bitPattern) == outputs[0].map(\.bitPattern), "\(rows)×\(k)×\(n) on path \(path.rawValue)")
            }
            #expect(quantizedRows.allSatisfy { $0 == quantizedRows[0] })
        }
    }

    @Test func storedValuesAreChecked() {
        #expect(throws: QuantizationError.notInt8(index: 1, value: 200)) {
            try QuantizedMatrix(values: Tensor(shape: [1, 2], scalars: [1, 200]), scales: Tensor([1]))
        }
        #expect(throws: QuantizationError.invalidScale(channel: 0, value: 0)) {
            try QuantizedMatrix(values: Tensor(shape: [1, 2], scalars: [1, 2]), scales: Tensor([0]))
        }
        #expect(throws: QuantizationError.shapeMismatch(values: [2, 2], scales: [3])) {
            try QuantizedMatrix(values: .zeros([2, 2]), scales: .ones([3]))
        }
        #expect(throws: QuantizationError.nonFinite(index: 3)) {
            try QuantizedMatrix(quantizing: Tensor(shape: [2, 2], scalars: [1, 2, 3, .nan]))
        }
        let layer = Linear(2, 2)
        layer.weight = Tensor(shape: [2, 2], scalars: [1, .infinity, 3, 4])
        #expect(throws: QuantizationError.self) { try quantizeLinearLayers(of: layer) }
        #expect(!layer.isQuantized)
    }

    /// A quantized Linear saves `weight` as I8 beside `weight_scale`, and a fresh layer prepared
    /// for quantized weights loads the file back to the same outputs.
    @Test func quantizedLinearRoundTripsThroughSafetensors() throws {
        let layer = Linear(37, 21)
        var generator = PhiloxGenerator(seed: 9)
        let x = Tensor.normal([4, 37], using: &generator)
        let before = layer(x)
        try layer.quantize()
        let quantized = layer(x)
        #expect(Set(layer.stateDict().keys) == ["weight", "bias", "weight_scale"])
        #expect(layer.stateDictDataTypes() == ["weight": .int8])
        expectClose(quantized, before, tolerance: 0.05, "int8 against float")

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-int8-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SafeTensors.write(layer.stateDict(), dataTypes: layer.stateDictDataTypes(), to: path)
        let file = try SafeTensorsFile(path: path)
        #expect(file.entries["weight"]?.dataType == "I8" && file.entries["weight"]?.range.count == 37 * 21)
        let loaded = Linear(37, 21)
        loaded.prepareForQuantizedWeights()
        try loaded.loadStateDict(file.tensors())
        #expect(loaded(x).scalars == quantized.scalars)
    }

    @Test func int8WritesRejectValuesOutOfRange() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-bad-\(UUID()).safetensors").path
        #expect(throws: SafeTensorsError.self) {
            try SafeTensors.write(["w": Tensor([1, 128])], dataTypes: ["w": .int8], to: path)
        }
        #expect(throws: SafeTensorsError.self) {
            try SafeTensors.write(["w": Tensor([0.5])], dataTypes: ["w": .uint8], to: path)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// Data whose size disagrees with an I8 shape is refused on open.
    @Test func misSizedInt8DataIsRejected() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-short-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let header = Data(#"{"w":{"dtype":"I8","shape":[3,4],"data_offsets":[0,8]}}"#.utf8)
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        data.append(Data(count: 8))
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: SafeTensorsError.self) { try SafeTensorsFile(path: path) }
    }
}
