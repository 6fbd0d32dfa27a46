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
        let (beta1, beta2, epsilon, amsgrad, decoupled) = (beta1, beta2, epsilon, amsgrad, decoupledWeightDecay)
        for (name, parameter, group) in table.entries {
            guard let gradient = gradients[name], var theta = parameter.tensor else { continue }
            precondition(gradient.shape == theta.shape, "Adam: gradient \(gradient.shape) for \(name) \(theta.shape)")
            let rate = learningRate * (group?.learningRateScale ?? 1)
            let decay = group?.weightDecay ?? weightDecay
            let (shrink, step) = (decoupled ? 1 - rate * decay : 1, rate / correction1)
            let l2 = decoupled ? 0 : decay
            // One pass per parameter over θ, m, v (and v̂), updated in place.
            var moments = state.removeValue(forKey: name)
                ?? (Tensor.zeros(theta.shape), Tensor.zeros(theta.shape), amsgrad ? Tensor.zeros(theta.shape) : nil)
            var vMax = moments.vMax ?? Tensor.zeros([0])
            gradient.withUnsafeScalars { g in
                theta.withUnsafeMutableScalars { p in
                    moments.m.withUnsafeMutableScalars { m in
                        moments.v.withUnsafeMutableScalars { v in
                            vMax.withUnsafeMutableScalars { vMax in
                                forEachChunk(of: p.count) { range in
                                    for i in range {
                                        let gi = g[i] + l2 * p[i]
                                        m[i] = m[i] * beta1 + gi * (1 - beta1)
                                        v[i] = v[i] * beta2 + gi * gi * (1 - beta2)
                                        var second = v[i]
                                        if amsgrad {
                                            vMax[i] = Swift.max(vMax[i], v[i])
                                            second = vMax[i]
                                        }
                                        p[i] = p[i] * shrink - m[i] / (second.squareRoot() / correction2Root + epsilon) * step
                                    }
                                }
                            }
                        }
                    }
                }
            }
            moments.vMax = amsgrad ? vMax : nil
            state[name] = moments
            parameter.tensor = theta
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

    /// Throws ``OptimizerStateError`` for state that does not fit this model and optimizer
    /// (unknown keys, wrong shapes, incomplete moments); nothing changes then.
    public func loadState(_ tensors: [String: Tensor], stepCount: Int) throws {
        let buffers: Set<String> = amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"]
        try table.checkState(tensors, buffers: buffers, together: buffers)
        state = [:]
        for (name, _, _) in table.entries {
            guard let m = tensors[name + ".exp_avg"], let v = tensors[name + ".exp_avg_sq"] else { continue }
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
    let squared = gradients.values.reduce(Double(0)) { total, gradient in
        gradient.withUnsafeScalars { g in total + g.reduce(Double(0)) { $0 + Double($1) * Double($1) } }
    }
    let norm = Float(squared.squareRoot())
    let factor = Swift.min(1, maxNorm / (norm + 1e-6))
    guard factor < 1 else { return (gradients, norm) }
    return (gradients.mapValues { $0 * factor }, norm)
}
