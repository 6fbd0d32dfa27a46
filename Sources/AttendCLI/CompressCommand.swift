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
            embedding tables (int8 per row, scaled back on lookup). The output \
            folder keeps the tokenizer and settings, and `attend embed/similarity/search/visualize \
            --model OUTPUT` use it as they use the original. docs/compression.md measures what it costs.

            Example: attend compress --int8 --output minilm-int8
            """)

    @OptionGroup var model: ModelOptions

    @Flag(help: "Quantize the Linear layers to int8.")
    var int8 = false

    @Option(help: ArgumentHelp("The folder to write (must not exist).", valueName: "DIR"), completion: .directory)
    var output: String

    func validate() throws {
        guard int8 else { throw ValidationError("nothing to do: pass --int8") }
    }

    func run() throws {
        try validateArgumentEncoding()
        let started = Date()
        let report = try ModelCompression.compress(directory: model.directory, to: output, int8: int8)
        let megabytes = { (bytes: Int) in String(format: "%.1f MB", Double(bytes) / 1e6) }
        print("wrote \(output)")
        print("int8 layers: \(report.quantizedModules.count) (Linear and embedding tables)")
        print("weights:     \(megabytes(report.bytesBefore)) → \(megabytes(report.bytesAfter)) "
              + String(format: "(%.0f%%)", 100 * Double(report.bytesAfter) / Double(Swift.max(report.bytesBefore, 1))))
        print(String(format: "took        %.1f s", Date().timeIntervalSince(started)))
    }
}
