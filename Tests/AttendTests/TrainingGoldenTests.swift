import Attend
import AttendNN
import AttendTraining
import Testing

struct TrainingGoldens: Decodable {
    struct Optimizers: Decodable {
        let initial: [String: GoldenTensor]
        let gradients: [[String: GoldenTensor]]
        let trajectories: [String: [[String: GoldenTensor]]]
    }
    struct Clipping: Decodable { let gradients: [GoldenTensor]; let maxNorm: Float; let norm: Float; let clipped: [GoldenTensor] }
    struct LossCase: Decodable { let inputs: [GoldenTensor]; let value: GoldenTensor; let gradients: [GoldenTensor]; let cotangent: GoldenTensor? }
    struct Losses: Decodable {
        let targets: [Int]
        let sequenceTargets: [Int]
        let crossEntropyMean, crossEntropySum, crossEntropyNone, crossEntropySmoothing, crossEntropySequence: LossCase
        let binaryCrossEntropy, meanSquaredError, infoNCE: LossCase
    }
    struct TrainingStep: Decodable {
        let before: [String: GoldenTensor]
        let after: [String: GoldenTensor]
        let gradients: [String: GoldenTensor]
        let source: [[Int]]
        let targetIn: [[Int]]
        let targetOut: [Int]
        let loss: Float
    }
    let optimizers: Optimizers
    let schedules: [String: [Float]]
    let clipping: Clipping
    let losses: Losses
    let trainingStep: TrainingStep
}

/// Two parameters named like a Linear layer's, for driving optimizers with given gradients.
final class TwoParameters: Module {
    @Parameter("weight") var weight: Tensor
    @Parameter("bias") var bias: Tensor
    init(weight: Tensor, bias: Tensor) {
        super.init()
        self.weight = weight
        self.bias = bias
    }
}

/// The model of the training-step golden: embeddings, nn.Transformer, an output layer.
final class TinySeq2Seq: Module {
    @Child("source_embedding") var sourceEmbedding: Embedding
    @Child("target_embedding") var targetEmbedding: Embedding
    @Child("transformer") var transformer: Transformer
    @Child("output") var output: Linear
    override init() {
        super.init()
        sourceEmbedding = Embedding(count: 11, dimension: 16)
        targetEmbedding = Embedding(count: 11, dimension: 16)
        transformer = Transformer(modelDimension: 16, headCount: 2, encoderLayerCount: 1, decoderLayerCount: 1,
                                  feedForwardDimension: 32, dropout: 0)
        output = Linear(16, 11)
    }
    func callAsFunction(source: [[Int]], target: [[Int]]) -> Tensor {
        output(transformer(source: sourceEmbedding(source), target: targetEmbedding(target), targetMask: .causal))
    }
}

@Suite("Training against torch.optim and torch.nn.functional")
struct TrainingGoldenTests {
    static let goldens = try! loadGoldens("training", as: TrainingGoldens.self)

    static func optimizer(_ name: String, _ model: Module) -> any Optimizer {
        switch name {
        case "sgd": SGD(model: model, learningRate: 0.1)
        case "sgd_momentum": SGD(model: model, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 0.01)
        case "sgd_nesterov": SGD(model: model, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        case "adam": Adam(model: model, learningRate: 0.01)
        case "adam_amsgrad_decay": Adam(model: model, learningRate: 0.01, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 0.01, amsgrad: true)
        case "adamw": Adam.adamW(model: model, learningRate: 0.01, weightDecay: 0.1)
        default: Adam.adamW(model: model, learningRate: 0.01, weightDecay: 0.1, groups: [ParameterGroup(matching: { $0 == "bias" }, weightDecay: 0)])
        }
    }

    @Test(arguments: ["sgd", "sgd_momentum", "sgd_nesterov", "adam", "adam_amsgrad_decay", "adamw", "adamw_groups"])
    func optimizerMatchesTorchOptim(_ name: String) {
        let o = Self.goldens.optimizers
        let model = TwoParameters(weight: o.initial["weight"]!.tensor, bias: o.initial["bias"]!.tensor)
        let optimizer = Self.optimizer(name, model)
        for (step, gradients) in o.gradients.enumerated() {
            optimizer.step(gradients.mapValues(\.tensor))
            let expected = o.trajectories[name]![step]
            expectClose(model.weight, expected["weight"]!.tensor, tolerance: 1e-6, "\(name) step \(step + 1) weight")
            expectClose(model.bias, expected["bias"]!.tensor, tolerance: 1e-6, "\(name) step \(step + 1) bias")
        }
    }

    @Test func schedulesMatchTorchSchedulers() {
        let schedules: [String: LearningRateSchedule] = [
            "step": .step(base: 0.1, size: 3, gamma: 0.5), "cosine": .cosine(base: 0.1, minimum: 0.01, period: 10),
            "warmupCosine": .warmupCosine(base: 0.1, warmup: 3, total: 10), "warmupLinear": .warmupLinear(base: 0.1, warmup: 3, total: 10),
            "inverseSquareRoot": .inverseSquareRoot(factor: 2, modelDimension: 16, warmup: 4),
        ]
        for (name, expected) in Self.goldens.schedules {
            let schedule = try! #require(schedules[name])
            for (step, rate) in expected.enumerated() {
                #expect(abs(schedule.learningRate(at: step) - rate) <= 1e-6 * max(1, abs(rate)), "\(name) at step \(step)")
            }
        }
    }

    @Test func clippingMatchesClipGradNorm() {
        let c = Self.goldens.clipping
        let (clipped, norm) = clippingGradients(["a": c.gradients[0].tensor, "b": c.gradients[1].tensor], maxNorm: c.maxNorm)
        #expect(abs(norm - c.norm) < 1e-5)
        expectClose(clipped["a"]!, c.clipped[0].tensor, tolerance: 1e-6, "a")
        expectClose(clipped["b"]!, c.clipped[1].tensor, tolerance: 1e-6, "b")
    }

    @Test func lossesMatchTorchFunctional() {
        let l = Self.goldens.losses
        let cases: [(String, TrainingGoldens.LossCase, ([Tensor]) -> Tensor)] = [
            ("cross entropy mean", l.crossEntropyMean, { crossEntropy($0[0], targets: l.targets) }),
            ("cross entropy sum", l.crossEntropySum, { crossEntropy($0[0], targets: l.targets, reduction: .sum) }),
            ("cross entropy none", l.crossEntropyNone, { crossEntropy($0[0], targets: l.targets, reduction: .none) }),
            ("cross entropy smoothing", l.crossEntropySmoothing, { crossEntropy($0[0], targets: l.targets, labelSmoothing: 0.1) }),
            ("cross entropy sequence", l.crossEntropySequence, { crossEntropy($0[0], targets: l.sequenceTargets, labelSmoothing: 0.2) }),
            ("binary cross entropy", l.binaryCrossEntropy, { binaryCrossEntropyWithLogits($0[0], targets: $0[1]) }),
            ("mean squared error", l.meanSquaredError, { meanSquaredError($0[0], targets: $0[1]) }),
            ("InfoNCE", l.infoNCE, { infoNCE(queries: $0[0], keys: $0[1], temperature: 0.5) }),
        ]
        for (name, golden, loss) in cases {
            let inputs = golden.inputs.map(\.tensor)
            expectClose(loss(inputs), golden.value.tensor, tolerance: 1e-5, "\(name) value")
            let gradients = gradient(at: inputs) { x in
                golden.cotangent.map { (loss(x) * $0.tensor).sum() } ?? loss(x)
            }
            for (index, expected) in golden.gradients.enumerated() where index < (name.contains("cross entropy") ? 1 : 2) {
                expectClose(gradients[index], expected.tensor, tolerance: 1e-5, "\(name) gradient \(index)")
            }
        }
        // Every target ignored: 0 with a zero gradient (PyTorch gives NaN).
        let x = Tensor.ones([2, 3])
        #expect(crossEntropy(x, targets: [-100, -100]).scalar == 0)
        #expect(gradient(at: [x]) { crossEntropy($0[0], targets: [-100, -100]) }[0].scalars.allSatisfy { $0 == 0 })
    }

    /// One AdamW step of a small encoder–decoder Transformer: same loss and updated weights as PyTorch.
    @Test func oneTrainingStepMatchesPyTorch() throws {
        let t = Self.goldens.trainingStep
        let model = TinySeq2Seq()
        try model.loadStateDict(t.before.mapValues(\.tensor), strict: true)
        let optimizer = Adam.adamW(model: model, learningRate: 0.01, weightDecay: 0.01)
        let (loss, gradients) = valueWithGradient(of: model) { m in
            crossEntropy(m(source: t.source, target: t.targetIn), targets: t.targetOut, labelSmoothing: 0.1)
        }
        #expect(abs(loss.scalar - t.loss) < 1e-5 * max(1, abs(t.loss)))
        try expectGradientsClose(gradients, t.gradients, tolerance: 1e-5)
        optimizer.step(gradients)
        let state = model.stateDict()
        for (name, expected) in t.after {
            var (actual, target) = (try #require(state[name]), expected.tensor)
            if name.hasSuffix("in_proj_bias") {
                // The key bias cannot change attention (it shifts a query's scores by a constant), so
                // its gradient is rounding noise in both frameworks, which Adam normalizes to ±lr.
                // Its gradient matched above; compare the query and value biases.
                let e = actual.shape[0] / 3
                (actual, target) = (Tensor.concatenate([actual.sliced(axis: 0, 0..<e), actual.sliced(axis: 0, (2 * e)..<(3 * e))]),
                                    Tensor.concatenate([target.sliced(axis: 0, 0..<e), target.sliced(axis: 0, (2 * e)..<(3 * e))]))
            }
            expectClose(actual, target, tolerance: 1e-5, "\(name) after the step")
        }
    }
}
