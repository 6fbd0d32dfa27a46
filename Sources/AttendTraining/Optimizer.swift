import Attend
import AttendNN

/// Settings that a group of parameters overrides (PyTorch's parameter groups), e.g. no weight
/// decay on biases and normalization weights.
public struct ParameterGroup: Sendable {
    /// Which parameters (by dotted name) belong to the group.
    public var matches: @Sendable (String) -> Bool
    public var learningRateScale: Float
    public var weightDecay: Float?

    public init(matching matches: @escaping @Sendable (String) -> Bool, learningRateScale: Float = 1, weightDecay: Float? = nil) {
        self.matches = matches
        self.learningRateScale = learningRateScale
        self.weightDecay = weightDecay
    }

    /// Biases and normalization weights (`*.bias`, `*norm*.weight`, `*LayerNorm*`) without weight decay.
    public static let noDecayOnBiasesAndNorms = ParameterGroup(matching: { name in
        name.hasSuffix("bias") || name.lowercased().contains("norm")
    }, weightDecay: 0)
}

/// What optimizers share: the model's trainable parameters by name, the learning rate that a
/// schedule sets, parameter groups, and per-parameter state for checkpoints.
public protocol Optimizer: AnyObject {
    /// The base learning rate; a ``LearningRateSchedule`` sets it each step.
    var learningRate: Float { get set }
    /// Steps taken.
    var stepCount: Int { get }
    /// Updates every parameter that has a gradient (by dotted name, as ``valueWithGradient(of:_:)`` returns them).
    func step(_ gradients: [String: Tensor])
    /// Per-parameter state tensors by key (`"<parameter>.<buffer>"`), for checkpoints.
    func stateTensors() -> [String: Tensor]
    /// Restores state from ``stateTensors()`` and a step count.
    func loadState(_ tensors: [String: Tensor], stepCount: Int) throws
}

/// The parameter bookkeeping every optimizer needs.
struct ParameterTable {
    let entries: [(name: String, parameter: any AnyParameter, group: ParameterGroup?)]

    init(model: Module, groups: [ParameterGroup]) {
        entries = model.trainableParameters().map { entry in
            (entry.name, entry.parameter, groups.first { $0.matches(entry.name) })
        }
    }

    /// Checks saved optimizer state before it is used: every key must be `<parameter>.<buffer>`
    /// for a parameter of this model and a buffer the optimizer keeps, with the parameter's shape,
    /// and a parameter with any of `together` needs all of them. (A parameter may have no state:
    /// it had no gradient yet.)
    func checkState(_ tensors: [String: Tensor], buffers: Set<String>, together: Set<String> = []) throws {
        var shapes: [String: [Int]] = [:]
        for (name, parameter, _) in entries { shapes[name] = parameter.tensor?.shape }
        var found: [String: Set<String>] = [:]
        for (key, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            guard let dot = key.lastIndex(of: "."), let shape = shapes[String(key[..<dot])],
                  buffers.contains(String(key[key.index(after: dot)...])) else {
                throw OptimizerStateError(description: "optimizer state has \(key), which is no buffer (\(buffers.sorted().joined(separator: ", "))) of a trainable parameter")
            }
            guard tensor.shape == shape else {
                throw OptimizerStateError(description: "optimizer state \(key) has shape \(tensor.shape), its parameter \(shape)")
            }
            found[String(key[..<dot]), default: []].insert(String(key[key.index(after: dot)...]))
        }
        for (name, present) in found.sorted(by: { $0.key < $1.key }) where !together.isSubset(of: present) {
            throw OptimizerStateError(description: "optimizer state for \(name) lacks " + together.subtracting(present).sorted().joined(separator: ", "))
        }
    }
}

/// Runs `body(range)` over `0..<count` in a few chunks on Attend's threads (optimizer updates of
/// large parameters are memory-bound loops worth splitting).
func forEachChunk(of count: Int, _ body: (Range<Int>) -> Void) {
    let chunks = Swift.max(1, Swift.min(Parallelism.threadCount, count / 65_536))
    Parallelism.forEachItem(count: chunks) { chunk in body((count * chunk / chunks)..<(count * (chunk + 1) / chunks)) }
}

/// Why optimizer state could not be restored.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}
