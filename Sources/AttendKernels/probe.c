// The peak probe: how many single-precision FLOP/s one core sustains with fused multiply-adds,
// the ceiling every benchmark states its rates against. Twelve independent accumulators hide
// the FMA latency (4–5 cycles × 2 pipes); each iteration is 12 FMAs = 24 flops per lane.
#include "kernels_internal.h"

#include <time.h>

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if ATTEND_X86
/// 16 lanes × 12 accumulators.
ATTEND_AVX512 static float probe_avx512(long iterations) {
    __m512 a[12];
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    for (int i = 1; i < 12; i++) a[0] = _mm512_add_ps(a[0], a[i]);
    return _mm512_reduce_add_ps(a[0]);
}

/// 8 lanes × 12 accumulators.
ATTEND_AVX2 static float probe_avx2(long iterations) {
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], m, c);
    for (int i = 1; i < 12; i++) a[0] = _mm256_add_ps(a[0], a[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, a[0]);
    return lanes[0];
}
#endif

/// 1 lane × 12 accumulators (whatever the compiler makes of plain C at baseline flags).
static float probe_portable(long iterations) {
    float a[12];
    for (int i = 0; i < 12; i++) a[i] = (float)i;
    for (long k = 0; k < iterations; k++)
        for (int i = 0; i < 12; i++) a[i] = a[i] * 0.999999f + 1e-7f;
    for (int i = 1; i < 12; i++) a[0] += a[i];
    return a[0];
}

double attend_fma_probe(attend_isa isa, double seconds) {
    if (!attend_kernels_for(isa)) return 0;
    int lanes = isa == ATTEND_ISA_AVX512 ? 16 : isa == ATTEND_ISA_AVX2 ? 8 : 1;
    volatile float sink = 0;
    long iterations = 1 << 16;
    double best = 0, start = seconds_now();
    while (seconds_now() - start < seconds) {
        double t0 = seconds_now();
        switch (isa) {
#if ATTEND_X86
        case ATTEND_ISA_AVX512: sink += probe_avx512(iterations); break;
        case ATTEND_ISA_AVX2: sink += probe_avx2(iterations); break;
#endif
        default: sink += probe_portable(iterations); break;
        }
        double elapsed = seconds_now() - t0;
        double rate = (double)iterations * 12 * 2 * lanes / elapsed;
        if (rate > best) best = rate;
        if (elapsed < 0.01) iterations *= 2;
    }
    (void)sink;
    return best;
}
