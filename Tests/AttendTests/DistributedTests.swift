import AttendDistributed
import Foundation
import Testing

private struct SamplerGolden: Decodable {
    struct Case: Decodable {
        let count: Int, world: Int, drop_last: Bool, shuffle: Bool, seed: UInt64, epoch: Int
        let indices: [[Int]]
    }
    let cases: [Case]
}

/// AttendDistributed: the sampler against PyTorch's, and the collectives, data-parallel gradients
/// and failure behaviour in real processes under `mpirun` (the checks live in the
/// `attend-distributed-check` executable, since collectives must not run inside parallel tests).
/// CI installs Open MPI and sets `ATTEND_REQUIRE_MPI=1`, which turns a missing `mpirun` into a failure.
@Suite("Data parallelism on Open MPI")
struct DistributedTests {
    static let checker = CLITests.binary.replacingOccurrences(of: "/attend", with: "/attend-distributed-check",
                                                              options: .backwards)
    static let mpirun: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static var mpiIsAvailable: Bool {
        if mpirun == nil && ProcessInfo.processInfo.environment["ATTEND_REQUIRE_MPI"] == "1" {
            Issue.record("ATTEND_REQUIRE_MPI=1 but mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
        }
        return mpirun != nil
    }

    /// Runs the checker on `ranks` processes; returns the exit status, output and seconds taken.
    static func launch(_ mode: String, ranks: Int) throws -> (status: Int32, output: String, seconds: Double) {
        try launch(checker, [mode], ranks: ranks)
    }

    /// Runs `program arguments…` on `ranks` processes under mpirun (60 s at most).
    static func launch(_ program: String, _ arguments: [String], ranks: Int) throws -> (status: Int32, output: String, seconds: Double) {
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none"   // containers forbid cross-process memory access
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment["ATTEND_NUM_THREADS"] = "1"
        let started = Date()
        let result = try runSubprocess("timeout", ["60", mpirun!, "--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
                                                   "-np", String(ranks), program] + arguments, environment: environment)
        let output = String(decoding: result.output + result.error, as: UTF8.self)
        return (result.status, output, Date().timeIntervalSince(started))
    }

    @Test(arguments: [2, 3])
    func collectivesAndDataParallelGradients(ranks: Int) throws {
        guard Self.mpiIsAvailable else { return }
        let home = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let result = try Self.launch(Self.checker, ["collectives", home + "/checkpoint"], ranks: ranks)
        #expect(result.status == 0, "\(result.output)")
        for rank in 0..<ranks { #expect(result.output.contains("OK rank \(rank) of \(ranks)"), "\(result.output)") }
    }

    /// Different models on different ranks: every rank throws an error naming the difference.
    @Test func mismatchedModelsAreRefusedOnEveryRank() throws {
        guard Self.mpiIsAvailable else { return }
        let result = try Self.launch("mismatch", ranks: 2)
        #expect(result.status != 0 && result.status != 124, "\(result.output)")
        #expect(result.output.contains("ERROR rank 1: DistributedDataParallel: the ranks' models differ"), "\(result.output)")
        #expect(result.output.contains("in_proj_weight:48x16") && result.output.contains("72x24"))
        #expect(result.seconds < 20)
    }

    /// A rank that exits with a failure ends the job: the others stop within seconds, no hang.
    @Test func aRankThatExitsEarlyEndsTheJob() throws {
        guard Self.mpiIsAvailable else { return }
        let result = try Self.launch("exit-early", ranks: 3)
        #expect(result.status != 0 && result.status != 124, "status \(result.status): \(result.output)")
        #expect(result.seconds < 10, "took \(result.seconds) s")
    }

    /// Outside `mpirun` a program is a group of one, and the same code runs unchanged.
    @Test func withoutMPIRunTheWorldIsOneProcess() throws {
        let group = try ProcessGroup.world()
        #expect(group.rank == 0 && group.size == 1)
        #expect(try group.allReduce(.init([1, 2]), op: .mean).scalars == [1, 2])
        #expect(try group.allGather(.init([3])).map(\.scalars) == [[3]])
        try group.barrier()
    }

    /// The same indices as torch.utils.data.DistributedSampler (scripts/goldens/generate_sampler.py).
    @Test func samplerMatchesPyTorch() throws {
        let golden = try loadGoldens("sampler", as: SamplerGolden.self)
        #expect(golden.cases.count == 10)
        for c in golden.cases {
            for rank in 0..<c.world {
                var sampler = DistributedSampler(count: c.count, replicas: c.world, rank: rank, shuffle: c.shuffle,
                                                 seed: c.seed, dropLast: c.drop_last)
                sampler.setEpoch(c.epoch)
                #expect(sampler.indices == c.indices[rank], "count \(c.count), world \(c.world), rank \(rank), drop \(c.drop_last), seed \(c.seed), epoch \(c.epoch)")
                #expect(sampler.samplesPerRank == c.indices[rank].count)
            }
        }
    }

    /// `attend embed --input` under mpirun: every rank embeds a share, rank 0 prints every
    /// vector in input order, as one process does.
    @Test func dataParallelEmbeddingMatchesOneProcess() throws {
        guard Self.mpiIsAvailable else { return }
        let home = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let tiny = tinyBertDirectory
        let input = home + "/texts.txt"
        try (1...7).map { "w\($0) w\($0 % 3 + 1) w9" }.joined(separator: "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let single = try CLITests.run("embed", "--model", tiny, "--input", input)
        let parallel = try Self.launch(CLITests.binary, ["embed", "--model", tiny, "--input", input], ranks: 3)
        #expect(single.status == 0 && parallel.status == 0, "\(parallel.output)")
        let expected = try JSONDecoder().decode([[Float]].self, from: Data(single.output.utf8))
        let jsonLine = parallel.output.split(separator: "\n").first { $0.hasPrefix("[[") }.map(String.init) ?? ""
        let actual = try JSONDecoder().decode([[Float]].self, from: Data(jsonLine.utf8))
        #expect(actual.count == 7 && expected.count == 7)
        for (a, e) in zip(actual, expected) {
            #expect(zip(a, e).allSatisfy { abs($0 - $1) <= 1e-5 }, "rank-0 output equals one process's")
        }
        #expect(parallel.output.components(separatedBy: "[[").count == 2, "only rank 0 prints")
    }

    /// `attend train digits` under mpirun: two ranks share each batch of 64, rank 0 alone writes
    /// the run, and the accuracy is the one-process accuracy within a few points (training noise).
    @Test func dataParallelTrainingMatchesOneProcess() throws {
        guard Self.mpiIsAvailable else { return }
        let home = try CLITests.scratch()
        defer { try? FileManager.default.removeItem(atPath: home) }
        func accuracy(_ folder: String) throws -> Double {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/metrics.json")))
            return try #require((json as? [String: Any])?["test_accuracy"] as? Double)
        }
        let single = try CLITests.run("train", "digits", "--steps", "400", "--output", home + "/one")
        #expect(single.status == 0, "\(single.error)")
        let parallel = try Self.launch(CLITests.binary, ["train", "digits", "--steps", "400", "--output", home + "/two"], ranks: 2)
        #expect(parallel.status == 0, "\(parallel.output)")
        #expect(parallel.output.components(separatedBy: "test accuracy:").count == 2, "only rank 0 reports")
        let (one, two) = (try accuracy(home + "/one"), try accuracy(home + "/two"))
        #expect(two > 0.8 && abs(two - one) <= 0.04, "one process \(one), two ranks \(two)")
        #expect(FileManager.default.fileExists(atPath: home + "/two/checkpoint/checkpoint.json"))
        // The demos with several models run data-parallel too, rank 0 alone writing and reporting.
        let permutation = try Self.launch(CLITests.binary, ["train", "permutation-lm", "--steps", "40", "--output", home + "/plm"], ranks: 2)
        #expect(permutation.status == 0, "\(permutation.output)")
        #expect(permutation.output.components(separatedBy: "wrote ").count == 2, "only rank 0 reports")
        #expect(FileManager.default.fileExists(atPath: home + "/plm/permutation_lm/checkpoint/checkpoint.json"))
    }
}
