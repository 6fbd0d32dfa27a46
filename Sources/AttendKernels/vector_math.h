// The math shared by the kernel families, once per instruction set: the two exponentials, tail
// masks, horizontal reductions, and the loops of elementwise maps. Everything is `static inline`,
// and each x86 helper carries the target attribute of the kernels that call it, so it inlines
// into them.
//
// The portable scalar forms evaluate the same polynomials in the same order as the vector forms
// (which fuse multiply-adds), so every path agrees with the portable one to a few ulp.
#ifndef ATTEND_VECTOR_MATH_H
#define ATTEND_VECTOR_MATH_H

#include "kernels_internal.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/// Floats accumulated in float lanes before the lanes are folded into a double total.
#define ATTEND_SUM_BLOCK 1024

/// Σ e^(xᵢ − shift) without writing anything: `exp_shifted_sum` for callers that must keep x
/// (log_softmax in place). Defined in exp.c.
float attend_sum_exp_shifted_portable(const float *x, size_t n, float shift);
#if ATTEND_X86
float attend_sum_exp_shifted_avx2(const float *x, size_t n, float shift);
float attend_sum_exp_shifted_avx512(const float *x, size_t n, float shift);
#endif

// MARK: - Constants of the exponentials

#define ATTEND_LOG2E 1.44269504f
/// 1.5·2²³: adding it rounds |t| < 2²² to an integer held in the low mantissa bits.
#define ATTEND_ROUNDING_SHIFT 12582912.0f

// Cephes expf: range [−103.5, 88.75]; ln 2 split in two (the first part exact in 9 bits).
#define ATTEND_EXP_LOW -103.5f
#define ATTEND_EXP_HIGH 88.75f
#define ATTEND_LN2_HIGH 0.693359375f
#define ATTEND_LN2_LOW -2.12194440e-4f
#define ATTEND_EXP_P0 1.9875691500e-4f
#define ATTEND_EXP_P1 1.3981999507e-3f
#define ATTEND_EXP_P2 8.3334519073e-3f
#define ATTEND_EXP_P3 4.1665795894e-2f
#define ATTEND_EXP_P4 1.6666665459e-1f
#define ATTEND_EXP_P5 5.0000001201e-1f

// eˣ for x ≤ 0 as 2ⁿ·2ᶠ, |f| ≤ ½ (about): a degree-5 near-minimax polynomial for 2ᶠ.
#define ATTEND_EXP_NONPOSITIVE_LOW -87.3f
#define ATTEND_EXP2_Q0 1.3057118e-3f
#define ATTEND_EXP2_Q1 9.6789878e-3f
#define ATTEND_EXP2_Q2 5.551644e-2f
#define ATTEND_EXP2_Q3 2.4022086e-1f
#define ATTEND_EXP2_Q4 6.9314605e-1f

// MARK: - Portable scalars

static inline uint32_t attend_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline float attend_from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/// eˣ over the full range (Cephes expf): x = n·ln2 + r, |r| ≤ ½ln2; eʳ by a degree-6
/// polynomial; 2ⁿ applied in two halves so that subnormal results are rounded once.
/// The clamp lets NaN through (comparisons with NaN are false), and NaN propagates through
/// the arithmetic; x > 88.75 overflows to +∞ by itself; x < −103.5 (and −∞) gives 0.
static inline float exp_scalar(float x) {
    float c = x < ATTEND_EXP_LOW ? ATTEND_EXP_LOW : x;
    c = c > ATTEND_EXP_HIGH ? ATTEND_EXP_HIGH : c;
    float shifted = c * ATTEND_LOG2E + ATTEND_ROUNDING_SHIFT;
    float n = shifted - ATTEND_ROUNDING_SHIFT;
    float r = (c - n * ATTEND_LN2_HIGH) - n * ATTEND_LN2_LOW;
    float p = ATTEND_EXP_P0;
    p = p * r + ATTEND_EXP_P1;
    p = p * r + ATTEND_EXP_P2;
    p = p * r + ATTEND_EXP_P3;
    p = p * r + ATTEND_EXP_P4;
    p = p * r + ATTEND_EXP_P5;
    p = p * (r * r) + r;
    p = p + 1;
    int32_t e = (int32_t)(attend_bits(shifted) - 0x4B400000u), half = e >> 1;
    float scale1 = attend_from_bits((uint32_t)(half + 127) << 23);
    float scale2 = attend_from_bits((uint32_t)(e - half + 127) << 23);
    float y = p * scale1 * scale2;
    return x < ATTEND_EXP_LOW ? 0.0f : y;
}

/// eˣ for x ≤ 0 as 2ⁿ·2ᶠ: n = round(x·log₂e); f = (x − n·ln2)·log₂e, with ln2 split as in
/// exp_scalar so that f is accurate for large |x| too (f = x·log₂e − n would carry the rounding
/// error of x·log₂e, 2⁻²⁴·|x·log₂e|, into the result); 2ᶠ by a degree-5 polynomial, n added to
/// its exponent bits. x < −87.3 (and −∞) gives exactly 0 (2ⁿ would leave the normal range);
/// NaN stays NaN.
static inline float exp_nonpositive_scalar(float x) {
    float shifted = x * ATTEND_LOG2E + ATTEND_ROUNDING_SHIFT;
    float n = shifted - ATTEND_ROUNDING_SHIFT;
    float f = ((x - n * ATTEND_LN2_HIGH) - n * ATTEND_LN2_LOW) * ATTEND_LOG2E;
    float p = ATTEND_EXP2_Q0;
    p = p * f + ATTEND_EXP2_Q1;
    p = p * f + ATTEND_EXP2_Q2;
    p = p * f + ATTEND_EXP2_Q3;
    p = p * f + ATTEND_EXP2_Q4;
    p = p * f + 1;
    // n << 23 is the shifted bits << 23: the 1.5·2²³ bias vanishes in the shift.
    float y = attend_from_bits(attend_bits(p) + (attend_bits(shifted) << 23));
    if (x < ATTEND_EXP_NONPOSITIVE_LOW) y = 0;
    return x != x ? x : y;
}

/// Defines `attend_<kernel>_portable(x, y, n)`: y = f(x) elementwise (in place allowed).
#define ATTEND_MAP_PORTABLE(kernel, f)                                       \
    void attend_##kernel##_portable(const float *x, float *y, size_t n) {    \
        for (size_t i = 0; i < n; i++) y[i] = f(x[i]);                       \
    }

/// Defines `attend_<kernel>_portable(g, x, dx, n)`: dx = g · f′(x) elementwise.
#define ATTEND_BACKWARD_MAP_PORTABLE(kernel, derivative)                                        \
    void attend_##kernel##_portable(const float *g, const float *x, float *dx, size_t n) {      \
        for (size_t i = 0; i < n; i++) dx[i] = g[i] * derivative(x[i]);                         \
    }

#if ATTEND_X86

// MARK: - AVX2 + FMA, 8 lanes

/// Lanes [0, rem) set, for masked loads and stores of a tail of rem < 8 floats.
ATTEND_AVX2 static inline __m256i tail_mask8(size_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// Adds the 8 float lanes, widened, to a double accumulator.
ATTEND_AVX2 static inline __m256d widen_add256(__m256d total, __m256 lanes) {
    total = _mm256_add_pd(total, _mm256_cvtps_pd(_mm256_castps256_ps128(lanes)));
    return _mm256_add_pd(total, _mm256_cvtps_pd(_mm256_extractf128_ps(lanes, 1)));
}

ATTEND_AVX2 static inline double hsum256d(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/// Σ of 8 float lanes in double.
ATTEND_AVX2 static inline double fold256(__m256 lanes) {
    return hsum256d(widen_add256(_mm256_setzero_pd(), lanes));
}

ATTEND_AVX2 static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

/// exp_scalar on 8 lanes. max/min return their second operand when either is NaN, so with x
/// second the clamp keeps NaN, which the multiplications carry to the result.
ATTEND_AVX2 static inline __m256 exp256(__m256 x) {
    const __m256 low = _mm256_set1_ps(ATTEND_EXP_LOW);
    __m256 c = _mm256_min_ps(_mm256_set1_ps(ATTEND_EXP_HIGH), _mm256_max_ps(low, x));
    __m256 shifted = _mm256_add_ps(_mm256_mul_ps(c, _mm256_set1_ps(ATTEND_LOG2E)), _mm256_set1_ps(ATTEND_ROUNDING_SHIFT));
    __m256 n = _mm256_sub_ps(shifted, _mm256_set1_ps(ATTEND_ROUNDING_SHIFT));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_HIGH), c);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_LOW), r);
    __m256 p = _mm256_set1_ps(ATTEND_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ATTEND_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ATTEND_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ATTEND_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ATTEND_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(ATTEND_EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(0x4B400000));
    __m256i half = _mm256_srai_epi32(e, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    __m256 scale1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
    __m256 scale2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(e, half), bias), 23));
    __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, scale1), scale2);
    return _mm256_andnot_ps(_mm256_cmp_ps(x, low, _CMP_LT_OQ), y);
}

/// exp_nonpositive_scalar on 8 lanes.
ATTEND_AVX2 static inline __m256 exp256_nonpositive(__m256 x) {
    __m256 shifted = _mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_LOG2E)), _mm256_set1_ps(ATTEND_ROUNDING_SHIFT));
    __m256 n = _mm256_sub_ps(shifted, _mm256_set1_ps(ATTEND_ROUNDING_SHIFT));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_HIGH), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(ATTEND_LN2_LOW), r);
    __m256 f = _mm256_mul_ps(r, _mm256_set1_ps(ATTEND_LOG2E));
    __m256 p = _mm256_set1_ps(ATTEND_EXP2_Q0);
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ATTEND_EXP2_Q1));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ATTEND_EXP2_Q2));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ATTEND_EXP2_Q3));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(ATTEND_EXP2_Q4));
    p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_castps_si256(shifted), 23));
    __m256 y = _mm256_andnot_ps(_mm256_cmp_ps(x, _mm256_set1_ps(ATTEND_EXP_NONPOSITIVE_LOW), _CMP_LT_OQ),
                                _mm256_castsi256_ps(bits));
    // Adding n to a NaN's exponent bits need not leave a NaN: put the argument back.
    return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// Defines `attend_<kernel>_avx2(x, y, n)`: y = f(x), 8 lanes a step, the tail masked.
#define ATTEND_MAP_AVX2(kernel, f)                                                          \
    ATTEND_AVX2 void attend_##kernel##_avx2(const float *x, float *y, size_t n) {           \
        size_t i = 0;                                                                       \
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));      \
        if (i < n) {                                                                        \
            __m256i tail = tail_mask8(n - i);                                               \
            _mm256_maskstore_ps(y + i, tail, f(_mm256_maskload_ps(x + i, tail)));           \
        }                                                                                   \
    }

/// Defines `attend_<kernel>_avx2(g, x, dx, n)`: dx = g · f′(x), 8 lanes a step, the tail masked.
#define ATTEND_BACKWARD_MAP_AVX2(kernel, derivative)                                                 \
    ATTEND_AVX2 void attend_##kernel##_avx2(const float *g, const float *x, float *dx, size_t n) {   \
        size_t i = 0;                                                                                \
        for (; i + 8 <= n; i += 8)                                                                   \
            _mm256_storeu_ps(dx + i, _mm256_mul_ps(_mm256_loadu_ps(g + i), derivative(_mm256_loadu_ps(x + i)))); \
        if (i < n) {                                                                                 \
            __m256i tail = tail_mask8(n - i);                                                        \
            __m256 d = derivative(_mm256_maskload_ps(x + i, tail));                                  \
            _mm256_maskstore_ps(dx + i, tail, _mm256_mul_ps(_mm256_maskload_ps(g + i, tail), d));    \
        }                                                                                            \
    }

// MARK: - AVX-512, 16 lanes

/// Lanes [0, rem) set, for a tail of rem < 16 floats.
ATTEND_AVX512 static inline __mmask16 tail_mask16(size_t rem) {
    return (__mmask16)((1u << rem) - 1u);
}

/// Adds the 16 float lanes, widened, to a double accumulator.
ATTEND_AVX512 static inline __m512d widen_add512(__m512d total, __m512 lanes) {
    total = _mm512_add_pd(total, _mm512_cvtps_pd(_mm512_castps512_ps256(lanes)));
    return _mm512_add_pd(total, _mm512_cvtps_pd(_mm512_extractf32x8_ps(lanes, 1)));
}

/// Σ of 16 float lanes in double.
ATTEND_AVX512 static inline double fold512(__m512 lanes) {
    return _mm512_reduce_add_pd(widen_add512(_mm512_setzero_pd(), lanes));
}

/// exp_scalar on 16 lanes; `scalef` applies 2ⁿ with a single rounding, subnormals included.
/// With x the second operand of max/min the clamp keeps NaN, and NaN flows through.
ATTEND_AVX512 static inline __m512 exp512(__m512 x) {
    const __m512 low = _mm512_set1_ps(ATTEND_EXP_LOW);
    __m512 c = _mm512_min_ps(_mm512_set1_ps(ATTEND_EXP_HIGH), _mm512_max_ps(low, x));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(c, _mm512_set1_ps(ATTEND_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_HIGH), c);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_LOW), r);
    __m512 p = _mm512_set1_ps(ATTEND_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ATTEND_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ATTEND_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ATTEND_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ATTEND_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(ATTEND_EXP_P5));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    // p·2ⁿ where x ≥ −103.5 or x is NaN; zero below.
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, low, _CMP_NLT_UQ), p, n);
}

/// exp_nonpositive_scalar on 16 lanes (roundscale and scalef in place of the bit tricks, same
/// results); NaN flows through both, so only x < −87.3 needs a mask.
ATTEND_AVX512 static inline __m512 exp512_nonpositive(__m512 x) {
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_HIGH), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(ATTEND_LN2_LOW), r);
    __m512 f = _mm512_mul_ps(r, _mm512_set1_ps(ATTEND_LOG2E));
    __m512 p = _mm512_set1_ps(ATTEND_EXP2_Q0);
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ATTEND_EXP2_Q1));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ATTEND_EXP2_Q2));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ATTEND_EXP2_Q3));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(ATTEND_EXP2_Q4));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(_mm512_cmp_ps_mask(x, _mm512_set1_ps(ATTEND_EXP_NONPOSITIVE_LOW), _CMP_NLT_UQ), p, n);
}

/// Defines `attend_<kernel>_avx512(x, y, n)`: y = f(x), 16 lanes a step, the tail masked.
#define ATTEND_MAP_AVX512(kernel, f)                                                         \
    ATTEND_AVX512 void attend_##kernel##_avx512(const float *x, float *y, size_t n) {        \
        size_t i = 0;                                                                        \
        for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, f(_mm512_loadu_ps(x + i)));     \
        if (i < n) {                                                                         \
            __mmask16 tail = tail_mask16(n - i);                                             \
            _mm512_mask_storeu_ps(y + i, tail, f(_mm512_maskz_loadu_ps(tail, x + i)));       \
        }                                                                                    \
    }

/// Defines `attend_<kernel>_avx512(g, x, dx, n)`: dx = g · f′(x), 16 lanes a step, the tail masked.
#define ATTEND_BACKWARD_MAP_AVX512(kernel, derivative)                                                 \
    ATTEND_AVX512 void attend_##kernel##_avx512(const float *g, const float *x, float *dx, size_t n) { \
        size_t i = 0;                                                                                  \
        for (; i + 16 <= n; i += 16)                                                                   \
            _mm512_storeu_ps(dx + i, _mm512_mul_ps(_mm512_loadu_ps(g + i), derivative(_mm512_loadu_ps(x + i)))); \
        if (i < n) {                                                                                   \
            __mmask16 tail = tail_mask16(n - i);                                                       \
            __m512 d = derivative(_mm512_maskz_loadu_ps(tail, x + i));                                 \
            _mm512_mask_storeu_ps(dx + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + i), d)); \
        }                                                                                              \
    }

#endif // ATTEND_X86
#endif
