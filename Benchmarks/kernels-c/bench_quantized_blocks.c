// Single-thread benchmarks of quantized_blocks.c, outside SwiftPM:
//
//   cd Benchmarks/kernels-c && make bench        (or ./bench_quantized_blocks [matvec|matmul|dequantize])
//
//   bandwidth   one core's read rate (attend sum over 512 MiB) and memcpy rate, for comparison
//   matvec      SmolLM2-135M's shapes, 8- and 16-bit activations, weights streamed from DRAM (copies of the matrix cycled
//               through 512 MiB so none is in cache) and hot (one copy, in L2): GB/s of weight
//               bytes, per path; Q4_1 for the layers, Q8_0 for the 49,152 × 576 tied logits
//   matmul      512 tokens × the layer shapes: the path's matmul, 8- and 16-bit activations
//               (activations quantized first, included) against dequantize-to-float32 + oneDNN's sgemm (OMP 1 thread),
//               GFLOP/s counted as 2·tokens·rows·k for both
//   dequantize  Q4_1/Q8_0 → float GB/s of output (hot)
#include "AttendKernels.h"

#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/// libgomp's (oneDNN's OpenMP): setenv("OMP_NUM_THREADS") after start-up comes too late.
void omp_set_num_threads(int threads);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rng_state = 88172645463325252ull;
static uint32_t next_u32(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/// Random blocks with sane fp16 scales (0x1C00 ≈ 0.0039, 0x2400 ≈ 0.0156).
static void fill_blocks(uint8_t *w, size_t blocks, size_t bytes) {
    for (size_t b = 0; b < blocks; b++, w += bytes) {
        for (size_t j = 0; j < bytes; j++) w[j] = (uint8_t)next_u32();
        uint16_t d = 0x1C00 + (next_u32() & 0x3FF), m = 0xA400 + (next_u32() & 0x3FF);
        memcpy(w, &d, 2);
        if (bytes == ATTEND_Q4_1_BLOCK_BYTES) memcpy(w + 2, &m, 2);
    }
}

static void *big(size_t bytes) {
    void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
    memset(p, 1, bytes);
    return p;
}

static volatile float sink;

static void bandwidth(void) {
    size_t n = (size_t)512 << 20;
    float *a = big(n), *b = big(n);
    const attend_kernel_table *t = attend_kernels();
    double best = 1e9, best_copy = 1e9;
    for (int rep = 0; rep < 9; rep++) {
        double start = now();
        sink = (float)t->sum(a, n / 4);
        double mid = now();
        memcpy(b, a, n);
        sink += b[n / 8 + (size_t)rep];
        double end = now();
        best = mid - start < best ? mid - start : best;
        best_copy = end - mid < best_copy ? end - mid : best_copy;
    }
    printf("one core: read %.1f GB/s (attend sum, %s), memcpy %.1f GB/s read + %.1f written\n", n / best / 1e9,
           attend_isa_name(t->isa), n / best_copy / 1e9, n / best_copy / 1e9);
    free(a);
    free(b);
}

typedef void matvec_fn(const void *, size_t, const attend_block_q8 *, float *, size_t, size_t);
typedef void matvec16_fn(const void *, size_t, const attend_block_q16 *, float *, size_t, size_t);

static void bench_matvec(void) {
    struct { const char *name; size_t rows, k, bytes; int q8; } shapes[] = {
        {"576x576 q4_1 (q, o)", 576, 576, ATTEND_Q4_1_BLOCK_BYTES, 0},
        {"192x576 q4_1 (k, v)", 192, 576, ATTEND_Q4_1_BLOCK_BYTES, 0},
        {"1536x576 q4_1 (gate, up)", 1536, 576, ATTEND_Q4_1_BLOCK_BYTES, 0},
        {"576x1536 q4_1 (down)", 576, 1536, ATTEND_Q4_1_BLOCK_BYTES, 0},
        {"49152x576 q8_0 (logits)", 49152, 576, ATTEND_Q8_0_BLOCK_BYTES, 1},
    };
    printf("\nmatvec, one thread: GB/s of weights (DRAM-streamed / hot in cache), µs per call streamed\n");
    printf("%-26s %9s", "shape, activations", "MB");
    for (int isa = 0; isa <= 2; isa++) printf(" %22s", attend_kernels_for((attend_isa)isa) ? attend_isa_name((attend_isa)isa) : "-");
    printf("\n");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        size_t row_bytes = shapes[s].k / 32 * shapes[s].bytes, bytes = shapes[s].rows * row_bytes;
        size_t copies = ((size_t)512 << 20) / bytes + 1;
        if (copies < 4) copies = 4;
        uint8_t *w = big(copies * bytes);
        fill_blocks(w, copies * bytes / shapes[s].bytes, shapes[s].bytes);
        float *x = big(shapes[s].k * 4), *y = big(shapes[s].rows * 4);
        for (size_t i = 0; i < shapes[s].k; i++) x[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
        attend_block_q8 *xq = big(shapes[s].k / 32 * sizeof *xq);
        attend_block_q16 *xq16 = big(shapes[s].k / 32 * sizeof *xq16);
        attend_kernels()->quantize_row_q8(x, xq, shapes[s].k);
        attend_kernels()->quantize_row_q16(x, xq16, shapes[s].k);
        // Each shape twice: 8-bit activations (attend_block_q8), then 16-bit (attend_block_q16).
        for (int act = 0; act < 2; act++) {
        printf("%-22s %3s %9.2f", shapes[s].name, act ? "x16" : "x8", bytes / 1e6);
        for (int isa = 0; isa <= 2; isa++) {
            const attend_kernel_table *t = attend_kernels_for((attend_isa)isa);
            if (!t) { printf(" %22s", "-"); continue; }
            matvec_fn *f8 = shapes[s].q8 ? t->matvec_q8_0_q8 : t->matvec_q4_1_q8;
            matvec16_fn *f16 = shapes[s].q8 ? t->matvec_q8_0_q16 : t->matvec_q4_1_q16;
            // One call of the chosen kernel on matrix copy `wc`.
#define CALL(wc) (act ? f16((wc), row_bytes, xq16, y, shapes[s].rows, shapes[s].k) : f8((wc), row_bytes, xq, y, shapes[s].rows, shapes[s].k))
            // Streamed: each call a different copy, cycling through > 512 MiB.
            // The best of 9 batches (this machine is shared: the best batch is the least disturbed).
            size_t calls = isa == 0 ? copies / 8 + 1 : copies / 2 + 1, next = 0;
            double streamed = 1e9, hot = 1e9;
            for (int batch = 0; batch < 9; batch++) {
                double start = now();
                for (size_t c = 0; c < calls; c++, next++) CALL(w + (next % copies) * bytes);
                double time = (now() - start) / calls;
                streamed = time < streamed ? time : streamed;
            }
            // Hot: one copy again and again.
            size_t hot_calls = isa == 0 ? 5 : 50;
            CALL(w);
            for (int batch = 0; batch < 9; batch++) {
                double start = now();
                for (size_t c = 0; c < hot_calls; c++) CALL(w);
                double time = (now() - start) / hot_calls;
                hot = time < hot ? time : hot;
            }
            char cell[64];
            snprintf(cell, sizeof cell, "%5.1f / %5.1f %6.0fµs", bytes / streamed / 1e9, bytes / hot / 1e9, streamed * 1e6);
            printf(" %22s", cell);
#undef CALL
        }
        printf("\n");
        }
        free(w); free(x); free(y); free(xq); free(xq16);
    }
}

typedef void matmul_fn(const void *, size_t, const attend_block_q8 *, size_t, float *, size_t, size_t, size_t, size_t);
typedef void matmul16_fn(const void *, size_t, const attend_block_q16 *, size_t, float *, size_t, size_t, size_t, size_t);

/// Tokens per matmul call (`./bench_quantized_blocks matmul N`; 512 by default, a prompt; 2–16 is a decoding batch).
static size_t matmul_tokens = 512;

static void bench_matmul(void) {
    const size_t tokens = matmul_tokens;
    struct { size_t rows, k; } shapes[] = {{576, 576}, {192, 576}, {1536, 576}, {576, 1536}};
    omp_set_num_threads(1);
    printf("\nmatmul, one thread, %zu tokens: GFLOP/s (2·tokens·rows·k per call), ms per call\n", tokens);
    printf("%-12s %5s %24s %24s %24s %24s %24s %24s\n", "rows x k", "type", "matmul (avx512)", "matmul (avx2)",
           "matmul x16 (avx512)", "matmul x16 (avx2)", "dequantize + dnnl_sgemm", "dnnl_sgemm alone");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int q8 = 0; q8 < 2; q8++) {
            size_t rows = shapes[s].rows, k = shapes[s].k, bytes = q8 ? ATTEND_Q8_0_BLOCK_BYTES : ATTEND_Q4_1_BLOCK_BYTES;
            size_t row_bytes = k / 32 * bytes;
            uint8_t *w = big(rows * row_bytes);
            fill_blocks(w, rows * k / 32, bytes);
            float *x = big(tokens * k * 4), *y = big(tokens * rows * 4), *wf = big(rows * k * 4);
            for (size_t i = 0; i < tokens * k; i++) x[i] = (float)(next_u32() % 2001) / 1000.0f - 1.0f;
            attend_block_q8 *xq = big(tokens * k / 32 * sizeof *xq);
            double flops = 2.0 * tokens * rows * k;
            printf("%5zux%-6zu %5s", rows, k, q8 ? "q8_0" : "q4_1");
            for (int isa = 2; isa >= 1; isa--) {
                const attend_kernel_table *t = attend_kernels_for((attend_isa)isa);
                if (!t) { printf(" %24s", "-"); continue; }
                matmul_fn *f = q8 ? t->matmul_q8_0_q8 : t->matmul_q4_1_q8;
                double best = 1e9;
                for (int rep = 0; rep < 5; rep++) {
                    double start = now();
                    t->quantize_row_q8(x, xq, tokens * k);   // tokens rows of k: contiguous, k/32 blocks each
                    f(w, row_bytes, xq, k / 32, y, rows, rows, k, tokens);
                    double time = now() - start;
                    best = time < best ? time : best;
                }
                char cell[64];
                snprintf(cell, sizeof cell, "%6.1f %6.2fms", flops / best / 1e9, best * 1e3);
                printf(" %24s", cell);
            }
            // 16-bit activations (attend_block_q16), quantization included as above.
            attend_block_q16 *xq16 = big(tokens * k / 32 * sizeof *xq16);
            for (int isa = 2; isa >= 1; isa--) {
                const attend_kernel_table *t = attend_kernels_for((attend_isa)isa);
                if (!t) { printf(" %24s", "-"); continue; }
                matmul16_fn *f = q8 ? t->matmul_q8_0_q16 : t->matmul_q4_1_q16;
                double best = 1e9;
                for (int rep = 0; rep < 5; rep++) {
                    double start = now();
                    t->quantize_row_q16(x, xq16, tokens * k);
                    f(w, row_bytes, xq16, k / 32, y, rows, rows, k, tokens);
                    double time = now() - start;
                    best = time < best ? time : best;
                }
                char cell[64];
                snprintf(cell, sizeof cell, "%6.1f %6.2fms", flops / best / 1e9, best * 1e3);
                printf(" %24s", cell);
            }
            free(xq16);
            const attend_kernel_table *t = attend_kernels();
            double best = 1e9, best_gemm = 1e9;
            for (int rep = 0; rep < 5; rep++) {
                double start = now();
                (q8 ? t->dequantize_q8_0 : t->dequantize_q4_1)(w, wf, rows * k);
                double mid = now();
                // y[tokens × rows] = x[tokens × k] · W[rows × k]ᵀ
                dnnl_sgemm('N', 'T', (dnnl_dim_t)tokens, (dnnl_dim_t)rows, (dnnl_dim_t)k, 1.0f, x, (dnnl_dim_t)k, wf,
                           (dnnl_dim_t)k, 0.0f, y, (dnnl_dim_t)rows);
                double end = now();
                best = end - start < best ? end - start : best;
                best_gemm = end - mid < best_gemm ? end - mid : best_gemm;
            }
            char cell[64];
            snprintf(cell, sizeof cell, "%6.1f %6.2fms", flops / best / 1e9, best * 1e3);
            printf(" %24s", cell);
            snprintf(cell, sizeof cell, "%6.1f %6.2fms", flops / best_gemm / 1e9, best_gemm * 1e3);
            printf(" %24s\n", cell);
            free(w); free(x); free(y); free(wf); free(xq);
        }
}

static void bench_dequantize(void) {
    size_t n = 576 * 1536;
    uint8_t *w = big(n / 32 * ATTEND_Q8_0_BLOCK_BYTES);
    float *y = big(n * 4);
    printf("\ndequantize, one thread, %zu weights hot: GB/s of float output\n", n);
    for (int q8 = 0; q8 < 2; q8++) {
        fill_blocks(w, n / 32, q8 ? ATTEND_Q8_0_BLOCK_BYTES : ATTEND_Q4_1_BLOCK_BYTES);
        printf("  %s:", q8 ? "q8_0" : "q4_1");
        for (int isa = 0; isa <= 2; isa++) {
            const attend_kernel_table *t = attend_kernels_for((attend_isa)isa);
            if (!t) continue;
            void (*f)(const void *, float *, size_t) = q8 ? t->dequantize_q8_0 : t->dequantize_q4_1;
            double best = 1e9;
            for (int rep = 0; rep < 20; rep++) {
                double start = now();
                f(w, y, n);
                double time = now() - start;
                best = time < best ? time : best;
            }
            printf("  %s %.1f", attend_isa_name(t->isa), n * 4 / best / 1e9);
        }
        printf("\n");
    }
    free(w);
    free(y);
}

int main(int argc, char **argv) {
    const char *only = argc > 1 ? argv[1] : "";
    if (argc > 2 && atoi(argv[2]) > 0) matmul_tokens = (size_t)atoi(argv[2]);
    printf("best path: %s\n", attend_isa_name(attend_isa_supported()));
    if (!*only || !strcmp(only, "matvec")) { bandwidth(); bench_matvec(); }
    if (!*only || !strcmp(only, "matmul")) bench_matmul();
    if (!*only || !strcmp(only, "dequantize")) bench_dequantize();
    return 0;
}
