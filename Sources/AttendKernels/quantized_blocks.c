// ggml's block formats: GGUF weights kept 4- or 8-bit in memory (Q4_0, Q4_1, Q8_0; blocks of 32
// weights with an fp16 scale, see AttendKernels.h), and the products that read them directly:
//
//   dequantize_*     blocks → float, bit for bit as gguf-py (numpy) does it
//   quantize_row_q8  activations → attend_block_q8 (int8 per 32, a float scale d and s = d·Σq)
//   matvec_*_q8      one token: y[r] = Σ_b (d_w·d_x)·Σⱼ q_w·q_x (+ m_w·s_x for Q4_1)
//   matmul_*_q8      a prompt: the same for many tokens, weights repacked once per panel
//   quantize_row_q16, matvec_*_q16, matmul_*_q16   the same with 16-bit activations (attend_block_q16)
//
// Every integer sum is exact (|Σ| ≤ 32·255·127 per block), so the paths differ only in the order
// of the float sums over blocks. The portable variants are the oracle.
//
// Bit-exact dequantization: gguf-py computes Q4_1 as `d * q + m` in float32, two roundings. The
// vector variants therefore multiply and then add (never a fused multiply-add), and clang must not
// contract the portable expression either (FP_CONTRACT OFF below; GCC contracts only when not in
// ISO mode, and the portable path has no FMA instruction to contract to anyway).
#include "vector_math.h"

#include <float.h>
#include <stdatomic.h>
#include <stdbool.h>

#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

// MARK: - Shared scalar steps

static inline uint16_t load_u16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

/// IEEE half → float, exactly, as F16C's vcvtph2ps: normals rebias the exponent (15 → 127);
/// subnormals (m·2⁻²⁴) are normalized; ±∞ stay; NaNs keep their payload with the quiet bit set.
static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1Fu, mantissa = h & 0x3FFu, bits;
    if (exponent == 0x1F)
        bits = sign | 0x7F800000u | (mantissa << 13) | (mantissa ? 0x400000u : 0);
    else if (exponent)
        bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
    else if (!mantissa)
        bits = sign;
    else {
        // mantissa·2⁻²⁴ with its top bit at p: 1.f·2^(p−24), biased exponent 103 + p.
        uint32_t e = 113;
        while (!(mantissa & 0x400u)) {
            mantissa <<= 1;
            e--;
        }
        bits = sign | (e << 23) | ((mantissa & 0x3FFu) << 13);
    }
    return attend_from_bits(bits);
}

static inline float load_half(const uint8_t *p) {
    return half_to_float(load_u16(p));
}

/// quantize_row_q8/q16's scale and inverse from a block's max|x|, shared by every path:
/// d = amax/limit (limit 127 or 32767), inverse = 1/d; below limit·FLT_MIN both are 0 (1/d would
/// overflow), and the block is zeros. For 32767, amax·inverse is 32767 to within 2 ulp, so
/// nearbyint never leaves ±32767.
static inline void block_scale(float amax, float limit, float *d, float *inverse) {
    if (!(amax >= limit * FLT_MIN)) {
        *d = 0;
        *inverse = 0;
        return;
    }
    *d = amax / limit;
    *inverse = 1.0f / *d;
}

// MARK: - Portable

void attend_dequantize_q4_0_portable(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_0_BLOCK_BYTES, y += ATTEND_QK) {
        float d = load_half(b);
        for (int j = 0; j < 16; j++) {
            y[j] = d * (float)((b[2 + j] & 0xF) - 8);
            y[j + 16] = d * (float)((b[2 + j] >> 4) - 8);
        }
    }
}

void attend_dequantize_q4_1_portable(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_1_BLOCK_BYTES, y += ATTEND_QK) {
        float d = load_half(b), m = load_half(b + 2);
        for (int j = 0; j < 16; j++) {
            float low = d * (float)(b[4 + j] & 0xF), high = d * (float)(b[4 + j] >> 4);   // rounded, then + m
            y[j] = low + m;
            y[j + 16] = high + m;
        }
    }
}

void attend_dequantize_q8_0_portable(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q8_0_BLOCK_BYTES, y += ATTEND_QK) {
        float d = load_half(b);
        for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)b[2 + j];
    }
}

void attend_dequantize_f16_portable(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    for (size_t i = 0; i < n; i++) y[i] = load_half(h + 2 * i);
}

/// bfloat16 is the top half of a float: shift into place (NaNs included, exactly as stored).
void attend_dequantize_bf16_portable(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    for (size_t i = 0; i < n; i++) y[i] = attend_from_bits((uint32_t)load_u16(h + 2 * i) << 16);
}

void attend_quantize_row_q8_portable(const float *x, attend_block_q8 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        float amax = 0, d, inverse;
        for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        block_scale(amax, 127.0f, &d, &inverse);
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int32_t q = (int32_t)nearbyintf(x[j] * inverse);
            y->qs[j] = (int8_t)q;
            sum += q;
        }
        y->d = d;
        y->s = d * (float)sum;
    }
}

/// Σⱼ q_w·q_x of one block of each type (exact int32).
static inline int32_t dot_q4_0(const uint8_t *b, const int8_t *q) {
    int32_t sum = 0;
    for (int j = 0; j < 16; j++) sum += ((b[2 + j] & 0xF) - 8) * q[j] + ((b[2 + j] >> 4) - 8) * q[j + 16];
    return sum;
}
static inline int32_t dot_q4_1(const uint8_t *b, const int8_t *q) {
    int32_t sum = 0;
    for (int j = 0; j < 16; j++) sum += (b[4 + j] & 0xF) * q[j] + (b[4 + j] >> 4) * q[j + 16];
    return sum;
}
static inline int32_t dot_q8_0(const uint8_t *b, const int8_t *q) {
    int32_t sum = 0;
    for (int j = 0; j < 32; j++) sum += (int8_t)b[2 + j] * q[j];
    return sum;
}

/// One row at a time, block by block: total += (d_w·d_x)·isum (+ m_w·s_x), in that order.
ATTEND_MATVEC_Q8(attend_matvec_q4_0_q8_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q4_0_BLOCK_BYTES)
            total += (load_half(b) * x[i].d) * (float)dot_q4_0(b, x[i].qs);
        y[r] = total;
    }
}

ATTEND_MATVEC_Q8(attend_matvec_q4_1_q8_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q4_1_BLOCK_BYTES) {
            total += (load_half(b) * x[i].d) * (float)dot_q4_1(b, x[i].qs);
            total += load_half(b + 2) * x[i].s;
        }
        y[r] = total;
    }
}

ATTEND_MATVEC_Q8(attend_matvec_q8_0_q8_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q8_0_BLOCK_BYTES)
            total += (load_half(b) * x[i].d) * (float)dot_q8_0(b, x[i].qs);
        y[r] = total;
    }
}

/// Rows per panel of the fallback matmuls: 16 rows × k ≤ 1536 is ≤ 17 KiB of Q8_0, in L1 while
/// every token passes over it.
#define PANEL_ROWS 16

/// The matmul as a matvec per token over panels of rows (`matvec` the path's own).
#define ATTEND_MATMUL_BY_MATVEC(name, matvec)                                                             \
    ATTEND_MATMUL_Q8(name) {                                                                              \
        for (size_t r = 0; r < rows; r += PANEL_ROWS) {                                                   \
            size_t panel = rows - r < PANEL_ROWS ? rows - r : PANEL_ROWS;                                 \
            for (size_t t = 0; t < n_tokens; t++)                                                         \
                matvec((const uint8_t *)w + r * row_bytes, row_bytes, x + t * x_stride_blocks,            \
                       y + t * y_stride + r, panel, k);                                                   \
        }                                                                                                 \
    }

ATTEND_MATMUL_BY_MATVEC(attend_matmul_q4_0_q8_portable, attend_matvec_q4_0_q8_portable)
ATTEND_MATMUL_BY_MATVEC(attend_matmul_q4_1_q8_portable, attend_matvec_q4_1_q8_portable)
ATTEND_MATMUL_BY_MATVEC(attend_matmul_q8_0_q8_portable, attend_matvec_q8_0_q8_portable)

#if ATTEND_X86

// MARK: - AVX2 + FMA + F16C

/// A block's fp16 scale (and, for Q4_1, the offset after it) as floats: [d, m, ·, ·].
ATTEND_AVX2 static inline __m128 load_scales(const uint8_t *b) {
    int32_t two;
    memcpy(&two, b, 4);
    return _mm_cvtph_ps(_mm_cvtsi32_si128(two));
}

/// The 32 nibbles of 16 bytes in weight order: low nibbles (weights 0–15) in the low lane, high
/// nibbles (16–31) in the high lane.
ATTEND_AVX2 static inline __m256i nibbles256(const uint8_t *qs) {
    __m128i q = _mm_loadu_si128((const __m128i *)qs);
    __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(q), _mm_srli_epi16(q, 4), 1);
    return _mm256_and_si256(both, _mm256_set1_epi8(0x0F));
}

ATTEND_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

/// Dequantization: 8 weights a step, widened u8/i8 → int32 → float, times d (then + m: a separate
/// add, not an FMA, to round as gguf-py does).
ATTEND_AVX2 void attend_dequantize_q4_0_avx2(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_0_BLOCK_BYTES, y += ATTEND_QK) {
        __m256 d = _mm256_set1_ps(_mm_cvtss_f32(load_scales(b)));
        __m256i q = _mm256_sub_epi8(nibbles256(b + 2), _mm256_set1_epi8(8));
        __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
        _mm256_storeu_ps(y, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
        _mm256_storeu_ps(y + 8, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
        _mm256_storeu_ps(y + 16, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
        _mm256_storeu_ps(y + 24, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
    }
}

ATTEND_AVX2 void attend_dequantize_q4_1_avx2(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_1_BLOCK_BYTES, y += ATTEND_QK) {
        __m128 dm = load_scales(b);
        __m256 d = _mm256_broadcastss_ps(dm), m = _mm256_broadcastss_ps(_mm_movehdup_ps(dm));
        __m256i q = nibbles256(b + 4);
        __m128i lo = _mm256_castsi256_si128(q), hi = _mm256_extracti128_si256(q, 1);
        __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
        for (int p = 0; p < 4; p++)
            _mm256_storeu_ps(y + 8 * p, _mm256_add_ps(_mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[p]))), m));
    }
}

ATTEND_AVX2 void attend_dequantize_q8_0_avx2(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q8_0_BLOCK_BYTES, y += ATTEND_QK) {
        __m256 d = _mm256_set1_ps(_mm_cvtss_f32(load_scales(b)));
        for (int p = 0; p < 4; p++) {
            __m128i q = _mm_loadl_epi64((const __m128i *)(b + 2 + 8 * p));
            _mm256_storeu_ps(y + 8 * p, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
        }
    }
}

ATTEND_AVX2 void attend_dequantize_f16_avx2(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + 2 * i))));
    for (; i < n; i++) y[i] = _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(load_u16(h + 2 * i))));
}

ATTEND_AVX2 void attend_dequantize_bf16_avx2(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(h + 2 * i)));
        _mm256_storeu_ps(y + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; i++) y[i] = attend_from_bits((uint32_t)load_u16(h + 2 * i) << 16);
}

/// One block of 32 floats loaded (v), scaled to ±limit and rounded half to even (q, int32 lanes,
/// as nearbyintf): d out, Σ q returned. max|x| over 4 ymm is exact in any order. Shared by the
/// AVX2 q8 and q16 quantizers, which differ only in how they narrow and store q.
ATTEND_AVX2 static inline int32_t round_block_avx2(const float *x, float limit, __m256 v[4], __m256i q[4], float *d) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    __m256 amax = _mm256_setzero_ps();
    for (int p = 0; p < 4; p++) {
        v[p] = _mm256_loadu_ps(x + 8 * p);
        amax = _mm256_max_ps(amax, _mm256_and_ps(v[p], magnitude));
    }
    float inverse;
    block_scale(hmax256(amax), limit, d, &inverse);
    __m256 scale = _mm256_set1_ps(inverse);
    for (int p = 0; p < 4; p++) q[p] = _mm256_cvtps_epi32(_mm256_mul_ps(v[p], scale));
    __m256i sum = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
    __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
    s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
    return _mm_cvtsi128_si32(s4);
}

/// max|x| over 4 ymm (exact, any order), the shared scalar step, then cvtps2dq (half to even, as
/// nearbyintf) and two saturating packs (no-ops: |q| ≤ 127). The packs interleave 128-bit lanes;
/// a permute puts the 32 bytes back in order.
ATTEND_AVX2 void attend_quantize_row_q8_avx2(const float *x, attend_block_q8 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        __m256 v[4];
        __m256i q[4];
        float d;
        int32_t total = round_block_avx2(x, 127.0f, v, q, &d);
        // After the two packs, dword i holds 4 bytes of q[i % 4] (i < 4: its elements 0–3, else 4–7).
        __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
        bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *)y->qs, bytes);
        y->d = d;
        y->s = d * (float)total;
    }
}

/// Σ of 32 products u8 a × s8 b in 8 int32 lanes without VNNI: vpmaddubsw pairs them into int16
/// (|pair| ≤ 2·128·127 = 32,512 for the operands used here, never saturating), vpmaddwd by 1 pairs
/// those into int32.
ATTEND_AVX2 static inline __m256i dot_u8s8_avx2(__m256i a, __m256i b) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1));
}

/// Per type, the 8 int32 lanes of one block's Σ q_w·q_x (summed exactly at the end):
///   Q4_1: nibbles (unsigned) × x.
///   Q4_0: (q − 8)·x = q·x − 8·x: maddubs(q, x) − maddubs(8, x) in int16 (|·| ≤ 2·8·127 after the
///         difference, and each term ≤ 2·15·127), the 8·x part computed once per block for every row.
///   Q8_0: signed × signed by the sign trick: |w| (u8, 128 included) × (x with w's sign).
/// The 4-row kernels below load x's block once and feed 4 rows (4 independent chains).
#define ROWS_PER_PASS 4
/// Software prefetch for the matvecs: the rows of a pass are adjacent in memory, so a pass reads
/// one contiguous span of ROWS_PER_PASS·row_bytes. While it runs, each block step prefetches the
/// matching slice of the span PREFETCH_GROUPS passes ahead, so that DRAM is already streaming the
/// next rows when they are needed (short rows give the hardware prefetcher too little to learn
/// from: a 576-wide Q4_1 row is 360 bytes). Prefetches past the matrix's end are harmless (they never fault).
#ifndef PREFETCH_GROUPS
#define PREFETCH_GROUPS 2
#endif
#define PREFETCH_GROUP_SLICE(p, bytes)                                                                     \
    for (int line = 0; line < (int)(bytes); line += 64) _mm_prefetch((p) + line, _MM_HINT_T0);

/// Defines an AVX2 matvec for one type: `BYTES` per block; `PREPARE` runs once per block of x (has
/// `xq`), `DOT(b)` gives the int32 lanes of the block at b, `OFFSET(b)` true for Q4_1's m term.
#define ATTEND_MATVEC_AVX2(name, BYTES, PREPARE, DOT, HAS_MIN) \
    ATTEND_MATVEC_4ROWS(ATTEND_AVX2, name, BYTES, PREPARE, DOT, HAS_MIN)
/// The 4-rows-per-pass q8 matvec for one instruction set (TARGET: its attribute); the AVX2 and VNNI
/// variants differ only in DOT and PREPARE.
#define ATTEND_MATVEC_4ROWS(TARGET, name, BYTES, PREPARE, DOT, HAS_MIN)                                   \
    TARGET ATTEND_MATVEC_Q8(name) {                                                                       \
        size_t blocks = k / ATTEND_QK, r = 0;                                                             \
        for (; r < rows; r += ROWS_PER_PASS) {                                                            \
            int R = rows - r < ROWS_PER_PASS ? (int)(rows - r) : ROWS_PER_PASS;                           \
            const uint8_t *row[ROWS_PER_PASS];                                                            \
            __m256 acc[ROWS_PER_PASS];                                                                    \
            __m128 offsets[ROWS_PER_PASS];                                                                \
            for (int i = 0; i < ROWS_PER_PASS; i++) {                                                     \
                row[i] = (const uint8_t *)w + (r + (i < R ? i : 0)) * row_bytes;                          \
                acc[i] = _mm256_setzero_ps();                                                             \
                offsets[i] = _mm_setzero_ps();                                                            \
            }                                                                                             \
            const char *ahead = (const char *)w + (r + PREFETCH_GROUPS * ROWS_PER_PASS) * row_bytes;      \
            for (size_t i = 0; i < blocks; i++) {                                                         \
                PREFETCH_GROUP_SLICE(ahead + i * ROWS_PER_PASS * BYTES, ROWS_PER_PASS * BYTES)            \
                __m256i xq = _mm256_loadu_si256((const __m256i *)x[i].qs);                                \
                __m128 xs = _mm_castpd_ps(_mm_load_sd((const double *)&x[i].d));                          \
                PREPARE                                                                                   \
                for (int j = 0; j < ROWS_PER_PASS; j++) {                                                 \
                    const uint8_t *b = row[j] + i * BYTES;                                                \
                    __m128 p = _mm_mul_ps(load_scales(b), xs); /* [d_w·d_x, m_w·s_x] */                   \
                    if (HAS_MIN) offsets[j] = _mm_add_ps(offsets[j], p);                                  \
                    acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(b)), _mm256_broadcastss_ps(p), acc[j]); \
                }                                                                                         \
            }                                                                                             \
            for (int j = 0; j < R; j++)                                                                   \
                y[r + j] = hsum256(acc[j]) + (HAS_MIN ? _mm_cvtss_f32(_mm_movehdup_ps(offsets[j])) : 0);  \
        }                                                                                                 \
    }

#define DOT_Q4_1_AVX2(b) dot_u8s8_avx2(nibbles256((b) + 4), xq)
#define DOT_Q4_0_AVX2(b) _mm256_madd_epi16(_mm256_sub_epi16(_mm256_maddubs_epi16(nibbles256((b) + 2), xq), x8), _mm256_set1_epi16(1))
#define DOT_Q8_0_AVX2(b) dot_q8_0_avx2(_mm256_loadu_si256((const __m256i *)((b) + 2)), xq)
#define PREPARE_Q4_0_AVX2 __m256i x8 = _mm256_maddubs_epi16(_mm256_set1_epi8(8), xq);

ATTEND_AVX2 static inline __m256i dot_q8_0_avx2(__m256i wq, __m256i xq) {
    return dot_u8s8_avx2(_mm256_abs_epi8(wq), _mm256_sign_epi8(xq, wq));
}

// (A leftover pass of R < 4 rows repeats row r in the idle slots and discards their sums.)
ATTEND_MATVEC_AVX2(attend_matvec_q4_0_q8_avx2, ATTEND_Q4_0_BLOCK_BYTES, PREPARE_Q4_0_AVX2, DOT_Q4_0_AVX2, 0)
ATTEND_MATVEC_AVX2(attend_matvec_q4_1_q8_avx2, ATTEND_Q4_1_BLOCK_BYTES, , DOT_Q4_1_AVX2, 1)
ATTEND_MATVEC_AVX2(attend_matvec_q8_0_q8_avx2, ATTEND_Q8_0_BLOCK_BYTES, , DOT_Q8_0_AVX2, 0)

ATTEND_MATMUL_BY_MATVEC(attend_matmul_q4_0_q8_avx2, attend_matvec_q4_0_q8_avx2)
ATTEND_MATMUL_BY_MATVEC(attend_matmul_q4_1_q8_avx2, attend_matvec_q4_1_q8_avx2)
ATTEND_MATMUL_BY_MATVEC(attend_matmul_q8_0_q8_avx2, attend_matvec_q8_0_q8_avx2)

// MARK: - AVX-512

/// 16 weights a step: bytes widened to int32 (vpmovzxbd/vpmovsxbd), converted, times d, + m.
ATTEND_AVX512 void attend_dequantize_q4_0_avx512(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    const __m128i low = _mm_set1_epi8(0x0F), eight = _mm_set1_epi8(8);
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_0_BLOCK_BYTES, y += ATTEND_QK) {
        __m512 d = _mm512_set1_ps(_mm_cvtss_f32(load_scales(b)));
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        __m128i lo = _mm_sub_epi8(_mm_and_si128(q, low), eight), hi = _mm_sub_epi8(_mm_and_si128(_mm_srli_epi16(q, 4), low), eight);
        _mm512_storeu_ps(y, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(lo))));
        _mm512_storeu_ps(y + 16, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(hi))));
    }
}

ATTEND_AVX512 void attend_dequantize_q4_1_avx512(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    const __m128i low = _mm_set1_epi8(0x0F);
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q4_1_BLOCK_BYTES, y += ATTEND_QK) {
        __m128 dm = load_scales(b);
        __m512 d = _mm512_broadcastss_ps(dm), m = _mm512_broadcastss_ps(_mm_movehdup_ps(dm));
        __m128i q = _mm_loadu_si128((const __m128i *)(b + 4));
        __m128i lo = _mm_and_si128(q, low), hi = _mm_and_si128(_mm_srli_epi16(q, 4), low);
        // d·q rounded, then + m rounded: gguf-py's two roundings (an FMA would round once).
        _mm512_storeu_ps(y, _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(lo))), m));
        _mm512_storeu_ps(y + 16, _mm512_add_ps(_mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(hi))), m));
    }
}

ATTEND_AVX512 void attend_dequantize_q8_0_avx512(const void *blocks, float *y, size_t n) {
    const uint8_t *b = blocks;
    for (size_t i = 0; i < n / ATTEND_QK; i++, b += ATTEND_Q8_0_BLOCK_BYTES, y += ATTEND_QK) {
        __m512 d = _mm512_set1_ps(_mm_cvtss_f32(load_scales(b)));
        for (int p = 0; p < 2; p++) {
            __m128i q = _mm_loadu_si128((const __m128i *)(b + 2 + 16 * p));
            _mm512_storeu_ps(y + 16 * p, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q))));
        }
    }
}

ATTEND_AVX512 void attend_dequantize_f16_avx512(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + 2 * i))));
    if (i < n) {
        __mmask16 tail = tail_mask16(n - i);
        _mm512_mask_storeu_ps(y + i, tail, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(tail, h + 2 * i)));
    }
}

ATTEND_AVX512 void attend_dequantize_bf16_avx512(const void *x, float *y, size_t n) {
    const uint8_t *h = x;
    for (size_t i = 0; i < n; i += 16) {
        __mmask16 m = n - i >= 16 ? (__mmask16)0xFFFF : tail_mask16(n - i);
        __m512i v = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, h + 2 * i));
        _mm512_mask_storeu_ps(y + i, m, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
    }
}

/// As the AVX2 kernel on two zmm per block; vpmovdb narrows int32 → int8 in order (|q| ≤ 127).
ATTEND_AVX512 void attend_quantize_row_q8_avx512(const float *x, attend_block_q8 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float d, inverse;
        block_scale(_mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1))), 127.0f, &d, &inverse);
        __m512 scale = _mm512_set1_ps(inverse);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, scale)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, scale));
        _mm_storeu_si128((__m128i *)y->qs, _mm512_cvtepi32_epi8(q0));
        _mm_storeu_si128((__m128i *)(y->qs + 16), _mm512_cvtepi32_epi8(q1));
        y->d = d;
        y->s = d * (float)_mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
    }
}

/// VNNI matvec: as the AVX2 one with vpdpbusd (u8 × s8, 4 products per int32 lane, exact) on ymm,
/// one instruction per block and row:
///   Q4_1: dpbusd(0, nibbles, x).
///   Q4_0: (q − 8)·x: the accumulator starts at −8·(Σ of x's 4 bytes) per lane, computed once per
///         block of x for every row: dpbusd(−8·x lanes, nibbles, x).
///   Q8_0: w·x = (w ⊕ 0x80)·x − 128·x, with w ⊕ 0x80 = w + 128 read as u8: dpbusd(−128·x lanes,
///         w ⊕ 0x80, x), the correction again once per block of x.
/// (512-bit registers would not help: Zen 4 splits them in two, and a block is 32 bytes.)
#define ATTEND_MATVEC_VNNI(name, BYTES, PREPARE, DOT, HAS_MIN) \
    ATTEND_MATVEC_4ROWS(ATTEND_AVX512_VNNI, name, BYTES, PREPARE, DOT, HAS_MIN)


#define DOT_Q4_1_VNNI(b) _mm256_dpbusd_epi32(_mm256_setzero_si256(), nibbles256((b) + 4), xq)
#define DOT_Q4_0_VNNI(b) _mm256_dpbusd_epi32(correction, nibbles256((b) + 2), xq)
#define DOT_Q8_0_VNNI(b) \
    _mm256_dpbusd_epi32(correction, _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)((b) + 2)), flip), xq)
#define PREPARE_Q4_0_VNNI \
    __m256i correction = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(8), xq));
#define PREPARE_Q8_0_VNNI                                                                                  \
    const __m256i flip = _mm256_set1_epi8((char)0x80);                                                     \
    __m256i correction = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_dpbusd_epi32(_mm256_setzero_si256(), flip, xq));

ATTEND_MATVEC_VNNI(attend_matvec_q4_0_q8_avx512_vnni, ATTEND_Q4_0_BLOCK_BYTES, PREPARE_Q4_0_VNNI, DOT_Q4_0_VNNI, 0)
ATTEND_MATVEC_VNNI(attend_matvec_q4_1_q8_avx512_vnni, ATTEND_Q4_1_BLOCK_BYTES, , DOT_Q4_1_VNNI, 1)
ATTEND_MATVEC_VNNI(attend_matvec_q8_0_q8_avx512_vnni, ATTEND_Q8_0_BLOCK_BYTES, PREPARE_Q8_0_VNNI, DOT_Q8_0_VNNI, 0)

// MARK: AVX-512 VNNI matmul: weights repacked to int8 panels, a 32-row × 4-token tile
//
// A matvec's vpdpbusd sums one row's 32 products of a block into 8 lanes, which then cost a
// conversion and a multiply-add per block, row and token. For many tokens the weights are instead
// repacked, per panel of 16 rows and chunk of MM_CHUNK blocks, so that one zmm holds 4 consecutive
// k of all 16 rows ([block][group of 4 k][row lane][4 bytes], the layout of quantized.c):
// vpdpbusd with the token's 4 activation bytes broadcast then adds 4 products to each row's lane,
// 8 of them finish a block's exact integer sum for 16 rows, and the per-block float work
//   y[row] += (d_w[row]·d_x)·isum[row] (+ m_w[row]·s_x)
// is one conversion and two multiply-adds per 16 rows. The tile is 2 panels × 4 tokens: per group
// of 4 k, 2 weight loads and 4 broadcasts feed 8 vpdpbusd (8 independent chains, which covers the
// instruction's latency), 16 of the 32 zmm registers hold the integer and float accumulators.
//
// Signed weights (Q4_0's q − 8, Q8_0) meet vpdpbusd's u8 × s8 the other way round: the activation
// turns unsigned, x ⊕ 0x80 = x + 128, and Σ (x + 128)·w = Σ x·w + 128·Σ w, so each row's lane
// starts at −128·Σ w of the block, computed when packing. Q4_1's nibbles are the unsigned operand
// as they are. The chunk (16 blocks = 512 k) keeps a panel pair's 22 KiB in L1 while every token
// passes; the float sums of a chunk are added into y (stored by the first chunk).
#define MM_CHUNK 16
#define MM_TOKENS 4

typedef struct packed_panel {
    uint8_t q[MM_CHUNK][8][16][4];
    int32_t correction[MM_CHUNK][16];   // −128·Σ w per row (signed types), else 0
    float d[MM_CHUNK][16], m[MM_CHUNK][16];
} packed_panel;

typedef enum packed_type { PACKED_Q4_0, PACKED_Q4_1, PACKED_Q8_0 } packed_type;

/// Packs rows [r, r + 16) (rows past `rows` as zeros) × blocks [b0, b0 + count).
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void pack_panel(packed_panel *panel, const uint8_t *w,
                                                                                 size_t row_bytes, size_t r, size_t rows,
                                                                                 size_t b0, size_t count, packed_type type) {
    const size_t bytes = type == PACKED_Q4_1 ? ATTEND_Q4_1_BLOCK_BYTES : type == PACKED_Q4_0 ? ATTEND_Q4_0_BLOCK_BYTES
                                                                                             : ATTEND_Q8_0_BLOCK_BYTES;
    for (size_t lane = 0; lane < 16; lane++) {
        if (r + lane >= rows) {
            for (size_t i = 0; i < count; i++) {
                for (int g = 0; g < 8; g++) memset(panel->q[i][g][lane], 0, 4);
                panel->correction[i][lane] = 0;
                panel->d[i][lane] = panel->m[i][lane] = 0;
            }
            continue;
        }
        const uint8_t *b = w + (r + lane) * row_bytes + b0 * bytes;
        for (size_t i = 0; i < count; i++, b += bytes) {
            __m128 dm = load_scales(b);
            panel->d[i][lane] = _mm_cvtss_f32(dm);
            panel->m[i][lane] = type == PACKED_Q4_1 ? _mm_cvtss_f32(_mm_movehdup_ps(dm)) : 0;
            __m256i q = type == PACKED_Q4_1   ? nibbles256(b + 4)
                        : type == PACKED_Q4_0 ? _mm256_sub_epi8(nibbles256(b + 2), _mm256_set1_epi8(8))
                                              : _mm256_loadu_si256((const __m256i *)(b + 2));
            int32_t groups[8];
            _mm256_storeu_si256((__m256i *)groups, q);
            for (int g = 0; g < 8; g++) memcpy(panel->q[i][g][lane], &groups[g], 4);
            if (type != PACKED_Q4_1) {
                // Σ w over the block: vpdpbusd of 1s (u8) with w (s8).
                __m256i sums = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), q);
                __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
                s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
                s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
                panel->correction[i][lane] = -128 * _mm_cvtsi128_si32(s4);
            } else
                panel->correction[i][lane] = 0;
        }
    }
}

/// The per-block float step both tiles share (q8 and q16 blocks both begin {float d; float s;}):
///   acc[p][t] += (d_w[p]·x.d)·sums[p][t]  (+ m_w[p]·x.s for Q4_1)
/// `x` is token 0's block; token t's is `x_stride_blocks` blocks further (`block_bytes` each).
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void accumulate_tile_block(
    __m512 acc[2][4], __m512i sums[2][4], const float *d0, const float *d1, const float *m0, const float *m1,
    const char *x, size_t block_stride_bytes, bool has_min, int P, int T) {
    const float *d[2] = {d0, d1}, *m[2] = {m0, m1};
    for (int t = 0; t < T; t++) {
        const float *xb = (const float *)(x + (size_t)t * block_stride_bytes);      // {d, s}
        __m512 dx = _mm512_set1_ps(xb[0]);
        for (int p = 0; p < P; p++) {
            __m512 scale = _mm512_mul_ps(_mm512_loadu_ps(d[p]), dx);
            acc[p][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[p][t]), scale, acc[p][t]);
            if (has_min) acc[p][t] = _mm512_fmadd_ps(_mm512_loadu_ps(m[p]), _mm512_set1_ps(xb[1]), acc[p][t]);
        }
    }
}

/// Writes (or, after the first chunk of k, adds) a tile's P panels × T tokens into y, masking the
/// rows past `rows`.
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void store_tile(
    __m512 acc[2][4], float *y, size_t y_stride, size_t r, size_t rows, bool first, int P, int T) {
    for (int p = 0; p < P; p++) {
        size_t j = r + 16 * (size_t)p;
        if (j >= rows) break;
        __mmask16 m = rows - j >= 16 ? (__mmask16)0xFFFF : tail_mask16(rows - j);
        for (int t = 0; t < T; t++) {
            float *out = y + (size_t)t * y_stride + j;
            __m512 v = first ? acc[p][t] : _mm512_add_ps(_mm512_maskz_loadu_ps(m, out), acc[p][t]);
            _mm512_mask_storeu_ps(out, m, v);
        }
    }
}

/// The driver both matmuls share: chunk by chunk of k, panel pair by panel pair of rows (packed
/// once per chunk), token tile by token tile (TOKENS at a time, then one by one).
#define ATTEND_MATMUL_DRIVER(name, block_t, panel_t, PACK, TILE, CHUNK, TOKENS)                           \
    ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void name(                            \
        const uint8_t *w, size_t row_bytes, const block_t *x, size_t x_stride_blocks, float *y, size_t y_stride, \
        size_t rows, size_t k, size_t n_tokens, packed_type type) {                                       \
        panel_t panels[2];                                                                                \
        size_t blocks = k / ATTEND_QK;                                                                    \
        for (size_t b0 = 0; b0 < blocks; b0 += CHUNK) {                                                   \
            size_t count = blocks - b0 < CHUNK ? blocks - b0 : CHUNK;                                     \
            bool first = b0 == 0;                                                                         \
            for (size_t r = 0; r < rows; r += 32) {                                                       \
                int P = rows - r > 16 ? 2 : 1;                                                            \
                for (int p = 0; p < P; p++) PACK(&panels[p], w, row_bytes, r + 16 * (size_t)p, rows, b0, count, type); \
                const block_t *xc = x + b0;                                                               \
                size_t t = 0;                                                                             \
                for (; t + TOKENS <= n_tokens; t += TOKENS) {                                             \
                    const block_t *xt = xc + t * x_stride_blocks;                                         \
                    float *yt = y + t * y_stride;                                                         \
                    if (P == 2) TILE(panels, xt, x_stride_blocks, yt, y_stride, r, rows, count, first, type, 2, TOKENS); \
                    else TILE(panels, xt, x_stride_blocks, yt, y_stride, r, rows, count, first, type, 1, TOKENS); \
                }                                                                                         \
                for (; t < n_tokens; t++) {                                                               \
                    const block_t *xt = xc + t * x_stride_blocks;                                         \
                    float *yt = y + t * y_stride;                                                         \
                    if (P == 2) TILE(panels, xt, x_stride_blocks, yt, y_stride, r, rows, count, first, type, 2, 1); \
                    else TILE(panels, xt, x_stride_blocks, yt, y_stride, r, rows, count, first, type, 1, 1); \
                }                                                                                         \
            }                                                                                             \
        }                                                                                                 \
    }

/// P panels (1–2) × T tokens (1–4) over `count` blocks of a chunk; adds into y unless `first`.
/// P and T are constants at every call, so the loops unroll and the accumulators stay in registers.
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void matmul_tile(
    const packed_panel *panels, const attend_block_q8 *x, size_t x_stride_blocks, float *y, size_t y_stride, size_t r,
    size_t rows, size_t count, bool first, packed_type type, int P, int T) {
    const bool is_signed = type != PACKED_Q4_1;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512 acc[2][MM_TOKENS];
    for (int p = 0; p < P; p++)
        for (int t = 0; t < T; t++) acc[p][t] = _mm512_setzero_ps();
    for (size_t i = 0; i < count; i++) {
        __m512i sums[2][MM_TOKENS];
        for (int p = 0; p < P; p++) {
            __m512i start = is_signed ? _mm512_loadu_si512(panels[p].correction[i]) : _mm512_setzero_si512();
            for (int t = 0; t < T; t++) sums[p][t] = start;
        }
        for (int g = 0; g < 8; g++) {
            __m512i weights[2];
            for (int p = 0; p < P; p++) weights[p] = _mm512_loadu_si512(panels[p].q[i][g]);
            for (int t = 0; t < T; t++) {
                int32_t four;
                memcpy(&four, x[t * x_stride_blocks + i].qs + 4 * g, 4);
                __m512i a = _mm512_set1_epi32(four);
                if (is_signed) a = _mm512_xor_si512(a, flip);
                for (int p = 0; p < P; p++)
                    sums[p][t] = is_signed ? _mm512_dpbusd_epi32(sums[p][t], a, weights[p])
                                           : _mm512_dpbusd_epi32(sums[p][t], weights[p], a);
            }
        }
        accumulate_tile_block(acc, sums, panels[0].d[i], panels[P - 1].d[i], panels[0].m[i], panels[P - 1].m[i],
                              (const char *)&x[i], x_stride_blocks * sizeof(attend_block_q8), type == PACKED_Q4_1, P, T);
    }
    store_tile(acc, y, y_stride, r, rows, first, P, T);
}

ATTEND_MATMUL_DRIVER(matmul_vnni, attend_block_q8, packed_panel, pack_panel, matmul_tile, MM_CHUNK, MM_TOKENS)

/// Fewer tokens than this skip the tile: packing a panel costs as much as a pass of the matvec over
/// it, which a prompt spreads over hundreds of tokens but a decoding batch (one token per sequence)
/// cannot. Below it, each token takes the matvec over panels of PANEL_ROWS rows that stay in L1
/// (SmolLM2, 2 threads, Zen 4: a step of 8 sequences 34 ms with the tile, ~16 ms without).
#ifndef MM_TILE_MIN_TOKENS
#define MM_TILE_MIN_TOKENS 16
#endif
#define ATTEND_ARGS_MATMUL w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens

static ATTEND_MATMUL_BY_MATVEC(matmul_panels_q4_0_q8_vnni, attend_matvec_q4_0_q8_avx512_vnni)
static ATTEND_MATMUL_BY_MATVEC(matmul_panels_q4_1_q8_vnni, attend_matvec_q4_1_q8_avx512_vnni)
static ATTEND_MATMUL_BY_MATVEC(matmul_panels_q8_0_q8_vnni, attend_matvec_q8_0_q8_avx512_vnni)

ATTEND_AVX512_VNNI ATTEND_MATMUL_Q8(attend_matmul_q4_0_q8_avx512_vnni) {
    if (n_tokens < MM_TILE_MIN_TOKENS) { matmul_panels_q4_0_q8_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q4_0);
}
ATTEND_AVX512_VNNI ATTEND_MATMUL_Q8(attend_matmul_q4_1_q8_avx512_vnni) {
    if (n_tokens < MM_TILE_MIN_TOKENS) { matmul_panels_q4_1_q8_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q4_1);
}
ATTEND_AVX512_VNNI ATTEND_MATMUL_Q8(attend_matmul_q8_0_q8_avx512_vnni) {
    if (n_tokens < MM_TILE_MIN_TOKENS) { matmul_panels_q8_0_q8_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q8_0);
}

/// Whether this CPU has AVX-512 VNNI, asked once (a race only stores the same answer twice).
static atomic_int vnni_known;   // 0 unknown, 1 no, 2 yes
static bool has_vnni(void) {
    int known = atomic_load_explicit(&vnni_known, memory_order_relaxed);
    if (!known) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512vnni") ? 2 : 1;
        atomic_store_explicit(&vnni_known, known, memory_order_relaxed);
    }
    return known == 2;
}

/// The AVX-512 entries of the products: VNNI's body when the CPU has it, else the AVX2 one (the
/// AVX-512 path implies AVX2 + FMA + F16C). Same integer sums either way.
#define ATTEND_VNNI_OR_AVX2(kind, type)                                                                   \
    ATTEND_##kind##_Q8(attend_##type##_avx512) {                                                          \
        (has_vnni() ? attend_##type##_avx512_vnni : attend_##type##_avx2)(ATTEND_ARGS_##kind);            \
    }
#define ATTEND_ARGS_MATVEC w, row_bytes, x, y, rows, k

ATTEND_VNNI_OR_AVX2(MATVEC, matvec_q4_0_q8)
ATTEND_VNNI_OR_AVX2(MATVEC, matvec_q4_1_q8)
ATTEND_VNNI_OR_AVX2(MATVEC, matvec_q8_0_q8)
ATTEND_VNNI_OR_AVX2(MATMUL, matmul_q4_0_q8)
ATTEND_VNNI_OR_AVX2(MATMUL, matmul_q4_1_q8)
ATTEND_VNNI_OR_AVX2(MATMUL, matmul_q8_0_q8)

#endif

// MARK: - 16-bit activations (attend_block_q16)
//
// The same products against activations rounded to 16 bits per block of 32 (d = max|x|/32767)
// instead of 8: the rounding of x, which dominates the q8 products' error (1–8% of the logits on
// a real model), shrinks ~256×. The weights are widened to int16 and meet the activations in
// vpmaddwd / vpdpwssd (pairs of int16 products summed into int32): one block row is one 512-bit
// instruction. Every integer sum is exact (|Σ| ≤ 32·128·32767 < 2³¹).
//
// s is the exact float Σx of the block (pairwise, in the fixed order of attend_block_q16), not
// d·Σqs: Q4_1's m_w·s then carries no rounding of x at all. Its order is the AVX2 tree (hsum256
// of (x₀₋₇ + x₁₆₋₂₃) + (x₈₋₁₅ + x₂₄₋₃₁)), which the portable and AVX-512 paths spell out, so that
// every path stores the same float.


/// Σ of a block's 32 floats in attend_block_q16's order: t[j] = x[j] + x[j+16], then halves folded.
static inline float q16_block_sum(const float *x) {
    float t[16];
    for (int j = 0; j < 16; j++) t[j] = x[j] + x[j + 16];
    for (int width = 8; width >= 1; width /= 2)
        for (int j = 0; j < width; j++) t[j] += t[j + width];
    return t[0];
}

void attend_quantize_row_q16_portable(const float *x, attend_block_q16 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        float amax = 0, d, inverse;
        for (int j = 0; j < 32; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        block_scale(amax, 32767.0f, &d, &inverse);
        int32_t sum = 0;
        for (int j = 0; j < 32; j++) {
            int32_t q = (int32_t)nearbyintf(x[j] * inverse);
            y->qs[j] = (int16_t)q;
            sum += q;
        }
        y->d = d;
        y->s = q16_block_sum(x);
        y->sum = sum;
        y->pad = 0;
    }
}

/// Σⱼ q_w·qs of one block of each type (exact int32); Q4_0's nibbles raw (the −8·sum comes after).
static inline int32_t dot16_nibbles(const uint8_t *qs, const int16_t *q) {
    int32_t sum = 0;
    for (int j = 0; j < 16; j++) sum += (qs[j] & 0xF) * q[j] + (qs[j] >> 4) * q[j + 16];
    return sum;
}
static inline int32_t dot16_q8_0(const uint8_t *b, const int16_t *q) {
    int32_t sum = 0;
    for (int j = 0; j < 32; j++) sum += (int8_t)b[2 + j] * q[j];
    return sum;
}

/// One row at a time, block by block: total += (d_w·d_x)·isum (+ m_w·s_x), in that order.
ATTEND_MATVEC_Q16(attend_matvec_q4_0_q16_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q4_0_BLOCK_BYTES)
            total += (load_half(b) * x[i].d) * (float)(dot16_nibbles(b + 2, x[i].qs) - 8 * x[i].sum);
        y[r] = total;
    }
}

ATTEND_MATVEC_Q16(attend_matvec_q4_1_q16_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q4_1_BLOCK_BYTES) {
            total += (load_half(b) * x[i].d) * (float)dot16_nibbles(b + 4, x[i].qs);
            total += load_half(b + 2) * x[i].s;
        }
        y[r] = total;
    }
}

ATTEND_MATVEC_Q16(attend_matvec_q8_0_q16_portable) {
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *b = (const uint8_t *)w + r * row_bytes;
        float total = 0;
        for (size_t i = 0; i < k / ATTEND_QK; i++, b += ATTEND_Q8_0_BLOCK_BYTES)
            total += (load_half(b) * x[i].d) * (float)dot16_q8_0(b, x[i].qs);
        y[r] = total;
    }
}

/// ATTEND_MATMUL_BY_MATVEC for attend_block_q16.
#define ATTEND_MATMUL_Q16_BY_MATVEC(name, matvec)                                                         \
    ATTEND_MATMUL_Q16(name) {                                                                             \
        for (size_t r = 0; r < rows; r += PANEL_ROWS) {                                                   \
            size_t panel = rows - r < PANEL_ROWS ? rows - r : PANEL_ROWS;                                 \
            for (size_t t = 0; t < n_tokens; t++)                                                         \
                matvec((const uint8_t *)w + r * row_bytes, row_bytes, x + t * x_stride_blocks,            \
                       y + t * y_stride + r, panel, k);                                                   \
        }                                                                                                 \
    }

ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q4_0_q16_portable, attend_matvec_q4_0_q16_portable)
ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q4_1_q16_portable, attend_matvec_q4_1_q16_portable)
ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q8_0_q16_portable, attend_matvec_q8_0_q16_portable)

#if ATTEND_X86

// MARK: q16, AVX2 + FMA + F16C

/// As quantize_row_q8_avx2, narrowing int32 → int16 with one saturating pack (a no-op, |q| ≤
/// 32767) per 16 values, whose 128-bit-lane interleave vpermq undoes; s by hsum256 (the order
/// attend_block_q16 defines).
ATTEND_AVX2 void attend_quantize_row_q16_avx2(const float *x, attend_block_q16 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        __m256 v[4];
        __m256i q[4];
        float d;
        int32_t total = round_block_avx2(x, 32767.0f, v, q, &d);
        _mm256_storeu_si256((__m256i *)y->qs, _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8));
        _mm256_storeu_si256((__m256i *)(y->qs + 16), _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2], q[3]), 0xD8));
        y->d = d;
        y->s = hsum256(_mm256_add_ps(_mm256_add_ps(v[0], v[2]), _mm256_add_ps(v[1], v[3])));
        y->sum = total;
        y->pad = 0;
    }
}

/// Q8_0's 8 int32 lanes of one block's Σ q_w·qs by vpmaddwd, without widening shuffles: the 32
/// bytes as 16 words, sign-extended, (word << 8) >> 8 is w₂ᵢ and word >> 8 is w₂ᵢ₊₁, against x
/// split the same way (`xe`, `xo`: x's block deinterleaved once per block of x, for every row).
/// (The nibble types take the path below, which folds rows before the float work.)
ATTEND_AVX2 static inline __m256i dot16_q8_0_avx2(const uint8_t *b, __m256i xe, __m256i xo) {
    __m256i v = _mm256_loadu_si256((const __m256i *)(b + 2));
    __m256i even = _mm256_srai_epi16(_mm256_slli_epi16(v, 8), 8), odd = _mm256_srai_epi16(v, 8);
    return _mm256_add_epi32(_mm256_madd_epi16(even, xe), _mm256_madd_epi16(odd, xo));
}

/// x's 32 int16 of a block as [x₀, x₂, …, x₃₀] and [x₁, x₃, …, x₃₁]: within each 128-bit lane
/// evens then odds (vpshufb), the 64-bit quarters regrouped (vpermq), then the halves paired.
ATTEND_AVX2 static inline void deinterleave16_avx2(const int16_t *qs, __m256i *xe, __m256i *xo) {
    const __m256i split = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                                           0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    __m256i a = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)qs), split), 0xD8);
    __m256i b = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(_mm256_loadu_si256((const __m256i *)(qs + 16)), split), 0xD8);
    *xe = _mm256_permute2x128_si256(a, b, 0x20);
    *xo = _mm256_permute2x128_si256(a, b, 0x31);
}

#define DOT16_Q8_0(b) dot16_q8_0_avx2((b), xe, xo)

/// ATTEND_MATVEC_AVX2 for attend_block_q16 (`ATTRIBUTES` the path's; `DEINTERLEAVE` its way of
/// splitting x): 4 rows a pass, the rows PREFETCH_GROUPS passes ahead prefetched.
#define ATTEND_MATVEC_Q16_BODY(name, ATTRIBUTES, DEINTERLEAVE, BYTES, PREPARE, DOT, HAS_MIN)              \
    ATTRIBUTES ATTEND_MATVEC_Q16(name) {                                                                  \
        size_t blocks = k / ATTEND_QK, r = 0;                                                             \
        for (; r < rows; r += ROWS_PER_PASS) {                                                            \
            int R = rows - r < ROWS_PER_PASS ? (int)(rows - r) : ROWS_PER_PASS;                           \
            const uint8_t *row[ROWS_PER_PASS];                                                            \
            __m256 acc[ROWS_PER_PASS];                                                                    \
            __m128 offsets[ROWS_PER_PASS];                                                                \
            for (int i = 0; i < ROWS_PER_PASS; i++) {                                                     \
                row[i] = (const uint8_t *)w + (r + (i < R ? i : 0)) * row_bytes;                          \
                acc[i] = _mm256_setzero_ps();                                                             \
                offsets[i] = _mm_setzero_ps();                                                            \
            }                                                                                             \
            const char *ahead = (const char *)w + (r + PREFETCH_GROUPS * ROWS_PER_PASS) * row_bytes;      \
            for (size_t i = 0; i < blocks; i++) {                                                         \
                PREFETCH_GROUP_SLICE(ahead + i * ROWS_PER_PASS * BYTES, ROWS_PER_PASS * BYTES)            \
                __m256i xe, xo;                                                                           \
                DEINTERLEAVE(x[i].qs, &xe, &xo);                                                          \
                __m128 xs = _mm_castpd_ps(_mm_load_sd((const double *)&x[i].d)); /* [d_x, s_x] */         \
                PREPARE                                                                                   \
                for (int j = 0; j < ROWS_PER_PASS; j++) {                                                 \
                    const uint8_t *b = row[j] + i * BYTES;                                                \
                    __m128 p = _mm_mul_ps(load_scales(b), xs); /* [d_w·d_x, m_w·s_x] */                   \
                    if (HAS_MIN) offsets[j] = _mm_add_ps(offsets[j], p);                                  \
                    acc[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(b)), _mm256_broadcastss_ps(p), acc[j]); \
                }                                                                                         \
            }                                                                                             \
            for (int j = 0; j < R; j++)                                                                   \
                y[r + j] = hsum256(acc[j]) + (HAS_MIN ? _mm_cvtss_f32(_mm_movehdup_ps(offsets[j])) : 0);  \
        }                                                                                                 \
    }

// MARK: q16 nibble matvec (Q4_0, Q4_1), rows reduced together

static inline uint32_t load_u32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/// The first 4 bytes of 4 blocks (fp16 d and, for Q4_1, m) in one xmm.
ATTEND_AVX2 static inline __m128i gather4_u32(const uint8_t *a, const uint8_t *b, const uint8_t *c, const uint8_t *d) {
    __m128i ab = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)load_u32(a)), _mm_cvtsi32_si128((int)load_u32(b)));
    __m128i cd = _mm_unpacklo_epi32(_mm_cvtsi32_si128((int)load_u32(c)), _mm_cvtsi32_si128((int)load_u32(d)));
    return _mm_unpacklo_epi64(ab, cd);
}

#define NIB16_BODY(DOT_TAIL)                                                                              \
    __m256i v = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)qs));                              \
    __m256i lo = _mm256_and_si256(v, _mm256_set1_epi16(0x0F)), hi = _mm256_srli_epi16(v, 4);             \
    return DOT_TAIL;
/// Σ q_w·qs of a nibble block in 8 int32 lanes: the 16 bytes widened to words, whose low nibbles
/// are weights 0–15 (against x0 = qs[0..15]) and high nibbles weights 16–31 (x1 = qs[16..31]).
ATTEND_AVX2 static inline __m256i nib16_dot_avx2(const uint8_t *qs, __m256i x0, __m256i x1) {
    NIB16_BODY(_mm256_add_epi32(_mm256_madd_epi16(lo, x0), _mm256_madd_epi16(hi, x1)))
}
ATTEND_AVX512_VNNI static inline __m256i nib16_dot_vnni(const uint8_t *qs, __m256i x0, __m256i x1) {
    NIB16_BODY(_mm256_dpwssd_epi32(_mm256_madd_epi16(lo, x0), hi, x1))
}

/// The q16 nibble matvec, 4 rows a pass: each row's block dot is 8 int32 lanes; two rounds of
/// vphaddd fold the 4 rows into one ymm [A, B, C, D | A', B', C', D'] (exact partial sums), so the
/// float work per block is one conversion and one multiply-add for all 4 rows, with the 4 rows'
/// fp16 (d, m) converted by one vcvtph2ps: [d·d_x, m·s_x] per row, the m·s_x halves summed apart.
/// Measured on one Zen 4 core (hot, q4_1): ~20.4 GB/s, as the q8 matvec; still compute-bound (the
/// vphaddd fold is ~10% of it). Slower there: 8 rows a pass (~19), the fold by vpunpck + add (~19.6),
/// two rows per ymm ([A | B] bytes widened in-lane, one vphaddd per 4 rows: ~18.4).
#define ATTEND_MATVEC_NIB16(name, ATTRIBUTES, DOTFN, BYTES, HAS_MIN)                                      \
    ATTRIBUTES ATTEND_MATVEC_Q16(name) {                                                                  \
        size_t blocks = k / ATTEND_QK, r = 0;                                                             \
        const __m256i evens = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);                                   \
        for (; r < rows; r += 4) {                                                                        \
            int R = rows - r < 4 ? (int)(rows - r) : 4;                                                   \
            const uint8_t *row[4];                                                                        \
            for (int j = 0; j < 4; j++) row[j] = (const uint8_t *)w + (r + (j < R ? j : 0)) * row_bytes;  \
            __m256 acc = _mm256_setzero_ps(), offsets = _mm256_setzero_ps();                               \
            const char *ahead = (const char *)w + (r + PREFETCH_GROUPS * 4) * row_bytes;                  \
            for (size_t i = 0; i < blocks; i++) {                                                         \
                PREFETCH_GROUP_SLICE(ahead + i * 4 * BYTES, 4 * BYTES)                                    \
                const size_t o = i * BYTES;                                                               \
                __m256i x0 = _mm256_loadu_si256((const __m256i *)x[i].qs);                                \
                __m256i x1 = _mm256_loadu_si256((const __m256i *)(x[i].qs + 16));                         \
                const int qoff = HAS_MIN ? 4 : 2;                                                         \
                __m256i a = DOTFN(row[0] + o + qoff, x0, x1), b = DOTFN(row[1] + o + qoff, x0, x1);        \
                __m256i c = DOTFN(row[2] + o + qoff, x0, x1), d = DOTFN(row[3] + o + qoff, x0, x1);        \
                __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));       \
                if (!HAS_MIN) sums = _mm256_sub_epi32(sums, _mm256_set1_epi32(4 * x[i].sum));             \
                __m256 dm = _mm256_cvtph_ps(gather4_u32(row[0] + o, row[1] + o, row[2] + o, row[3] + o));  \
                __m256 p = _mm256_mul_ps(dm, _mm256_castpd_ps(_mm256_broadcast_sd((const double *)&x[i].d))); \
                if (HAS_MIN) offsets = _mm256_add_ps(offsets, p);                                         \
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_permutevar8x32_ps(p, evens), acc); \
            }                                                                                             \
            float lanes[8], offs[8];                                                                      \
            _mm256_storeu_ps(lanes, acc);                                                                 \
            _mm256_storeu_ps(offs, offsets);                                                              \
            for (int j = 0; j < R; j++) y[r + j] = (lanes[j] + lanes[j + 4]) + (HAS_MIN ? offs[2 * j + 1] : 0); \
        }                                                                                                 \
    }

ATTEND_MATVEC_NIB16(attend_matvec_q4_0_q16_avx2, ATTEND_AVX2, nib16_dot_avx2, ATTEND_Q4_0_BLOCK_BYTES, 0)
ATTEND_MATVEC_NIB16(attend_matvec_q4_1_q16_avx2, ATTEND_AVX2, nib16_dot_avx2, ATTEND_Q4_1_BLOCK_BYTES, 1)

ATTEND_MATVEC_Q16_BODY(attend_matvec_q8_0_q16_avx2, ATTEND_AVX2, deinterleave16_avx2, ATTEND_Q8_0_BLOCK_BYTES, , DOT16_Q8_0, 0)

ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q4_0_q16_avx2, attend_matvec_q4_0_q16_avx2)
ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q4_1_q16_avx2, attend_matvec_q4_1_q16_avx2)
ATTEND_MATMUL_Q16_BY_MATVEC(attend_matmul_q8_0_q16_avx2, attend_matvec_q8_0_q16_avx2)

// MARK: q16, AVX-512

/// As the AVX2 kernel on two zmm per block; vpmovdw narrows int32 → int16 in order; s as
/// attend_block_q16 orders it (x₀₋₁₅ + x₁₆₋₃₁, halves folded, then hsum256).
ATTEND_AVX512 void attend_quantize_row_q16_avx512(const float *x, attend_block_q16 *y, size_t n) {
    for (size_t i = 0; i < n / ATTEND_QK; i++, x += ATTEND_QK, y++) {
        __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
        float d, inverse;
        block_scale(_mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(v0), _mm512_abs_ps(v1))), 32767.0f, &d, &inverse);
        __m512 scale = _mm512_set1_ps(inverse);
        __m512i q0 = _mm512_cvtps_epi32(_mm512_mul_ps(v0, scale)), q1 = _mm512_cvtps_epi32(_mm512_mul_ps(v1, scale));
        _mm256_storeu_si256((__m256i *)y->qs, _mm512_cvtepi32_epi16(q0));
        _mm256_storeu_si256((__m256i *)(y->qs + 16), _mm512_cvtepi32_epi16(q1));
        __m512 t = _mm512_add_ps(v0, v1);
        y->d = d;
        y->s = hsum256(_mm256_add_ps(_mm512_castps512_ps256(t), _mm512_extractf32x8_ps(t, 1)));
        y->sum = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
        y->pad = 0;
    }
}

/// Q8_0's matvec: the AVX2 body (ymm: Zen 4 runs a zmm op as two, and the weights of a block row
/// fill one ymm of words), with x split by one vpermw per block instead of three shuffles. Q4_0 and
/// Q4_1 take the nibble body above, with vpdpwssd when the CPU has VNNI.
ATTEND_AVX512 static inline void deinterleave16_avx512(const int16_t *qs, __m256i *xe, __m256i *xo) {
    const __m512i split = _mm512_setr_epi32(0x00020000, 0x00060004, 0x000A0008, 0x000E000C, 0x00120010, 0x00160014,
                                            0x001A0018, 0x001E001C, 0x00030001, 0x00070005, 0x000B0009, 0x000F000D,
                                            0x00130011, 0x00170015, 0x001B0019, 0x001F001D);
    __m512i v = _mm512_permutexvar_epi16(split, _mm512_loadu_si512(qs));
    *xe = _mm512_castsi512_si256(v);
    *xo = _mm512_extracti64x4_epi64(v, 1);
}

ATTEND_MATVEC_NIB16(attend_matvec_q4_0_q16_avx512_vnni, ATTEND_AVX512_VNNI, nib16_dot_vnni, ATTEND_Q4_0_BLOCK_BYTES, 0)
ATTEND_MATVEC_NIB16(attend_matvec_q4_1_q16_avx512_vnni, ATTEND_AVX512_VNNI, nib16_dot_vnni, ATTEND_Q4_1_BLOCK_BYTES, 1)

ATTEND_MATVEC_Q16(attend_matvec_q4_0_q16_avx512) {
    (has_vnni() ? attend_matvec_q4_0_q16_avx512_vnni : attend_matvec_q4_0_q16_avx2)(ATTEND_ARGS_MATVEC);
}
ATTEND_MATVEC_Q16(attend_matvec_q4_1_q16_avx512) {
    (has_vnni() ? attend_matvec_q4_1_q16_avx512_vnni : attend_matvec_q4_1_q16_avx2)(ATTEND_ARGS_MATVEC);
}
ATTEND_MATVEC_Q16_BODY(attend_matvec_q8_0_q16_avx512, ATTEND_AVX512, deinterleave16_avx512, ATTEND_Q8_0_BLOCK_BYTES, , DOT16_Q8_0, 0)

// MARK: q16, AVX-512 VNNI matmul: weights repacked to int16 panels, a 32-row × MM16_TOKENS tile
//
// The q8 tile with vpdpwssd (s16 × s16, 2 products per int32 lane) for vpdpbusd: per panel of 16
// rows and chunk of MM16_CHUNK blocks, one zmm holds 2 consecutive k of all 16 rows as int16
// ([block][pair of k][row lane][2 × int16]); a token's 2 activations broadcast as one int32, 16
// vpdpwssd finish a block's exact integer sum for 16 rows, and the float work per block is the q8
// tile's. Both operands are signed, so Q4_0's q − 8 and Q8_0's bytes are packed as they are (no
// correction). The weights take twice the bytes of the q8 panel, so the chunk is half as long
// (8 blocks: a panel pair is 16 KiB + scales, in L1 while every token passes).
#define MM16_CHUNK 8
/// Tokens per tile: 4 measured 1.2–1.5× faster than 6 (whose 24 accumulators crowd the registers).
#ifndef MM16_TOKENS
#define MM16_TOKENS 4
#endif

_Static_assert(MM16_TOKENS == 4 && MM_TOKENS == 4, "the shared tile helpers hold 4 tokens");

typedef struct packed_panel16 {
    int32_t q[MM16_CHUNK][16][16];   // two int16 weights (k = 2g, 2g + 1) per row lane
    float d[MM16_CHUNK][16], m[MM16_CHUNK][16];
} packed_panel16;

/// Transposes a 16 × 16 matrix of int32 held as 16 zmm rows (in place): unpacks of 32- and 64-bit
/// elements, then two rounds of 128-bit lane shuffles (64 instructions for 256 elements).
ATTEND_AVX512 static inline __attribute__((always_inline)) void transpose16x16_epi32(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        r[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        r[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        r[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int h = 0; h < 16; h += 8)
        for (int j = 0; j < 4; j++) {
            t[h + j] = _mm512_shuffle_i32x4(r[h + j], r[h + j + 4], 0x88);
            t[h + j + 4] = _mm512_shuffle_i32x4(r[h + j], r[h + j + 4], 0xdd);
        }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xdd);
    }
}

/// Packs rows [r, r + 16) (rows past `rows` as zeros) × blocks [b0, b0 + count): per block, each
/// row's 32 weights widened to int16 are one zmm of 16 pairs; a 16 × 16 transpose turns the 16
/// rows' zmm into the panel's [pair][row lane] order (a tenth of the scalar scatter's time, which
/// made packing cost more than a decoding batch's products).
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void pack_panel16(
    packed_panel16 *panel, const uint8_t *w, size_t row_bytes, size_t r, size_t rows, size_t b0, size_t count,
    packed_type type) {
    const size_t bytes = type == PACKED_Q4_1 ? ATTEND_Q4_1_BLOCK_BYTES : type == PACKED_Q4_0 ? ATTEND_Q4_0_BLOCK_BYTES
                                                                                             : ATTEND_Q8_0_BLOCK_BYTES;
    const size_t live = rows - r < 16 ? rows - r : 16;
    for (size_t i = 0; i < count; i++) {
        __m512i q[16];
        for (size_t lane = 0; lane < 16; lane++) {
            if (lane >= live) {
                q[lane] = _mm512_setzero_si512();
                panel->d[i][lane] = panel->m[i][lane] = 0;
                continue;
            }
            const uint8_t *b = w + (r + lane) * row_bytes + (b0 + i) * bytes;
            __m128 dm = load_scales(b);
            panel->d[i][lane] = _mm_cvtss_f32(dm);
            panel->m[i][lane] = type == PACKED_Q4_1 ? _mm_cvtss_f32(_mm_movehdup_ps(dm)) : 0;
            q[lane] = type == PACKED_Q4_1   ? _mm512_cvtepu8_epi16(nibbles256(b + 4))
                      : type == PACKED_Q4_0 ? _mm512_cvtepi8_epi16(_mm256_sub_epi8(nibbles256(b + 2), _mm256_set1_epi8(8)))
                                            : _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + 2)));
        }
        transpose16x16_epi32(q);
        for (int g = 0; g < 16; g++) _mm512_storeu_si512(panel->q[i][g], q[g]);
    }
}

/// P panels (1–2) × T tokens (1–MM16_TOKENS) over `count` blocks of a chunk; adds into y unless
/// `first`. P and T are constants at every call: the loops unroll, the accumulators stay in
/// registers (2·4 integer + 2·4 float + 2 weights + 1 broadcast of the 32 zmm).
ATTEND_AVX512_VNNI static inline __attribute__((always_inline)) void matmul16_tile(
    const packed_panel16 *panels, const attend_block_q16 *x, size_t x_stride_blocks, float *y, size_t y_stride,
    size_t r, size_t rows, size_t count, bool first, packed_type type, int P, int T) {
    __m512 acc[2][MM16_TOKENS];
    for (int p = 0; p < P; p++)
        for (int t = 0; t < T; t++) acc[p][t] = _mm512_setzero_ps();
    for (size_t i = 0; i < count; i++) {
        __m512i sums[2][MM16_TOKENS];
        for (int p = 0; p < P; p++)
            for (int t = 0; t < T; t++) sums[p][t] = _mm512_setzero_si512();
        for (int g = 0; g < 16; g++) {
            __m512i weights[2];
            for (int p = 0; p < P; p++) weights[p] = _mm512_loadu_si512(panels[p].q[i][g]);
            for (int t = 0; t < T; t++) {
                int32_t two;
                memcpy(&two, x[t * x_stride_blocks + i].qs + 2 * g, 4);
                __m512i a = _mm512_set1_epi32(two);
                for (int p = 0; p < P; p++) sums[p][t] = _mm512_dpwssd_epi32(sums[p][t], weights[p], a);
            }
        }
        accumulate_tile_block(acc, sums, panels[0].d[i], panels[P - 1].d[i], panels[0].m[i], panels[P - 1].m[i],
                              (const char *)&x[i], x_stride_blocks * sizeof(attend_block_q16), type == PACKED_Q4_1, P, T);
    }
    store_tile(acc, y, y_stride, r, rows, first, P, T);
}

ATTEND_MATMUL_DRIVER(matmul16_vnni, attend_block_q16, packed_panel16, pack_panel16, matmul16_tile, MM16_CHUNK, MM16_TOKENS)

/// As MM_TILE_MIN_TOKENS, for the q16 tile, whose packing is vectorized (a 16 × 16 transpose):
/// with weights hot in cache the tile wins from 4 tokens on (576×576 Q4_1, one Zen 4 core, 8
/// tokens: 94 vs 58 GFLOP/s-equivalent), but a decoding step streams them from memory, where the
/// prefetched matvec keeps up until 8 (SmolLM2 steps, 2 threads: 3 sequences 9.0 ms, 4 with the
/// tile 19–20 ms, 8 with the tile 24–26 ms against ~24 by matvec, 16 with the tile 34 ms).
#ifndef MM16_TILE_MIN_TOKENS
#define MM16_TILE_MIN_TOKENS 8
#endif

static ATTEND_MATMUL_Q16_BY_MATVEC(matmul_panels_q4_0_q16_vnni, attend_matvec_q4_0_q16_avx512_vnni)
static ATTEND_MATMUL_Q16_BY_MATVEC(matmul_panels_q4_1_q16_vnni, attend_matvec_q4_1_q16_avx512_vnni)
static ATTEND_MATMUL_Q16_BY_MATVEC(matmul_panels_q8_0_q16_vnni, attend_matvec_q8_0_q16_avx512)

/// As the q8 entries, with the q16 threshold.
ATTEND_AVX512_VNNI ATTEND_MATMUL_Q16(attend_matmul_q4_0_q16_avx512_vnni) {
    if (n_tokens < MM16_TILE_MIN_TOKENS) { matmul_panels_q4_0_q16_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul16_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q4_0);
}
ATTEND_AVX512_VNNI ATTEND_MATMUL_Q16(attend_matmul_q4_1_q16_avx512_vnni) {
    if (n_tokens < MM16_TILE_MIN_TOKENS) { matmul_panels_q4_1_q16_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul16_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q4_1);
}
ATTEND_AVX512_VNNI ATTEND_MATMUL_Q16(attend_matmul_q8_0_q16_avx512_vnni) {
    if (n_tokens < MM16_TILE_MIN_TOKENS) { matmul_panels_q8_0_q16_vnni(ATTEND_ARGS_MATMUL); return; }
    matmul16_vnni(w, row_bytes, x, x_stride_blocks, y, y_stride, rows, k, n_tokens, PACKED_Q8_0);
}

/// The AVX-512 matmul entries: the VNNI tile when the CPU has it, else the AVX2 per-token matvec.
#define ATTEND_MATMUL_Q16_VNNI_OR_AVX2(type)                                                              \
    ATTEND_MATMUL_Q16(attend_##type##_avx512) {                                                           \
        (has_vnni() ? attend_##type##_avx512_vnni : attend_##type##_avx2)(ATTEND_ARGS_MATMUL);            \
    }
ATTEND_MATMUL_Q16_VNNI_OR_AVX2(matmul_q4_0_q16)
ATTEND_MATMUL_Q16_VNNI_OR_AVX2(matmul_q4_1_q16)
ATTEND_MATMUL_Q16_VNNI_OR_AVX2(matmul_q8_0_q16)

#endif
