import AttendNN

/// The `quantization` entry `attend compress --int8` adds to a model folder's `config.json`:
/// which `Linear` and `Embedding` layers store int8 weights (`weight` I8 and `weight_scale` F32 in
/// model.safetensors), so loaders can shape those layers before reading them.
///
/// ```json
/// "quantization": {"method": "dynamic-int8-per-channel", "modules": ["encoder.layer.0.attention.self.query", …]}
/// ```
public struct QuantizationConfiguration: Sendable, Equatable, Codable {
    /// Dynamic int8: weights per output channel (symmetric), activations per row at run time.
    public static let dynamicInt8 = "dynamic-int8-per-channel"

    public var method: String
    /// Dotted module paths, as in the state dict.
    public var modules: [String]

    public init(method: String = QuantizationConfiguration.dynamicInt8, modules: [String]) {
        self.method = method
        self.modules = modules
    }

    /// Prepares each listed layer of `model` to receive int8 weights.
    ///
    /// - Throws: ``ModelLoadingError`` naming `file` when a listed module is not a `Linear` of `model`.
    func prepare(_ model: Module, file: String) throws {
        let layers = Dictionary(model.namedModules().map { ($0.name, $0.module) }, uniquingKeysWith: { first, _ in first })
        for name in modules {
            if let linear = layers[name] as? Linear {
                linear.prepareForQuantizedWeights()
            } else if let table = layers[name] as? Embedding {
                table.prepareForQuantizedWeights()
            } else {
                throw ModelLoadingError(file: file, reason: "quantization lists '\(name)', which is not a Linear or Embedding layer of this model")
            }
        }
    }
}
