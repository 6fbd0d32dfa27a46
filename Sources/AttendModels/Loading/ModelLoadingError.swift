/// Why a model could not be loaded, for every model family (BERT, Llama, ViT, …): the file and
/// what was wrong with it. Format readers have their own errors (`SafeTensorsError`, `GGUFError`,
/// `TokenizerError`), which loaders pass on unchanged.
public struct ModelLoadingError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let reason: String

    public init(file: String, reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
