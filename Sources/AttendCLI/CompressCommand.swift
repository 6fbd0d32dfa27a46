import ArgumentParser
import AttendModels
import Foundation

struct CompressCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compress",
        abstract: "Write a smaller copy of a model folder (int8 weights) that every command loads unchanged.",
        discussion: """
            --int8 quantizes every Linear layer of the encoder — weights int8 per output channel, \
            activations quantized per row at run time (PyTorch's dynamic quantization) — and the \
            embedding tables (int8 per row, scaled back on lookup). --prune-heads F removes the \
            fraction F of all attention heads that matter least to the embeddings of the \
            --calibration texts (one per line; the drift of each text's embedding when a head is \
            removed, Michel et al. 2019's gates), then quantizes if asked. The output \
            folder keeps the tokenizer and settings, and `attend embed/similarity/search/visualize \
            --model OUTPUT` use it as they use the original. docs/compression.md measures what it costs.

            Examples:
              attend compress --int8 --output minilm-int8
              attend compress --prune-heads 0.3 --calibration texts.txt --int8 --output minilm-small
            """)

    @OptionGroup var model: ModelOptions

    @Flag(help: "Quantize the Linear layers and embedding tables to int8.")
    var int8 = false

    @Option(help: ArgumentHelp("Remove this fraction (0..<1) of all attention heads, the least important first.", valueName: "FRACTION"))
    var pruneHeads: Double?

    @Option(help: ArgumentHelp("Texts like the ones the model will embed, one per line: what head importance is measured on.", valueName: "FILE"),
            completion: .file())
    var calibration: String?

    @Option(help: ArgumentHelp("The folder to write (must not exist).", valueName: "DIR"), completion: .directory)
    var output: String

    func validate() throws {
        guard int8 || pruneHeads != nil else { throw ValidationError("nothing to do: pass --int8, --prune-heads FRACTION or both") }
        if let pruneHeads {
            guard pruneHeads >= 0 && pruneHeads < 1 else { throw ValidationError("--prune-heads must be in 0..<1, got \(pruneHeads)") }
            guard calibration != nil else { throw ValidationError("--prune-heads needs --calibration FILE (texts like the ones you will embed)") }
        }
    }

    func run() throws {
        try validateArgumentEncoding()
        let started = Date()
        let texts = try calibration.map(readLines) ?? []
        if calibration != nil && texts.isEmpty { throw CLIError("\(calibration!) holds no texts") }
        let report = try ModelCompression.compress(directory: model.directory, to: output, int8: int8,
                                                   pruneFraction: pruneHeads ?? 0, calibration: texts)
        let megabytes = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("wrote \(output)")
        print("int8 layers: \(report.quantizedModules.count) (Linear and embedding tables)")
        print("heads:       \(report.headsAfter) of \(report.headsBefore)"
              + (report.prunedHeads.isEmpty ? "" : " (removed " + report.prunedHeads.keys.sorted()
                 .map { "layer \($0): \(report.prunedHeads[$0]!)" }.joined(separator: ", ") + ")"))
        print("weights:     \(megabytes(report.bytesBefore)) → \(megabytes(report.bytesAfter)) "
              + String(format: "(%.0f%%)", 100 * Double(report.bytesAfter) / Double(Swift.max(report.bytesBefore, 1))))
        print(String(format: "took        %.1f s", Date().timeIntervalSince(started)))
    }
}
