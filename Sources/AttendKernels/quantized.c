// The int8 family: a Linear layer y = x·Wᵀ + b with W quantized per output channel to int8 ahead
// of time and x quantized per row to uint8 at run time, so that the products run as int8 dot
// products, exact in int32:
//
//   quantize_rows_u8   x → q, scale, zero point per row: x ≈ scale·(q − zero_point)
//   pack_weights_s8    W (n × k int8) → blocks of 16 channels × groups of 4 k, + column sums
//
// Each packed block holds, for every group of 4 k, the 64 bytes of one zmm register of AVX-512
// VNNI's vpdpbusd (16 int32 lanes, each adding 4 u8 × s8 products).
#include "vector_math.h"

#include <float.h>
#include <stdbool.h>

size_t attend_packed_weights_size(size_t n, size_t k) {
    return (n + 15) / 16 * 16 * ((k + 3) / 4 * 4);
}

// MARK: - Shared scalar steps

/// A row's scale, inverse scale and zero point from its extremes lo ≤ 0 ≤ hi: the one scalar
/// computation every path shares, so they agree exactly. False for a row holding NaN (`saw_nan`)
/// or ±∞, which gets scale NaN and zero point 0 (and q = 0 from the caller).
static inline bool row_parameters(float lo, float hi, bool saw_nan, float *scale, float *inverse,
                                  int32_t *zero_point) {
    if (saw_nan || lo == -INFINITY || hi == INFINITY) {
        *scale = NAN;
        *zero_point = 0;
        return false;
    }
    // In double hi − lo cannot overflow; the quotient is rounded to float once.
    float s = (float)(((double)hi - (double)lo) / 255.0);
    if (!(s >= FLT_MIN)) s = 1;   // hi = lo (all zeros), or so small that 1/s would overflow
    *scale = s;
    *inverse = 1.0f / s;
    float z = nearbyintf(-lo * *inverse);
    *zero_point = z < 0 ? 0 : z > 255 ? 255 : (int32_t)z;
    return true;
}

/// clamp(nearbyint(v·inverse) + zero_point, 0, 255), as cvtps2dq computes it under the default
/// rounding mode. |v·inverse| ≤ 256 here, so the conversion cannot overflow.
static inline uint8_t quantize_one(float v, float inverse, int32_t zero_point) {
    int32_t t = (int32_t)nearbyintf(v * inverse) + zero_point;
    return (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
}

// MARK: - Portable

void attend_quantize_rows_u8_portable(const float *x, size_t ldx, size_t rows, size_t k, uint8_t *q, size_t ldq,
                                      float *scales, int32_t *zero_points) {
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint8_t *out = q + r * ldq;
        float lo = 0, hi = 0, inverse = 0;
        bool saw_nan = false;
        for (size_t i = 0; i < k; i++) {
            float v = row[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            saw_nan |= v != v;
        }
        size_t done = 0;
        if (row_parameters(lo, hi, saw_nan, &scales[r], &inverse, &zero_points[r]))
            for (; done < k; done++) out[done] = quantize_one(row[done], inverse, zero_points[r]);
        memset(out + done, 0, ldq - done);
    }
}

/// Every byte of the layout in order, zeros past n and k; then the column sums from W's rows.
void attend_pack_weights_s8_portable(const int8_t *w, size_t ldw, size_t n, size_t k, int8_t *packed,
                                     int32_t *column_sums) {
    size_t k4 = (k + 3) / 4, blocks = (n + 15) / 16;
    for (size_t b = 0; b < blocks; b++)
        for (size_t g = 0; g < k4; g++)
            for (size_t lane = 0; lane < 16; lane++)
                for (size_t t = 0; t < 4; t++) {
                    size_t j = 16 * b + lane, i = 4 * g + t;
                    *packed++ = j < n && i < k ? w[j * ldw + i] : 0;
                }
    for (size_t j = 0; j < n; j++) {
        int32_t total = 0;
        for (size_t i = 0; i < k; i++) total += w[j * ldw + i];
        column_sums[j] = total;
    }
}

#if ATTEND_X86

// MARK: - AVX2 + FMA

ATTEND_AVX2 static inline float hmin256(__m256 v) {
    __m128 m = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_min_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_min_ss(m, _mm_movehdup_ps(m)));
}

/// Pass 1: extremes, 8 lanes (masked-off lanes load 0, which lo ≤ 0 ≤ hi already include) and
/// NaNs. Pass 2: 8 bytes a step (packs and packus clamp to [0, 255]); the last < 8 one by one.
ATTEND_AVX2 void attend_quantize_rows_u8_avx2(const float *x, size_t ldx, size_t rows, size_t k, uint8_t *q,
                                              size_t ldq, float *scales, int32_t *zero_points) {
    size_t body = k & ~(size_t)7;
    __m256i tail = tail_mask8(k - body);
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint8_t *out = q + r * ldq;
        __m256 lo = _mm256_setzero_ps(), hi = lo, nan = lo;
        for (size_t i = 0; i < k; i += 8) {
            __m256 v = i < body ? _mm256_loadu_ps(row + i) : _mm256_maskload_ps(row + i, tail);
            lo = _mm256_min_ps(lo, v);
            hi = _mm256_max_ps(hi, v);
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
        float inverse = 0;
        size_t done = 0;
        if (row_parameters(hmin256(lo), hmax256(hi), _mm256_movemask_ps(nan) != 0, &scales[r], &inverse,
                           &zero_points[r])) {
            __m256 scale = _mm256_set1_ps(inverse);
            __m256i zero_point = _mm256_set1_epi32(zero_points[r]);
            for (; done < body; done += 8) {
                __m256i t = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(row + done), scale));
                t = _mm256_add_epi32(t, zero_point);
                __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
                _mm_storel_epi64((__m128i *)(out + done), _mm_packus_epi16(words, words));
            }
            for (; done < k; done++) out[done] = quantize_one(row[done], inverse, zero_points[r]);
        }
        memset(out + done, 0, ldq - done);
    }
}

void attend_pack_weights_s8_avx2(const int8_t *w, size_t ldw, size_t n, size_t k, int8_t *packed,
                                 int32_t *column_sums) {
    attend_pack_weights_s8_portable(w, ldw, n, k, packed, column_sums);   // once per matrix: no need for speed
}

// MARK: - AVX-512

/// As the AVX2 kernel, 16 lanes: pass 2 narrows 16 int32 to bytes (vpmovdb) after the clamp.
ATTEND_AVX512 void attend_quantize_rows_u8_avx512(const float *x, size_t ldx, size_t rows, size_t k, uint8_t *q,
                                                  size_t ldq, float *scales, int32_t *zero_points) {
    size_t body = k & ~(size_t)15;
    __mmask16 tail = tail_mask16(k - body);
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * ldx;
        uint8_t *out = q + r * ldq;
        __m512 lo = _mm512_setzero_ps(), hi = lo;
        __mmask16 nan = 0;
        for (size_t i = 0; i < k; i += 16) {
            __m512 v = _mm512_maskz_loadu_ps(i < body ? (__mmask16)0xFFFF : tail, row + i);
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
            nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        }
        float inverse = 0;
        size_t done = 0;
        if (row_parameters(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi), nan != 0, &scales[r], &inverse,
                           &zero_points[r])) {
            __m512 scale = _mm512_set1_ps(inverse);
            __m512i zero_point = _mm512_set1_epi32(zero_points[r]), top = _mm512_set1_epi32(255);
            for (; done < k; done += 16) {
                __mmask16 m = done < body ? (__mmask16)0xFFFF : tail;
                __m512i t = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + done), scale));
                t = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(t, zero_point), _mm512_setzero_si512()), top);
                _mm_mask_storeu_epi8(out + done, m, _mm512_cvtepi32_epi8(t));
            }
            done = k;
        }
        memset(out + done, 0, ldq - done);
    }
}

void attend_pack_weights_s8_avx512(const int8_t *w, size_t ldw, size_t n, size_t k, int8_t *packed,
                                   int32_t *column_sums) {
    attend_pack_weights_s8_portable(w, ldw, n, k, packed, column_sums);
}

#endif
