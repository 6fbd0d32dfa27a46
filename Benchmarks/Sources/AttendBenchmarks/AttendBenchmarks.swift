import ArgumentParser

@main
struct AttendBenchmarks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend-benchmarks",
        abstract: "Release-mode benchmarks of Attend's kernels. Build with -c release.",
        subcommands: [PeakBenchmark.self, MatmulBenchmark.self, ElementwiseBenchmark.self, AttentionBenchmark.self, AttentionMemoryBenchmark.self, LayerBenchmark.self, EmbeddingBenchmark.self, ModelBenchmark.self, TrainingBenchmark.self, AllReduceBenchmark.self, LanguageModelBenchmark.self]
    )
}
