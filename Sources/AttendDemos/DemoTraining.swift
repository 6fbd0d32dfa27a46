import Attend
import AttendNN
import AttendTraining

/// What the demos share: one optimizer and schedule, and padding of token sequences.
enum DemoTraining {
    /// AdamW at a peak rate of 2·10⁻³ (no decay on biases and norms), 100 warm-up steps, then
    /// cosine decay to the end; gradients clipped to norm 1.
    /// With `parallelism`, the run is data-parallel: its combiner (made here, which copies rank
    /// 0's parameters to every process) averages the gradients, and each process trains on its
    /// share of every batch.
    static func loop<Model: Module>(_ model: Model, weightDecay: Float, steps: Int, seed: UInt64, output: String?,
                                    label: String, parallelism: DataParallelism? = nil) throws -> TrainingLoop<Model> {
        let combiner = try parallelism?.makeCombiner(model)
        let optimizer = Adam.adamW(model: model, weightDecay: weightDecay, groups: [.noDecayOnBiasesAndNorms])
        return try TrainingLoop(model: model, optimizer: optimizer, schedule: .warmupCosine(base: 2e-3, warmup: 100, total: steps),
                                totalSteps: steps, seed: seed, output: output, label: label, combiner: combiner)
    }

    /// Right-pads sequences to the longest with `value`, returning them with their lengths.
    static func pad(_ sequences: [[Int]], with value: Int = 0) -> ([[Int]], [Int]) {
        let length = sequences.map(\.count).max() ?? 0
        return (sequences.map { $0 + [Int](repeating: value, count: length - $0.count) }, sequences.map(\.count))
    }
}
