import CBLAS

/// The only place Attend talks to BLAS. Keeping the surface this small lets Accelerate
/// stand in for OpenBLAS on Apple platforms by changing this file alone.
///
/// OpenBLAS runs single-threaded inside Attend: ``Parallelism`` splits large products
/// across its own workers, so a BLAS call made inside a parallel region never
/// oversubscribes the cores.
enum BLAS {
    /// `C = alpha · op(A) · op(B) + beta · C`, row-major, where `op(X)` is `Xᵀ` when the
    /// matching `transpose` flag is set. `A` is `m×k` after `op`, `B` is `k×n`, `C` is `m×n`.
    static func gemm(
        transposeA: Bool, transposeB: Bool,
        m: Int, n: Int, k: Int,
        alpha: Float,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor,
            transposeA ? CblasTrans : CblasNoTrans,
            transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k),
            alpha, a, blasint(lda), b, blasint(ldb),
            beta, c, blasint(ldc))
    }

    /// `y = alpha · op(A) · x + beta · y`, row-major `A` of `m × n` (`op(A)` is `Aᵀ` when
    /// `transpose` is set), with `x` and `y` unit-stride. Unlike sgemm it never packs `A`,
    /// which makes vector–matrix products (decoding steps) read the weights once.
    static func gemv(
        transpose: Bool, m: Int, n: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, x: UnsafePointer<Float>,
        beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, blasint(m), blasint(n),
                    alpha, a, blasint(lda), x, 1, beta, y, 1)
    }

    /// Sets the number of threads OpenBLAS itself may use for one call.
    static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(count))
    }

    /// OpenBLAS's build configuration and the CPU kernel set it selected, e.g.
    /// `"OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64 (SkylakeX)"`.
    static var configuration: String {
        let config = openblas_get_config().map { String(cString: $0) } ?? "unknown"
        let core = openblas_get_corename().map { String(cString: $0) } ?? "unknown"
        return "\(config) (kernels: \(core))"
    }
}
