import CDNNL

/// The only place Attend talks to a matrix-product library: oneDNN's `dnnl_sgemm` (Debian's
/// `libdnnl-dev`), whose JIT picks its kernels from the CPU's features (AVX-512 where present,
/// whatever the vendor). Keeping the surface this small lets Accelerate stand in on Apple
/// platforms by changing this file alone.
///
/// Attend's thread pool is the one source of parallelism: Debian builds oneDNN on OpenMP, whose
/// thread count is a setting of each calling thread, so every call first sets the calling
/// thread's count to 1 and ``MatrixProduct`` splits large products across Attend's workers. An
/// OpenMP team is therefore never created, and nothing spins beside Attend's own threads.
/// (One backend: OpenBLAS was dropped — see docs/benchmarks.md for the measurements.)
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, where `op(X)` is `Xᵀ` when the
    /// matching `transpose` flag is set. `A` is `m×k` after `op`, `B` is `k×n`, `C` is `m×n`.
    @inline(__always)
    static func gemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        omp_set_num_threads(1)
        let status = dnnl_sgemm(
            transposeA ? 0x54 : 0x4E, transposeB ? 0x54 : 0x4E,   // "T" / "N"
            dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k),
            alpha, a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb),
            beta, c, dnnl_dim_t(ldc))
        precondition(status == dnnl_success, "dnnl_sgemm failed (status \(status.rawValue)) for m=\(m) n=\(n) k=\(k)")
    }

    /// The library behind ``gemm``, e.g. `"oneDNN 2.6.3 (dnnl_sgemm, OpenMP runtime, one thread per call)"`.
    static var configuration: String {
        guard let version = dnnl_version() else { return "oneDNN (version unknown)" }
        let v = version.pointee
        return "oneDNN \(v.major).\(v.minor).\(v.patch) (dnnl_sgemm; one OpenMP thread per call, split by Attend's pool)"
    }
}
