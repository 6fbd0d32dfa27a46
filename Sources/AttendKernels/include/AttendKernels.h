// AttendKernels: Attend's hot loops in C, one variant per instruction set, chosen at run time.
//
// Swift compiles for baseline x86-64 (SSE2) and a package may not pass target flags, so every
// kernel here exists three times side by side in its family's file — AVX-512 (F, VL, BW, DQ),
// AVX2 + FMA, portable C — each compiled with a per-function `target` attribute. At start a
// dispatch table is picked from CPU feature bits (never CPU names); `ATTEND_ISA=avx512|avx2|
// portable` forces a lower path, never a higher one than the CPU has. The portable variant is
// the oracle the others are tested against, and the only one built on other architectures.
//
// Conventions: `n` counts floats; input and output may be the same buffer where a kernel says
// so; NULL `gamma`/`beta` mean 1 and 0. Every kernel is single-threaded: Attend's thread pool
// splits the work and calls a kernel per chunk.
#ifndef ATTEND_KERNELS_H
#define ATTEND_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction-set paths, lowest first.
typedef enum attend_isa {
    ATTEND_ISA_PORTABLE = 0,
    ATTEND_ISA_AVX2 = 1,     // AVX2 + FMA + F16C (256-bit)
    ATTEND_ISA_AVX512 = 2,   // AVX-512 F, VL, BW, DQ (512-bit), + F16C; VNNI used where present
} attend_isa;

/// Weights per block of ggml's block formats (Q4_0, Q4_1, Q8_0) and of attend_block_q8.
#define ATTEND_QK 32
/// Bytes per block of ggml's formats (ggml-common.h), packed, so blocks are not aligned:
///   Q4_0 {fp16 d; uint8 qs[16]}         w[j] = d·((qs[j] & 15) − 8), w[j+16] = d·((qs[j] >> 4) − 8)
///   Q4_1 {fp16 d; fp16 m; uint8 qs[16]} w[j] = d·(qs[j] & 15) + m,   w[j+16] = d·(qs[j] >> 4) + m
///   Q8_0 {fp16 d; int8 qs[32]}          w[j] = d·qs[j]
/// A [rows, k] matrix stores each row as k/32 consecutive blocks (row stride k/32 · block bytes).
#define ATTEND_Q4_0_BLOCK_BYTES 18
#define ATTEND_Q4_1_BLOCK_BYTES 20
#define ATTEND_Q8_0_BLOCK_BYTES 34

/// 32 activations quantized for the quantized products (ggml's block_q8_1, with float scales):
///   d = max|x|/127,  qs[j] = nearbyint(x[j]·(1/d)) (half to even),  s = d·Σ qs   (float, rounded once)
/// s carries Σx for Q4_1's offset m: Σⱼ (d_w·q_w + m)·(d·qs) = d_w·d·Σ q_w·qs + m·s.
typedef struct attend_block_q8 {
    float d;
    float s;
    int8_t qs[ATTEND_QK];
} attend_block_q8;

/// 32 activations quantized to 16 bits for the quantized products (80 bytes; the same products
/// with ~256× finer activation rounding than attend_block_q8):
///   d = max|x|/32767,  qs[j] = nearbyint(x[j]·(1/d)) (half to even, |qs| ≤ 32767),
///   s = Σⱼ x[j] in float (the exact inputs, not d·Σ qs: Q4_1's m·s then carries no activation
///       rounding), summed pairwise in one fixed order on every path:
///       t[j] = x[j] + x[j+16] (j < 16), then t[j] + t[j+8], t[j] + t[j+4], t[j] + t[j+2], t[0] + t[1],
///   sum = Σⱼ qs[j] (exact), for Q4_0's −8 correction: Σⱼ (q_w − 8)·qs = Σⱼ q_w·qs − 8·sum.
typedef struct attend_block_q16 {
    float d;
    float s;
    int32_t sum;
    int32_t pad;   // 0; puts qs at byte 16
    int16_t qs[ATTEND_QK];
} attend_block_q16;

/// One implementation of every kernel, for one instruction set.
typedef struct attend_kernel_table {
    attend_isa isa;

    // --- Exponentials and reductions (exp.c, reduction.c) ---------------------------------
    /// y = eˣ over the full float range, ≤ 2 ulp: eˣ(−∞) = 0, eˣ(+∞) = +∞, NaN stays NaN,
    /// subnormal results kept. In place allowed.
    void (*_Nonnull exp)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    /// y = e^(x − shift) for arguments ≤ 0 (a softmax row minus its maximum), relative error
    /// < 4·10⁻⁷; arguments below −87.3 (and −∞) give exactly 0; NaN arguments give NaN; a NaN
    /// shift fills y with NaN. Returns Σ y (accumulated so that long rows stay accurate).
    /// In place allowed.
    float (*_Nonnull exp_shifted_sum)(const float *_Nonnull x, float *_Nonnull y, size_t n, float shift);
    /// The largest element; NaN if any element is NaN; −∞ when n = 0.
    float (*_Nonnull max)(const float *_Nonnull x, size_t n);
    /// Σ x, float lanes summed into a double every 1,024 elements.
    double (*_Nonnull sum)(const float *_Nonnull x, size_t n);

    // --- Softmax rows (softmax.c) ----------------------------------------------------------
    /// y = softmax(x) of one row: e^(x − max) / Σ. A row of −∞ gives zeros; a row holding NaN
    /// (or +∞, whose x − max is NaN) gives NaN. In place allowed.
    void (*_Nonnull softmax)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    /// y = x − max − log Σ e^(x − max). A row of −∞ stays −∞; NaN as softmax. In place allowed.
    void (*_Nonnull log_softmax)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    /// One row of one key tile of fused attention (FlashAttention's online softmax):
    ///   m′ = max(m, max s)   (NaN if m or any s is NaN)
    ///   if m′ = −∞: s = 0, nothing else changes (every key so far is masked)
    ///   s = e^(s − m′);  c = (m = −∞) ? 1 : e^(m − m′);  ℓ = ℓ·c + Σ s;  o ·= c (skipped when c = 1);  m = m′
    /// `scores` (n floats) is overwritten with the unnormalized weights; `output` holds
    /// `output_n` floats (the row of O).
    void (*_Nonnull online_softmax_step)(float *_Nonnull scores, size_t n, float *_Nonnull running_max,
                                         float *_Nonnull running_sum, float *_Nonnull output, size_t output_n);

    // --- Activations (activation.c): forward y = f(x); backward dx = g · f′(x) --------------
    /// GELU, x·Φ(x) = ½x(1 + erf(x/√2)), erf within 1.5·10⁻⁷ absolute (A&S 7.1.26, as PyTorch's
    /// vectorized kernels).
    void (*_Nonnull gelu)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    void (*_Nonnull gelu_backward)(const float *_Nonnull g, const float *_Nonnull x, float *_Nonnull dx, size_t n);
    /// GELU, tanh form: ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    void (*_Nonnull gelu_tanh)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    void (*_Nonnull gelu_tanh_backward)(const float *_Nonnull g, const float *_Nonnull x, float *_Nonnull dx, size_t n);
    /// SiLU (swish), x·σ(x).
    void (*_Nonnull silu)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    void (*_Nonnull silu_backward)(const float *_Nonnull g, const float *_Nonnull x, float *_Nonnull dx, size_t n);
    /// σ(x) = 1/(1 + e⁻ˣ), without overflow on either side.
    void (*_Nonnull sigmoid)(const float *_Nonnull x, float *_Nonnull y, size_t n);
    /// tanh(x), within 2·10⁻⁷ absolute and a few ulp relative; ±1 for large |x|, odd.
    void (*_Nonnull tanh)(const float *_Nonnull x, float *_Nonnull y, size_t n);

    // --- Normalization rows (normalization.c), `rows` rows of `n` features, contiguous ------
    /// LayerNorm: μ, σ² (population) per row; r = 1/√(σ² + ε); x̂ = (x − μ)·r; y = x̂·γ + β.
    /// Writes y, x̂ (`normalized`, may be NULL when not needed) and r per row
    /// (`inverse_deviation`, may be NULL). Mean and variance in two passes with double totals.
    void (*_Nonnull layer_norm)(const float *_Nonnull x, const float *_Nullable gamma, const float *_Nullable beta,
                                float epsilon, size_t rows, size_t n, float *_Nonnull y,
                                float *_Nullable normalized, float *_Nullable inverse_deviation);
    /// LayerNorm's input gradient: ĝ = g·γ; dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)).
    void (*_Nonnull layer_norm_backward)(const float *_Nonnull g, const float *_Nullable gamma,
                                         const float *_Nonnull normalized, const float *_Nonnull inverse_deviation,
                                         size_t rows, size_t n, float *_Nonnull dx);
    /// RMSNorm: r = 1/√(mean(x²) + ε) per row (double total); y = x·r·γ. Writes r per row
    /// (`inverse_rms`, may be NULL).
    void (*_Nonnull rms_norm)(const float *_Nonnull x, const float *_Nullable gamma, float epsilon,
                              size_t rows, size_t n, float *_Nonnull y, float *_Nullable inverse_rms);
    /// RMSNorm's input gradient: ĝ = g·γ; dx = r·ĝ − x·r³·mean(ĝ·x).
    void (*_Nonnull rms_norm_backward)(const float *_Nonnull g, const float *_Nullable gamma,
                                       const float *_Nonnull x, const float *_Nonnull inverse_rms,
                                       size_t rows, size_t n, float *_Nonnull dx);

    // --- Single-row products (matrix_vector.c), bound by reading the matrix once ------------
    /// y = A·x: A is `rows` × `k`, row-major with row stride `lda`; y holds `rows` floats.
    void (*_Nonnull matvec)(const float *_Nonnull a, size_t lda, const float *_Nonnull x, float *_Nonnull y,
                            size_t rows, size_t k);
    /// y = xᵀ·B: B is `k` × `n`, row-major with row stride `ldb`; y holds `n` floats (overwritten).
    void (*_Nonnull vecmat)(const float *_Nonnull x, const float *_Nonnull b, size_t ldb, float *_Nonnull y,
                            size_t k, size_t n);

    // --- Int8 Linear (quantized.c): y = x·Wᵀ + b with x quantized per row to uint8 at run time and
    //     W per output channel to int8 ahead of time; the products are exact in int32 ------------
    /// Dynamic asymmetric uint8 quantization of `rows` rows of `k` floats (row stride `ldx`), each
    /// row with its own scale and zero point, so that x ≈ scale·(q − zero_point):
    ///   lo = min(0, min x), hi = max(0, max x)   (0 is represented exactly)
    ///   scale = (hi − lo)/255, the difference taken in double and the quotient rounded to float
    ///           once; scale = 1 when that is below FLT_MIN, i.e. hi − lo < 3·10⁻³⁶ (a row of
    ///           zeros, or values so small that 1/scale would overflow: q and zero_point are 0)
    ///   inverse = 1/scale (float);  zero_point = clamp(nearbyint(−lo·inverse), 0, 255)
    ///   q = clamp(nearbyint(x·inverse) + zero_point, 0, 255)
    /// with x·inverse rounded to float and nearbyint rounding half to even. Writes q (`rows` rows
    /// of `ldq` ≥ k bytes; bytes k..<ldq of each row are set to 0: pass k rounded up to a multiple
    /// of 4, as quantized_linear reads q in groups of 4), `scales` and `zero_points` (one per row).
    /// A row holding NaN or ±∞ gets scale NaN, zero point 0 and q = 0, so that its outputs in
    /// quantized_linear are NaN. Every path gives the same bytes and scales.
    void (*_Nonnull quantize_rows_u8)(const float *_Nonnull x, size_t ldx, size_t rows, size_t k,
                                      uint8_t *_Nonnull q, size_t ldq, float *_Nonnull scales,
                                      int32_t *_Nonnull zero_points);
    /// Packs an int8 weight matrix W — `n` output channels × `k` inputs, row-major with row stride
    /// `ldw` (PyTorch's Linear weight) — once, into the layout every path of quantized_linear reads:
    /// blocks of 16 channels; within a block, for each group g of 4 consecutive k, 16 lanes × 4 bytes
    ///   packed[((block·K4 + g)·16 + lane)·4 + t] = W[16·block + lane][4g + t],   K4 = ⌈k/4⌉,
    /// 0 for channels ≥ n and inputs ≥ k: attend_packed_weights_size(n, k) bytes (one block, K4
    /// zmm registers of AVX-512 VNNI's vpdpbusd, is contiguous). Also writes
    /// column_sums[j] = Σₖ W[j][k] (`n` int32s), for the zero-point correction.
    void (*_Nonnull pack_weights_s8)(const int8_t *_Nonnull w, size_t ldw, size_t n, size_t k,
                                     int8_t *_Nonnull packed, int32_t *_Nonnull column_sums);
    /// y = x·Wᵀ + bias from quantize_rows_u8's q, scales and zero points and pack_weights_s8's
    /// packed W and column sums, W's per-channel scales `w_scales` (`n` floats) and `bias` (`n`
    /// floats, or NULL for none):
    ///   acc[r][j] = Σₖ q[r][k]·W[j][k]   in int32, exact for k ≤ 65,793 (= ⌊2³¹/(255·128)⌋)
    ///   y[r][j]   = fmaf((float)(acc − zero_points[r]·column_sums[j]), x_scales[r]·w_scales[j],
    ///                    bias ? bias[j] : 0)
    /// with the scale product rounded to float before the one fused multiply-add, so every path
    /// gives the same bits. Reads `rows` rows of q (stride `ldq` ≥ ⌈k/4⌉·4) up to byte ⌈k/4⌉·4:
    /// the bytes past k meet zero weights, so whatever they hold adds 0. Writes `rows` rows of `n`
    /// floats to y (stride `ldy` ≥ n), nothing else. The AVX-512 path uses VNNI (vpdpbusd) when the
    /// CPU has it, else an exact AVX-512BW body (bytes widened to int16, vpmaddwd).
    /// To split the channels between threads, cut them at a multiple of 16, j₀: that part is the
    /// call with packed + j₀·⌈k/4⌉·4, column_sums + j₀, w_scales + j₀, bias + j₀, y + j₀ and its
    /// own n (rows split plainly).
    void (*_Nonnull quantized_linear)(const uint8_t *_Nonnull q, size_t ldq, const float *_Nonnull x_scales,
                                      const int32_t *_Nonnull x_zero_points, size_t rows, size_t k,
                                      const int8_t *_Nonnull packed, const int32_t *_Nonnull column_sums,
                                      const float *_Nonnull w_scales, const float *_Nullable bias, size_t n,
                                      float *_Nonnull y, size_t ldy);

    // --- ggml's block formats (quantized_blocks.c): GGUF weights kept 4- or 8-bit in memory ---
    //     (block layouts at ATTEND_Q4_0_BLOCK_BYTES). Pointers to blocks need no alignment.
    /// y = the `n` weights of `n`/32 consecutive blocks (n a multiple of 32), bit for bit as
    /// gguf-py (numpy, float32) dequantizes them: Q4_1 is d·q + m with the product rounded before
    /// the sum (no fused multiply-add), Q4_0 d·(q − 8), Q8_0 d·q; fp16 scales converted exactly.
    void (*_Nonnull dequantize_q4_0)(const void *_Nonnull blocks, float *_Nonnull y, size_t n);
    void (*_Nonnull dequantize_q4_1)(const void *_Nonnull blocks, float *_Nonnull y, size_t n);
    void (*_Nonnull dequantize_q8_0)(const void *_Nonnull blocks, float *_Nonnull y, size_t n);
    /// y = `n` IEEE half / bfloat16 values widened to float, exactly (any n; subnormals kept,
    /// ±∞ kept, a NaN stays NaN with its payload and the quiet bit set, as F16C's vcvtph2ps).
    void (*_Nonnull dequantize_f16)(const void *_Nonnull x, float *_Nonnull y, size_t n);
    void (*_Nonnull dequantize_bf16)(const void *_Nonnull x, float *_Nonnull y, size_t n);
    /// `n`/32 attend_block_q8 from `n` floats (n a multiple of 32), as attend_block_q8 says, with
    /// 1/d and x·(1/d) rounded to float and nearbyint rounding half to even (the default rounding
    /// mode). A block with max|x| < 127·FLT_MIN (≈1.5·10⁻³⁶, zeros included) gets d = s = 0 and
    /// qs = 0. x must be finite. Every path gives the same bytes and floats.
    void (*_Nonnull quantize_row_q8)(const float *_Nonnull x, attend_block_q8 *_Nonnull y, size_t n);
    /// y[r] = Σ over row r's k/32 blocks b of the weights W (Q4_0, Q4_1, Q8_0; row r starts at
    /// w + r·row_bytes) against the quantized activations x[b]:
    ///   Q4_1:  (d_w·x.d)·Σⱼ q_w·x.qs + m_w·x.s
    ///   Q4_0:  (d_w·x.d)·Σⱼ (q_w − 8)·x.qs        Q8_0:  (d_w·x.d)·Σⱼ q_w·x.qs
    /// The integer sums are exact; the float sum over blocks runs in an order of each path's own
    /// (so paths differ by float rounding, ≤ ~1e-6 of Σ|terms|). k a multiple of 32; `rows` any.
    /// Rows are independent: split them between threads at any row.
    void (*_Nonnull matvec_q4_0_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    float *_Nonnull y, size_t rows, size_t k);
    void (*_Nonnull matvec_q4_1_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    float *_Nonnull y, size_t rows, size_t k);
    void (*_Nonnull matvec_q8_0_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    float *_Nonnull y, size_t rows, size_t k);
    /// The matvec for `n_tokens` activation rows at once (a prompt): token t's blocks start at
    /// x + t·x_stride_blocks, its outputs at y + t·y_stride (`rows` floats each):
    ///   y[t·y_stride + r] = matvec(W row r, token t)
    /// with the same integer sums. AVX-512 with VNNI repacks 16-row panels of W to int8 and runs a
    /// 32-row × 4-token register tile (several times the float32 GEMM's rate); the other paths run
    /// the matvec per token over panels of rows that stay in L1. Split rows or tokens between threads.
    void (*_Nonnull matmul_q4_0_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                    size_t k, size_t n_tokens);
    void (*_Nonnull matmul_q4_1_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                    size_t k, size_t n_tokens);
    void (*_Nonnull matmul_q8_0_q8)(const void *_Nonnull w, size_t row_bytes, const attend_block_q8 *_Nonnull x,
                                    size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                    size_t k, size_t n_tokens);

    // --- The same products with 16-bit activations (attend_block_q16) ---
    /// `n`/32 attend_block_q16 from `n` floats (n a multiple of 32), as attend_block_q16 says, with
    /// 1/d and x·(1/d) rounded to float and nearbyint rounding half to even. A block with
    /// max|x| < 32767·FLT_MIN (≈3.9·10⁻³⁴, zeros included) gets d = 0 and qs = sum = 0 (s is still
    /// Σx). x must be finite (s may overflow to ±∞ when |Σx| does). Every path gives the same bytes
    /// and floats.
    void (*_Nonnull quantize_row_q16)(const float *_Nonnull x, attend_block_q16 *_Nonnull y, size_t n);
    /// y[r] = Σ over row r's k/32 blocks b of the weights W (Q4_0, Q4_1, Q8_0; row r starts at
    /// w + r·row_bytes) against the 16-bit activations x[b]:
    ///   Q4_1:  (d_w·x.d)·Σⱼ q_w·x.qs + m_w·x.s
    ///   Q4_0:  (d_w·x.d)·(Σⱼ q_w·x.qs − 8·x.sum)        Q8_0:  (d_w·x.d)·Σⱼ q_w·x.qs
    /// The integer sums are exact in int32 (|Σ| ≤ 32·128·32767 < 2³¹); the float sum over blocks
    /// runs in an order of each path's own (paths differ by float rounding, ≤ ~1e-6 of Σ|terms|).
    /// k a multiple of 32; `rows` any. Rows are independent: split them between threads at any row.
    /// The vector paths widen the weights to int16 words and use vpmaddwd (vpdpwssd with AVX-512
    /// VNNI); for Q4_0/Q4_1 they fold 4 rows' exact sums into one vector before the float work.
    void (*_Nonnull matvec_q4_0_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     float *_Nonnull y, size_t rows, size_t k);
    void (*_Nonnull matvec_q4_1_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     float *_Nonnull y, size_t rows, size_t k);
    void (*_Nonnull matvec_q8_0_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     float *_Nonnull y, size_t rows, size_t k);
    /// The q16 matvec for `n_tokens` activation rows at once (a prompt): token t's blocks start at
    /// x + t·x_stride_blocks, its outputs at y + t·y_stride (`rows` floats each), the same integer
    /// sums. AVX-512 with VNNI repacks 16-row panels of W to int16 and runs a 32-row × 4-token
    /// register tile of vpdpwssd (1.2–1.9× dequantize + oneDNN sgemm on one Zen 4 core); the
    /// other paths run the matvec per token over panels of rows that stay in L1.
    /// Split rows or tokens between threads.
    void (*_Nonnull matmul_q4_0_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                     size_t k, size_t n_tokens);
    void (*_Nonnull matmul_q4_1_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                     size_t k, size_t n_tokens);
    void (*_Nonnull matmul_q8_0_q16)(const void *_Nonnull w, size_t row_bytes, const attend_block_q16 *_Nonnull x,
                                     size_t x_stride_blocks, float *_Nonnull y, size_t y_stride, size_t rows,
                                     size_t k, size_t n_tokens);
} attend_kernel_table;

/// Bytes of pack_weights_s8's output for `n` channels × `k` inputs: ⌈n/16⌉·16 · ⌈k/4⌉·4.
size_t attend_packed_weights_size(size_t n, size_t k);

/// The table in use: the best path the CPU supports, or the one `ATTEND_ISA` forces (a request
/// above what the CPU has falls back to the best it has, with a warning on stderr). Chosen once.
const attend_kernel_table *_Nonnull attend_kernels(void);

/// The table for `isa`, or NULL when this CPU (or this build's architecture) lacks it. Tests
/// use it to compare every path with the portable one in one process.
const attend_kernel_table *_Nullable attend_kernels_for(attend_isa isa);

/// The best path this CPU supports, ignoring `ATTEND_ISA`.
attend_isa attend_isa_supported(void);

/// "avx512", "avx2" or "portable".
const char *_Nonnull attend_isa_name(attend_isa isa);

/// The best rate, in FLOP/s, that one thread reaches over `seconds` of independent fused
/// multiply-adds on `isa`'s registers (0 when the CPU lacks it): this core's ceiling for
/// float32 compute. Run it on as many threads at once as the rate should cover.
double attend_fma_probe(attend_isa isa, double seconds);

/// Names the calling thread (Linux keeps the first 15 bytes; elsewhere nothing happens), so that
/// `top -H`, profilers and tests can tell Attend's pool workers apart.
void attend_name_current_thread(const char *_Nonnull name);

/// What the CPU says of itself, for `attend info`.
typedef struct attend_cpu_description {
    char vendor[16];        // "AuthenticAMD", "GenuineIntel", … ("" off x86)
    char brand[64];         // the brand string, e.g. "AMD EPYC 9R45 …" ("" when absent)
    int family, model, stepping;   // display family/model (extended fields folded in)
    char features[256];     // space-separated: the features the dispatch looks at, as found
} attend_cpu_description;

/// Fills `description` from CPUID (zeroed fields off x86).
void attend_describe_cpu(attend_cpu_description *_Nonnull description);

#ifdef __cplusplus
}
#endif
#endif
