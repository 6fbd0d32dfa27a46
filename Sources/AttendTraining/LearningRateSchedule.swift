import Foundation

/// A learning rate as a pure function of the step (so a checkpoint needs only the step).
/// Steps count from 0, like PyTorch schedulers' `last_epoch` after each `scheduler.step()`.
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// `base · γ^⌊step / size⌋` (`StepLR`).
    case step(base: Float, size: Int, gamma: Float)
    /// `min + (base − min)(1 + cos(π·step/T))/2` (`CosineAnnealingLR`, closed form).
    case cosine(base: Float, minimum: Float = 0, period: Int)
    /// Linear warm-up from 0 over `warmup` steps, then cosine decay to 0 at `total`
    /// (Hugging Face's `get_cosine_schedule_with_warmup`).
    case warmupCosine(base: Float, warmup: Int, total: Int)
    /// Linear warm-up, then linear decay to 0 at `total` (`get_linear_schedule_with_warmup`).
    case warmupLinear(base: Float, warmup: Int, total: Int)
    /// The original Transformer's: `factor · d^−½ · min(s^−½, s·w^−³ᐟ²)` with `s = step + 1`.
    case inverseSquareRoot(factor: Float, modelDimension: Int, warmup: Int)

    public func learningRate(at step: Int) -> Float {
        switch self {
        case .constant(let rate):
            return rate
        case let .step(base, size, gamma):
            return base * Float(Foundation.pow(Double(gamma), Double(step / Swift.max(size, 1))))
        case let .cosine(base, minimum, period):
            return minimum + (base - minimum) * Float(1 + Foundation.cos(Double.pi * Double(step) / Double(Swift.max(period, 1)))) / 2
        case let .warmupCosine(base, warmup, total):
            if step < warmup { return base * Float(step) / Float(Swift.max(1, warmup)) }
            let progress = Double(step - warmup) / Double(Swift.max(1, total - warmup))
            return base * Float(Swift.max(0, 0.5 * (1 + Foundation.cos(Double.pi * progress))))
        case let .warmupLinear(base, warmup, total):
            if step < warmup { return base * Float(step) / Float(Swift.max(1, warmup)) }
            return base * Swift.max(0, Float(total - step) / Float(Swift.max(1, total - warmup)))
        case let .inverseSquareRoot(factor, dimension, warmup):
            let s = Double(step + 1)
            return factor * Float(Foundation.pow(Double(dimension), -0.5) * Swift.min(Foundation.pow(s, -0.5), s * Foundation.pow(Double(warmup), -1.5)))
        }
    }
}
