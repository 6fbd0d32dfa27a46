import ArgumentParser
import Attend

@main
struct AttendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attend",
        abstract: "Attention mechanisms and Transformers in Swift, fast on the CPU.",
        discussion: """
            Attend trains and runs attention models in Swift, with oneDNN's matrix products and its own
            AVX-512 / AVX2 / portable kernels chosen at run time (ATTEND_ISA forces a lower path).
            Set ATTEND_NUM_THREADS (or --threads where offered) to choose how many cores it uses.
            """,
        version: AttendInfo.version,
        subcommands: [InfoCommand.self, DemoCommand.self, ModelCommand.self, EmbedCommand.self, TokenizeCommand.self,
                      SimilarityCommand.self, SearchCommand.self, VisualizeCommand.self, TrainCommand.self,
                      TranslateCommand.self, CompressCommand.self, GenerateCommand.self, ChatCommand.self, ExplainCommand.self,
                      ServeCommand.self]
    )
}
