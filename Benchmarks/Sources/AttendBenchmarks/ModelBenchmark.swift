import ArgumentParser
import Attend
import AttendModels
import AttendNN

/// Forward times of the vision, cross-modal and two-stream models (random weights).
struct ModelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models",
        abstract: "Forward milliseconds of ViT (small and B/16 at batch 8), LXMERT and XLNet (small configs).",
        discussion: "Prints JSON lines with --json (scripts/compare_models_with_pytorch.py reads them).")

    @Option(help: "Threads.") var threads = 2
    @Option(help: "Seconds per measurement.") var budget: Double = 1.0
    @Flag(help: "Print JSON lines.") var json = false

    func run() {
        Parallelism.threadCount = threads
        Initialization.seed(1)
        var generator = PhiloxGenerator(seed: 2)
        var results: [(String, Double)] = []

        let smallViT = VisionTransformer(configuration: VisionTransformerConfiguration(
            imageSize: 16, patchSize: 4, channels: 3, hiddenSize: 32, layerCount: 2, headCount: 4, intermediateSize: 64))
        let smallPixels = Tensor.normal([2, 3, 16, 16], using: &generator)
        results.append(("vit_small", Timing.measure(budget: budget) { consume(smallViT(smallPixels)) }.median))

        let baseViT = VisionTransformer(configuration: VisionTransformerConfiguration())
        let pixels = Tensor.normal([8, 3, 224, 224], using: &generator)
        results.append(("vit_b16_batch8", Timing.measure(budget: budget, minimumRuns: 3) { consume(baseViT(pixels)) }.median))

        let lxmert = LxmertModel(configuration: LxmertConfiguration(
            bert: BertConfiguration(vocabularySize: 50, hiddenSize: 16, layerCount: 2, headCount: 2, intermediateSize: 32,
                                    maxPositionEmbeddings: 20),
            languageLayerCount: 2, crossLayerCount: 2, visionLayerCount: 1, visualFeatureDimension: 12, visualPositionDimension: 4))
        let ids = [[2, 7, 8, 9, 10, 3], [2, 11, 12, 3, 0, 0]]
        let features = Tensor.normal([2, 5, 12], using: &generator), boxes = Tensor.uniform([2, 5, 4], using: &generator)
        results.append(("lxmert_small", Timing.measure(budget: budget) {
            consume(lxmert(ids: ids, textLengths: [6, 4], visualFeatures: features, visualPositions: boxes, regionCounts: [5, 3]).language)
        }.median))

        let xlnet = XLNetLMHeadModel(configuration: XLNetConfiguration(vocabularySize: 40, modelDimension: 16, layerCount: 2,
                                                                        headCount: 2, innerDimension: 32))
        let orders = [[3, 0, 5, 1, 4, 2], [1, 4, 0, 2, 3, 5]]
        let permutation = Tensor.stack(orders.map { PermutationLanguageModeling.permutationMask(order: $0) })
        let mapping = Tensor.stack([[2, 4], [5, 3]].map { PermutationLanguageModeling.targetMapping(positions: $0, length: 6) })
        let xlnetIds = [[5, 9, 13, 17, 21, 25], [4, 8, 12, 16, 20, 0]]
        results.append(("xlnet_small", Timing.measure(budget: budget) {
            consume(xlnet(ids: xlnetIds, attentionMask: [[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0]], permutationMask: permutation,
                          targetMapping: mapping, tokenTypeIds: [[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 1, 1]]).logits)
        }.median))

        for (name, seconds) in results {
            if json {
                print("{\"name\":\"\(name)\",\"ms\":\(seconds * 1e3)}")
            } else {
                print("\(name): \(formatted(seconds * 1e3, 3)) ms")
            }
        }
    }
}
