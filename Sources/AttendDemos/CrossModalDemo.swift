import Attend
import AttendNN
import AttendTraining
import Foundation

/// Demo 4: cross-modal retrieval and question answering on generated scenes — coloured shapes
/// on a 3 × 3 grid as "images" (one 9-feature patch per cell), captions and questions as text —
/// comparing early, late and hybrid fusion on the same data.
public enum CrossModalDemo {
    static let colors = ["red", "green", "blue", "yellow"]
    static let shapes = ["circle", "square", "triangle"]
    static let rows = ["top", "middle", "bottom"], columns = ["left", "center", "right"]
    public static let words = ["<pad>", "and", "what", "color", "shape", "is", "the", "one", "where", "?"]
        + colors + shapes + rows + columns
    /// Answers: colours, shapes, then the nine cells.
    static let answers = colors + shapes + rows.flatMap { r in columns.map { "\(r) \($0)" } }

    /// Two objects with different colours and different shapes in different cells.
    public struct Scene: Sendable {
        public var objects: [(color: Int, shape: Int, cell: Int)]

        /// `[9, 9]` patch features: one-hot shape (or empty) and one-hot colour (or none) per cell.
        var patches: [Float] {
            var features = [Float](repeating: 0, count: 81)
            for cell in 0..<9 {
                if let object = objects.first(where: { $0.cell == cell }) {
                    features[cell * 9 + object.shape] = 1
                    features[cell * 9 + 4 + object.color] = 1
                } else {
                    features[cell * 9 + 3] = 1
                    features[cell * 9 + 8] = 1
                }
            }
            return features
        }

        var caption: [String] {
            objects.sorted { $0.cell < $1.cell }.enumerated().flatMap { index, object in
                (index > 0 ? ["and"] : []) + [colors[object.color], shapes[object.shape], rows[object.cell / 3], columns[object.cell % 3]]
            }
        }
    }

    static func scene(_ generator: inout PhiloxGenerator) -> Scene {
        let colorOrder = generator.permutation(of: 4)
        let shapeOrder = generator.permutation(of: 3)
        let cells = generator.permutation(of: 9)
        return Scene(objects: (0..<2).map { (colorOrder[$0], shapeOrder[$0], cells[$0]) })
    }

    /// A question about one object of the scene and its answer index.
    static func question(_ scene: Scene, _ generator: inout PhiloxGenerator) -> ([String], Int) {
        let object = scene.objects[Int(generator.next() % 2)]
        switch generator.next() % 3 {
        case 0: return (["what", "color", "is", "the", shapes[object.shape], "?"], object.color)
        case 1: return (["what", "shape", "is", "the", colors[object.color], "one", "?"], 4 + object.shape)
        default: return (["where", "is", "the", colors[object.color], shapes[object.shape], "?"], 7 + object.cell)
        }
    }

    /// Padded word ids and lengths.
    static func ids(_ tokens: [[String]]) -> ([[Int]], [Int]) {
        DemoTraining.pad(tokens.map { $0.map { words.firstIndex(of: $0)! } })
    }

    /// The encoder both modalities use: pre-norm GELU layers, 4 heads, with a final norm.
    static func encoder(dimension: Int, layers: Int) -> TransformerEncoder {
        TransformerEncoder(count: layers, finalNorm: LayerNorm(dimension)) {
            TransformerEncoderLayer(modelDimension: dimension, headCount: 4, feedForwardDimension: 2 * dimension, dropout: 0,
                                    normFirst: true, activation: .gelu)
        }
    }

    /// Token embeddings with learned positions, and a small encoder.
    final class TextEncoder: Module {
        @Child("embedding") var embedding: Embedding
        @Child("positions") var positions: LearnedPositionalEmbedding
        @Child("encoder") var encoder: TransformerEncoder
        init(dimension: Int, layers: Int) {
            super.init()
            embedding = Embedding(count: CrossModalDemo.words.count, dimension: dimension, paddingIndex: 0)
            positions = LearnedPositionalEmbedding(maxLength: 32, dimension: dimension)
            encoder = CrossModalDemo.encoder(dimension: dimension, layers: layers)
        }
        func embed(_ ids: [[Int]]) -> Tensor { positions(embedding(ids)) }
        func callAsFunction(_ ids: [[Int]], lengths: [Int]) -> Tensor { encoder(embed(ids), mask: .keyPadding(validLengths: lengths)) }
    }

    /// Patch features projected, with learned cell positions, and a small encoder.
    final class ImageEncoder: Module {
        @Child("projection") var projection: Linear
        @Child("positions") var positions: LearnedPositionalEmbedding
        @Child("encoder") var encoder: TransformerEncoder
        init(dimension: Int, layers: Int) {
            super.init()
            projection = Linear(9, dimension)
            positions = LearnedPositionalEmbedding(maxLength: 9, dimension: dimension)
            encoder = CrossModalDemo.encoder(dimension: dimension, layers: layers)
        }
        func embed(_ patches: Tensor) -> Tensor { positions(projection(patches)) }
        func callAsFunction(_ patches: Tensor) -> Tensor { encoder(embed(patches)) }
    }

    /// Two encoders trained with InfoNCE so that captions find their scenes.
    final class RetrievalModel: Module {
        @Child("text") var text: TextEncoder
        @Child("image") var image: ImageEncoder
        override init() {
            super.init()
            text = TextEncoder(dimension: 64, layers: 2)
            image = ImageEncoder(dimension: 64, layers: 2)
        }
        func embeddings(captions: [[String]], scenes: [Scene]) -> (Tensor, Tensor) {
            let (ids, lengths) = CrossModalDemo.ids(captions)
            let t = HybridFusion.meanPool(text(ids, lengths: lengths), lengths: lengths)
            let v = image(Tensor(shape: [scenes.count, 9, 9], scalars: scenes.flatMap(\.patches))).mean(alongAxes: [1])
            return (normalizedRows(t), normalizedRows(v))
        }
    }

    /// How a question-answering model brings the modalities together.
    public enum Fusion: String, CaseIterable, Sendable { case early, late, hybrid }

    final class QuestionAnsweringModel: Module {
        let fusion: Fusion
        @Child("text") var text: TextEncoder
        @Child("image") var image: ImageEncoder
        @Child("joint") var joint: TransformerEncoder?
        @Child("type_embedding") var typeEmbedding: Embedding?
        @Child("head") var head: Linear?
        @Child("late") var late: LateFusion?
        @Child("text_head") var textHead: Linear?
        @Child("image_head") var imageHead: Linear?
        @Child("hybrid") var hybrid: HybridFusion?

        init(_ fusion: Fusion) {
            self.fusion = fusion
            super.init()
            let d = 64
            text = TextEncoder(dimension: d, layers: fusion == .late ? 2 : 0)
            image = ImageEncoder(dimension: d, layers: fusion == .late ? 2 : 0)
            switch fusion {
            case .early:
                // Early: one sequence of text tokens and image patches, one encoder over both.
                typeEmbedding = Embedding(count: 2, dimension: d)
                joint = CrossModalDemo.encoder(dimension: d, layers: 3)
                head = Linear(d, CrossModalDemo.answers.count)
            case .late:
                // Late: each modality answers alone; a learned gate combines the answers.
                textHead = Linear(d, CrossModalDemo.answers.count)
                imageHead = Linear(d, CrossModalDemo.answers.count)
                late = LateFusion(modalityCount: 2, rule: .learnedGate(featureDimensions: [d, d]))
            case .hybrid:
                // Hybrid: per-modality layers with co-attention after each, then a late head.
                hybrid = HybridFusion(dimension: d, headCount: 4, layerCount: 2, coAttentionLayers: [0, 1],
                                      classCount: CrossModalDemo.answers.count, rule: .learnedGate(featureDimensions: [d, d]))
            }
        }

        func callAsFunction(questions: [[String]], scenes: [Scene]) -> Tensor {
            let (ids, lengths) = CrossModalDemo.ids(questions)
            let patches = Tensor(shape: [scenes.count, 9, 9], scalars: scenes.flatMap(\.patches))
            switch fusion {
            case .early:
                // Patches first, then the words: each row's padding comes last, so one key-padding
                // length masks it in attention and keeps it out of the mean.
                let t = text.embed(ids) + typeEmbedding!([0]).reshaped([1, 1, -1])
                let v = image.embed(patches) + typeEmbedding!([1]).reshaped([1, 1, -1])
                let valid = lengths.map { $0 + 9 }
                let joined = joint!(Tensor.concatenate([v, t], axis: 1), mask: .keyPadding(validLengths: valid))
                return head!(HybridFusion.meanPool(joined, lengths: valid))
            case .late:
                let pooledText = HybridFusion.meanPool(text(ids, lengths: lengths), lengths: lengths)
                let pooledImage = image(patches).mean(alongAxes: [1])
                return late!(predictions: [textHead!(pooledText), imageHead!(pooledImage)], features: [pooledText, pooledImage])
            case .hybrid:
                return hybrid!(text: text.embed(ids), image: image.embed(patches), textLengths: lengths)
            }
        }
    }

    public struct Settings: Sendable {
        public var retrievalSteps = 3000
        public var questionSteps = 2500
        public var batchSize = 64
        public var seed: UInt64 = 1
        /// Data-parallel training (e.g. over MPI): each batch is shared among the processes (for
        /// retrieval, each process's InfoNCE then contrasts against its own share of negatives).
        public var parallelism: DataParallelism?
        public init() {}
    }

    /// Trains the retrieval model and one question-answering model per fusion; returns recall@1
    /// (each of 100 held-out captions against the 100 scenes) and answer accuracy per fusion.
    public static func run(_ settings: Settings, fusions: [Fusion] = Fusion.allCases, output: String?,
                           showingProgress: Bool = true) throws -> [String: Double] {
        var heldOut = PhiloxGenerator(seed: settings.seed &+ 4000)
        let testScenes = (0..<500).map { _ in scene(&heldOut) }
        let testQuestions = testScenes.map { question($0, &heldOut) }
        var metrics: [String: Double] = [:]

        Initialization.seed(settings.seed)
        let retrieval = RetrievalModel()
        let retrievalLoop = try DemoTraining.loop(retrieval, weightDecay: 0.01, steps: settings.retrievalSteps, seed: settings.seed,
                                                  output: output.map { $0 + "/retrieval" }, label: "retrieval",
                                                  parallelism: settings.parallelism)
        retrievalLoop.run(showingProgress: showingProgress) { model, generator in
            let scenes = (0..<retrievalLoop.localBatchSize(settings.batchSize)).map { _ in scene(&generator) }
            let (t, v) = model.embeddings(captions: scenes.map(\.caption), scenes: scenes)
            return infoNCE(queries: t, keys: v, temperature: 0.1)
        }
        let pool = Array(testScenes.prefix(100))
        let (t, v) = retrieval.embeddings(captions: pool.map(\.caption), scenes: pool)
        let best = matmul(t, v.transposed()).argmax(alongAxis: 1).scalars.map { Int($0) }
        metrics["retrieval_recall_at_1"] = Double(best.enumerated().filter { $0.offset == $0.element }.count) / Double(pool.count)
        try retrievalLoop.finish(metrics: ["recall_at_1": metrics["retrieval_recall_at_1"]!])

        for fusion in fusions {
            Initialization.seed(settings.seed)
            let model = QuestionAnsweringModel(fusion)
            let loop = try DemoTraining.loop(model, weightDecay: 0.01, steps: settings.questionSteps, seed: settings.seed,
                                             output: output.map { $0 + "/qa-" + fusion.rawValue }, label: "qa-\(fusion.rawValue)",
                                             parallelism: settings.parallelism)
            loop.run(showingProgress: showingProgress) { model, generator in
                let scenes = (0..<loop.localBatchSize(settings.batchSize)).map { _ in scene(&generator) }
                let qa = scenes.map { question($0, &generator) }
                return crossEntropy(model(questions: qa.map(\.0), scenes: scenes), targets: qa.map(\.1))
            }
            let predictions = model(questions: testQuestions.map(\.0), scenes: testScenes).argmax(alongAxis: 1).scalars.map { Int($0) }
            let accuracy = Double(zip(predictions, testQuestions.map(\.1)).filter { $0 == $1 }.count) / Double(testQuestions.count)
            metrics["qa_accuracy_\(fusion.rawValue)"] = accuracy
            try loop.finish(metrics: ["accuracy": accuracy])
        }
        if let output, retrievalLoop.isPrimary { try writeMetrics(metrics, toFile: output + "/metrics.json") }
        return metrics
    }
}
