import Attend
import AttendNN
import Foundation

/// Combines what each process computed when a run is data-parallel — AttendDistributed's
/// `DistributedDataParallel` conforms. Every process passes its own gradients and loss and gets
/// back the averages, the same on every process.
public protocol GradientCombiner: AnyObject {
    /// This process's index, `0..<processCount`; process 0 writes logs and checkpoints.
    var rank: Int { get }
    var processCount: Int { get }
    func combine(gradients: [String: Tensor], loss: Float) throws -> (gradients: [String: Tensor], loss: Float)
}

/// How to make a ``GradientCombiner`` for a model (e.g. `DistributedDataParallel` over MPI):
/// what a data-parallel run passes to code that builds its own models, such as the demos.
public struct DataParallelism: Sendable {
    public let makeCombiner: @Sendable (Module) throws -> any GradientCombiner
    public init(_ makeCombiner: @escaping @Sendable (Module) throws -> any GradientCombiner) {
        self.makeCombiner = makeCombiner
    }
}

/// The loop every demo runs: sample a batch from the run's generator, take the gradient of the
/// loss for every parameter, clip, step the optimizer at the scheduled learning rate, and log
/// (progress bar, TensorBoard, CSV), checkpointing into `output` at the end.
///
/// Data-parallel (with a ``GradientCombiner``): each process draws its own batches (process 0
/// the same stream as a single process), the gradients and loss are averaged over the
/// processes before clipping and the step, and only process 0 logs, shows progress and writes
/// the checkpoint. Use ``localBatchSize(_:)`` for each process's share of a global batch.
public final class TrainingLoop<Model: Module> {
    public let model: Model
    public let optimizer: any Optimizer
    public let schedule: LearningRateSchedule
    public let totalSteps: Int
    public let clipNorm: Float?
    public var generator: PhiloxGenerator
    public let output: String?
    public let label: String
    /// Averages gradients and loss over processes in a data-parallel run (nil: one process).
    public let combiner: (any GradientCombiner)?
    private let board: TensorBoardWriter?
    private let csv: CSVLogger?
    private var runningLoss: Float?

    public init(model: Model, optimizer: any Optimizer, schedule: LearningRateSchedule, totalSteps: Int, clipNorm: Float? = 1,
                seed: UInt64, output: String?, label: String, combiner: (any GradientCombiner)? = nil) throws {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.totalSteps = totalSteps
        self.clipNorm = clipNorm
        self.combiner = combiner
        // Each process draws different batches; process 0 the stream a single process would.
        generator = PhiloxGenerator(seed: seed &+ UInt64(combiner?.rank ?? 0) &* 0x9E37_79B9_7F4A_7C15)
        self.output = output
        self.label = label
        let writes = (combiner?.rank ?? 0) == 0
        board = try output.flatMap { writes ? try TensorBoardWriter(directory: $0 + "/logs") : nil }
        csv = try output.flatMap {
            writes ? try CSVLogger(path: $0 + "/metrics.csv", columns: ["step", "loss", "learning_rate", "gradient_norm"]) : nil
        }
    }

    /// True on the process that logs and checkpoints (the only one without data parallelism).
    public var isPrimary: Bool { (combiner?.rank ?? 0) == 0 }

    /// This process's share of a global batch of `size` (at least 1).
    public func localBatchSize(_ size: Int) -> Int {
        Swift.max(1, size / (combiner?.processCount ?? 1))
    }

    /// Runs the remaining steps; `loss` computes a batch's loss with the model (drawing the batch
    /// from the generator it is given). Returns the smoothed final loss.
    @discardableResult
    public func run(showingProgress: Bool = true, _ loss: (Model, inout PhiloxGenerator) -> Tensor) -> Float {
        model.train()
        let progress = showingProgress && isPrimary ? ProgressBar(total: totalSteps, label: label) : nil
        while optimizer.stepCount < totalSteps {
            let step = optimizer.stepCount
            optimizer.learningRate = schedule.learningRate(at: step)
            var generator = self.generator
            var (value, gradients) = valueWithGradient(of: model) { m in loss(m, &generator) }
            self.generator = generator
            if let combiner {
                do {
                    let combined = try combiner.combine(gradients: gradients, loss: value.scalar)
                    (gradients, value) = (combined.gradients, Tensor(combined.loss))
                } catch {
                    // Another process is waiting for this one: end them all (a failing exit aborts the job).
                    FileHandle.standardError.write(Data("process \(combiner.rank): \(error)\n".utf8))
                    exit(1)
                }
            }
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
        guard let output, isPrimary else { return }
        try Checkpoint(step: optimizer.stepCount, generator: generator.snapshot, metadata: ["task": label])
            .save(model: model, optimizer: optimizer, to: output + "/checkpoint")
        for (name, value) in metrics { board?.add(scalar: Float(value), tag: "eval/" + name, step: optimizer.stepCount) }
        board?.flush()
        try writeMetrics(metrics, toFile: output + "/metrics.json")
    }
}
