import Attend
import AttendNN

/// Stochastic gradient descent with PyTorch's semantics (`torch.optim.SGD`):
///
/// ```
/// g = ∇ + λ·θ                                    (weight decay λ)
/// b = g on the first step, else μ·b + (1 − τ)·g  (momentum μ, dampening τ)
/// g = g + μ·b (Nesterov) or b
/// θ = θ − η·g
/// ```
public final class SGD: Optimizer {
    public var learningRate: Float
    public let momentum: Float, dampening: Float, weightDecay: Float
    public let nesterov: Bool
    public private(set) var stepCount = 0
    private let table: ParameterTable
    private var buffers: [String: Tensor] = [:]

    public init(model: Module, learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0,
                nesterov: Bool = false, groups: [ParameterGroup] = []) {
        precondition(!nesterov || (momentum > 0 && dampening == 0), "Nesterov momentum needs momentum > 0 and no dampening")
        self.learningRate = learningRate
        (self.momentum, self.dampening, self.weightDecay, self.nesterov) = (momentum, dampening, weightDecay, nesterov)
        table = ParameterTable(model: model, groups: groups)
    }

    public func step(_ gradients: [String: Tensor]) {
        stepCount += 1
        for (name, parameter, group) in table.entries {
            guard var g = gradients[name], let theta = parameter.tensor else { continue }
            let decay = group?.weightDecay ?? weightDecay
            if decay != 0 { g = g + theta * decay }
            if momentum != 0 {
                let buffer = buffers[name].map { $0 * momentum + g * (1 - dampening) } ?? g
                buffers[name] = buffer
                g = nesterov ? g + buffer * momentum : buffer
            }
            parameter.tensor = (theta - g * (learningRate * (group?.learningRateScale ?? 1))).detached
        }
    }

    public func stateTensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: buffers.map { ("\($0.key).momentum_buffer", $0.value) })
    }

    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        buffers = [:]
        for (key, value) in tensors where key.hasSuffix(".momentum_buffer") {
            buffers[String(key.dropLast(".momentum_buffer".count))] = value
        }
        self.stepCount = stepCount
    }
}
