import Attend
import AttendNN
import Foundation

/// Adam (Kingma & Ba) and AdamW (Loshchilov & Hutter) with PyTorch's semantics
/// (`torch.optim.Adam`, `torch.optim.AdamW`), bias correction always on:
///
/// ```
/// Adam:  g = ∇ + λ·θ                 AdamW:  θ = θ·(1 − η·λ),  g = ∇
/// m = β₁m + (1 − β₁)g;   v = β₂v + (1 − β₂)g²;   v̂ = max(v̂, v) with amsgrad
/// θ = θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
public final class Adam: Optimizer {
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float
    public let amsgrad: Bool
    /// Decoupled weight decay (AdamW) instead of L2 in the gradient (Adam).
    public let decoupledWeightDecay: Bool
    public private(set) var stepCount = 0
    private let table: ParameterTable
    private var state: [String: (m: Tensor, v: Tensor, vMax: Tensor?)] = [:]

    public init(model: Module, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, amsgrad: Bool = false, decoupledWeightDecay: Bool = false, groups: [ParameterGroup] = []) {
        self.learningRate = learningRate
        (self.beta1, self.beta2, self.epsilon, self.weightDecay) = (beta1, beta2, epsilon, weightDecay)
        (self.amsgrad, self.decoupledWeightDecay) = (amsgrad, decoupledWeightDecay)
        table = ParameterTable(model: model, groups: groups)
    }

    public func step(_ gradients: [String: Tensor]) {
        stepCount += 1
        let t = Double(stepCount)
        let correction1 = Float(1 - Foundation.pow(Double(beta1), t))
        let correction2Root = Float((1 - Foundation.pow(Double(beta2), t)).squareRoot())
        for (name, parameter, group) in table.entries {
            guard var g = gradients[name], var theta = parameter.tensor else { continue }
            let rate = learningRate * (group?.learningRateScale ?? 1)
            let decay = group?.weightDecay ?? weightDecay
            if decay != 0 {
                if decoupledWeightDecay { theta = theta * (1 - rate * decay) } else { g = g + theta * decay }
            }
            let previous = state[name]
            let m = (previous?.m ?? Tensor.zeros(g.shape)) * beta1 + g * (1 - beta1)
            let v = (previous?.v ?? Tensor.zeros(g.shape)) * beta2 + g * g * (1 - beta2)
            var vMax: Tensor? = nil
            if amsgrad { vMax = maximum(previous?.vMax ?? Tensor.zeros(g.shape), v) }
            state[name] = (m, v, vMax)
            let denominator = sqrt(vMax ?? v) / correction2Root + epsilon
            parameter.tensor = (theta - m / denominator * (rate / correction1)).detached
        }
    }

    public func stateTensors() -> [String: Tensor] {
        var tensors: [String: Tensor] = [:]
        for (name, entry) in state {
            tensors[name + ".exp_avg"] = entry.m
            tensors[name + ".exp_avg_sq"] = entry.v
            if let vMax = entry.vMax { tensors[name + ".max_exp_avg_sq"] = vMax }
        }
        return tensors
    }

    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        state = [:]
        for (name, _, _) in table.entries {
            guard let m = tensors[name + ".exp_avg"], let v = tensors[name + ".exp_avg_sq"] else { continue }
            if amsgrad && tensors[name + ".max_exp_avg_sq"] == nil {
                throw OptimizerStateError(description: "optimizer state for \(name) lacks max_exp_avg_sq (amsgrad)")
            }
            state[name] = (m, v, tensors[name + ".max_exp_avg_sq"])
        }
        self.stepCount = stepCount
    }
}

extension Adam {
    /// AdamW: Adam with decoupled weight decay (PyTorch's default decay 0.01).
    public static func adamW(model: Module, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                             epsilon: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false,
                             groups: [ParameterGroup] = []) -> Adam {
        Adam(model: model, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay,
             amsgrad: amsgrad, decoupledWeightDecay: true, groups: groups)
    }
}

/// Scales gradients so that their global L2 norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`: factor `min(1, maxNorm / (‖g‖ + 10⁻⁶))`). Returns the clipped gradients
/// and the norm before clipping.
public func clippingGradients(_ gradients: [String: Tensor], maxNorm: Float) -> (gradients: [String: Tensor], norm: Float) {
    let squared = gradients.values.reduce(Double(0)) { $0 + Double(($1 * $1).sum().scalar) }
    let norm = Float(squared.squareRoot())
    let factor = Swift.min(1, maxNorm / (norm + 1e-6))
    guard factor < 1 else { return (gradients, norm) }
    return (gradients.mapValues { $0 * factor }, norm)
}
