import Attend
import AttendNN
import Foundation

extension LlamaModel {
    /// GGUF tensor names → Hugging Face names (the module's): llama.cpp's converter renames
    /// `model.layers.N.self_attn.q_proj.weight` to `blk.N.attn_q.weight`, and so on.
    static let ggufNames: [(gguf: String, huggingFace: String)] = [
        ("attn_norm", "input_layernorm"), ("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"),
        ("attn_v", "self_attn.v_proj"), ("attn_output", "self_attn.o_proj"), ("ffn_norm", "post_attention_layernorm"),
        ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"), ("ffn_down", "mlp.down_proj"),
    ]

    /// The GGUF name of a module's parameter `name` (without `.weight`), e.g.
    /// `model.layers.3.mlp.up_proj` → `blk.3.ffn_up`.
    static func ggufName(of name: String) -> String {
        switch name {
        case "model.embed_tokens": return "token_embd"
        case "model.norm": return "output_norm"
        case "lm_head": return "output"
        default:
            let parts = name.split(separator: ".", maxSplits: 3).map(String.init)     // model, layers, N, rest
            guard parts.count == 4, let rest = ggufNames.first(where: { $0.huggingFace == parts[3] })?.gguf else { return name }
            return "blk.\(parts[2]).\(rest)"
        }
    }

    /// Loads a Llama-family GGUF file. Q4_0, Q4_1 and Q8_0 matrices stay quantized in memory
    /// (``BlockQuantizedLinear``, reading the mapped file); F32/F16/BF16 ones become ``Linear``.
    /// The q/k rows are used as the file stores them (permuted for adjacent-pair RoPE), so the
    /// model rotates adjacent pairs.
    ///
    /// With `dequantizing`, every matrix is expanded to Float32 instead (``Linear``/``Embedding``,
    /// four to eight times the memory): products with unquantized activations, the exact math of the
    /// file's weights — the reference the quantized path is measured against, and a starting point
    /// for fine-tuning.
    ///
    /// - Throws: ``GGUFError`` or ``ModelLoadingError`` naming the file and the tensor at fault.
    public static func load(gguf file: GGUFFile, dequantizing: Bool = false) throws -> LlamaModel {
        let configuration = try LlamaConfiguration(gguf: file)
        func matrix(_ name: String, rows: Int, columns: Int) throws -> GGUFFile.TensorInfo {
            let info = try file.info(named: ggufName(of: name) + ".weight")
            guard info.shape == [rows, columns] else {
                throw ModelLoadingError(file: file.path, reason: "tensor '\(info.name)' has shape \(info.shape), the metadata implies [\(rows), \(columns)]")
            }
            return info
        }
        let embeddingInfo = try matrix("model.embed_tokens", rows: configuration.vocabularySize, columns: configuration.hiddenSize)
        let embedding: any TokenEmbeddingTable
        if embeddingInfo.type.hasQuantizedProduct && !dequantizing {
            embedding = BlockQuantizedLinear(try BlockQuantizedMatrix(file: file, tensor: embeddingInfo.name))
        } else {
            let table = Initialization.skipping { Embedding(count: configuration.vocabularySize, dimension: configuration.hiddenSize) }
            table.weight = try file.tensor(named: embeddingInfo.name)
            embedding = table
        }
        let model = try Initialization.skipping {
            try LlamaModel(configuration: configuration, tokenEmbedding: embedding) { name, input, output in
                let info = try matrix(name, rows: output, columns: input)
                if info.type.hasQuantizedProduct && !dequantizing { return BlockQuantizedLinear(try BlockQuantizedMatrix(file: file, tensor: info.name)) }
                let layer = Linear(input, output, bias: false)
                layer.weight = try file.tensor(named: info.name)
                return layer
            }
        }
        var norms: [String: Tensor] = [:]
        for (name, parameter) in model.namedParameters() {
            let ggufName = ggufName(of: String(name.dropLast(".weight".count))) + ".weight"
            let tensor = try file.tensor(named: ggufName)
            guard tensor.shape == parameter.tensor?.shape else {
                throw ModelLoadingError(file: file.path, reason: "tensor '\(ggufName)' has shape \(tensor.shape), expected \(parameter.tensor?.shape ?? [])")
            }
            norms[name] = tensor
        }
        try model.loadStateDict(norms, strict: true)
        model.eval()
        return model
    }

    /// Loads a Hugging Face Llama folder: `config.json` and `model.safetensors` (Float32 in memory).
    ///
    /// - Throws: ``ModelLoadingError`` or `SafeTensorsError` naming the file and tensor at fault.
    public static func load(directory: String) throws -> LlamaModel {
        let configuration = try LlamaConfiguration(configurationFile: directory + "/config.json")
        let weightsPath = directory + "/model.safetensors"
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw ModelLoadingError(file: weightsPath, reason: "missing (only safetensors weights are supported)")
        }
        let file = try SafeTensorsFile(path: weightsPath)
        let model = try Initialization.skipping { try LlamaModel(configuration: configuration) }
        try model.loadParameters(from: file, expectation: "config.json describes \(configuration.layerCount) layers")
        model.eval()
        return model
    }
}
