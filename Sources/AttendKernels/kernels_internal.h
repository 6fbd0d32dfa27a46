// Declarations shared by the kernel families and the dispatch table (not part of the public header).
//
// Every kernel `K` of `attend_kernel_table` is defined once per instruction set as `attend_K_portable`,
// `attend_K_avx2` and `attend_K_avx512`; the x86 variants exist only on x86-64.
#ifndef ATTEND_KERNELS_INTERNAL_H
#define ATTEND_KERNELS_INTERNAL_H

#include "AttendKernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#define ATTEND_X86 1
#include <immintrin.h>
/// Function attributes of each path: the code inside may use exactly these instructions. F16C
/// (half ↔ float, for the quantized blocks' fp16 scales) is part of both x86 paths: every CPU with
/// AVX2 has it, and the dispatch checks it.
#define ATTEND_AVX2 __attribute__((target("avx2,fma,f16c")))
#define ATTEND_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma,f16c")))
/// AVX-512 plus VNNI (vpdpbusd): only for bodies chosen inside an AVX-512 kernel once the CPU is
/// known to have it (quantized.c, quantized_blocks.c).
#define ATTEND_AVX512_VNNI __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,avx512vnni,avx2,fma,f16c")))
#else
#define ATTEND_X86 0
#endif

#define ATTEND_DECLARE_FOR_EACH_ISA(declare) \
    declare(portable)                        \
    ATTEND_DECLARE_X86(declare)
#if ATTEND_X86
#define ATTEND_DECLARE_X86(declare) declare(avx2) declare(avx512)
#else
#define ATTEND_DECLARE_X86(declare)
#endif

/// quantized_linear's parameter list, shared by every variant and the AVX-512 path's two bodies.
#define ATTEND_QUANTIZED_LINEAR(name)                                                                        \
    void name(const uint8_t *q, size_t ldq, const float *x_scales, const int32_t *x_zero_points, size_t rows, \
              size_t k, const int8_t *packed, const int32_t *column_sums, const float *w_scales,            \
              const float *bias, size_t n, float *y, size_t ldy)

#define ATTEND_DECLARE_KERNELS(isa)                                                                          \
    void attend_exp_##isa(const float *x, float *y, size_t n);                                               \
    float attend_exp_shifted_sum_##isa(const float *x, float *y, size_t n, float shift);                     \
    float attend_max_##isa(const float *x, size_t n);                                                        \
    double attend_sum_##isa(const float *x, size_t n);                                                       \
    void attend_softmax_##isa(const float *x, float *y, size_t n);                                           \
    void attend_log_softmax_##isa(const float *x, float *y, size_t n);                                       \
    void attend_online_softmax_step_##isa(float *scores, size_t n, float *running_max, float *running_sum,   \
                                          float *output, size_t output_n);                                   \
    void attend_gelu_##isa(const float *x, float *y, size_t n);                                              \
    void attend_gelu_backward_##isa(const float *g, const float *x, float *dx, size_t n);                    \
    void attend_gelu_tanh_##isa(const float *x, float *y, size_t n);                                         \
    void attend_gelu_tanh_backward_##isa(const float *g, const float *x, float *dx, size_t n);               \
    void attend_silu_##isa(const float *x, float *y, size_t n);                                              \
    void attend_silu_backward_##isa(const float *g, const float *x, float *dx, size_t n);                    \
    void attend_sigmoid_##isa(const float *x, float *y, size_t n);                                           \
    void attend_tanh_##isa(const float *x, float *y, size_t n);                                              \
    void attend_layer_norm_##isa(const float *x, const float *gamma, const float *beta, float epsilon,       \
                                 size_t rows, size_t n, float *y, float *normalized, float *inverse_deviation); \
    void attend_layer_norm_backward_##isa(const float *g, const float *gamma, const float *normalized,       \
                                          const float *inverse_deviation, size_t rows, size_t n, float *dx); \
    void attend_rms_norm_##isa(const float *x, const float *gamma, float epsilon, size_t rows, size_t n,     \
                               float *y, float *inverse_rms);                                                \
    void attend_rms_norm_backward_##isa(const float *g, const float *gamma, const float *x,                  \
                                        const float *inverse_rms, size_t rows, size_t n, float *dx);         \
    void attend_matvec_##isa(const float *a, size_t lda, const float *x, float *y, size_t rows, size_t k);  \
    void attend_vecmat_##isa(const float *x, const float *b, size_t ldb, float *y, size_t k, size_t n);     \
    void attend_quantize_rows_u8_##isa(const float *x, size_t ldx, size_t rows, size_t k, uint8_t *q,        \
                                       size_t ldq, float *scales, int32_t *zero_points);                     \
    void attend_pack_weights_s8_##isa(const int8_t *w, size_t ldw, size_t n, size_t k, int8_t *packed,      \
                                      int32_t *column_sums);                                                 \
    ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_##isa);                                                  \
    ATTEND_DECLARE_BLOCK_KERNELS(isa)

/// quantized_blocks.c: ggml's block formats.
#define ATTEND_DECLARE_BLOCK_KERNELS(isa)                                                                    \
    void attend_dequantize_q4_0_##isa(const void *blocks, float *y, size_t n);                               \
    void attend_dequantize_q4_1_##isa(const void *blocks, float *y, size_t n);                               \
    void attend_dequantize_q8_0_##isa(const void *blocks, float *y, size_t n);                               \
    void attend_dequantize_f16_##isa(const void *x, float *y, size_t n);                                     \
    void attend_dequantize_bf16_##isa(const void *x, float *y, size_t n);                                    \
    void attend_quantize_row_q8_##isa(const float *x, attend_block_q8 *y, size_t n);                         \
    ATTEND_MATVEC_Q8(attend_matvec_q4_0_q8_##isa);                                                           \
    ATTEND_MATVEC_Q8(attend_matvec_q4_1_q8_##isa);                                                           \
    ATTEND_MATVEC_Q8(attend_matvec_q8_0_q8_##isa);                                                           \
    ATTEND_MATMUL_Q8(attend_matmul_q4_0_q8_##isa);                                                           \
    ATTEND_MATMUL_Q8(attend_matmul_q4_1_q8_##isa);                                                           \
    ATTEND_MATMUL_Q8(attend_matmul_q8_0_q8_##isa);                                                           \
    void attend_quantize_row_q16_##isa(const float *x, attend_block_q16 *y, size_t n);                       \
    ATTEND_MATVEC_Q16(attend_matvec_q4_0_q16_##isa);                                                         \
    ATTEND_MATVEC_Q16(attend_matvec_q4_1_q16_##isa);                                                         \
    ATTEND_MATVEC_Q16(attend_matvec_q8_0_q16_##isa);                                                         \
    ATTEND_MATMUL_Q16(attend_matmul_q4_0_q16_##isa);                                                         \
    ATTEND_MATMUL_Q16(attend_matmul_q4_1_q16_##isa);                                                         \
    ATTEND_MATMUL_Q16(attend_matmul_q8_0_q16_##isa);

/// The parameter lists of the block matvec and matmul, shared by every variant and body.
#define ATTEND_MATVEC_Q8(name) \
    void name(const void *w, size_t row_bytes, const attend_block_q8 *x, float *y, size_t rows, size_t k)
#define ATTEND_MATMUL_Q8(name)                                                                               \
    void name(const void *w, size_t row_bytes, const attend_block_q8 *x, size_t x_stride_blocks, float *y,   \
              size_t y_stride, size_t rows, size_t k, size_t n_tokens)
#define ATTEND_MATVEC_Q16(name) \
    void name(const void *w, size_t row_bytes, const attend_block_q16 *x, float *y, size_t rows, size_t k)
#define ATTEND_MATMUL_Q16(name)                                                                              \
    void name(const void *w, size_t row_bytes, const attend_block_q16 *x, size_t x_stride_blocks, float *y,  \
              size_t y_stride, size_t rows, size_t k, size_t n_tokens)

ATTEND_DECLARE_FOR_EACH_ISA(ATTEND_DECLARE_KERNELS)

#if ATTEND_X86
/// The AVX-512 quantized_linear's two bodies, which it picks between once (tests call both):
/// VNNI's vpdpbusd, and AVX-512BW alone (bytes widened to int16, vpmaddwd), for CPUs without VNNI.
ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_avx512_vnni);
ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_avx512_bw);
/// The AVX-512 block products' VNNI bodies (without VNNI the AVX-512 entries run the AVX2 ones).
ATTEND_MATVEC_Q8(attend_matvec_q4_0_q8_avx512_vnni);
ATTEND_MATVEC_Q8(attend_matvec_q4_1_q8_avx512_vnni);
ATTEND_MATVEC_Q8(attend_matvec_q8_0_q8_avx512_vnni);
ATTEND_MATMUL_Q8(attend_matmul_q4_0_q8_avx512_vnni);
ATTEND_MATMUL_Q8(attend_matmul_q4_1_q8_avx512_vnni);
ATTEND_MATMUL_Q8(attend_matmul_q8_0_q8_avx512_vnni);
ATTEND_MATMUL_Q16(attend_matmul_q4_0_q16_avx512_vnni);
ATTEND_MATMUL_Q16(attend_matmul_q4_1_q16_avx512_vnni);
ATTEND_MATMUL_Q16(attend_matmul_q8_0_q16_avx512_vnni);
#endif

#endif
