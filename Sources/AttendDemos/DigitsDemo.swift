import Attend
import AttendNN
import AttendTraining
import AttendVisualization
import Foundation

/// Demo 2: a Vision Transformer classifying the UCI 8×8 handwritten digits (1,797 images,
/// shipped in the package), trained from scratch on 80% and tested on the held-out 20%.
public enum DigitsDemo {
    /// Why the bundled digits could not be read.
    public struct DatasetError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The digits: `[N, 1, 8, 8]` images scaled to 0…1, and labels. Each line of `digits.csv` is
    /// a label 0…9 and 64 pixels 0…16; any other line is an error naming it.
    public static func dataset() throws -> (images: Tensor, labels: [Int]) {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv") else {
            throw DatasetError(description: "digits.csv is missing from the AttendDemos bundle")
        }
        let text = try String(contentsOf: url, encoding: .utf8)
        var pixels: [Float] = [], labels: [Int] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            let values = line.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard values.count == 65, let label = values[0], (0...9).contains(label),
                  values.dropFirst().allSatisfy({ $0.map { (0...16).contains($0) } ?? false }) else {
                throw DatasetError(description: "digits.csv line \(number + 1) is not a label 0…9 and 64 pixels 0…16")
            }
            labels.append(label)
            pixels += values.dropFirst().map { Float($0!) / 16 }
        }
        return (Tensor(shape: [labels.count, 1, 8, 8], scalars: pixels), labels)
    }

    public struct Settings: Sendable {
        public var steps = 1500
        public var batchSize = 64
        public var seed: UInt64 = 1
        /// Data-parallel training (e.g. over MPI): the batch is shared among the processes.
        public var parallelism: DataParallelism?
        public init() {}
    }

    public static let configuration = VisionTransformerConfiguration(
        imageSize: 8, patchSize: 2, channels: 1, hiddenSize: 64, layerCount: 3, headCount: 4, intermediateSize: 128, labelCount: 10)

    /// Trains and returns the test accuracy (and the model, for the attention overlay).
    public static func run(_ settings: Settings, output: String?, showingProgress: Bool = true)
        throws -> (metrics: [String: Double], model: VisionTransformerClassifier, test: (images: Tensor, labels: [Int])) {
        let (images, labels) = try dataset()
        Initialization.seed(settings.seed)
        var split = PhiloxGenerator(seed: settings.seed &+ 2000)
        let order = split.permutation(of: labels.count)
        let testCount = labels.count / 5
        let (testIndices, trainIndices) = (Array(order.prefix(testCount)), Array(order.dropFirst(testCount)))
        let model = VisionTransformerClassifier(configuration: configuration)
        let loop = try DemoTraining.loop(model, weightDecay: 0.05, steps: settings.steps, seed: settings.seed, output: output,
                                         label: "digits", parallelism: settings.parallelism)
        loop.run(showingProgress: showingProgress) { model, generator in
            let batch = (0..<loop.localBatchSize(settings.batchSize)).map { _ in trainIndices[Int(generator.next() % UInt64(trainIndices.count))] }
            let shifted = augment(images.indexSelect(batch), using: &generator)
            return crossEntropy(model(shifted), targets: batch.map { labels[$0] }, labelSmoothing: 0.1)
        }
        let testImages = images.indexSelect(testIndices), testLabels = testIndices.map { labels[$0] }
        let predictions = model(testImages).argmax(alongAxis: 1).scalars.map { Int($0) }
        let accuracy = Double(zip(predictions, testLabels).filter { $0 == $1 }.count) / Double(testLabels.count)
        let metrics = ["test_accuracy": accuracy, "test_images": Double(testLabels.count), "steps": Double(settings.steps)]
        try loop.finish(metrics: metrics)
        if let output, loop.isPrimary { try attentionPicture(model: model, images: testImages, count: 8).write(to: URL(fileURLWithPath: output + "/attention.png")) }
        return (metrics, model, (testImages, testLabels))
    }

    /// A PNG strip of test digits (scaled up), each with the class token's last-layer attention
    /// over its 4 × 4 patches (mean over heads) laid over it.
    public static func attentionPicture(model: VisionTransformerClassifier, images: Tensor, count: Int) -> Data {
        let scale = 16, side = 8 * scale, shown = Swift.min(count, images.shape[0])
        var strip = RGBImage(width: shown * (side + 4) * 2, height: side)
        let pixels = images.scalars
        let attention = model.backbone(images.sliced(axis: 0, 0..<shown), returningAttention: true).attentions.last!
        for n in 0..<shown {
            var digit = RGBImage(width: side, height: side)
            for y in 0..<side {
                for x in 0..<side {
                    let v = UInt8(255 - Swift.min(255, Int(pixels[n * 64 + (y / scale) * 8 + x / scale] * 255)))
                    digit.fill(x: x, y: y, width: 1, height: 1, color: RGB(v, v, v))
                }
            }
            let classRow = attention.selecting(axis: 0, index: n).mean(alongAxes: [0]).selecting(axis: 0, index: 0)   // [1 + 16]
            let weights = Array(classRow.scalars.dropFirst())
            let tinted = Heatmap.overlay(weights, rows: 4, columns: 4, on: digit, opacity: 0.6)
            for (offset, picture) in [(0, digit), (side + 4, tinted)] {
                for y in 0..<side {
                    for x in 0..<side {
                        strip.fill(x: n * (side + 4) * 2 + offset + x, y: y, width: 1, height: 1, color: picture[x, y])
                    }
                }
            }
        }
        return PNG.encode(strip)
    }

    /// Shifts each image by up to one pixel in each direction (zeros enter at the edges).
    static func augment(_ images: Tensor, using generator: inout PhiloxGenerator) -> Tensor {
        let count = images.shape[0]
        let values = images.scalars
        var shifted = [Float](repeating: 0, count: values.count)
        for n in 0..<count {
            let dx = Int(generator.next() % 3) - 1, dy = Int(generator.next() % 3) - 1
            for y in 0..<8 {
                for x in 0..<8 {
                    let (sx, sy) = (x - dx, y - dy)
                    if (0..<8).contains(sx) && (0..<8).contains(sy) { shifted[n * 64 + y * 8 + x] = values[n * 64 + sy * 8 + sx] }
                }
            }
        }
        return Tensor(shape: images.shape, scalars: shifted)
    }
}
