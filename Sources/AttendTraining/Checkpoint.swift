import Attend
import AttendNN
import Foundation

/// A training checkpoint: the model's and the optimizer's tensors in one safetensors file, and
/// the step, the learning-rate schedule's position and the random generator's state in a small
/// JSON — kept inside the safetensors metadata too, so the two can never disagree.
///
/// Both files are written to a temporary name and renamed over the old ones, so a crash while
/// saving never destroys the previous checkpoint. Loading restores everything needed to continue
/// the run exactly (tested: N steps straight = k steps, save, load, N − k steps, bit for bit).
public struct Checkpoint: Codable, Equatable, Sendable {
    /// Optimizer steps taken.
    public var step: Int
    /// The run's random generator (data order, dropout).
    public var generator: PhiloxGenerator.Snapshot
    /// The dropout generators of the model's modules, by module path (filled in by ``save(model:optimizer:to:)``).
    public var moduleGenerators: [String: PhiloxGenerator.Snapshot] = [:]
    /// Anything else worth keeping (epoch, best metric, configuration).
    public var metadata: [String: String]

    public init(step: Int, generator: PhiloxGenerator.Snapshot, metadata: [String: String] = [:]) {
        self.step = step
        self.generator = generator
        self.metadata = metadata
    }

    static let tensorFile = "checkpoint.safetensors"
    static let jsonFile = "checkpoint.json"

    /// Writes `model`, `optimizer` and this record into `directory` (created if needed).
    public func save(model: Module, optimizer: any Optimizer, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var tensors: [String: Tensor] = [:]
        for (name, value) in model.stateDict() { tensors["model." + name] = value }
        for (name, value) in optimizer.stateTensors() { tensors["optimizer." + name] = value }
        var record = self
        record.moduleGenerators = model.randomStates
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = try encoder.encode(record)
        try SafeTensors.write(tensors, metadata: ["checkpoint": String(decoding: json, as: UTF8.self)],
                              to: directory + "/" + Checkpoint.tensorFile)
        try json.write(to: URL(fileURLWithPath: directory + "/" + Checkpoint.jsonFile), options: .atomic)
    }

    /// Restores `model` and `optimizer` from `directory` and returns the record (step, generator).
    public static func load(from directory: String, model: Module, optimizer: any Optimizer) throws -> Checkpoint {
        let (file, checkpoint) = try open(directory)
        var optimizerState: [String: Tensor] = [:]
        for name in file.tensorNames where name.hasPrefix("optimizer.") {
            optimizerState[String(name.dropFirst(10))] = try file.tensor(named: name)
        }
        try restore(model, from: file, checkpoint)
        try optimizer.loadState(optimizerState, stepCount: checkpoint.step)
        return checkpoint
    }

    /// Restores only `model` (to run it, not to train on), and returns the record.
    public static func loadModel(from directory: String, into model: Module) throws -> Checkpoint {
        let (file, checkpoint) = try open(directory)
        try restore(model, from: file, checkpoint)
        return checkpoint
    }

    /// The tensor file and the record kept in its metadata.
    private static func open(_ directory: String) throws -> (SafeTensorsFile, Checkpoint) {
        let file = try SafeTensorsFile(path: directory + "/" + tensorFile)
        guard let json = file.metadata["checkpoint"] else {
            throw SafeTensorsError.invalidHeader(file: file.path, reason: "no checkpoint record in the metadata")
        }
        do {
            return (file, try JSONDecoder().decode(Checkpoint.self, from: Data(json.utf8)))
        } catch {
            throw SafeTensorsError.invalidHeader(file: file.path, reason: "unreadable checkpoint record (\(error))")
        }
    }

    private static func restore(_ model: Module, from file: SafeTensorsFile, _ checkpoint: Checkpoint) throws {
        var modelState: [String: Tensor] = [:]
        for name in file.tensorNames where name.hasPrefix("model.") {
            modelState[String(name.dropFirst(6))] = try file.tensor(named: name)
        }
        try model.loadStateDict(modelState, strict: true)
        model.restoreRandomStates(checkpoint.moduleGenerators)
    }
}
