import Attend
import AttendNN
import AttendTraining
import Foundation
import Testing

@Suite("Checkpoints and logs")
struct TrainingInfrastructureTests {
    static func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("attend-train-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A small model with dropout, trained on random batches drawn from the run's generator.
    final class Run {
        let model: TransformerEncoderLayer
        let optimizer: Adam
        var generator: PhiloxGenerator
        let schedule = LearningRateSchedule.warmupCosine(base: 0.01, warmup: 3, total: 10)

        init() {
            Initialization.seed(91)
            model = TransformerEncoderLayer(modelDimension: 8, headCount: 2, feedForwardDimension: 16, dropout: 0.2, normFirst: true)
            optimizer = Adam.adamW(model: model, learningRate: 0.01, groups: [.noDecayOnBiasesAndNorms])
            generator = PhiloxGenerator(seed: 92)
        }

        func train(steps: Int) {
            for _ in 0..<steps {
                optimizer.learningRate = schedule.learningRate(at: optimizer.stepCount)
                let x = Tensor.normal([2, 5, 8], using: &generator)
                let (_, gradients) = valueWithGradient(of: model) { m in (m(x) * x).mean() }
                optimizer.step(clippingGradients(gradients, maxNorm: 1).gradients)
            }
        }
    }

    @Test func resumingContinuesTheRunBitForBit() throws {
        let straight = Run()
        straight.train(steps: 8)

        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = Run()
        first.train(steps: 5)
        try Checkpoint(step: first.optimizer.stepCount, generator: first.generator.snapshot, metadata: ["note": "five steps"])
            .save(model: first.model, optimizer: first.optimizer, to: directory)

        let resumed = Run()                                   // fresh weights, fresh optimizer
        let record = try Checkpoint.load(from: directory, model: resumed.model, optimizer: resumed.optimizer)
        resumed.generator = PhiloxGenerator(snapshot: record.generator)
        #expect(record.step == 5 && record.metadata["note"] == "five steps")
        resumed.train(steps: 3)
        for ((name, a), (_, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            #expect(a.tensor!.scalars == b.tensor!.scalars, "\(name) differs after resuming")
        }
        // The JSON beside the tensors is readable on its own.
        let json = try String(contentsOfFile: directory + "/checkpoint.json", encoding: .utf8)
        #expect(json.contains("\"step\" : 5"))
    }

    @Test func optimizerStateThatDoesNotFitIsRejected() throws {
        let run = Run()
        run.train(steps: 1)
        var state = run.optimizer.stateTensors()
        let fresh = Run().optimizer
        try fresh.loadState(state, stepCount: 1)                          // fits
        state["linear1.weight.exp_avg"] = Tensor.zeros([1])                    // would broadcast silently
        #expect(throws: OptimizerStateError.self) { try fresh.loadState(state, stepCount: 1) }
        state = run.optimizer.stateTensors()
        state["linear1.weight.exp_avg_sq"] = nil                               // half a moment pair
        #expect(throws: OptimizerStateError.self) { try fresh.loadState(state, stepCount: 1) }
        let momentum = SGD(model: run.model, learningRate: 0.1, momentum: 0.9)
        #expect(throws: OptimizerStateError.self, "Adam's moments are no SGD momentum buffers") {
            try momentum.loadState(run.optimizer.stateTensors(), stepCount: 1)
        }
    }

    @Test func repeatedSavesLeaveOnlyTheLatestCheckpoint() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = Run()
        for step in 1...3 {
            run.train(steps: 1)
            try Checkpoint(step: step, generator: run.generator.snapshot).save(model: run.model, optimizer: run.optimizer, to: directory)
        }
        // Only the two checkpoint files remain: no temporary files left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == ["checkpoint.json", "checkpoint.safetensors"])
        #expect(try Checkpoint.load(from: directory, model: Run().model, optimizer: Run().optimizer).step == 3)
    }

    @Test func crc32cKnownAnswer() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    }

    static let python = TestPython.interpreter(importing: "tensorboard")
    static let tensorboardRequired = TestPython.isRequired("ATTEND_REQUIRE_TENSORBOARD")

    /// The event file opens with TensorBoard's own reader (`scripts/read_tensorboard_events.py`).
    @Test(.enabled(if: python != nil || tensorboardRequired))
    func eventFilesAreReadableByTensorBoard() throws {
        let python = try #require(Self.python, "ATTEND_REQUIRE_TENSORBOARD=1 but no Python with tensorboard (set ATTEND_TEST_PYTHON)")
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try TensorBoardWriter(directory: directory)
        for step in 0..<5 {
            writer.add(scalar: 1 / Float(step + 1), tag: "train/loss", step: step)
            writer.add(scalar: Float(step) * 0.1, tag: "train/learning_rate", step: step)
        }
        writer.flush()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/read_tensorboard_events.py").path
        let (status, data) = try TestPython.run(python, [script, writer.path])
        #expect(status == 0)
        struct Scalar: Decodable { let step: Int; let tag: String; let value: Float; let version: String }
        let scalars = try JSONDecoder().decode([Scalar].self, from: data)
        #expect(scalars.contains { $0.version == "brain.Event:2" })
        let losses = scalars.filter { $0.tag == "train/loss" }
        #expect(losses.map(\.step) == [0, 1, 2, 3, 4])
        #expect(zip(losses.map(\.value), (0..<5).map { 1 / Float($0 + 1) }).allSatisfy { abs($0 - $1) < 1e-7 })
        #expect(scalars.filter { $0.tag == "train/learning_rate" }.count == 5)
    }

    @Test func csvLogsHaveAHeaderAndRows() throws {
        let directory = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let logger = try CSVLogger(path: directory + "/metrics.csv", columns: ["step", "loss"])
        logger.log(["step": 1, "loss": 0.5])
        logger.log(["step": 2])
        #expect(try String(contentsOfFile: directory + "/metrics.csv", encoding: .utf8) == "step,loss\n1.0,0.5\n2.0,\n")
    }
}
