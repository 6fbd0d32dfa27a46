import Attend
import AttendNN
import Foundation

extension BertModel {
    /// Loads a Hugging Face BERT-format folder: `config.json` and `model.safetensors`.
    ///
    /// Checkpoint keys may carry a `bert.` prefix (as saved by task models); heads and buffers
    /// the encoder doesn't use (`pooler.*`, `cls.*`, `embeddings.position_ids`) are ignored.
    /// A missing or mis-shaped weight throws an error naming the file and the tensor.
    /// - Parameter configuration: the folder's `config.json`, when the caller has read it already.
    public static func load(directory: String, configuration: BertConfiguration? = nil) throws -> BertModel {
        let configuration = try configuration ?? BertConfiguration.load(directory + "/config.json")
        let weightsPath = directory + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw ModelLoadingError(file: weightsPath, reason: "missing (only safetensors weights are supported)")
        }
        let file = try SafeTensorsFile(path: weightsPath)
        let model = Initialization.skipping { BertModel(configuration: configuration) }
        model.prune(heads: configuration.prunedHeads.mapValues(Set.init))
        try configuration.quantization?.prepare(model, file: directory + "/config.json")
        let prefix = file.entries.keys.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        try model.loadParameters(from: file, prefix: prefix, expectation: "config.json describes \(configuration.layerCount) layers")
        model.eval()
        return model
    }
}
