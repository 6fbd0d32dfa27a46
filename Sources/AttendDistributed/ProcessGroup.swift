import Attend
import CMPI
import Foundation

/// How ``ProcessGroup/allReduce(_:op:)`` combines the ranks' tensors, element by element.
public enum ReductionOperation: Sendable {
    case sum, mean, max, min
}

/// Why a collective failed: MPI's own message, or a mismatch between ranks, with the ranks named.
public struct DistributedError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A group of processes that exchange tensors through MPI collectives — `MPI_COMM_WORLD` under
/// `mpirun`, or a group of one process (this one) when the program was started on its own, so
/// the same program runs either way.
///
/// ```swift
/// let group = try ProcessGroup.world()
/// let total = try group.allReduce(localSum, op: .sum)     // the same on every rank
/// ```
///
/// Every rank must call the same collectives in the same order. Calls are serialized (MPI runs
/// in `MPI_THREAD_SERIALIZED` mode), so a group can be used from any thread. MPI errors are
/// returned, not fatal (`MPI_ERRORS_RETURN`), and thrown as ``DistributedError``.
public final class ProcessGroup: @unchecked Sendable {
    /// This process's index, `0..<size`.
    public let rank: Int
    /// The number of processes.
    public let size: Int
    /// Nil for a group of one process started without `mpirun`.
    private let communicator: MPI_Comm?
    private let lock = NSLock()

    private init(rank: Int, size: Int, communicator: MPI_Comm?) {
        self.rank = rank
        self.size = size
        self.communicator = communicator
    }

    /// The world group: MPI initialized once (thread level serialized, errors returned) when
    /// launched by `mpirun`, otherwise a group of size 1. At exit MPI is finalized — or, when the
    /// process exits with a non-zero status, the whole job is aborted so that no rank waits for
    /// one that is gone. (A crash ends the job through `mpirun` itself.)
    public static func world() throws -> ProcessGroup {
        try worldResult.get()
    }

    private static let worldResult: Result<ProcessGroup, DistributedError> = {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMI_SIZE"] != nil
                || environment["PMIX_RANK"] != nil else {
            return .success(ProcessGroup(rank: 0, size: 1, communicator: nil))
        }
        var provided: Int32 = 0
        let status = MPI_Init_thread(nil, nil, attend_mpi_thread_serialized(), &provided)
        guard status == attend_mpi_success() else { return .failure(DistributedError("MPI_Init_thread failed: \(errorString(status))")) }
        guard provided >= attend_mpi_thread_serialized() else {
            return .failure(DistributedError("this MPI library provides thread level \(provided); Attend needs MPI_THREAD_SERIALIZED"))
        }
        attend_mpi_finalize_at_exit()   // finalize on a clean exit, abort every rank on a failing one
        let world = attend_mpi_comm_world()
        MPI_Comm_set_errhandler(world, attend_mpi_errors_return())
        var rank: Int32 = 0, size: Int32 = 0
        MPI_Comm_rank(world, &rank)
        MPI_Comm_size(world, &size)
        return .success(ProcessGroup(rank: Int(rank), size: Int(size), communicator: world))
    }()

    /// Every rank's `tensor` combined element by element; the result is the same on every rank.
    ///
    /// - Throws: ``DistributedError`` when MPI fails or the shapes differ between ranks.
    public func allReduce(_ tensor: Tensor, op: ReductionOperation) throws -> Tensor {
        try checkSameShape(tensor, operation: "allReduce")
        guard let communicator else { return tensor.detached }   // one process: every op leaves it as it is
        let operation = switch op {
        case .sum, .mean: attend_mpi_sum()
        case .max: attend_mpi_max()
        case .min: attend_mpi_min()
        }
        var result = Tensor(uninitializedShape: tensor.shape)     // MPI writes it: no copy of the input
        try tensor.withUnsafeScalars { send in
            try result.withUnsafeMutableScalars { receive in
                try call("MPI_Allreduce") {
                    MPI_Allreduce(send.baseAddress, receive.baseAddress, Int32(send.count), attend_mpi_float(), operation, communicator)
                }
                if op == .mean {
                    let scale = 1 / Float(size)
                    for index in receive.indices { receive[index] *= scale }
                }
            }
        }
        return result
    }

    /// The mean of every rank's `tensor`, summed on rank 0 (`MPI_Reduce`) and sent to all
    /// (`MPI_Bcast`), so every rank receives the same bits — an all-reduce may add in a different
    /// order on different ranks. What keeps data-parallel parameters identical.
    func meanOnRootThenBroadcast(_ tensor: Tensor) throws -> Tensor {
        try checkSameShape(tensor, operation: "meanOnRootThenBroadcast")
        guard let communicator else { return tensor.detached }
        var result = Tensor(uninitializedShape: tensor.shape)
        let scale = 1 / Float(size)
        try tensor.withUnsafeScalars { send in
            try result.withUnsafeMutableScalars { receive in
                try call("MPI_Reduce") {
                    MPI_Reduce(send.baseAddress, receive.baseAddress, Int32(send.count), attend_mpi_float(), attend_mpi_sum(),
                               0, communicator)
                }
                if rank == 0 { for index in receive.indices { receive[index] *= scale } }
                try call("MPI_Bcast") {
                    MPI_Bcast(receive.baseAddress, Int32(receive.count), attend_mpi_float(), 0, communicator)
                }
            }
        }
        return result
    }

    /// Rank `root`'s `tensor` on every rank (other ranks' values are ignored; shapes must agree).
    public func broadcast(_ tensor: Tensor, from root: Int) throws -> Tensor {
        guard (0..<size).contains(root) else { throw DistributedError("broadcast: root \(root) is not a rank of a group of \(size)") }
        try checkSameShape(tensor, operation: "broadcast")
        guard let communicator else { return tensor }
        var result = tensor.detached
        try result.withUnsafeMutableScalars { values in
            try call("MPI_Bcast") {
                MPI_Bcast(values.baseAddress, Int32(values.count), attend_mpi_float(), Int32(root), communicator)
            }
        }
        return result
    }

    /// Every rank's `tensor`, in rank order (shapes must agree).
    public func allGather(_ tensor: Tensor) throws -> [Tensor] {
        try checkSameShape(tensor, operation: "allGather")
        guard let communicator else { return [tensor] }
        var gathered = Tensor.zeros([size] + tensor.shape)   // [ranks, …shape]
        try tensor.withUnsafeScalars { local in
            try gathered.withUnsafeMutableScalars { all in
                try call("MPI_Allgather") {
                    MPI_Allgather(local.baseAddress, Int32(local.count), attend_mpi_float(),
                                  all.baseAddress, Int32(local.count), attend_mpi_float(), communicator)
                }
            }
        }
        return (0..<size).map { gathered.selecting(axis: 0, index: $0) }
    }

    /// Returns once every rank has called it.
    public func barrier() throws {
        guard let communicator else { return }
        try call("MPI_Barrier") { MPI_Barrier(communicator) }
    }

    /// Ends every rank of the group at once with `code` (`MPI_Abort`): what a rank that cannot
    /// go on calls, so the others exit instead of waiting in a collective forever.
    public func abort(code: Int32 = 1) -> Never {
        if let communicator { MPI_Abort(communicator, code) }
        exit(code)
    }

    // MARK: - Helpers

    /// Gathers every rank's shape (as 64-bit integers) and throws, naming the ranks, if they differ.
    private func checkSameShape(_ tensor: Tensor, operation: String) throws {
        guard let communicator else { return }
        guard tensor.scalarCount <= Int(Int32.max) else {
            throw DistributedError("\(operation): \(tensor.scalarCount) elements exceed MPI's 32-bit count")
        }
        let width = 9   // rank ≤ 8, then the shape
        guard tensor.rank < width else { throw DistributedError("\(operation): rank \(tensor.rank) tensors are not supported") }
        var local = [Int64](repeating: -1, count: width)
        local[0] = Int64(tensor.rank)
        for (axis, extent) in tensor.shape.enumerated() { local[axis + 1] = Int64(extent) }
        var all = [Int64](repeating: 0, count: width * size)
        try call("MPI_Allgather") {
            local.withUnsafeBufferPointer { local in
                all.withUnsafeMutableBufferPointer {
                    MPI_Allgather(local.baseAddress, Int32(width), attend_mpi_int64(), $0.baseAddress, Int32(width),
                                  attend_mpi_int64(), communicator)
                }
            }
        }
        let shapes = (0..<size).map { Array(all[($0 * width)..<(($0 + 1) * width)]) }
        if let different = shapes.firstIndex(where: { $0 != shapes[0] }) {
            func shape(_ row: [Int64]) -> [Int64] { Array(row.dropFirst().prefix(Int(row[0]))) }
            throw DistributedError("\(operation): rank 0 has shape \(shape(shapes[0])), rank \(different) has \(shape(shapes[different]))")
        }
    }

    private func call(_ name: String, _ body: () -> Int32) throws {
        lock.lock()
        defer { lock.unlock() }
        let status = body()
        guard status == attend_mpi_success() else {
            throw DistributedError("\(name) failed on rank \(rank): \(Self.errorString(status))")
        }
    }

    private static func errorString(_ status: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(attend_mpi_max_error_string()))
        var length: Int32 = 0
        MPI_Error_string(status, &buffer, &length)
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
