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
}

/// Why optimizer state could not be restored.
public struct OptimizerStateError: Error, CustomStringConvertible {
    public let description: String
}
