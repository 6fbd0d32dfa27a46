import ArgumentParser
import Attend
import AttendDemos
import AttendDistributed
import AttendNN
import AttendTraining
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a demo model and report its result.",
        discussion: """
            Each task writes a checkpoint, TensorBoard logs (--output DIR/logs; view with `tensorboard --logdir DIR/logs`),
            metrics.csv and metrics.json with the final numbers into --output.
            """,
        subcommands: [TranslationTask.self, DigitsTask.self, PermutationTask.self, CrossModalTask.self])

    struct Common: ParsableArguments {
        @Option(help: "Where to write the checkpoint, logs and metrics.json.") var output = "runs/demo"
        @Option(help: "Training steps (default: the task's).") var steps: Int?
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Threads (default: all available).") var threads: Int?

        func validate() throws {
            if let steps, steps <= 0 || steps > 1_000_000 { throw ValidationError("--steps must be in 1...1000000") }
            if let threads, threads <= 0 { throw ValidationError("--threads must be positive") }
        }

        func apply() {
            if let threads { Parallelism.threadCount = threads }
        }

        /// Under `mpirun`: data parallelism for the demo (each rank trains on its share of every
        /// batch) and whether this process prints (rank 0 only).
        func distribution() throws -> (parallelism: DataParallelism?, prints: Bool) {
            let group = try ProcessGroup.world()
            guard group.size > 1 else { return (nil, true) }
            return (.overMPI(group), group.rank == 0)
        }
    }

    struct TranslationTask: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "translation",
            abstract: "Digits → English number words with an encoder–decoder Transformer and beam search (goal: ≥ 98% exact match).")

        @OptionGroup var common: Common

        func run() throws {
            common.apply()
            var settings = TranslationDemo.Settings()
            settings.seed = common.seed
            if let steps = common.steps { settings.steps = steps }
            let (parallelism, prints) = try common.distribution()
            settings.parallelism = parallelism
            let started = Date()
            let (metrics, _) = try TranslationDemo.run(settings, output: common.output)
            guard prints else { return }
            print(String(format: "held-out exact match (beam %d): %.1f%% on %d numbers, %.0f s", settings.beamWidth,
                         100 * metrics["exact_match"]!, Int(metrics["held_out_examples"]!), Date().timeIntervalSince(started)))
            print("wrote \(common.output)/metrics.json, \(common.output)/checkpoint, \(common.output)/logs; try: attend translate --model \(common.output) 4071")
        }
    }
}

extension TrainCommand {
    struct DigitsTask: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "digits",
            abstract: "A Vision Transformer on the UCI 8×8 handwritten digits (goal: ≥ 95% test accuracy).")

        @OptionGroup var common: Common

        func run() throws {
            common.apply()
            var settings = DigitsDemo.Settings()
            settings.seed = common.seed
            if let steps = common.steps { settings.steps = steps }
            let (parallelism, prints) = try common.distribution()
            settings.parallelism = parallelism
            let started = Date()
            let (metrics, _, _) = try DigitsDemo.run(settings, output: common.output)
            guard prints else { return }
            print(String(format: "test accuracy: %.1f%% on %d held-out images, %.0f s", 100 * metrics["test_accuracy"]!,
                         Int(metrics["test_images"]!), Date().timeIntervalSince(started)))
            print("wrote \(common.output)/metrics.json, \(common.output)/checkpoint, \(common.output)/logs")
        }
    }
}

extension TrainCommand {
    struct PermutationTask: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "permutation-lm",
            abstract: "Permutation language modelling with two-stream attention vs a causal LM of the same size.")

        @OptionGroup var common: Common

        func run() throws {
            common.apply()
            var settings = PermutationLanguageModelDemo.Settings()
            settings.seed = common.seed
            if let steps = common.steps { settings.steps = steps }
            let (parallelism, prints) = try common.distribution()
            settings.parallelism = parallelism
            let m = try PermutationLanguageModelDemo.run(settings, output: common.output)
            guard prints else { return }
            print("held-out loss per predicted token (nats; uniform guess \(String(format: "%.3f", m["uniform_token_loss"]!))):")
            print("| model | random factorization orders | left to right |")
            print("|---|---:|---:|")
            for name in ["permutation_lm", "causal_lm"] {
                print(String(format: "| %@ | %.3f | %.3f |", name == "permutation_lm" ? "two-stream permutation LM" : "causal LM",
                             m["\(name)_random_order_loss"]!, m["\(name)_left_to_right_loss"]!))
            }
            print("wrote \(common.output)/metrics.json and per-model checkpoints and logs")
        }
    }
}

extension TrainCommand {
    struct CrossModalTask: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cross-modal",
            abstract: "Caption↔scene retrieval and visual question answering on generated scenes, comparing early, late and hybrid fusion.")

        @OptionGroup var common: Common

        func run() throws {
            common.apply()
            var settings = CrossModalDemo.Settings()
            settings.seed = common.seed
            if let steps = common.steps { (settings.retrievalSteps, settings.questionSteps) = (steps, steps) }
            let (parallelism, prints) = try common.distribution()
            settings.parallelism = parallelism
            let m = try CrossModalDemo.run(settings, output: common.output)
            guard prints else { return }
            print(String(format: "retrieval recall@1 (100 held-out captions vs their 100 scenes): %.1f%%", 100 * m["retrieval_recall_at_1"]!))
            print("question answering on 500 held-out questions:")
            print("| fusion | accuracy |\n|---|---:|")
            for fusion in CrossModalDemo.Fusion.allCases {
                print(String(format: "| %@ | %.1f%% |", fusion.rawValue, 100 * m["qa_accuracy_\(fusion.rawValue)"]!))
            }
            print("wrote \(common.output)/metrics.json and per-model checkpoints and logs")
        }
    }
}

struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Turn numbers into English words with a model trained by `attend train translation`.")

    @Option(help: "The --output folder of `attend train translation`.") var model = "runs/demo"
    @Option(help: "Beam width.") var beamWidth = 4
    @Argument(help: "Numbers from 0 to 9999.") var numbers: [Int]

    func validate() throws {
        guard !numbers.isEmpty, numbers.allSatisfy({ (0...9999).contains($0) }) else {
            throw ValidationError("give numbers from 0 to 9999")
        }
        guard (1...32).contains(beamWidth) else { throw ValidationError("--beam-width must be in 1...32") }
    }

    func run() throws {
        let network = TranslationDemo.makeModel()
        do {
            _ = try Checkpoint.loadModel(from: model + "/checkpoint", into: network)
        } catch {
            throw CLIError("no translation model in \(model): run `attend train translation --output \(model)` first (\(error))")
        }
        network.eval()
        for n in numbers {
            print("\(n) → " + TranslationDemo.translate(n, with: network, beamWidth: beamWidth).joined(separator: " "))
        }
    }
}
