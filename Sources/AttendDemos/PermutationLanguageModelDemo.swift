import Attend
import AttendModels
import AttendNN
import AttendTraining
import AttendVisualization
import Foundation

/// Demo 3: permutation language modelling with two-stream attention (XLNet) on a small
/// synthetic corpus, against a causal language model of the same size.
///
/// Each sentence is `a b c d e f f e d c b a` over 20 content tokens: a palindrome. The causal
/// model always predicts the second half from the first; the permutation model learns to predict
/// any token from any set of others. Both are evaluated on held-out sentences at predicting the
/// last 6 tokens of (a) random factorization orders and (b) the natural left-to-right order.
public enum PermutationLanguageModelDemo {
    public static let vocabularySize = 24           // 0: padding, 4…23: content tokens
    static let length = 12, predicted = 6

    public struct Settings: Sendable {
        public var steps = 3000
        public var batchSize = 32
        /// Data-parallel training (e.g. over MPI): the batch is shared among the processes.
        public var parallelism: DataParallelism?
        public var seed: UInt64 = 1
        public init() {}
    }

    static func sentence(_ generator: inout PhiloxGenerator) -> [Int] {
        let half = (0..<(length / 2)).map { _ in 4 + Int(generator.next() % 20) }
        return half + half.reversed()
    }

    /// A batch's permutation masks, target maps and labels for the given factorization orders.
    static func batch(_ sentences: [[Int]], orders: [[Int]]) -> (Tensor, Tensor, [Int]) {
        let masks = Tensor.stack(orders.map { PermutationLanguageModeling.permutationMask(order: $0) })
        let targets = orders.map { Array($0.suffix(predicted)) }
        let mapping = Tensor.stack(targets.map { PermutationLanguageModeling.targetMapping(positions: $0, length: length) })
        let labels = zip(sentences, targets).flatMap { sentence, positions in positions.map { sentence[$0] } }
        return (masks, mapping, labels)
    }

    static func makeModel() -> XLNetLMHeadModel {
        XLNetLMHeadModel(configuration: XLNetConfiguration(vocabularySize: vocabularySize, modelDimension: 64, layerCount: 2,
                                                           headCount: 4, innerDimension: 128))
    }

    /// An interactive page with both streams' attention for one sentence and factorization order:
    /// the content stream (each token sees the tokens up to itself in the order) beside the query
    /// stream (each token sees strictly earlier ones).
    public static func attentionPage(model: XLNetLMHeadModel, sentence: [Int], order: [Int]) -> String {
        let (masks, mapping, _) = batch([sentence], orders: [order])
        let output = model(ids: [sentence], permutationMask: masks, targetMapping: mapping, returningAttention: true).output
        let rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        let tokens = sentence.enumerated().map { "t\($0.element - 4)·z\(rank[$0.offset]!)" }
        return AttentionView.html(title: "Two-stream attention, factorization order \(order)", maps: [
            AttentionMap(title: "content stream", queryTokens: tokens, layers: output.attentions.map(\.content)),
            AttentionMap(title: "query stream", queryTokens: tokens, layers: output.attentions.map { $0.query! }),
        ])
    }

    /// Trains both models and returns their held-out losses (mean negative log-likelihood per
    /// predicted token, in nats).
    public static func run(_ settings: Settings, output: String?, showingProgress: Bool = true) throws -> [String: Double] {
        var metrics: [String: Double] = ["steps": Double(settings.steps)]
        var evaluationGenerator = PhiloxGenerator(seed: settings.seed &+ 3000)
        let heldOut = (0..<256).map { _ in sentence(&evaluationGenerator) }
        let randomOrders = heldOut.map { _ in PermutationLanguageModeling.factorizationOrder(length: length, using: &evaluationGenerator) }
        let naturalOrders = heldOut.map { _ in Array(0..<length) }
        var isPrimary = true     // the process that writes files (every process without data parallelism)

        for (name, permuted) in [("permutation_lm", true), ("causal_lm", false)] {
            Initialization.seed(settings.seed)
            let model = makeModel()
            let loop = try DemoTraining.loop(model, weightDecay: 0.01, steps: settings.steps, seed: settings.seed,
                                             output: output.map { $0 + "/" + name }, label: name,
                                             parallelism: settings.parallelism)
            isPrimary = loop.isPrimary
            loop.run(showingProgress: showingProgress) { model, generator in
                let sentences = (0..<loop.localBatchSize(settings.batchSize)).map { _ in sentence(&generator) }
                let orders = sentences.map { _ in
                    permuted ? PermutationLanguageModeling.factorizationOrder(length: length, using: &generator) : Array(0..<length)
                }
                let (masks, mapping, labels) = batch(sentences, orders: orders)
                return crossEntropy(model(ids: sentences, permutationMask: masks, targetMapping: mapping).logits, targets: labels)
            }
            func loss(_ orders: [[Int]]) -> Double {
                let (masks, mapping, labels) = batch(heldOut, orders: orders)
                return Double(crossEntropy(model(ids: heldOut, permutationMask: masks, targetMapping: mapping).logits, targets: labels).scalar)
            }
            let (random, natural) = (loss(randomOrders), loss(naturalOrders))
            if permuted, let output, isPrimary {
                try attentionPage(model: model, sentence: heldOut[0], order: randomOrders[0])
                    .write(toFile: output + "/two-stream-attention.html", atomically: true, encoding: .utf8)
            }
            metrics["\(name)_random_order_loss"] = random
            metrics["\(name)_left_to_right_loss"] = natural
            try loop.finish(metrics: ["random_order_loss": random, "left_to_right_loss": natural])
        }
        // The best any model can do: a content token is uniform over 20 unless its mirror is visible.
        metrics["uniform_token_loss"] = Foundation.log(20)
        if let output, isPrimary { try writeMetrics(metrics, toFile: output + "/metrics.json") }
        return metrics
    }
}
