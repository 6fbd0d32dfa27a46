import Attend
import AttendNN
import Foundation

/// The loop every demo runs: sample a batch from the run's generator, take the gradient of the
/// loss for every parameter, clip, step the optimizer at the scheduled learning rate, and log
/// (progress bar, TensorBoard, CSV), checkpointing into `output` at the end.
public final class TrainingLoop<Model: Module> {
    public let model: Model
    public let optimizer: any Optimizer
    public let schedule: LearningRateSchedule
    public let totalSteps: Int
    public let clipNorm: Float?
    public var generator: PhiloxGenerator
    public let output: String?
    public let label: String
    private let board: TensorBoardWriter?
    private let csv: CSVLogger?
    private var runningLoss: Float?

    public init(model: Model, optimizer: any Optimizer, schedule: LearningRateSchedule, totalSteps: Int, clipNorm: Float? = 1,
                seed: UInt64, output: String?, label: String) throws {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.totalSteps = totalSteps
        self.clipNorm = clipNorm
        generator = PhiloxGenerator(seed: seed)
        self.output = output
        self.label = label
        board = try output.map { try TensorBoardWriter(directory: $0 + "/logs") }
        csv = try output.map { try CSVLogger(path: $0 + "/metrics.csv", columns: ["step", "loss", "learning_rate", "gradient_norm"]) }
    }

    /// Runs the remaining steps; `loss` computes a batch's loss with the model (drawing the batch
    /// from the generator it is given). Returns the smoothed final loss.
    @discardableResult
    public func run(showingProgress: Bool = true, _ loss: (Model, inout PhiloxGenerator) -> Tensor) -> Float {
        model.train()
        let progress = showingProgress ? ProgressBar(total: totalSteps, label: label) : nil
        while optimizer.stepCount < totalSteps {
            let step = optimizer.stepCount
            optimizer.learningRate = schedule.learningRate(at: step)
            var generator = self.generator
            let (value, gradients) = valueWithGradient(of: model) { m in loss(m, &generator) }
            self.generator = generator
            // Without a clip norm nothing is scaled, but the norm is still logged.
            let (clipped, norm) = clippingGradients(gradients, maxNorm: clipNorm ?? .infinity)
            optimizer.step(clipped)
            runningLoss = runningLoss.map { 0.95 * $0 + 0.05 * value.scalar } ?? value.scalar
            board?.add(scalar: value.scalar, tag: "train/loss", step: step + 1)
            board?.add(scalar: optimizer.learningRate, tag: "train/learning_rate", step: step + 1)
            if (step + 1) % 10 == 0 || step + 1 == totalSteps {
                csv?.log(["step": Double(step + 1), "loss": Double(value.scalar), "learning_rate": Double(optimizer.learningRate),
                          "gradient_norm": Double(norm)])
            }
            progress?.update(step: step + 1, metrics: [("loss", runningLoss!)])
        }
        board?.flush()
        model.eval()
        return runningLoss ?? .nan
    }

    /// Writes a checkpoint and `metrics.json` (plus TensorBoard scalars) into the output folder.
    public func finish(metrics: [String: Double]) throws {
        guard let output else { return }
        try Checkpoint(step: optimizer.stepCount, generator: generator.snapshot, metadata: ["task": label])
            .save(model: model, optimizer: optimizer, to: output + "/checkpoint")
        for (name, value) in metrics { board?.add(scalar: Float(value), tag: "eval/" + name, step: optimizer.stepCount) }
        board?.flush()
        try writeMetrics(metrics, toFile: output + "/metrics.json")
    }
}
