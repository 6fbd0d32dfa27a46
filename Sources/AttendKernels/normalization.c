// The normalization family: LayerNorm and RMSNorm over rows of n features, forward and input
// gradient. Row statistics accumulate float lanes (several independent accumulators) that are
// folded into a double once per row; each pass over the row is one loop.
//
//   layer_norm           μ₀ = Σx/n; then, in a second pass, d = x − μ₀ and
//                        μ = μ₀ + Σd/n, σ² = Σd²/n − (Σd/n)² (the corrected two-pass algorithm:
//                        Σd removes the rounding error the float lanes leave in μ₀);
//                        r = 1/√(σ² + ε) in double; x̂ = (x − μ)·r; y = x̂·γ + β
//   layer_norm_backward  ĝ = g·γ; dx = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))
//   rms_norm             r = 1/√(Σx²/n + ε) in double; y = x·r·γ
//   rms_norm_backward    ĝ = g·γ; dx = r·ĝ − x·r³·mean(ĝ·x)
// NULL γ and β mean 1 and 0. For n = 0 the means are taken as 0.
#include "vector_math.h"

/// The divisor of a row's means (1 for an empty row, whose sums are 0).
static inline double row_count(size_t n) { return n ? (double)n : 1; }

/// r = 1/√(σ² + ε) from the second pass's Σd and Σd² around μ₀; writes μ.
static inline float inverse_deviation_of(double deviations, double squares, size_t n, float first_mean, float epsilon,
                                         float *mean) {
    double correction = deviations / row_count(n), variance = squares / row_count(n) - correction * correction;
    *mean = (float)(first_mean + correction);
    return (float)(1 / sqrt((variance < 0 ? 0 : variance) + epsilon));   // rounding may dip below 0; NaN stays
}

// MARK: - Portable

/// The 8 float lanes of a portable row sum, added in double.
static inline double fold8(const float lanes[8]) {
    double total = 0;
    for (int k = 0; k < 8; k++) total += lanes[k];
    return total;
}

void attend_layer_norm_portable(const float *x, const float *gamma, const float *beta, float epsilon, size_t rows,
                                size_t n, float *y, float *normalized, float *inverse_deviation) {
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float sums[8] = {0}, deviations[8] = {0}, squares[8] = {0};
        for (size_t j = 0; j < n; j++) sums[j % 8] += x[j];
        float first_mean = (float)(fold8(sums) / row_count(n)), mean;
        for (size_t j = 0; j < n; j++) {
            float d = x[j] - first_mean;
            deviations[j % 8] += d;
            squares[j % 8] += d * d;
        }
        float r = inverse_deviation_of(fold8(deviations), fold8(squares), n, first_mean, epsilon, &mean);
        if (inverse_deviation) inverse_deviation[row] = r;
        float *hat = normalized ? normalized + row * n : NULL;
        for (size_t j = 0; j < n; j++) {
            float h = (x[j] - mean) * r;
            if (hat) hat[j] = h;
            y[j] = h * (gamma ? gamma[j] : 1) + (beta ? beta[j] : 0);
        }
    }
}

void attend_layer_norm_backward_portable(const float *g, const float *gamma, const float *normalized,
                                         const float *inverse_deviation, size_t rows, size_t n, float *dx) {
    for (size_t row = 0; row < rows; row++, g += n, normalized += n, dx += n) {
        float sums[8] = {0}, products[8] = {0};
        for (size_t j = 0; j < n; j++) {
            float gh = g[j] * (gamma ? gamma[j] : 1);
            sums[j % 8] += gh;
            products[j % 8] += gh * normalized[j];
        }
        float mean_g = (float)(fold8(sums) / row_count(n)), mean_p = (float)(fold8(products) / row_count(n));
        float r = inverse_deviation[row];
        for (size_t j = 0; j < n; j++) {
            float gh = g[j] * (gamma ? gamma[j] : 1);
            dx[j] = r * (gh - mean_g - normalized[j] * mean_p);
        }
    }
}

void attend_rms_norm_portable(const float *x, const float *gamma, float epsilon, size_t rows, size_t n, float *y,
                              float *inverse_rms) {
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float squares[8] = {0};
        for (size_t j = 0; j < n; j++) squares[j % 8] += x[j] * x[j];
        float r = (float)(1 / sqrt(fold8(squares) / row_count(n) + epsilon));
        if (inverse_rms) inverse_rms[row] = r;
        for (size_t j = 0; j < n; j++) y[j] = x[j] * r * (gamma ? gamma[j] : 1);
    }
}

void attend_rms_norm_backward_portable(const float *g, const float *gamma, const float *x, const float *inverse_rms,
                                       size_t rows, size_t n, float *dx) {
    for (size_t row = 0; row < rows; row++, g += n, x += n, dx += n) {
        float products[8] = {0};
        for (size_t j = 0; j < n; j++) products[j % 8] += g[j] * (gamma ? gamma[j] : 1) * x[j];
        float r = inverse_rms[row];
        float c = (float)((double)r * r * r * (fold8(products) / row_count(n)));
        for (size_t j = 0; j < n; j++) dx[j] = r * (g[j] * (gamma ? gamma[j] : 1)) - x[j] * c;
    }
}

#if ATTEND_X86

// MARK: - AVX2 + FMA, 8 lanes

/// p[j..j+8), or `otherwise` when p is NULL (γ → 1, β → 0).
ATTEND_AVX2 static inline __m256 load_or256(const float *p, size_t j, __m256 otherwise) {
    return p ? _mm256_loadu_ps(p + j) : otherwise;
}

ATTEND_AVX2 static inline __m256 load_tail_or256(const float *p, size_t j, __m256i tail, __m256 otherwise) {
    return p ? _mm256_maskload_ps(p + j, tail) : otherwise;
}

/// Σx: 8 lanes × 4 accumulators.
ATTEND_AVX2 static inline double row_sum256(const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + j));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + j + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(x + j + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(x + j + 24));
    }
    for (; j + 8 <= n; j += 8) a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + j));
    if (j < n) a0 = _mm256_add_ps(a0, _mm256_maskload_ps(x + j, tail_mask8(n - j)));
    return fold256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/// Σd and Σd² for d = x − c: 8 lanes × 2 accumulators each.
ATTEND_AVX2 static inline double row_deviations256(const float *x, size_t n, float c, double *deviations) {
    const __m256 center = _mm256_set1_ps(c);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
    size_t j = 0;
    for (; j + 16 <= n; j += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + j), center), d1 = _mm256_sub_ps(_mm256_loadu_ps(x + j + 8), center);
        s0 = _mm256_add_ps(s0, d0);
        s1 = _mm256_add_ps(s1, d1);
        q0 = _mm256_fmadd_ps(d0, d0, q0);
        q1 = _mm256_fmadd_ps(d1, d1, q1);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), center);
        s0 = _mm256_add_ps(s0, d);
        q0 = _mm256_fmadd_ps(d, d, q0);
    }
    if (j < n) {
        __m256i tail = tail_mask8(n - j);
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, tail), center), _mm256_castsi256_ps(tail));
        s0 = _mm256_add_ps(s0, d);
        q0 = _mm256_fmadd_ps(d, d, q0);
    }
    *deviations = fold256(_mm256_add_ps(s0, s1));
    return fold256(_mm256_add_ps(q0, q1));
}

/// Σx²: 8 lanes × 4 accumulators.
ATTEND_AVX2 static inline double row_squares256(const float *x, size_t n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
        __m256 v2 = _mm256_loadu_ps(x + j + 16), v3 = _mm256_loadu_ps(x + j + 24);
        a0 = _mm256_fmadd_ps(v0, v0, a0);
        a1 = _mm256_fmadd_ps(v1, v1, a1);
        a2 = _mm256_fmadd_ps(v2, v2, a2);
        a3 = _mm256_fmadd_ps(v3, v3, a3);
    }
    for (; j + 8 <= n; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        a0 = _mm256_fmadd_ps(v, v, a0);
    }
    if (j < n) {
        __m256 v = _mm256_maskload_ps(x + j, tail_mask8(n - j));
        a0 = _mm256_fmadd_ps(v, v, a0);
    }
    return fold256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

/// Forward: two statistics passes (Σx in 8 lanes × 4 accumulators, then Σd and Σd²), then x̂ and
/// y in one pass.
ATTEND_AVX2 void attend_layer_norm_avx2(const float *x, const float *gamma, const float *beta, float epsilon,
                                        size_t rows, size_t n, float *y, float *normalized, float *inverse_deviation) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float first_mean = (float)(row_sum256(x, n) / row_count(n)), mean;
        double deviations, squares = row_deviations256(x, n, first_mean, &deviations);
        float r = inverse_deviation_of(deviations, squares, n, first_mean, epsilon, &mean);
        if (inverse_deviation) inverse_deviation[row] = r;
        float *hat = normalized ? normalized + row * n : NULL;
        const __m256 mu = _mm256_set1_ps(mean), scale = _mm256_set1_ps(r);
        size_t j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + j), mu), scale);
            if (hat) _mm256_storeu_ps(hat + j, h);
            _mm256_storeu_ps(y + j, _mm256_fmadd_ps(h, load_or256(gamma, j, one), load_or256(beta, j, zero)));
        }
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + j, tail), mu), scale);
            if (hat) _mm256_maskstore_ps(hat + j, tail, h);
            __m256 v = _mm256_fmadd_ps(h, load_tail_or256(gamma, j, tail, one), load_tail_or256(beta, j, tail, zero));
            _mm256_maskstore_ps(y + j, tail, v);
        }
    }
}

/// Backward: Σĝ and Σĝ·x̂ in one pass (8 lanes × 2 accumulators each), then dx.
ATTEND_AVX2 void attend_layer_norm_backward_avx2(const float *g, const float *gamma, const float *normalized,
                                                 const float *inverse_deviation, size_t rows, size_t n, float *dx) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, g += n, normalized += n, dx += n) {
        __m256 sg0 = _mm256_setzero_ps(), sg1 = sg0, sp0 = sg0, sp1 = sg0;
        size_t j = 0;
        for (; j + 16 <= n; j += 16) {
            __m256 gh0 = _mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one));
            __m256 gh1 = _mm256_mul_ps(_mm256_loadu_ps(g + j + 8), load_or256(gamma, j + 8, one));
            sg0 = _mm256_add_ps(sg0, gh0);
            sg1 = _mm256_add_ps(sg1, gh1);
            sp0 = _mm256_fmadd_ps(gh0, _mm256_loadu_ps(normalized + j), sp0);
            sp1 = _mm256_fmadd_ps(gh1, _mm256_loadu_ps(normalized + j + 8), sp1);
        }
        for (; j + 8 <= n; j += 8) {
            __m256 gh = _mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one));
            sg0 = _mm256_add_ps(sg0, gh);
            sp0 = _mm256_fmadd_ps(gh, _mm256_loadu_ps(normalized + j), sp0);
        }
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 gh = _mm256_mul_ps(_mm256_maskload_ps(g + j, tail), load_tail_or256(gamma, j, tail, one));
            sg0 = _mm256_add_ps(sg0, gh);
            sp0 = _mm256_fmadd_ps(gh, _mm256_maskload_ps(normalized + j, tail), sp0);
        }
        const __m256 mean_g = _mm256_set1_ps((float)(fold256(_mm256_add_ps(sg0, sg1)) / row_count(n)));
        const __m256 mean_p = _mm256_set1_ps((float)(fold256(_mm256_add_ps(sp0, sp1)) / row_count(n)));
        const __m256 r = _mm256_set1_ps(inverse_deviation[row]);
        for (j = 0; j + 8 <= n; j += 8) {
            __m256 gh = _mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one));
            __m256 d = _mm256_fnmadd_ps(_mm256_loadu_ps(normalized + j), mean_p, _mm256_sub_ps(gh, mean_g));
            _mm256_storeu_ps(dx + j, _mm256_mul_ps(r, d));
        }
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 gh = _mm256_mul_ps(_mm256_maskload_ps(g + j, tail), load_tail_or256(gamma, j, tail, one));
            __m256 d = _mm256_fnmadd_ps(_mm256_maskload_ps(normalized + j, tail), mean_p, _mm256_sub_ps(gh, mean_g));
            _mm256_maskstore_ps(dx + j, tail, _mm256_mul_ps(r, d));
        }
    }
}

/// Forward: Σx² (8 lanes × 4 accumulators), then y in one pass.
ATTEND_AVX2 void attend_rms_norm_avx2(const float *x, const float *gamma, float epsilon, size_t rows, size_t n,
                                     float *y, float *inverse_rms) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float r = (float)(1 / sqrt(row_squares256(x, n) / row_count(n) + epsilon));
        if (inverse_rms) inverse_rms[row] = r;
        const __m256 scale = _mm256_set1_ps(r);
        size_t j = 0;
        for (; j + 8 <= n; j += 8)
            _mm256_storeu_ps(y + j, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + j), scale), load_or256(gamma, j, one)));
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_maskload_ps(x + j, tail), scale), load_tail_or256(gamma, j, tail, one));
            _mm256_maskstore_ps(y + j, tail, v);
        }
    }
}

/// Backward: Σĝ·x (8 lanes × 4 accumulators), then dx = r·ĝ − x·(r³·mean(ĝ·x)).
ATTEND_AVX2 void attend_rms_norm_backward_avx2(const float *g, const float *gamma, const float *x,
                                               const float *inverse_rms, size_t rows, size_t n, float *dx) {
    const __m256 one = _mm256_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, g += n, x += n, dx += n) {
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t j = 0;
        for (; j + 32 <= n; j += 32) {
            a0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one)), _mm256_loadu_ps(x + j), a0);
            a1 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j + 8), load_or256(gamma, j + 8, one)),
                                 _mm256_loadu_ps(x + j + 8), a1);
            a2 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j + 16), load_or256(gamma, j + 16, one)),
                                 _mm256_loadu_ps(x + j + 16), a2);
            a3 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j + 24), load_or256(gamma, j + 24, one)),
                                 _mm256_loadu_ps(x + j + 24), a3);
        }
        for (; j + 8 <= n; j += 8)
            a0 = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one)), _mm256_loadu_ps(x + j), a0);
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 gh = _mm256_mul_ps(_mm256_maskload_ps(g + j, tail), load_tail_or256(gamma, j, tail, one));
            a0 = _mm256_fmadd_ps(gh, _mm256_maskload_ps(x + j, tail), a0);
        }
        float r = inverse_rms[row];
        double mean = fold256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))) / row_count(n);
        const __m256 scale = _mm256_set1_ps(r), c = _mm256_set1_ps((float)((double)r * r * r * mean));
        for (j = 0; j + 8 <= n; j += 8) {
            __m256 gh = _mm256_mul_ps(_mm256_loadu_ps(g + j), load_or256(gamma, j, one));
            _mm256_storeu_ps(dx + j, _mm256_fnmadd_ps(_mm256_loadu_ps(x + j), c, _mm256_mul_ps(scale, gh)));
        }
        if (j < n) {
            __m256i tail = tail_mask8(n - j);
            __m256 gh = _mm256_mul_ps(_mm256_maskload_ps(g + j, tail), load_tail_or256(gamma, j, tail, one));
            _mm256_maskstore_ps(dx + j, tail, _mm256_fnmadd_ps(_mm256_maskload_ps(x + j, tail), c, _mm256_mul_ps(scale, gh)));
        }
    }
}

// MARK: - AVX-512, 16 lanes

/// p[j..j+16), or `otherwise` when p is NULL (γ → 1, β → 0).
ATTEND_AVX512 static inline __m512 load_or512(const float *p, size_t j, __m512 otherwise) {
    return p ? _mm512_loadu_ps(p + j) : otherwise;
}

ATTEND_AVX512 static inline __m512 load_tail_or512(const float *p, size_t j, __mmask16 tail, __m512 otherwise) {
    return p ? _mm512_maskz_loadu_ps(tail, p + j) : otherwise;
}

/// Σx: 16 lanes × 4 accumulators.
ATTEND_AVX512 static inline double row_sum512(const float *x, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 64 <= n; j += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + j));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(x + j + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(x + j + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(x + j + 48));
    }
    for (; j + 16 <= n; j += 16) a0 = _mm512_add_ps(a0, _mm512_loadu_ps(x + j));
    if (j < n) a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(tail_mask16(n - j), x + j));
    return fold512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/// Σd and Σd² for d = x − c: 16 lanes × 2 accumulators each.
ATTEND_AVX512 static inline double row_deviations512(const float *x, size_t n, float c, double *deviations) {
    const __m512 center = _mm512_set1_ps(c);
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, q0 = s0, q1 = s0;
    size_t j = 0;
    for (; j + 32 <= n; j += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + j), center), d1 = _mm512_sub_ps(_mm512_loadu_ps(x + j + 16), center);
        s0 = _mm512_add_ps(s0, d0);
        s1 = _mm512_add_ps(s1, d1);
        q0 = _mm512_fmadd_ps(d0, d0, q0);
        q1 = _mm512_fmadd_ps(d1, d1, q1);
    }
    for (; j + 16 <= n; j += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + j), center);
        s0 = _mm512_add_ps(s0, d);
        q0 = _mm512_fmadd_ps(d, d, q0);
    }
    if (j < n) {
        __mmask16 tail = tail_mask16(n - j);
        __m512 d = _mm512_maskz_sub_ps(tail, _mm512_maskz_loadu_ps(tail, x + j), center);
        s0 = _mm512_add_ps(s0, d);
        q0 = _mm512_fmadd_ps(d, d, q0);
    }
    *deviations = fold512(_mm512_add_ps(s0, s1));
    return fold512(_mm512_add_ps(q0, q1));
}

/// Σx²: 16 lanes × 4 accumulators.
ATTEND_AVX512 static inline double row_squares512(const float *x, size_t n) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    size_t j = 0;
    for (; j + 64 <= n; j += 64) {
        __m512 v0 = _mm512_loadu_ps(x + j), v1 = _mm512_loadu_ps(x + j + 16);
        __m512 v2 = _mm512_loadu_ps(x + j + 32), v3 = _mm512_loadu_ps(x + j + 48);
        a0 = _mm512_fmadd_ps(v0, v0, a0);
        a1 = _mm512_fmadd_ps(v1, v1, a1);
        a2 = _mm512_fmadd_ps(v2, v2, a2);
        a3 = _mm512_fmadd_ps(v3, v3, a3);
    }
    for (; j + 16 <= n; j += 16) {
        __m512 v = _mm512_loadu_ps(x + j);
        a0 = _mm512_fmadd_ps(v, v, a0);
    }
    if (j < n) {
        __m512 v = _mm512_maskz_loadu_ps(tail_mask16(n - j), x + j);
        a0 = _mm512_fmadd_ps(v, v, a0);
    }
    return fold512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/// Forward: two statistics passes (Σx in 16 lanes × 4 accumulators, then Σd and Σd²), then x̂ and
/// y in one pass.
ATTEND_AVX512 void attend_layer_norm_avx512(const float *x, const float *gamma, const float *beta, float epsilon,
                                            size_t rows, size_t n, float *y, float *normalized, float *inverse_deviation) {
    const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float first_mean = (float)(row_sum512(x, n) / row_count(n)), mean;
        double deviations, squares = row_deviations512(x, n, first_mean, &deviations);
        float r = inverse_deviation_of(deviations, squares, n, first_mean, epsilon, &mean);
        if (inverse_deviation) inverse_deviation[row] = r;
        float *hat = normalized ? normalized + row * n : NULL;
        const __m512 mu = _mm512_set1_ps(mean), scale = _mm512_set1_ps(r);
        size_t j = 0;
        for (; j + 16 <= n; j += 16) {
            __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + j), mu), scale);
            if (hat) _mm512_storeu_ps(hat + j, h);
            _mm512_storeu_ps(y + j, _mm512_fmadd_ps(h, load_or512(gamma, j, one), load_or512(beta, j, zero)));
        }
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 h = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + j), mu), scale);
            if (hat) _mm512_mask_storeu_ps(hat + j, tail, h);
            __m512 v = _mm512_fmadd_ps(h, load_tail_or512(gamma, j, tail, one), load_tail_or512(beta, j, tail, zero));
            _mm512_mask_storeu_ps(y + j, tail, v);
        }
    }
}

/// Backward: Σĝ and Σĝ·x̂ in one pass (16 lanes × 2 accumulators each), then dx.
ATTEND_AVX512 void attend_layer_norm_backward_avx512(const float *g, const float *gamma, const float *normalized,
                                                     const float *inverse_deviation, size_t rows, size_t n, float *dx) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, g += n, normalized += n, dx += n) {
        __m512 sg0 = _mm512_setzero_ps(), sg1 = sg0, sp0 = sg0, sp1 = sg0;
        size_t j = 0;
        for (; j + 32 <= n; j += 32) {
            __m512 gh0 = _mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one));
            __m512 gh1 = _mm512_mul_ps(_mm512_loadu_ps(g + j + 16), load_or512(gamma, j + 16, one));
            sg0 = _mm512_add_ps(sg0, gh0);
            sg1 = _mm512_add_ps(sg1, gh1);
            sp0 = _mm512_fmadd_ps(gh0, _mm512_loadu_ps(normalized + j), sp0);
            sp1 = _mm512_fmadd_ps(gh1, _mm512_loadu_ps(normalized + j + 16), sp1);
        }
        for (; j + 16 <= n; j += 16) {
            __m512 gh = _mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one));
            sg0 = _mm512_add_ps(sg0, gh);
            sp0 = _mm512_fmadd_ps(gh, _mm512_loadu_ps(normalized + j), sp0);
        }
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 gh = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + j), load_tail_or512(gamma, j, tail, one));
            sg0 = _mm512_add_ps(sg0, gh);
            sp0 = _mm512_fmadd_ps(gh, _mm512_maskz_loadu_ps(tail, normalized + j), sp0);
        }
        const __m512 mean_g = _mm512_set1_ps((float)(fold512(_mm512_add_ps(sg0, sg1)) / row_count(n)));
        const __m512 mean_p = _mm512_set1_ps((float)(fold512(_mm512_add_ps(sp0, sp1)) / row_count(n)));
        const __m512 r = _mm512_set1_ps(inverse_deviation[row]);
        for (j = 0; j + 16 <= n; j += 16) {
            __m512 gh = _mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one));
            __m512 d = _mm512_fnmadd_ps(_mm512_loadu_ps(normalized + j), mean_p, _mm512_sub_ps(gh, mean_g));
            _mm512_storeu_ps(dx + j, _mm512_mul_ps(r, d));
        }
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 gh = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + j), load_tail_or512(gamma, j, tail, one));
            __m512 d = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(tail, normalized + j), mean_p, _mm512_sub_ps(gh, mean_g));
            _mm512_mask_storeu_ps(dx + j, tail, _mm512_mul_ps(r, d));
        }
    }
}

/// Forward: Σx² (16 lanes × 4 accumulators), then y in one pass.
ATTEND_AVX512 void attend_rms_norm_avx512(const float *x, const float *gamma, float epsilon, size_t rows, size_t n,
                                         float *y, float *inverse_rms) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, x += n, y += n) {
        float r = (float)(1 / sqrt(row_squares512(x, n) / row_count(n) + epsilon));
        if (inverse_rms) inverse_rms[row] = r;
        const __m512 scale = _mm512_set1_ps(r);
        size_t j = 0;
        for (; j + 16 <= n; j += 16)
            _mm512_storeu_ps(y + j, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(x + j), scale), load_or512(gamma, j, one)));
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + j), scale),
                                     load_tail_or512(gamma, j, tail, one));
            _mm512_mask_storeu_ps(y + j, tail, v);
        }
    }
}

/// Backward: Σĝ·x (16 lanes × 4 accumulators), then dx = r·ĝ − x·(r³·mean(ĝ·x)).
ATTEND_AVX512 void attend_rms_norm_backward_avx512(const float *g, const float *gamma, const float *x,
                                                   const float *inverse_rms, size_t rows, size_t n, float *dx) {
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t row = 0; row < rows; row++, g += n, x += n, dx += n) {
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        size_t j = 0;
        for (; j + 64 <= n; j += 64) {
            a0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one)), _mm512_loadu_ps(x + j), a0);
            a1 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(g + j + 16), load_or512(gamma, j + 16, one)),
                                 _mm512_loadu_ps(x + j + 16), a1);
            a2 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(g + j + 32), load_or512(gamma, j + 32, one)),
                                 _mm512_loadu_ps(x + j + 32), a2);
            a3 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(g + j + 48), load_or512(gamma, j + 48, one)),
                                 _mm512_loadu_ps(x + j + 48), a3);
        }
        for (; j + 16 <= n; j += 16)
            a0 = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one)), _mm512_loadu_ps(x + j), a0);
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 gh = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + j), load_tail_or512(gamma, j, tail, one));
            a0 = _mm512_fmadd_ps(gh, _mm512_maskz_loadu_ps(tail, x + j), a0);
        }
        float r = inverse_rms[row];
        double mean = fold512(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))) / row_count(n);
        const __m512 scale = _mm512_set1_ps(r), c = _mm512_set1_ps((float)((double)r * r * r * mean));
        for (j = 0; j + 16 <= n; j += 16) {
            __m512 gh = _mm512_mul_ps(_mm512_loadu_ps(g + j), load_or512(gamma, j, one));
            _mm512_storeu_ps(dx + j, _mm512_fnmadd_ps(_mm512_loadu_ps(x + j), c, _mm512_mul_ps(scale, gh)));
        }
        if (j < n) {
            __mmask16 tail = tail_mask16(n - j);
            __m512 gh = _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, g + j), load_tail_or512(gamma, j, tail, one));
            __m512 d = _mm512_fnmadd_ps(_mm512_maskz_loadu_ps(tail, x + j), c, _mm512_mul_ps(scale, gh));
            _mm512_mask_storeu_ps(dx + j, tail, d);
        }
    }
}

#endif // ATTEND_X86
