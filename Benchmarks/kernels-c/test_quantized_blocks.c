// Accuracy tests of quantized_blocks.c: every path of the dispatch table against the portable one
// (the oracle) and against references computed here in exact integers or float64.
//
//   cd Benchmarks/kernels-c && make test        (see the Makefile: clang -O2 -std=c11, no -m flags)
//
// Checks, for every path the CPU has:
//   dequantize_f16 / bf16   all 65,536 bit patterns, bit for bit
//   dequantize_q4_0/q4_1/q8_0  random blocks (any fp16 scale bits, d = 0, ±∞, NaN), bit for bit
//                              with the portable path, and the portable path with gguf-py's
//                              formula evaluated here (d·q rounded, then + m)
//   quantize_row_q8         identical bytes and floats (ties, zeros, tiny and huge blocks)
//   matvec / matmul         exact data (scales powers of two, so every float sum is exact in any
//                           order): bit for bit with an int64 reference; random data: within
//                           2⁻¹⁸·Σ|wᵢ·xᵢ| of a float64 reference of the dequantized operands
//   quantize_row_q16        as quantize_row_q8, plus s bit for bit with its defined order
//   matvec / matmul q16     exact data (|qs| as large as keeps the float sums exact, up to 32767):
//                           bit for bit with int64; random data against the float x itself:
//                           within 2⁻¹⁸·Σ|w·x| + Σ|w|·d_x/2 (x's rounding), and < 1e-4·Σ|w·x|
//                           (q8's error on the same data printed beside it)
#include "AttendKernels.h"

#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t next_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)(next_u32() >> 8) / 16777216.0f; }

static uint16_t float_to_half(float f) {
    _Float16 h = (_Float16)f;
    uint16_t bits;
    memcpy(&bits, &h, 2);
    return bits;
}
static double half_value(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, 2);
    return (double)v;
}
static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static int failures = 0;
#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        if (!(cond)) {                                                           \
            if (failures++ < 20) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } \
        }                                                                        \
    } while (0)

typedef enum { Q4_0, Q4_1, Q8_0 } block_type;
static const char *type_names[] = {"q4_0", "q4_1", "q8_0"};
static const size_t type_bytes[] = {ATTEND_Q4_0_BLOCK_BYTES, ATTEND_Q4_1_BLOCK_BYTES, ATTEND_Q8_0_BLOCK_BYTES};

typedef void matvec_fn(const void *, size_t, const attend_block_q8 *, float *, size_t, size_t);
typedef void matmul_fn(const void *, size_t, const attend_block_q8 *, size_t, float *, size_t, size_t, size_t, size_t);
static matvec_fn *matvec_of(const attend_kernel_table *t, block_type type) {
    return type == Q4_0 ? t->matvec_q4_0_q8 : type == Q4_1 ? t->matvec_q4_1_q8 : t->matvec_q8_0_q8;
}
static matmul_fn *matmul_of(const attend_kernel_table *t, block_type type) {
    return type == Q4_0 ? t->matmul_q4_0_q8 : type == Q4_1 ? t->matmul_q4_1_q8 : t->matmul_q8_0_q8;
}

/// Fills one block: `exact` draws d ∈ {½, 1} and m ∈ {−4, −3.5, …, 4} (so every product and sum
/// below is exact in float); otherwise realistic scales, with 1 block in 16 having d = 0.
static void fill_block(uint8_t *b, block_type type, bool exact) {
    float d = exact ? (next_u32() & 1 ? 1.0f : 0.5f) : (next_u32() % 16 == 0 ? 0 : uniform(1e-3f, 0.05f));
    uint16_t dh = float_to_half(d);
    memcpy(b, &dh, 2);
    size_t q = 2;
    if (type == Q4_1) {
        float m = exact ? (float)((int)(next_u32() % 17) - 8) * 0.5f : uniform(-0.4f, 0.0f);
        uint16_t mh = float_to_half(m);
        memcpy(b + 2, &mh, 2);
        q = 4;
    }
    for (size_t j = q; j < type_bytes[type]; j++) b[j] = (uint8_t)next_u32();
}

/// Weight j of a block, and its exact integer part for the int64 reference.
static int weight_int(const uint8_t *b, block_type type, int j) {
    if (type == Q8_0) return (int8_t)b[2 + j];
    const uint8_t *qs = b + (type == Q4_1 ? 4 : 2);
    int q = j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4;
    return type == Q4_0 ? q - 8 : q;
}
static double weight_value(const uint8_t *b, block_type type, int j) {
    uint16_t dh, mh = 0;
    memcpy(&dh, b, 2);
    if (type == Q4_1) memcpy(&mh, b + 2, 2);
    return half_value(dh) * weight_int(b, type, j) + (type == Q4_1 ? half_value(mh) : 0);
}

// MARK: - Conversions

static void test_half_and_bfloat(const attend_kernel_table *t, const attend_kernel_table *p) {
    static uint16_t all[65536];
    static float want[65536], got[65536];
    for (uint32_t i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    // Offsets 0 and 3 floats: the tails of every path.
    for (size_t offset = 0; offset < 4; offset += 3) {
        size_t n = 65536 - offset;
        p->dequantize_f16(all + offset, want, n);
        t->dequantize_f16(all + offset, got, n);
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) bad += float_bits(want[i]) != float_bits(got[i]);
        CHECK(bad == 0, "%s dequantize_f16: %zu of %zu differ", attend_isa_name(t->isa), bad, n);
        p->dequantize_bf16(all + offset, want, n);
        t->dequantize_bf16(all + offset, got, n);
        bad = 0;
        for (size_t i = 0; i < n; i++) bad += float_bits(want[i]) != float_bits(got[i]);
        CHECK(bad == 0, "%s dequantize_bf16: %zu differ", attend_isa_name(t->isa), bad);
    }
    // The portable half conversion against the compiler's for every non-NaN value.
    p->dequantize_f16(all, want, 65536);
    size_t bad = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        double v = half_value((uint16_t)i);
        if (v == v) bad += float_bits(want[i]) != float_bits((float)v);
        else bad += !(want[i] != want[i]) || (float_bits(want[i]) & 0x400000u) == 0;
    }
    CHECK(bad == 0, "portable half → float differs from _Float16 in %zu values", bad);
}

static void test_dequantize(const attend_kernel_table *t, const attend_kernel_table *p) {
    enum { BLOCKS = 4001 };
    static uint8_t raw[BLOCKS * 34 + 1];
    static float want[BLOCKS * 32], got[BLOCKS * 32];
    void (*portable[3])(const void *, float *, size_t) = {p->dequantize_q4_0, p->dequantize_q4_1, p->dequantize_q8_0};
    void (*tested[3])(const void *, float *, size_t) = {t->dequantize_q4_0, t->dequantize_q4_1, t->dequantize_q8_0};
    for (int type = 0; type < 3; type++) {
        uint8_t *blocks = raw + 1;   // misaligned on purpose
        for (size_t b = 0; b < BLOCKS; b++) {
            uint8_t *block = blocks + b * type_bytes[type];
            fill_block(block, (block_type)type, false);
            // Every 8th block: arbitrary scale bits (subnormal, huge, ±∞, NaN); every 9th: m arbitrary.
            if (b % 8 == 7) { uint16_t h = (uint16_t)next_u32(); memcpy(block, &h, 2); }
            if (type == Q4_1 && b % 9 == 4) { uint16_t h = (uint16_t)next_u32(); memcpy(block + 2, &h, 2); }
        }
        portable[type](blocks, want, BLOCKS * 32);
        tested[type](blocks, got, BLOCKS * 32);
        size_t bad = 0, formula_bad = 0, fused_differs = 0;
        for (size_t i = 0; i < BLOCKS * 32; i++) {
            bad += float_bits(want[i]) != float_bits(got[i]) && !(want[i] != want[i] && got[i] != got[i]);
            // gguf-py: (d * q) + m in float32, two roundings.
            const uint8_t *block = blocks + (i / 32) * type_bytes[type];
            uint16_t dh, mh = 0;
            memcpy(&dh, block, 2);
            if (type == Q4_1) memcpy(&mh, block + 2, 2);
            volatile float d = (float)half_value(dh), m = (float)half_value(mh);
            volatile float product = d * (float)weight_int(block, (block_type)type, (int)(i % 32));
            float expected = type == Q4_1 ? product + m : product;
            formula_bad += float_bits(expected) != float_bits(want[i]) && !(expected != expected && want[i] != want[i]);
            if (type == Q4_1) fused_differs += fmaf(d, (float)weight_int(block, Q4_1, (int)(i % 32)), m) != expected;
        }
        CHECK(bad == 0, "%s dequantize_%s: %zu differ from portable", attend_isa_name(t->isa), type_names[type], bad);
        CHECK(formula_bad == 0, "portable dequantize_%s: %zu differ from gguf-py's formula", type_names[type], formula_bad);
        if (type == Q4_1 && t == p)
            printf("  (q4_1: a fused multiply-add would differ in %zu of %d weights; none do)\n", fused_differs, BLOCKS * 32);
    }
}

// MARK: - quantize_row_q8

static void test_quantize(const attend_kernel_table *t, const attend_kernel_table *p) {
    enum { N = 32 * 64 };
    static float x[N];
    static attend_block_q8 want[N / 32], got[N / 32];
    for (int trial = 0; trial < 200; trial++) {
        float scale = powf(10.0f, uniform(-6, 6));
        for (size_t i = 0; i < N; i++) x[i] = uniform(-scale, scale);
        // Special blocks: zeros; tiny (below 127·FLT_MIN); huge; exact ties; one ±max; one subnormal-ish.
        for (int j = 0; j < 32; j++) {
            x[32 + j] = 0;
            x[64 + j] = uniform(-1e-37f, 1e-37f);
            x[96 + j] = uniform(-1, 1) * 3e38f;   // s = d·Σq may overflow to ±∞: still the same on every path
            x[128 + j] = (float)((int)(next_u32() % 254) - 127) + 0.5f;   // ties at d = 1
            x[160 + j] = j == 5 ? -FLT_MAX : uniform(-1, 1);
        }
        x[128] = 127.0f;   // max|x| = 127, d = 1: x = k + ½ are ties
        p->quantize_row_q8(x, want, N);
        t->quantize_row_q8(x, got, N);
        size_t bad = 0;
        for (size_t b = 0; b < N / 32; b++) bad += memcmp(&want[b], &got[b], sizeof want[b]) != 0;
        CHECK(bad == 0, "%s quantize_row_q8: %zu blocks differ (trial %d)", attend_isa_name(t->isa), bad, trial);
        // The definition, checked on the portable output.
        for (size_t b = 0; b < N / 32 && t == p; b++) {
            float amax = 0;
            int32_t sum = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
            for (int j = 0; j < 32; j++) sum += want[b].qs[j];
            bool tiny = amax < 127.0f * 1.17549435e-38f;
            CHECK(tiny ? want[b].d == 0 : want[b].d == amax / 127.0f, "d of block %zu", b);
            CHECK(want[b].s == want[b].d * (float)sum, "s of block %zu", b);
            for (int j = 0; j < 32 && !tiny; j++)
                CHECK(fabs((double)x[32 * b + j] / want[b].d - want[b].qs[j]) <= 0.5 + 1e-5, "q of block %zu", b);
        }
        if (t == p) {
            // Ties round half to even: with d = 1 exactly, x = k + ½ gives the even neighbour.
            for (int j = 1; j < 32; j++) {
                float v = x[128 + j];
                int even = (int)floorf(v);
                if (even % 2) even++;
                CHECK(want[4].qs[j] == even, "tie %g rounded to %d", v, want[4].qs[j]);
            }
        }
    }
}

// MARK: - Products

/// Exact int64 reference in units of ¼ (d_w ∈ {½, 1}, d_x = 1, m ∈ ½ℤ): Σ_b 4·(d_w·isum + m·s).
static int64_t exact_row(const uint8_t *row, block_type type, const attend_block_q8 *x, size_t k) {
    int64_t total = 0;
    for (size_t b = 0; b < k / 32; b++) {
        const uint8_t *block = row + b * type_bytes[type];
        uint16_t dh, mh = 0;
        memcpy(&dh, block, 2);
        if (type == Q4_1) memcpy(&mh, block + 2, 2);
        int64_t isum = 0;
        for (int j = 0; j < 32; j++) isum += (int64_t)weight_int(block, type, j) * x[b].qs[j];
        total += (int64_t)llround(4 * half_value(dh)) * isum * (int64_t)x[b].d;
        if (type == Q4_1) total += (int64_t)llround(4 * half_value(mh)) * (int64_t)x[b].s;
    }
    return total;
}

/// float64 reference of the dequantized operands, and Σ|wᵢ·xᵢ| for the tolerance.
static double reference_row(const uint8_t *row, block_type type, const attend_block_q8 *x, size_t k, double *magnitude) {
    double total = 0, size = 0;
    for (size_t i = 0; i < k; i++) {
        double v = weight_value(row + (i / 32) * type_bytes[type], type, (int)(i % 32)) * x[i / 32].d * x[i / 32].qs[i % 32];
        total += v;
        size += fabs(v);
    }
    *magnitude = size;
    return total;
}

static double worst_ratio[3][2];   // largest |error|/(Σ|w·x|) seen, per type, matvec/matmul

static void test_products(const attend_kernel_table *t, const attend_kernel_table *p) {
    static const size_t row_counts[] = {1, 3, 7, 33}, ks[] = {32, 64, 576, 1536}, token_counts[] = {1, 3, 5, 17, 18, 23};   // below and above MM16_TILE_MIN_TOKENS (8) and MM_TILE_MIN_TOKENS (16): panels and tile, every tile remainder
    const double tolerance = 1.0 / (1 << 18);
    for (int type = 0; type < 3; type++)
        for (size_t ri = 0; ri < 4; ri++)
            for (size_t ki = 0; ki < 4; ki++)
                for (int exact = 0; exact < 2; exact++) {
                    size_t rows = row_counts[ri], k = ks[ki], row_bytes = k / 32 * type_bytes[type];
                    size_t tokens = token_counts[(ri + ki + (size_t)type) % 6] + 2 * exact, stride = k / 32 + 1;
                    uint8_t *raw = malloc(rows * row_bytes + 1), *w = raw + 1;   // misaligned
                    attend_block_q8 *x = calloc(tokens * stride, sizeof *x);
                    float *xf = malloc(k * sizeof *xf);
                    for (size_t r = 0; r < rows; r++)
                        for (size_t b = 0; b < k / 32; b++) fill_block(w + r * row_bytes + b * type_bytes[type], (block_type)type, exact);
                    for (size_t tk = 0; tk < tokens; tk++) {
                        attend_block_q8 *xt = x + tk * stride;
                        if (exact) {
                            for (size_t b = 0; b < k / 32; b++) {
                                int32_t s = 0;
                                for (int j = 0; j < 32; j++) s += xt[b].qs[j] = (int8_t)((int)(next_u32() % 255) - 127);
                                xt[b].d = 1;
                                xt[b].s = (float)s;
                            }
                        } else {
                            for (size_t i = 0; i < k; i++) xf[i] = uniform(-3, 3);
                            // Extremes: one all-zero block, one at ±max magnitude (every q = ±127).
                            if (k >= 64) for (int j = 0; j < 32; j++) { xf[j] = 0; xf[32 + j] = j & 1 ? 1e4f : -1e4f; }
                            p->quantize_row_q8(xf, xt, k);
                        }
                    }
                    float *want = calloc(tokens * rows, sizeof *want), *got = calloc(tokens * rows, sizeof *got);
                    float *mm = calloc(tokens * (rows + 3), sizeof *mm);
                    for (size_t tk = 0; tk < tokens; tk++) {
                        matvec_of(p, (block_type)type)(w, row_bytes, x + tk * stride, want + tk * rows, rows, k);
                        matvec_of(t, (block_type)type)(w, row_bytes, x + tk * stride, got + tk * rows, rows, k);
                    }
                    for (size_t i = 0; i < tokens * (rows + 3); i++) mm[i] = -12345.0f;
                    matmul_of(t, (block_type)type)(w, row_bytes, x, stride, mm, rows + 3, rows, k, tokens);
                    for (size_t tk = 0; tk < tokens; tk++)
                        for (size_t r = 0; r < rows; r++) {
                            const uint8_t *row = w + r * row_bytes;
                            float v = got[tk * rows + r], u = mm[tk * (rows + 3) + r];
                            if (exact) {
                                double e = (double)exact_row(row, (block_type)type, x + tk * stride, k) / 4;
                                CHECK(want[tk * rows + r] == e && v == e && u == e,
                                      "%s %s exact rows %zu k %zu token %zu row %zu: portable %.9g, matvec %.9g, matmul %.9g, exact %.9g",
                                      attend_isa_name(t->isa), type_names[type], rows, k, tk, r, want[tk * rows + r], v, u, e);
                            } else {
                                double magnitude, e = reference_row(row, (block_type)type, x + tk * stride, k, &magnitude);
                                double bound = tolerance * magnitude + 1e-30;
                                double errors[3] = {fabs(want[tk * rows + r] - e), fabs(v - e), fabs(u - e)};
                                CHECK(errors[0] <= bound && errors[1] <= bound && errors[2] <= bound,
                                      "%s %s rows %zu k %zu token %zu row %zu: errors %g %g %g > %g", attend_isa_name(t->isa),
                                      type_names[type], rows, k, tk, r, errors[0], errors[1], errors[2], bound);
                                if (magnitude > 0)
                                    for (int j = 0; j < 2; j++)
                                        if (errors[1 + j] / magnitude > worst_ratio[type][j]) worst_ratio[type][j] = errors[1 + j] / magnitude;
                            }
                        }
                    // The matmul writes exactly rows floats per token.
                    for (size_t tk = 0; tk < tokens; tk++)
                        for (size_t r = rows; r < rows + 3; r++)
                            CHECK(mm[tk * (rows + 3) + r] == -12345.0f, "matmul wrote past rows");
                    free(raw); free(x); free(xf); free(want); free(got); free(mm);
                }
}

// MARK: - 16-bit activations (attend_block_q16)

/// attend_block_q16's order of Σx, spelled out independently of the library.
static float q16_reference_sum(const float *x) {
    float t[16];
    for (int j = 0; j < 16; j++) t[j] = x[j] + x[j + 16];
    for (int j = 0; j < 8; j++) t[j] = t[j] + t[j + 8];
    for (int j = 0; j < 4; j++) t[j] = t[j] + t[j + 4];
    for (int j = 0; j < 2; j++) t[j] = t[j] + t[j + 2];
    return t[0] + t[1];
}

static void test_quantize_q16(const attend_kernel_table *t, const attend_kernel_table *p) {
    enum { N = 32 * 64 };
    static float x[N];
    static attend_block_q16 want[N / 32], got[N / 32];
    for (int trial = 0; trial < 200; trial++) {
        float scale = powf(10.0f, uniform(-6, 6));
        for (size_t i = 0; i < N; i++) x[i] = uniform(-scale, scale);
        // Special blocks: zeros; tiny (below 32767·FLT_MIN); huge (s overflows: still the same on
        // every path); exact ties at d = 1; one −FLT_MAX; a block just above the tiny threshold.
        for (int j = 0; j < 32; j++) {
            x[32 + j] = 0;
            x[64 + j] = uniform(-1e-35f, 1e-35f);
            x[96 + j] = uniform(-1, 1) * 3e38f;
            x[128 + j] = (float)((int)(next_u32() % 65534) - 32767) + 0.5f;   // ties at d = 1
            x[160 + j] = j == 5 ? -FLT_MAX : uniform(-1, 1);
            x[192 + j] = uniform(-1, 1) * 4e-34f;
        }
        x[192] = 4e-34f;   // just above 32767·FLT_MIN ≈ 3.85·10⁻³⁴
        x[128] = 32767.0f;   // max|x| = 32767, d = 1: x = k + ½ are ties
        memset(got, 0xA5, sizeof got);
        p->quantize_row_q16(x, want, N);
        t->quantize_row_q16(x, got, N);
        size_t bad = 0;
        for (size_t b = 0; b < N / 32; b++) bad += memcmp(&want[b], &got[b], sizeof want[b]) != 0;
        CHECK(bad == 0, "%s quantize_row_q16: %zu blocks differ (trial %d)", attend_isa_name(t->isa), bad, trial);
        // The definition, checked on the portable output.
        for (size_t b = 0; b < N / 32 && t == p; b++) {
            float amax = 0;
            int32_t sum = 0;
            for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[32 * b + j]));
            for (int j = 0; j < 32; j++) sum += want[b].qs[j];
            bool tiny = amax < 32767.0f * 1.17549435e-38f;
            float s = q16_reference_sum(x + 32 * b);
            CHECK(tiny ? want[b].d == 0 : want[b].d == amax / 32767.0f, "q16 d of block %zu", b);
            CHECK(want[b].sum == sum && want[b].pad == 0, "q16 sum/pad of block %zu", b);
            CHECK(float_bits(want[b].s) == float_bits(s), "q16 s of block %zu: %g, want %g", b, want[b].s, s);
            for (int j = 0; j < 32; j++) {
                CHECK(tiny ? want[b].qs[j] == 0 : fabs((double)x[32 * b + j] / want[b].d - want[b].qs[j]) <= 0.5 + 0.01,
                      "q16 q of block %zu", b);
                CHECK(abs(want[b].qs[j]) <= 32767, "q16 |q| > 32767");
            }
        }
        if (t == p) {
            for (int j = 1; j < 32; j++) {
                float v = x[128 + j];
                int even = (int)floorf(v);
                if (even % 2) even++;
                CHECK(want[4].qs[j] == even, "q16 tie %g rounded to %d", v, want[4].qs[j]);
            }
            CHECK(want[1].d == 0 && want[2].d == 0 && want[2].sum == 0 && want[6].d != 0, "q16 zero/tiny/threshold blocks");
        }
    }
}

typedef void matvec16_fn(const void *, size_t, const attend_block_q16 *, float *, size_t, size_t);
typedef void matmul16_fn(const void *, size_t, const attend_block_q16 *, size_t, float *, size_t, size_t, size_t, size_t);
static matvec16_fn *matvec16_of(const attend_kernel_table *t, block_type type) {
    return type == Q4_0 ? t->matvec_q4_0_q16 : type == Q4_1 ? t->matvec_q4_1_q16 : t->matvec_q8_0_q16;
}
static matmul16_fn *matmul16_of(const attend_kernel_table *t, block_type type) {
    return type == Q4_0 ? t->matmul_q4_0_q16 : type == Q4_1 ? t->matmul_q4_1_q16 : t->matmul_q8_0_q16;
}

/// exact_row for attend_block_q16 (d_x = 1, s = Σqs exactly), in units of ¼.
static int64_t exact_row16(const uint8_t *row, block_type type, const attend_block_q16 *x, size_t k) {
    int64_t total = 0;
    for (size_t b = 0; b < k / 32; b++) {
        const uint8_t *block = row + b * type_bytes[type];
        uint16_t dh, mh = 0;
        memcpy(&dh, block, 2);
        if (type == Q4_1) memcpy(&mh, block + 2, 2);
        int64_t isum = 0;
        for (int j = 0; j < 32; j++) isum += (int64_t)weight_int(block, type, j) * x[b].qs[j];
        total += (int64_t)llround(4 * half_value(dh)) * isum * (int64_t)x[b].d;
        if (type == Q4_1) total += (int64_t)llround(4 * half_value(mh)) * (int64_t)x[b].s;
    }
    return total;
}

/// float64 Σ w·x of the dequantized weights and the unquantized x; Σ|w·x|; and Σ|w|·d_x/2, the
/// most that rounding x to the blocks' qs can move the result (`x16` supplies the d_x).
static double reference_float_row(const uint8_t *row, block_type type, const float *x, const attend_block_q16 *x16,
                                  size_t k, double *magnitude, double *rounding) {
    double total = 0, size = 0, round = 0;
    for (size_t i = 0; i < k; i++) {
        double wv = weight_value(row + (i / 32) * type_bytes[type], type, (int)(i % 32));
        total += wv * x[i];
        size += fabs(wv * x[i]);
        round += fabs(wv) * x16[i / 32].d / 2;
    }
    *magnitude = size;
    *rounding = round;
    return total;
}

static double worst16[3][2], worst8_total[3];   // |error|/Σ|w·x| against the float x: q16 matvec/matmul, q8

static void test_products_q16(const attend_kernel_table *t, const attend_kernel_table *p) {
    static const size_t row_counts[] = {1, 3, 7, 33}, ks[] = {32, 64, 576, 1536}, token_counts[] = {1, 3, 5, 17, 18, 23};   // below and above MM16_TILE_MIN_TOKENS (8) and MM_TILE_MIN_TOKENS (16): panels and tile, every tile remainder
    const double tolerance = 1.0 / (1 << 18);
    for (int type = 0; type < 3; type++)
        for (size_t ri = 0; ri < 4; ri++)
            for (size_t ki = 0; ki < 4; ki++)
                for (int exact = 0; exact < 2; exact++) {
                    size_t rows = row_counts[ri], k = ks[ki], row_bytes = k / 32 * type_bytes[type];
                    size_t tokens = token_counts[(ri + ki + (size_t)type) % 6] + 2 * exact, stride = k / 32 + 1;
                    uint8_t *raw = malloc(rows * row_bytes + 1), *w = raw + 1;   // misaligned
                    attend_block_q16 *x = calloc(tokens * stride, sizeof *x);
                    attend_block_q8 *x8 = calloc(tokens * stride, sizeof *x8);
                    float *xf = malloc(tokens * k * sizeof *xf);
                    for (size_t r = 0; r < rows; r++)
                        for (size_t b = 0; b < k / 32; b++) fill_block(w + r * row_bytes + b * type_bytes[type], (block_type)type, exact);
                    // Exact data: qs in [−R, R] with R as large as keeps every partial float sum of
                    // every path an exact multiple of ½ below 2²³ (|term| ≤ 32·R·(max|q_w| + 4)).
                    int64_t per_block = 32 * (type == Q8_0 ? 128 : type == Q4_0 ? 8 : 15 + 4);
                    int64_t R = ((int64_t)1 << 23) / ((int64_t)(k / 32) * per_block);
                    if (R > 32767) R = 32767;
                    for (size_t tk = 0; tk < tokens; tk++) {
                        attend_block_q16 *xt = x + tk * stride;
                        if (exact) {
                            for (size_t b = 0; b < k / 32; b++) {
                                for (int j = 0; j < 32; j++) xt[b].qs[j] = (int16_t)((int64_t)(next_u32() % (2 * R + 1)) - R);
                                xt[b].qs[7] = (int16_t)-R;   // both extremes in every block
                                xt[b].qs[24] = (int16_t)R;
                                int32_t s = 0;
                                for (int j = 0; j < 32; j++) s += xt[b].qs[j];
                                xt[b].d = 1;
                                xt[b].s = (float)s;
                                xt[b].sum = s;
                            }
                        } else {
                            float *xr = xf + tk * k;
                            for (size_t i = 0; i < k; i++) xr[i] = uniform(-3, 3);
                            // Extremes: one all-zero block, one at ±max magnitude (every q = ±32767).
                            if (k >= 64) for (int j = 0; j < 32; j++) { xr[j] = 0; xr[32 + j] = j & 1 ? 1e4f : -1e4f; }
                            p->quantize_row_q16(xr, xt, k);
                            p->quantize_row_q8(xr, x8 + tk * stride, k);
                        }
                    }
                    float *want = calloc(tokens * rows, sizeof *want), *got = calloc(tokens * rows, sizeof *got);
                    float *mm = calloc(tokens * (rows + 3), sizeof *mm), *y8 = calloc(rows, sizeof *y8);
                    for (size_t tk = 0; tk < tokens; tk++) {
                        matvec16_of(p, (block_type)type)(w, row_bytes, x + tk * stride, want + tk * rows, rows, k);
                        matvec16_of(t, (block_type)type)(w, row_bytes, x + tk * stride, got + tk * rows, rows, k);
                    }
                    for (size_t i = 0; i < tokens * (rows + 3); i++) mm[i] = -12345.0f;
                    matmul16_of(t, (block_type)type)(w, row_bytes, x, stride, mm, rows + 3, rows, k, tokens);
                    for (size_t tk = 0; tk < tokens; tk++) {
                        if (!exact) matvec_of(t, (block_type)type)(w, row_bytes, x8 + tk * stride, y8, rows, k);
                        for (size_t r = 0; r < rows; r++) {
                            const uint8_t *row = w + r * row_bytes;
                            float v = got[tk * rows + r], u = mm[tk * (rows + 3) + r];
                            if (exact) {
                                double e = (double)exact_row16(row, (block_type)type, x + tk * stride, k) / 4;
                                CHECK(want[tk * rows + r] == e && v == e && u == e,
                                      "%s %s q16 exact rows %zu k %zu token %zu row %zu: portable %.9g, matvec %.9g, matmul %.9g, exact %.9g",
                                      attend_isa_name(t->isa), type_names[type], rows, k, tk, r, want[tk * rows + r], v, u, e);
                            } else {
                                // Against the float x: the kernels' float error plus x's rounding to
                                // 16 bits, which is at most Σ|w|·d_x/2 (q8's would be 258× that).
                                double magnitude, rounding;
                                double e = reference_float_row(row, (block_type)type, xf + tk * k, x + tk * stride, k, &magnitude, &rounding);
                                double bound = tolerance * magnitude + rounding * (1 + 1e-3) + 1e-30;
                                double errors[3] = {fabs(want[tk * rows + r] - e), fabs(v - e), fabs(u - e)};
                                CHECK(errors[0] <= bound && errors[1] <= bound && errors[2] <= bound,
                                      "%s %s q16 rows %zu k %zu token %zu row %zu: errors %g %g %g > %g", attend_isa_name(t->isa),
                                      type_names[type], rows, k, tk, r, errors[0], errors[1], errors[2], bound);
                                // Relative to Σ|w·x|: ~1e-5 for 16-bit activations (asserted < 1e-4).
                                if (magnitude > 0) {
                                    for (int j = 0; j < 2; j++)
                                        if (errors[1 + j] / magnitude > worst16[type][j]) worst16[type][j] = errors[1 + j] / magnitude;
                                    double e8 = fabs(y8[r] - e) / magnitude;
                                    if (e8 > worst8_total[type]) worst8_total[type] = e8;
                                }
                            }
                        }
                    }
                    for (size_t tk = 0; tk < tokens; tk++)
                        for (size_t r = rows; r < rows + 3; r++)
                            CHECK(mm[tk * (rows + 3) + r] == -12345.0f, "q16 matmul wrote past rows");
                    free(raw); free(x); free(x8); free(xf); free(want); free(got); free(mm); free(y8);
                }
}

int main(void) {
    const attend_kernel_table *p = attend_kernels_for(ATTEND_ISA_PORTABLE);
    for (int isa = ATTEND_ISA_PORTABLE; isa <= ATTEND_ISA_AVX512; isa++) {
        const attend_kernel_table *t = attend_kernels_for((attend_isa)isa);
        if (!t) { printf("%s: not on this CPU, skipped\n", attend_isa_name((attend_isa)isa)); continue; }
        int before = failures;
        memset(worst_ratio, 0, sizeof worst_ratio);
        test_half_and_bfloat(t, p);
        test_dequantize(t, p);
        test_quantize(t, p);
        test_products(t, p);
        printf("%s: %s; worst |error|/Σ|w·x| matvec q4_0 %.2e q4_1 %.2e q8_0 %.2e, matmul %.2e %.2e %.2e (bound %.2e)\n",
               attend_isa_name((attend_isa)isa), failures == before ? "ok" : "FAILED", worst_ratio[0][0], worst_ratio[1][0],
               worst_ratio[2][0], worst_ratio[0][1], worst_ratio[1][1], worst_ratio[2][1], 1.0 / (1 << 18));
        before = failures;
        memset(worst16, 0, sizeof worst16);
        memset(worst8_total, 0, sizeof worst8_total);
        test_quantize_q16(t, p);
        test_products_q16(t, p);
        for (int type = 0; type < 3; type++)
            CHECK(worst16[type][0] < 1e-4 && worst16[type][1] < 1e-4, "%s %s: q16 error %.2e / %.2e of Σ|w·x| ≥ 1e-4",
                  attend_isa_name((attend_isa)isa), type_names[type], worst16[type][0], worst16[type][1]);
        printf("%s q16: %s; worst |error|/Σ|w·x| against float x (activation rounding included): "
               "matvec q4_0 %.2e q4_1 %.2e q8_0 %.2e, matmul %.2e %.2e %.2e; q8 activations: %.2e %.2e %.2e\n",
               attend_isa_name((attend_isa)isa), failures == before ? "ok" : "FAILED", worst16[0][0], worst16[1][0],
               worst16[2][0], worst16[0][1], worst16[1][1], worst16[2][1], worst8_total[0], worst8_total[1], worst8_total[2]);
    }
    printf(failures ? "%d failures\n" : "all passed\n", failures);
    return failures != 0;
}
