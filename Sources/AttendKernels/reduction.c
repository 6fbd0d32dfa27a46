// The reduction family: the NaN-aware maximum of a row, and its sum with float lanes folded into
// a double every ATTEND_SUM_BLOCK elements.
#include "vector_math.h"

// MARK: - Portable

/// max over 8 lanes; any NaN makes the result NaN; −∞ when n = 0.
float attend_max_portable(const float *x, size_t n) {
    float lanes[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    int saw_nan = 0;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        saw_nan |= v != v;
        lanes[i % 8] = v > lanes[i % 8] ? v : lanes[i % 8];
    }
    if (saw_nan) return NAN;
    float best = lanes[0];
    for (int k = 1; k < 8; k++) best = lanes[k] > best ? lanes[k] : best;
    return best;
}

/// Σ in 8 float lanes per block of ATTEND_SUM_BLOCK, the blocks added in double.
double attend_sum_portable(const float *x, size_t n) {
    double total = 0;
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t end = n - start < ATTEND_SUM_BLOCK ? n : start + ATTEND_SUM_BLOCK;
        float lanes[8] = {0};
        for (size_t i = start; i < end; i++) lanes[i % 8] += x[i];
        for (int k = 0; k < 8; k++) total += lanes[k];
    }
    return total;
}

#if ATTEND_X86

// MARK: - AVX2 + FMA

/// max in 8 lanes × 4 accumulators. `max` drops NaN, so NaN is watched separately: one
/// unordered compare checks two vectors at once.
ATTEND_AVX2 float attend_max_avx2(const float *x, size_t n) {
    const __m256 lowest = _mm256_set1_ps(-INFINITY);
    __m256 m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest, nan = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        nan = _mm256_or_ps(nan, _mm256_or_ps(_mm256_cmp_ps(v0, v1, _CMP_UNORD_Q), _mm256_cmp_ps(v2, v3, _CMP_UNORD_Q)));
        m0 = _mm256_max_ps(m0, v0);
        m1 = _mm256_max_ps(m1, v1);
        m2 = _mm256_max_ps(m2, v2);
        m3 = _mm256_max_ps(m3, v3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m0 = _mm256_max_ps(m0, v);
    }
    if (i < n) {
        __m256i tail = tail_mask8(n - i);
        __m256 v = _mm256_blendv_ps(lowest, _mm256_maskload_ps(x + i, tail), _mm256_castsi256_ps(tail));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        m0 = _mm256_max_ps(m0, v);
    }
    if (_mm256_movemask_ps(nan)) return NAN;
    return hmax256(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
}

/// Σ in 8 lanes × 4 accumulators per block, each block widened into 4 double lanes.
ATTEND_AVX2 double attend_sum_avx2(const float *x, size_t n) {
    __m256d total = _mm256_setzero_pd();
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t end = n - start < ATTEND_SUM_BLOCK ? n : start + ATTEND_SUM_BLOCK, i = start;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 32 <= end; i += 32) {
            a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
            a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
            a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + i + 16));
            a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + i + 24));
        }
        for (; i + 8 <= end; i += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
        if (i < end) a0 = _mm256_add_ps(a0, _mm256_maskload_ps(x + i, tail_mask8(end - i)));
        total = widen_add256(total, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    }
    return hsum256d(total);
}

// MARK: - AVX-512

/// max in 16 lanes × 4 accumulators, NaN watched by unordered compares of vector pairs.
ATTEND_AVX512 float attend_max_avx512(const float *x, size_t n) {
    const __m512 lowest = _mm512_set1_ps(-INFINITY);
    __m512 m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
    __mmask16 nan = 0;
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        __m512 v2 = _mm512_loadu_ps(x + i + 32), v3 = _mm512_loadu_ps(x + i + 48);
        nan |= _mm512_cmp_ps_mask(v0, v1, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(v2, v3, _CMP_UNORD_Q);
        m0 = _mm512_max_ps(m0, v0);
        m1 = _mm512_max_ps(m1, v1);
        m2 = _mm512_max_ps(m2, v2);
        m3 = _mm512_max_ps(m3, v3);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m0 = _mm512_max_ps(m0, v);
    }
    if (i < n) {
        __m512 v = _mm512_mask_loadu_ps(lowest, tail_mask16(n - i), x + i);
        nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        m0 = _mm512_max_ps(m0, v);
    }
    if (nan) return NAN;
    return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
}

/// Σ in 16 lanes × 4 accumulators per block, each block widened into 8 double lanes.
ATTEND_AVX512 double attend_sum_avx512(const float *x, size_t n) {
    __m512d total = _mm512_setzero_pd();
    for (size_t start = 0; start < n; start += ATTEND_SUM_BLOCK) {
        size_t end = n - start < ATTEND_SUM_BLOCK ? n : start + ATTEND_SUM_BLOCK, i = start;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 64 <= end; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
            a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + i + 16));
            a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + i + 32));
            a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + i + 48));
        }
        for (; i + 16 <= end; i += 16) a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + i));
        if (i < end) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask16(end - i), x + i));
        total = widen_add512(total, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    return _mm512_reduce_add_pd(total);
}

#endif // ATTEND_X86
