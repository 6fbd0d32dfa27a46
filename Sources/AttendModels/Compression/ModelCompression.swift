import Attend
import AttendNN
import Foundation

/// Writes compressed copies of BERT-format model folders (what `attend compress` runs).
///
/// The copy keeps every file of the original (tokenizer, pooling, sentence-transformers
/// settings) except the weights, which are rewritten, and adds a `quantization` entry to
/// `config.json`, so the same loaders (`SentenceEmbedder`, `BertModel.load`) read it unchanged.
public enum ModelCompression {
    /// What a compression did.
    public struct Report: Sendable {
        /// The `Linear` and `Embedding` layers now stored as int8, by state-dict path.
        public let quantizedModules: [String]
        /// The heads removed, `[layer: original head indices]`.
        public let prunedHeads: [Int: [Int]]
        /// Attention heads before and after.
        public let headsBefore: Int, headsAfter: Int
        /// Bytes of `model.safetensors` before and after.
        public let bytesBefore: Int, bytesAfter: Int
    }

    /// Weight files the copy does not carry over (they would describe the uncompressed model).
    static let weightFiles: Set<String> = ["model.safetensors", "pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
                                           "rust_model.ot", "model.onnx", "onnx", "openvino"]

    /// Reads the model in `directory` and writes a compressed copy to `output`, which must not
    /// exist yet. The copy is assembled beside `output` and renamed into place, so a failure
    /// never leaves a half-written folder.
    ///
    /// - Parameters:
    ///   - int8: quantize every `Linear` layer (dynamic int8, per output channel) and every
    ///     embedding table (int8 per row, scaled back on lookup).
    ///   - pruneFraction: remove this fraction of all attention heads (0 for none), the least
    ///     important by ``HeadImportance/embeddingDrift(of:texts:batchSize:)`` over
    ///     `calibration` texts, never a layer's last head. Pruning runs before quantization.
    /// - Throws: ``ModelLoadingError`` for an unreadable model, a folder that is already
    ///   quantized, a fraction outside 0..<1, pruning without calibration texts, or an output
    ///   that exists or cannot be written.
    public static func compress(directory: String, to output: String, int8: Bool,
                                pruneFraction: Double = 0, calibration: [String] = []) throws -> Report {
        let fileManager = FileManager.default
        let source = URL(fileURLWithPath: directory).standardizedFileURL
        let destination = URL(fileURLWithPath: output).standardizedFileURL
        guard source.path != destination.path else {
            throw ModelLoadingError(file: output, reason: "the output must differ from the model folder")
        }
        guard !fileManager.fileExists(atPath: destination.path) else {
            throw ModelLoadingError(file: output, reason: "already exists; choose a new folder")
        }
        let configurationPath = source.appendingPathComponent("config.json").path
        let configuration = try BertConfiguration.load(configurationPath)
        guard int8 || pruneFraction > 0 else {
            throw ModelLoadingError(file: output, reason: "nothing to do: ask for int8 weights or pruned heads")
        }
        if int8, configuration.quantization != nil {
            throw ModelLoadingError(file: configurationPath, reason: "the model is already quantized")
        }
        guard (0..<1).contains(pruneFraction) else {
            throw ModelLoadingError(file: output, reason: "the fraction of heads to prune must be in 0..<1, got \(pruneFraction)")
        }
        if pruneFraction > 0 && calibration.isEmpty {
            throw ModelLoadingError(file: output, reason: "pruning heads needs calibration texts (like the ones the model will embed)")
        }
        if pruneFraction > 0 && configuration.quantization != nil {
            throw ModelLoadingError(file: configurationPath, reason: "the model is quantized; prune the float model, then quantize")
        }
        let model: BertModel
        if pruneFraction > 0 {
            let embedder = try SentenceEmbedder(directory: source.path)
            let importance = HeadImportance.embeddingDrift(of: embedder, texts: calibration)
            embedder.model.prune(heads: HeadImportance.headsToPrune(fraction: pruneFraction, importance: importance))
            model = embedder.model
        } else {
            model = try BertModel.load(directory: source.path, configuration: configuration)
        }
        let quantized: [String]
        do {
            quantized = int8 ? try quantizeLinearLayers(of: model, includingEmbeddings: true) : []
        } catch {
            throw ModelLoadingError(file: source.appendingPathComponent("model.safetensors").path, reason: "\(error)")
        }
        let allQuantized = (configuration.quantization?.modules ?? []) + quantized

        // Assemble beside the destination, then rename it into place.
        let staging = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).partial-\(ProcessInfo.processInfo.processIdentifier)")
        try? fileManager.removeItem(at: staging)
        do {
            try fileManager.createDirectory(at: staging, withIntermediateDirectories: true)
            for name in try fileManager.contentsOfDirectory(atPath: source.path)
            where !weightFiles.contains(name) && name != "config.json" && !name.hasPrefix(".") {
                try fileManager.copyItem(at: source.appendingPathComponent(name), to: staging.appendingPathComponent(name))
            }
            // config.json: the original keys, plus which layers are int8.
            guard let data = fileManager.contents(atPath: configurationPath),
                  var json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ModelLoadingError(file: configurationPath, reason: "not a JSON object")
            }
            if !allQuantized.isEmpty {
                json["quantization"] = ["method": QuantizationConfiguration.dynamicInt8, "modules": allQuantized]
            }
            let pruned = model.prunedHeads
            if !pruned.isEmpty {
                json["pruned_heads"] = Dictionary(uniqueKeysWithValues: pruned.map { (String($0.key), $0.value) })
            }
            try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])
                .write(to: staging.appendingPathComponent("config.json"))
            try SafeTensors.write(model.stateDict(), dataTypes: model.stateDictDataTypes(),
                                  to: staging.appendingPathComponent("model.safetensors").path)
            try fileManager.moveItem(at: staging, to: destination)
        } catch let error as ModelLoadingError {
            try? fileManager.removeItem(at: staging)
            throw error
        } catch {
            try? fileManager.removeItem(at: staging)
            throw ModelLoadingError(file: output, reason: "cannot write the compressed model: \(error)")
        }
        func size(_ url: URL) -> Int {
            ((try? fileManager.attributesOfItem(atPath: url.appendingPathComponent("model.safetensors").path))?[.size] as? Int) ?? 0
        }
        let layers = model.encoder.layers
        return Report(quantizedModules: quantized, prunedHeads: model.prunedHeads,
                      headsBefore: layers.count * configuration.headCount,
                      headsAfter: layers.reduce(0) { $0 + $1.attention.headCount },
                      bytesBefore: size(source), bytesAfter: size(destination))
    }
}
