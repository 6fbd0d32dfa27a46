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
        let (momentum, dampening, nesterov) = (momentum, dampening, nesterov)
        for (name, parameter, group) in table.entries {
            guard let gradient = gradients[name], var theta = parameter.tensor else { continue }
            precondition(gradient.shape == theta.shape, "SGD: gradient \(gradient.shape) for \(name) \(theta.shape)")
            let decay = group?.weightDecay ?? weightDecay
            let rate = learningRate * (group?.learningRateScale ?? 1)
            // One pass over θ and the momentum buffer, in place; the first step's buffer is g.
            let isFirst = buffers[name] == nil
            var buffer = buffers.removeValue(forKey: name) ?? Tensor.zeros(momentum != 0 ? theta.shape : [0])
            gradient.withUnsafeScalars { g in
                theta.withUnsafeMutableScalars { p in
                    buffer.withUnsafeMutableScalars { b in
                        forEachChunk(of: p.count) { range in
                            for i in range {
                                var gi = g[i] + p[i] * decay
                                if momentum != 0 {
                                    b[i] = isFirst ? gi : b[i] * momentum + gi * (1 - dampening)
                                    gi = nesterov ? gi + b[i] * momentum : b[i]
                                }
                                p[i] -= gi * rate
                            }
                        }
                    }
                }
            }
            if momentum != 0 { buffers[name] = buffer }
            parameter.tensor = theta
        }
    }

    public func stateTensors() -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: buffers.map { ("\($0.key).momentum_buffer", $0.value) })
    }

    /// Throws ``OptimizerStateError`` for state that does not fit this model (unknown keys,
    /// wrong shapes); nothing changes then.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        try table.checkState(tensors, buffers: ["momentum_buffer"])
        buffers = [:]
        for (key, value) in tensors where key.hasSuffix(".momentum_buffer") {
            buffers[String(key.dropLast(".momentum_buffer".count))] = value
        }
        self.stepCount = stepCount
    }
}
