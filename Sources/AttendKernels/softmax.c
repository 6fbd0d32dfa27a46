// The softmax family: softmax and log-softmax of one row, and one step of the online softmax of
// fused attention. Each is built on its instruction set's max and exp_shifted_sum, so a row costs
// three passes (max; exponentials and their sum; scaling).
#include "vector_math.h"

// MARK: - Portable

/// y = e^(x − m) / Σ with m the row maximum; a row of −∞ gives zeros, a NaN maximum NaN.
void attend_softmax_portable(const float *x, float *y, size_t n) {
    float m = attend_max_portable(x, n);
    if (m == -INFINITY) {
        for (size_t i = 0; i < n; i++) y[i] = 0;
        return;
    }
    float inverse = 1 / attend_exp_shifted_sum_portable(x, y, n, m);
    for (size_t i = 0; i < n; i++) y[i] *= inverse;
}

/// y = x − (m + log Σ e^(x − m)); a row of −∞ stays −∞. The sum leaves x intact (in place).
void attend_log_softmax_portable(const float *x, float *y, size_t n) {
    float m = attend_max_portable(x, n);
    if (m == -INFINITY) {
        for (size_t i = 0; i < n; i++) y[i] = -INFINITY;
        return;
    }
    float shift = m + logf(attend_sum_exp_shifted_portable(x, n, m));
    for (size_t i = 0; i < n; i++) y[i] = x[i] - shift;
}

/// The new running maximum of an online softmax step: max(m, tile), NaN if either is.
static inline float running_maximum(float m, float tile) {
    return m != m || tile != tile ? NAN : (tile > m ? tile : m);
}

/// m′ = max(m, max s); s = e^(s − m′); c = e^(m − m′) (1 when m = −∞); ℓ = ℓ·c + Σ s; o ·= c.
void attend_online_softmax_step_portable(float *scores, size_t n, float *running_max, float *running_sum,
                                         float *output, size_t output_n) {
    float m = *running_max, m_new = running_maximum(m, attend_max_portable(scores, n));
    if (m_new == -INFINITY) {
        for (size_t i = 0; i < n; i++) scores[i] = 0;
        return;
    }
    float total = attend_exp_shifted_sum_portable(scores, scores, n, m_new);
    float c = m == -INFINITY ? 1.0f : exp_nonpositive_scalar(m - m_new);
    *running_sum = *running_sum * c + total;
    if (c != 1)
        for (size_t j = 0; j < output_n; j++) output[j] *= c;
    *running_max = m_new;
}

#if ATTEND_X86

// MARK: - AVX2 + FMA

/// y ·= c, 8 lanes a step (softmax's normalization, the online step's rescaling).
ATTEND_AVX2 static inline void scale_avx2(float *y, size_t n, float c) {
    const __m256 s = _mm256_set1_ps(c);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(y + i), s));
    if (i < n) {
        __m256i tail = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, tail, _mm256_mul_ps(_mm256_maskload_ps(y + i, tail), s));
    }
}

/// y = c, 8 lanes a step.
ATTEND_AVX2 static inline void fill_avx2(float *y, size_t n, float c) {
    const __m256 v = _mm256_set1_ps(c);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, v);
    if (i < n) _mm256_maskstore_ps(y + i, tail_mask8(n - i), v);
}

/// y = e^(x − max)/Σ: max, exp_shifted_sum into y, then y ·= 1/Σ.
ATTEND_AVX2 void attend_softmax_avx2(const float *x, float *y, size_t n) {
    float m = attend_max_avx2(x, n);
    if (m == -INFINITY) {
        fill_avx2(y, n, 0);
        return;
    }
    scale_avx2(y, n, 1 / attend_exp_shifted_sum_avx2(x, y, n, m));
}

/// y = x − (max + log Σ e^(x − max)): max, the sum (x kept, for in place), then y = x − shift,
/// 8 lanes a step.
ATTEND_AVX2 void attend_log_softmax_avx2(const float *x, float *y, size_t n) {
    float m = attend_max_avx2(x, n);
    if (m == -INFINITY) {
        fill_avx2(y, n, -INFINITY);
        return;
    }
    const __m256 shift = _mm256_set1_ps(m + logf(attend_sum_exp_shifted_avx2(x, n, m)));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_sub_ps(_mm256_loadu_ps(x + i), shift));
    if (i < n) {
        __m256i tail = tail_mask8(n - i);
        _mm256_maskstore_ps(y + i, tail, _mm256_sub_ps(_mm256_maskload_ps(x + i, tail), shift));
    }
}

/// The online step as the portable one; c from the same 8-lane exponential as the scores.
ATTEND_AVX2 void attend_online_softmax_step_avx2(float *scores, size_t n, float *running_max, float *running_sum,
                                                 float *output, size_t output_n) {
    float m = *running_max, m_new = running_maximum(m, attend_max_avx2(scores, n));
    if (m_new == -INFINITY) {
        fill_avx2(scores, n, 0);
        return;
    }
    float total = attend_exp_shifted_sum_avx2(scores, scores, n, m_new);
    float c = m == -INFINITY ? 1.0f : _mm256_cvtss_f32(exp256_nonpositive(_mm256_set1_ps(m - m_new)));
    *running_sum = *running_sum * c + total;
    if (c != 1) scale_avx2(output, output_n, c);
    *running_max = m_new;
}

// MARK: - AVX-512

/// y ·= c, 16 lanes a step.
ATTEND_AVX512 static inline void scale_avx512(float *y, size_t n, float c) {
    const __m512 s = _mm512_set1_ps(c);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(y + i), s));
    if (i < n) {
        __mmask16 tail = tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, y + i), s));
    }
}

/// y = c, 16 lanes a step.
ATTEND_AVX512 static inline void fill_avx512(float *y, size_t n, float c) {
    const __m512 v = _mm512_set1_ps(c);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, v);
    if (i < n) _mm512_mask_storeu_ps(y + i, tail_mask16(n - i), v);
}

/// y = e^(x − max)/Σ: max, exp_shifted_sum into y, then y ·= 1/Σ.
ATTEND_AVX512 void attend_softmax_avx512(const float *x, float *y, size_t n) {
    float m = attend_max_avx512(x, n);
    if (m == -INFINITY) {
        fill_avx512(y, n, 0);
        return;
    }
    scale_avx512(y, n, 1 / attend_exp_shifted_sum_avx512(x, y, n, m));
}

/// y = x − (max + log Σ e^(x − max)): max, the sum (x kept, for in place), then y = x − shift,
/// 16 lanes a step.
ATTEND_AVX512 void attend_log_softmax_avx512(const float *x, float *y, size_t n) {
    float m = attend_max_avx512(x, n);
    if (m == -INFINITY) {
        fill_avx512(y, n, -INFINITY);
        return;
    }
    const __m512 shift = _mm512_set1_ps(m + logf(attend_sum_exp_shifted_avx512(x, n, m)));
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_sub_ps(_mm512_loadu_ps(x + i), shift));
    if (i < n) {
        __mmask16 tail = tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, tail, _mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + i), shift));
    }
}

/// The online step as the portable one; c from the same 16-lane exponential as the scores.
ATTEND_AVX512 void attend_online_softmax_step_avx512(float *scores, size_t n, float *running_max, float *running_sum,
                                                     float *output, size_t output_n) {
    float m = *running_max, m_new = running_maximum(m, attend_max_avx512(scores, n));
    if (m_new == -INFINITY) {
        fill_avx512(scores, n, 0);
        return;
    }
    float total = attend_exp_shifted_sum_avx512(scores, scores, n, m_new);
    float c = m == -INFINITY ? 1.0f : _mm512_cvtss_f32(exp512_nonpositive(_mm512_set1_ps(m - m_new)));
    *running_sum = *running_sum * c + total;
    if (c != 1) scale_avx512(output, output_n, c);
    *running_max = m_new;
}

#endif // ATTEND_X86
