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
        var state: [String: Tensor] = [:]
        let prefix = file.entries.keys.contains("bert.embeddings.word_embeddings.weight") ? "bert." : ""
        for (name, parameter) in model.namedParameters() {
            guard file.entries[prefix + name] != nil else {
                throw ModelLoadingError(file: weightsPath, reason: "missing tensor '\(prefix + name)' (config.json describes \(configuration.layerCount) layers)")
            }
            let tensor = try file.tensor(named: prefix + name)
            guard tensor.shape == parameter.tensor?.shape else {
                throw ModelLoadingError(file: weightsPath, reason: "tensor '\(prefix + name)' has shape \(tensor.shape), config.json implies \(parameter.tensor?.shape ?? [])")
            }
            state[name] = tensor
        }
        try model.loadStateDict(state, strict: true)
        model.eval()
        return model
    }
}
