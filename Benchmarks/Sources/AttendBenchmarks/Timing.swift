import Foundation

/// Wall-clock timing: a warm-up call, then repeated calls until `budget` seconds have been spent
/// in them (at least `minimumRuns`), reporting the median and the fastest run in seconds.
struct Timing {
    let median: Double
    let fastest: Double

    static func measure(budget: Double = 0.5, minimumRuns: Int = 3, _ body: () -> Void) -> Timing {
        measureWithSetup(budget: budget, minimumRuns: minimumRuns, setup: {}, body)
    }

    /// Like ``measure(budget:minimumRuns:_:)``, running `setup` untimed before every run.
    static func measureWithSetup(budget: Double = 0.5, minimumRuns: Int = 3, setup: () -> Void, _ body: () -> Void) -> Timing {
        setup()
        body()
        var samples: [Double] = []
        var spent: Double = 0
        while samples.count < minimumRuns || spent < budget {
            setup()
            let t0 = DispatchTime.now().uptimeNanoseconds
            body()
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            samples.append(elapsed)
            spent += elapsed
            if samples.count >= 1000 { break }
        }
        samples.sort()
        return Timing(median: samples[samples.count / 2], fastest: samples[0])
    }

    /// The timing multiplied by `factor` (per-item figures from a batch of items).
    func scaled(by factor: Double) -> Timing { Timing(median: median * factor, fastest: fastest * factor) }
}

/// Keeps a result alive so the optimizer cannot drop the work that made it.
@inline(never)
func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func formatted(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
