// The exponential family: eˣ over the full float range (Cephes expf, ≤ 2 ulp), and the cheaper
// e^(x − shift) for softmax rows, whose arguments are ≤ 0, with its sum.
//
// exp_shifted_sum accumulates float lanes for blocks of ATTEND_SUM_BLOCK elements and folds each
// block into a double total, so long rows stay accurate.
#include "vector_math.h"

// MARK: - Portable

ATTEND_MAP_PORTABLE(exp, exp_scalar)

/// Σ e^(xᵢ − shift), the terms written to y when `store` (else to a scratch block). Per block,
/// one loop of exponentials (which compilers vectorize) and one of sums in 8 float lanes; the
/// blocks added in double. A NaN shift gives NaN everywhere.
static inline float exp_shifted_block_portable(const float *x, float *y, size_t n, float shift, int store) {
    if (shift != shift) {
        if (store)
            for (size_t i = 0; i < n; i++) y[i] = shift;
        return shift;
    }
    double total = 0;
    float scratch[ATTEND_SUM_BLOCK];
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t length = n - start < ATTEND_SUM_BLOCK ? n - start : ATTEND_SUM_BLOCK;
        float *e = store ? y + start : scratch, lanes[8] = {0};
        for (size_t i = 0; i < length; i++) e[i] = exp_nonpositive_scalar(x[start + i] - shift);
        for (size_t i = 0; i < length; i++) lanes[i % 8] += e[i];
        for (int k = 0; k < 8; k++) total += lanes[k];
    }
    return (float)total;
}

float attend_exp_shifted_sum_portable(const float *x, float *y, size_t n, float shift) {
    return exp_shifted_block_portable(x, y, n, shift, 1);
}

float attend_sum_exp_shifted_portable(const float *x, size_t n, float shift) {
    return exp_shifted_block_portable(x, NULL, n, shift, 0);
}

#if ATTEND_X86

// MARK: - AVX2 + FMA

ATTEND_MAP_AVX2(exp, exp256)

/// Σ e^(xᵢ − shift), writing the terms when `store`: 8 lanes × 4 accumulators per block of
/// ATTEND_SUM_BLOCK, folded into 4 double lanes.
ATTEND_AVX2 static inline float exp_shifted_block_avx2(const float *x, float *y, size_t n, float shift, int store) {
    if (shift != shift) {
        if (store)
            for (size_t i = 0; i < n; i++) y[i] = shift;
        return shift;
    }
    const __m256 s = _mm256_set1_ps(shift);
    __m256d total = _mm256_setzero_pd();
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t end = n - start < ATTEND_SUM_BLOCK ? n : start + ATTEND_SUM_BLOCK, i = start;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 32 <= end; i += 32) {
            __m256 e0 = exp256_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
            __m256 e1 = exp256_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), s));
            __m256 e2 = exp256_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i + 16), s));
            __m256 e3 = exp256_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i + 24), s));
            if (store) {
                _mm256_storeu_ps(y + i, e0);
                _mm256_storeu_ps(y + i + 8, e1);
                _mm256_storeu_ps(y + i + 16, e2);
                _mm256_storeu_ps(y + i + 24, e3);
            }
            a0 = _mm256_add_ps(a0, e0);
            a1 = _mm256_add_ps(a1, e1);
            a2 = _mm256_add_ps(a2, e2);
            a3 = _mm256_add_ps(a3, e3);
        }
        for (; i + 8 <= end; i += 8) {
            __m256 e = exp256_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(x + i), s));
            if (store) _mm256_storeu_ps(y + i, e);
            a0 = _mm256_add_ps(a0, e);
        }
        if (i < end) {
            __m256i tail = tail_mask8(end - i);
            // Masked-off lanes load 0, whose e^(0 − shift) must not be counted.
            __m256 e = _mm256_and_ps(exp256_nonpositive(_mm256_sub_ps(_mm256_maskload_ps(x + i, tail), s)),
                                     _mm256_castsi256_ps(tail));
            if (store) _mm256_maskstore_ps(y + i, tail, e);
            a0 = _mm256_add_ps(a0, e);
        }
        total = widen_add256(total, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    }
    return (float)hsum256d(total);
}

ATTEND_AVX2 float attend_exp_shifted_sum_avx2(const float *x, float *y, size_t n, float shift) {
    return exp_shifted_block_avx2(x, y, n, shift, 1);
}

ATTEND_AVX2 float attend_sum_exp_shifted_avx2(const float *x, size_t n, float shift) {
    return exp_shifted_block_avx2(x, NULL, n, shift, 0);
}

// MARK: - AVX-512

ATTEND_MAP_AVX512(exp, exp512)

/// Σ e^(xᵢ − shift), writing the terms when `store`: 16 lanes × 4 accumulators per block of
/// ATTEND_SUM_BLOCK, folded into 8 double lanes.
ATTEND_AVX512 static inline float exp_shifted_block_avx512(const float *x, float *y, size_t n, float shift, int store) {
    if (shift != shift) {
        if (store)
            for (size_t i = 0; i < n; i++) y[i] = shift;
        return shift;
    }
    const __m512 s = _mm512_set1_ps(shift);
    __m512d total = _mm512_setzero_pd();
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t end = n - start < ATTEND_SUM_BLOCK ? n : start + ATTEND_SUM_BLOCK, i = start;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 64 <= end; i += 64) {
            __m512 e0 = exp512_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
            __m512 e1 = exp512_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), s));
            __m512 e2 = exp512_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i + 32), s));
            __m512 e3 = exp512_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i + 48), s));
            if (store) {
                _mm512_storeu_ps(y + i, e0);
                _mm512_storeu_ps(y + i + 16, e1);
                _mm512_storeu_ps(y + i + 32, e2);
                _mm512_storeu_ps(y + i + 48, e3);
            }
            a0 = _mm512_add_ps(a0, e0);
            a1 = _mm512_add_ps(a1, e1);
            a2 = _mm512_add_ps(a2, e2);
            a3 = _mm512_add_ps(a3, e3);
        }
        for (; i + 16 <= end; i += 16) {
            __m512 e = exp512_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(x + i), s));
            if (store) _mm512_storeu_ps(y + i, e);
            a0 = _mm512_add_ps(a0, e);
        }
        if (i < end) {
            __mmask16 tail = tail_mask16(end - i);
            __m512 e = exp512_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), s));
            if (store) _mm512_mask_storeu_ps(y + i, tail, e);
            a0 = _mm512_mask_add_ps(a0, tail, a0, e);
        }
        total = widen_add512(total, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    return (float)_mm512_reduce_add_pd(total);
}

ATTEND_AVX512 float attend_exp_shifted_sum_avx512(const float *x, float *y, size_t n, float shift) {
    return exp_shifted_block_avx512(x, y, n, shift, 1);
}

ATTEND_AVX512 float attend_sum_exp_shifted_avx512(const float *x, size_t n, float shift) {
    return exp_shifted_block_avx512(x, NULL, n, shift, 0);
}

#endif // ATTEND_X86
