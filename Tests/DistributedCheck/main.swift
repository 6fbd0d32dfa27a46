// Collective checks for AttendDistributed, run by the test suite under `mpirun -np N`:
//   attend-distributed-check collectives [DIR] — collectives, DDP gradients against one process, AdamW lockstep,
//                                           and (with a folder all ranks share) resuming from rank 0's checkpoint
//   attend-distributed-check mismatch      — ranks build different models: every rank must throw, not hang
//   attend-distributed-check exit-early    — rank 1 exits before a collective: mpirun must end the job
// Prints "OK rank R" (or "FAIL rank R: …", "ERROR rank R: …") and exits non-zero on failure.
import Attend
import AttendDistributed
import AttendNN
import AttendTraining
import Foundation

let group = try ProcessGroup.world()
let (rank, size) = (group.rank, group.size)
nonisolated(unsafe) var failures = 0   // this program is single-threaded

func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition {
        print("FAIL rank \(rank): \(message())")
        failures += 1
    }
}

func close(_ a: Tensor, _ b: Tensor, tolerance: Float) -> Bool {
    a.shape == b.shape && zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

/// A small encoder layer with parameters drawn from `seed`.
func makeModel(seed: UInt64, width: Int = 16) -> TransformerEncoderLayer {
    Initialization.seed(seed)
    let layer = TransformerEncoderLayer(modelDimension: width, headCount: 2, feedForwardDimension: 32, dropout: 0, normFirst: true)
    layer.eval()
    return layer
}

switch CommandLine.arguments.dropFirst().first ?? "collectives" {
case "collectives":
    let n = Float(size), r = Float(rank)
    let local = Tensor([r + 1, -r])
    check(try group.allReduce(local, op: .sum).scalars == [n * (n + 1) / 2, -n * (n - 1) / 2], "allReduce sum")
    check(try group.allReduce(local, op: .mean).scalars == [(n + 1) / 2, -(n - 1) / 2], "allReduce mean")
    check(try group.allReduce(local, op: .max).scalars == [n, 0], "allReduce max")
    check(try group.allReduce(local, op: .min).scalars == [1, -(n - 1)], "allReduce min")
    check(try group.broadcast(Tensor([r * 10, 1]), from: size - 1).scalars == [(n - 1) * 10, 1], "broadcast from the last rank")
    let gathered = try group.allGather(Tensor(shape: [1, 2], scalars: [r, r * 2]))
    check(gathered.count == size && gathered.enumerated().allSatisfy { $0.element.scalars == [Float($0.offset), Float($0.offset * 2)] },
          "allGather in rank order")
    try group.barrier()
    do {
        _ = try group.allReduce(Tensor.zeros([rank + 1]), op: .sum)
        check(size == 1, "allReduce of different shapes must throw")
    } catch {
        check("\(error)".contains("shape"), "shape mismatch error names shapes: \(error)")
    }

    // DDP: ranks start from different parameters and end with rank 0's; the averaged gradients
    // of equal shards equal one process's gradients on the whole batch.
    let model = makeModel(seed: 100 + UInt64(rank))
    let parallel = try DistributedDataParallel(model, group: group, bucketBytes: 4096)
    let reference = makeModel(seed: 100)
    check(model.stateDict().allSatisfy { $0.value.scalars == reference.stateDict()[$0.key]!.scalars }, "rank 0's parameters everywhere")
    var generator = PhiloxGenerator(seed: 7)
    let shard = 2
    let x = Tensor.normal([size * shard, 5, 16], using: &generator), c = Tensor.normal([size * shard, 5, 16], using: &generator)
    let mine = (rank * shard)..<((rank + 1) * shard)
    let (_, gradients) = try parallel.valueWithGradient { model in
        (model(x.sliced(axis: 0, mine)) * c.sliced(axis: 0, mine)).mean()
    }
    let (_, expected) = valueWithGradient(of: reference) { model in (model(x) * c).mean() }
    check(Set(gradients.keys) == Set(expected.keys), "gradient names")
    for (name, gradient) in expected {
        check(close(gradients[name]!, gradient, tolerance: 1e-5), "gradient \(name) equals the one-process gradient")
    }

    // Five AdamW steps on each rank's own shard keep the parameters identical, bit for bit.
    let optimizer = Adam.adamW(model: model, learningRate: 1e-2)
    func train(_ parallel: DistributedDataParallel<TransformerEncoderLayer>, _ optimizer: Adam, steps: Range<Int>) throws {
        for step in steps {
            let rows = ((rank * shard + step) % (size * shard))..<((rank * shard + step) % (size * shard) + 1)
            let (_, stepGradients) = try parallel.valueWithGradient { model in (model(x.sliced(axis: 0, rows)) * c.sliced(axis: 0, rows)).mean() }
            optimizer.step(stepGradients)
        }
    }
    try train(parallel, optimizer, steps: 0..<5)
    for (name, value) in model.stateDict().sorted(by: { $0.key < $1.key }) {   // the same order on every rank
        let all = try group.allGather(value)
        check(all.allSatisfy { $0.scalars.map(\.bitPattern) == all[0].scalars.map(\.bitPattern) }, "\(name) identical on every rank")
    }

    // Resuming on every rank from rank 0's checkpoint continues exactly as the run that never stopped.
    if let folder = CommandLine.arguments.dropFirst(2).first {
        if rank == 0 {
            try Checkpoint(step: 5, generator: PhiloxGenerator(seed: 0).snapshot, metadata: [:])
                .save(model: model, optimizer: optimizer, to: folder)
        }
        try group.barrier()
        let fresh = makeModel(seed: 999)
        let freshOptimizer = Adam.adamW(model: fresh, learningRate: 1e-2)
        _ = try Checkpoint.load(from: folder, model: fresh, optimizer: freshOptimizer)
        let resumed = try DistributedDataParallel(fresh, group: group)
        try train(parallel, optimizer, steps: 5..<7)
        try train(resumed, freshOptimizer, steps: 5..<7)
        let (continued, restarted) = (model.stateDict(), fresh.stateDict())
        check(continued.allSatisfy { $0.value.scalars.map(\.bitPattern) == restarted[$0.key]!.scalars.map(\.bitPattern) },
              "a run resumed from rank 0's checkpoint equals the run that went on")
    }

case "mismatch":
    do {
        _ = try DistributedDataParallel(makeModel(seed: 1, width: rank == 1 ? 24 : 16), group: group)
        check(size == 1, "models of different widths must be refused")
    } catch {
        print("ERROR rank \(rank): \(error)")
        exit(3)
    }

case "exit-early":
    if rank == 1 { exit(5) }
    sleep(1)
    _ = try group.allReduce(Tensor([1]), op: .sum)   // never completes: rank 1 is gone
    try group.barrier()

default:
    print("usage: attend-distributed-check collectives|mismatch|exit-early")
    exit(2)
}

if failures > 0 { exit(1) }
print("OK rank \(rank) of \(size)")
