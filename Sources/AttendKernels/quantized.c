// The int8 family: a Linear layer y = x·Wᵀ + b with W quantized per output channel to int8 ahead
// of time and x quantized per row to uint8 at run time, so that the products run as int8 dot
// products, exact in int32:
//
//   quantize_rows_u8   x → q, scale, zero point per row: x ≈ scale·(q − zero_point)
//   pack_weights_s8    W (n × k int8) → blocks of 16 channels × groups of 4 k, + column sums
//   quantized_linear   acc = q·Wᵀ in int32; y = (acc − zero_point·Σₖ W)·(x_scale·w_scale) + b
//
// The integer part is exact on every path, and the float epilogue is one expression evaluated the
// same way everywhere — fmaf((float)corrected, x_scale·w_scale, bias) — so the paths agree to the
// bit. Each packed block holds, for every group of 4 k, the 64 bytes of one zmm register of
// AVX-512 VNNI's vpdpbusd (16 int32 lanes, each adding 4 u8 × s8 products).
#include "vector_math.h"

#include <float.h>
#include <stdatomic.h>
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

/// y = fmaf((float)(acc − zero_point·column_sum), x_scale·w_scale, bias). The true difference
/// fits in int32 (it is Σ (q − zp)·W, |·| ≤ 255·128·k), so wrapping arithmetic gives it exactly.
static inline float dequantize_one(int32_t acc, int32_t zero_point, int32_t column_sum, float x_scale, float w_scale,
                                   float bias) {
    int32_t corrected = (int32_t)((uint32_t)acc - (uint32_t)zero_point * (uint32_t)column_sum);
    return fmaf((float)corrected, x_scale * w_scale, bias);
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

/// One row × one block of 16 channels at a time, 16 int32 sums over the packed bytes.
ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_portable) {
    size_t k4 = (k + 3) / 4;
    for (size_t b = 0; 16 * b < n; b++) {
        const int8_t *w = packed + b * 64 * k4;
        for (size_t r = 0; r < rows; r++) {
            const uint8_t *row = q + r * ldq;
            int32_t acc[16] = {0};
            for (size_t g = 0; g < k4; g++)
                for (size_t lane = 0; lane < 16; lane++)
                    for (size_t t = 0; t < 4; t++) acc[lane] += row[4 * g + t] * w[(16 * g + lane) * 4 + t];
            for (size_t lane = 0; lane < 16 && 16 * b + lane < n; lane++) {
                size_t j = 16 * b + lane;
                y[r * ldy + j] = dequantize_one(acc[lane], x_zero_points[r], column_sums[j], x_scales[r], w_scales[j],
                                                bias ? bias[j] : 0);
            }
        }
    }
}

#if ATTEND_X86

/// What the vector bodies read besides the row and block they work on.
typedef struct quantized_operands {
    const uint8_t *q;
    size_t ldq, k4, n, ldy;
    size_t block_bytes;   // 64·k4: one packed block of 16 channels
    const float *x_scales, *w_scales, *bias;
    const int32_t *x_zero_points, *column_sums;
    const int8_t *packed;
    float *y;
} quantized_operands;

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

/// acc += Σ of the 4 products u8 a × s8 w in each int32 lane, exactly, without VNNI: the bytes
/// at even and odd positions are widened to int16 and multiplied-and-paired by vpmaddwd (each
/// pair ≤ 2·255·128, far from overflow — unlike vpmaddubsw, which saturates in int16).
ATTEND_AVX2 static inline __m256i dot4_avx2(__m256i acc, __m256i a, __m256i w) {
    __m256i w_even = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), w_odd = _mm256_srai_epi16(w, 8);
    __m256i a_even = _mm256_and_si256(a, _mm256_set1_epi16(0xFF)), a_odd = _mm256_srli_epi16(a, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(a_even, w_even), _mm256_madd_epi16(a_odd, w_odd)));
}

/// The epilogue of 8 channels from channel j of one row (lanes past n masked).
ATTEND_AVX2 static inline void store8(const quantized_operands *o, __m256i acc, size_t r, size_t j) {
    __m256i m = o->n - j >= 8 ? _mm256_set1_epi32(-1) : tail_mask8(o->n - j);
    __m256i sums = _mm256_maskload_epi32(o->column_sums + j, m);
    __m256 corrected = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(o->x_zero_points[r]), sums)));
    __m256 scale = _mm256_mul_ps(_mm256_set1_ps(o->x_scales[r]), _mm256_maskload_ps(o->w_scales + j, m));
    __m256 bias = o->bias ? _mm256_maskload_ps(o->bias + j, m) : _mm256_setzero_ps();
    _mm256_maskstore_ps(o->y + r * o->ldy + j, m, _mm256_fmadd_ps(corrected, scale, bias));
}

/// R ≤ 4 rows from row r × block b (16 channels as two ymm): 8 accumulators, the block's two
/// weight registers widened once per group and shared by the rows.
ATTEND_AVX2 static inline __attribute__((always_inline)) void tile256(const quantized_operands *o, size_t r, size_t b,
                                                                       int R) {
    const int8_t *w = o->packed + b * o->block_bytes;
    const uint8_t *q = o->q + r * o->ldq;
    __m256i acc[4][2];
    for (int i = 0; i < R; i++) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    for (size_t g = 0; g < o->k4; g++) {
        __m256i w0 = _mm256_loadu_si256((const __m256i *)(w + 64 * g)), w1 = _mm256_loadu_si256((const __m256i *)(w + 64 * g + 32));
        for (int i = 0; i < R; i++) {
            int32_t four;
            memcpy(&four, q + i * o->ldq + 4 * g, 4);
            __m256i a = _mm256_set1_epi32(four);
            acc[i][0] = dot4_avx2(acc[i][0], a, w0);
            acc[i][1] = dot4_avx2(acc[i][1], a, w1);
        }
    }
    for (int i = 0; i < R; i++) {
        store8(o, acc[i][0], r + i, 16 * b);
        if (16 * b + 8 < o->n) store8(o, acc[i][1], r + i, 16 * b + 8);
    }
}

/// Block by block (a block, 64·⌈k/4⌉ bytes, stays in L1 while every row passes), 4 rows at a
/// time, then the leftover rows one by one.
ATTEND_AVX2 ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_avx2) {
    quantized_operands o = {q, ldq, (k + 3) / 4, n, ldy, 64 * ((k + 3) / 4), x_scales, w_scales, bias,
                            x_zero_points, column_sums, packed, y};
    for (size_t b = 0; 16 * b < n; b++) {
        size_t r = 0;
        for (; r + 4 <= rows; r += 4) tile256(&o, r, b, 4);
        for (; r < rows; r++) tile256(&o, r, b, 1);
    }
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

/// dot4_avx2 on 16 lanes: the AVX-512BW body for CPUs without VNNI.
ATTEND_AVX512 static inline __m512i dot4_bw(__m512i acc, __m512i a, __m512i w) {
    __m512i w_even = _mm512_srai_epi16(_mm512_slli_epi16(w, 8), 8), w_odd = _mm512_srai_epi16(w, 8);
    __m512i a_even = _mm512_and_si512(a, _mm512_set1_epi16(0xFF)), a_odd = _mm512_srli_epi16(a, 8);
    return _mm512_add_epi32(acc, _mm512_add_epi32(_mm512_madd_epi16(a_even, w_even), _mm512_madd_epi16(a_odd, w_odd)));
}

/// acc += Σ of the 4 products u8 a × s8 w in each int32 lane: one vpdpbusd.
ATTEND_AVX512_VNNI static inline __m512i dot4_vnni(__m512i acc, __m512i a, __m512i w) {
    return _mm512_dpbusd_epi32(acc, a, w);
}

/// The epilogue of R rows from row r × C blocks from block b (lanes past n masked).
ATTEND_AVX512 static inline __attribute__((always_inline)) void store_tile512(const quantized_operands *o,
                                                                               __m512i acc[4][4], size_t r, size_t b,
                                                                               int R, int C) {
    for (int c = 0; c < C; c++) {
        size_t j = 16 * (b + c);
        __mmask16 m = o->n - j >= 16 ? (__mmask16)0xFFFF : tail_mask16(o->n - j);
        __m512i sums = _mm512_maskz_loadu_epi32(m, o->column_sums + j);
        __m512 w_scales = _mm512_maskz_loadu_ps(m, o->w_scales + j);
        __m512 bias = o->bias ? _mm512_maskz_loadu_ps(m, o->bias + j) : _mm512_setzero_ps();
        for (int i = 0; i < R; i++) {
            __m512i corrected = _mm512_sub_epi32(acc[i][c], _mm512_mullo_epi32(_mm512_set1_epi32(o->x_zero_points[r + i]), sums));
            __m512 scale = _mm512_mul_ps(_mm512_set1_ps(o->x_scales[r + i]), w_scales);
            _mm512_mask_storeu_ps(o->y + (r + i) * o->ldy + j, m, _mm512_fmadd_ps(_mm512_cvtepi32_ps(corrected), scale, bias));
        }
    }
}

/// Defines the AVX-512 body `attend_quantized_linear_avx512_<suffix>` around `dot` (4 products
/// per int32 lane). Register blocking: 4 rows × 4 blocks of 16 channels = 16 zmm accumulators;
/// per group of 4 k, 4 weight loads and 4 broadcasts of a row's 4 activation bytes feed 16 dots.
/// The 4 blocks (256·⌈k/4⌉ bytes: 24 KiB at k = 384) stay in L1 while every row passes; leftover
/// rows go one at a time, leftover blocks one at a time. R and C are constants at every call of
/// the tile, so its loops unroll and the accumulators live in registers.
#define ATTEND_QUANTIZED_LINEAR_AVX512(suffix, attribute, dot)                                                     \
    attribute static inline __attribute__((always_inline)) void tile_##suffix(const quantized_operands *o,         \
                                                                              size_t r, size_t b, int R, int C) {  \
        const int8_t *w = o->packed + b * o->block_bytes;                                                          \
        const uint8_t *q = o->q + r * o->ldq;                                                                      \
        __m512i acc[4][4];                                                                                         \
        for (int i = 0; i < R; i++)                                                                                \
            for (int c = 0; c < C; c++) acc[i][c] = _mm512_setzero_si512();                                        \
        for (size_t g = 0; g < o->k4; g++) {                                                                       \
            __m512i weights[4];                                                                                    \
            for (int c = 0; c < C; c++) weights[c] = _mm512_loadu_si512(w + c * o->block_bytes + 64 * g);          \
            for (int i = 0; i < R; i++) {                                                                          \
                int32_t four;                                                                                      \
                memcpy(&four, q + i * o->ldq + 4 * g, 4);                                                          \
                __m512i a = _mm512_set1_epi32(four);                                                               \
                for (int c = 0; c < C; c++) acc[i][c] = dot(acc[i][c], a, weights[c]);                             \
            }                                                                                                      \
        }                                                                                                          \
        store_tile512(o, acc, r, b, R, C);                                                                         \
    }                                                                                                              \
                                                                                                                   \
    attribute ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_avx512_##suffix) {                                  \
        quantized_operands o = {q, ldq, (k + 3) / 4, n, ldy, 64 * ((k + 3) / 4), x_scales, w_scales, bias,         \
                                x_zero_points, column_sums, packed, y};                                            \
        size_t blocks = (n + 15) / 16, b = 0;                                                                      \
        for (; b + 4 <= blocks; b += 4) {                                                                          \
            size_t r = 0;                                                                                          \
            for (; r + 4 <= rows; r += 4) tile_##suffix(&o, r, b, 4, 4);                                           \
            for (; r < rows; r++) tile_##suffix(&o, r, b, 1, 4);                                                   \
        }                                                                                                          \
        for (; b < blocks; b++) {                                                                                  \
            size_t r = 0;                                                                                          \
            for (; r + 4 <= rows; r += 4) tile_##suffix(&o, r, b, 4, 1);                                           \
            for (; r < rows; r++) tile_##suffix(&o, r, b, 1, 1);                                                   \
        }                                                                                                          \
    }

ATTEND_QUANTIZED_LINEAR_AVX512(vnni, ATTEND_AVX512_VNNI, dot4_vnni)
ATTEND_QUANTIZED_LINEAR_AVX512(bw, ATTEND_AVX512, dot4_bw)

typedef ATTEND_QUANTIZED_LINEAR(quantized_linear_body);
/// The body this CPU runs, chosen on first use (a race only stores the same pointer twice).
static quantized_linear_body *_Atomic avx512_body;

/// VNNI's body when the CPU has AVX-512 VNNI, else the AVX-512BW one; both give the same bits.
ATTEND_AVX512 ATTEND_QUANTIZED_LINEAR(attend_quantized_linear_avx512) {
    quantized_linear_body *body = atomic_load_explicit(&avx512_body, memory_order_relaxed);
    if (!body) {
        __builtin_cpu_init();
        body = __builtin_cpu_supports("avx512vnni") ? attend_quantized_linear_avx512_vnni
                                                    : attend_quantized_linear_avx512_bw;
        atomic_store_explicit(&avx512_body, body, memory_order_relaxed);
    }
    body(q, ldq, x_scales, x_zero_points, rows, k, packed, column_sums, w_scales, bias, n, y, ldy);
}

#endif
