import Attend
import AttendNN
import AttendTraining

/// Data-parallel training over a ``ProcessGroup`` (PyTorch's `DistributedDataParallel`): every
/// rank holds the same model, computes the loss of its own share of the batch, and gets the
/// gradients averaged over all ranks, so optimizers keep the ranks' parameters identical.
///
/// ```swift
/// let parallel = try DistributedDataParallel(model, group: group)   // rank 0's parameters everywhere
/// let (loss, gradients) = try parallel.valueWithGradient { model in crossEntropy(model(x), y) }
/// optimizer.step(gradients)                                         // the same on every rank
/// ```
public final class DistributedDataParallel<Model: Module> {
    public let model: Model
    public let group: ProcessGroup
    /// Gradients are averaged in flat buckets of at most this many bytes (fixed parameter order).
    public let bucketBytes: Int

    /// Checks that every rank has the same parameter names and shapes — a mismatch throws on
    /// every rank, naming the first differing parameter, instead of hanging — then copies rank
    /// 0's parameters to every rank.
    public init(_ model: Model, group: ProcessGroup, bucketBytes: Int = 25 << 20) throws {
        precondition(bucketBytes >= 4, "DistributedDataParallel: bucketBytes must hold at least one float")
        self.model = model
        self.group = group
        self.bucketBytes = bucketBytes
        try checkSameParameters()
        for (_, parameter) in model.namedParameters() {
            parameter.tensor = try group.broadcast(parameter.tensor!, from: 0)
        }
    }

    /// This rank's loss (`body`, the mean over its share of the batch) and every trainable
    /// parameter's gradient averaged over the ranks, by name — the same on every rank.
    ///
    /// Averaging is a reduction to rank 0 followed by a broadcast, so every rank gets the same
    /// bits (an all-reduce may add in a different order on different ranks).
    public func valueWithGradient(_ body: (Model) throws -> Tensor) throws -> (loss: Tensor, gradients: [String: Tensor]) {
        var failure: Error?
        let (loss, local) = AttendNN.valueWithGradient(of: model) { model in
            do { return try body(model) } catch { failure = error; return Tensor(0) }
        }
        if let failure { throw failure }
        return (loss, try average(local))
    }

    /// Every gradient averaged over the ranks, in flat buckets of at most ``bucketBytes``, in the
    /// model's parameter order (the same on every rank).
    func average(_ local: [String: Tensor]) throws -> [String: Tensor] {
        let names = model.trainableParameters().map(\.name).filter { local[$0] != nil }
        var averaged: [String: Tensor] = [:]
        var bucket: [(name: String, shape: [Int], values: [Float])] = []
        var bucketSize = 0
        func flush() throws {
            guard !bucket.isEmpty else { return }
            let flat = Tensor(shape: [bucketSize], scalars: bucket.flatMap(\.values))
            let mean = try group.meanOnRootThenBroadcast(flat).scalars
            var offset = 0
            for entry in bucket {
                let count = entry.values.count
                averaged[entry.name] = Tensor(shape: entry.shape, scalars: Array(mean[offset..<(offset + count)]))
                offset += count
            }
            bucket.removeAll()
            bucketSize = 0
        }
        for name in names {
            let gradient = local[name]!
            if bucketSize > 0 && (bucketSize + gradient.scalarCount) * 4 > bucketBytes { try flush() }
            bucket.append((name, gradient.shape, gradient.contiguous().scalars))
            bucketSize += gradient.scalarCount
        }
        try flush()
        return averaged
    }

    /// Every rank's parameter list (names and shapes, in order) hashed and compared; on a
    /// mismatch rank 0's list is sent to every rank, and each names the first difference.
    private func checkSameParameters() throws {
        let lines = model.namedParameters().map { "\($0.name):\($0.parameter.tensor!.shape.map(String.init).joined(separator: "x"))" }
        let signature = lines.joined(separator: "\n")
        let hashes = try group.allGather(Tensor(hashDigits(signature)))
        guard let different = hashes.firstIndex(where: { $0.scalars != hashes[0].scalars }) else { return }
        let length = try group.allReduce(Tensor([Float(group.rank == 0 ? signature.utf8.count : 0)]), op: .max).scalars[0]
        var bytes = [Float](repeating: 0, count: Int(length))
        if group.rank == 0 { bytes = signature.utf8.map(Float.init) }
        let first = try group.broadcast(Tensor(shape: [bytes.count], scalars: bytes), from: 0).scalars
        let reference = String(decoding: first.map { UInt8($0) }, as: UTF8.self).split(separator: "\n").map(String.init)
        let mismatch: String
        if let first = zip(reference, lines).first(where: { $0 != $1 }) {
            mismatch = "rank 0 has \(first.0), this rank (\(group.rank)) has \(first.1)"
        } else if reference.count != lines.count {
            mismatch = "rank 0 has \(reference.count) parameters, this rank (\(group.rank)) has \(lines.count)"
        } else {
            mismatch = "rank \(different)'s parameters differ from rank 0's (its error names the first difference)"
        }
        throw DistributedError("DistributedDataParallel: the ranks' models differ (first seen on rank \(different)): \(mismatch)")
    }

    /// FNV-1a of the text as four 16-bit digits (exact in Float32).
    private func hashDigits(_ text: String) -> [Float] {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return (0..<4).map { Float((hash >> (16 * UInt64($0))) & 0xFFFF) }
    }
}

extension DistributedDataParallel: GradientCombiner {
    public var rank: Int { group.rank }
    public var processCount: Int { group.size }

    /// The gradients averaged over the ranks (``valueWithGradient(_:)``'s averaging) and the
    /// mean loss, the same on every rank: what `TrainingLoop` calls in a data-parallel run.
    public func combine(gradients: [String: Tensor], loss: Float) throws -> (gradients: [String: Tensor], loss: Float) {
        let meanLoss = try group.meanOnRootThenBroadcast(Tensor([loss])).scalars[0]
        return (try average(gradients), meanLoss)
    }
}

extension DataParallelism {
    /// Data parallelism over `group`: each model is wrapped in a ``DistributedDataParallel``
    /// (which checks the ranks' models and copies rank 0's parameters).
    public static func overMPI(_ group: ProcessGroup) -> DataParallelism {
        DataParallelism { model in try DistributedDataParallel(model, group: group) }
    }
}
