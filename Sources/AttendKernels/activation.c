// The activation family: GELU (erf and tanh forms), SiLU, sigmoid and tanh, forward y = f(x) and
// backward dx = g·f′(x), elementwise. Each function is written once per instruction set as an
// inline helper; the maps of vector_math.h run it over the row, the tail masked.
//
//   erf(z)     Abramowitz–Stegun 7.1.26: 1 − t·P(t)·e^(−z²), t = 1/(1 + 0.3275911|z|), sign of z
//   gelu       ½x(1 + erf(x/√2));  gelu′ = ½(1 + erf(x/√2)) + x·e^(−x²/2)/√(2π), e^(−x²/2) shared with erf
//   tanh       |x| < 0.625: x + x·z·P(z), z = x² (Cephes tanhf); else sign(x)·(1 − e)/(1 + e), e = e^(−2|x|)
//   gelu_tanh  ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³);
//              gelu_tanh′ = ½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)
//   sigmoid    e = e^(−|x|): 1/(1 + e) for x ≥ 0, e/(1 + e) below (no overflow either side)
//   silu       x·σ(x);  silu′ = σ(1 + x(1 − σ))
// Every exponential is the full-range one (exp.c's eˣ).
#include "vector_math.h"

#define ATTEND_SQRT1_2 0.70710678f          // 1/√2
#define ATTEND_INV_SQRT_2PI 0.39894228f     // 1/√(2π)
#define ATTEND_SQRT_2_PI 0.7978845608f      // √(2/π)
#define ATTEND_GELU_CUBIC 0.044715f

#define ATTEND_ERF_P 0.3275911f
#define ATTEND_ERF_A1 0.254829592f
#define ATTEND_ERF_A2 -0.284496736f
#define ATTEND_ERF_A3 1.421413741f
#define ATTEND_ERF_A4 -1.453152027f
#define ATTEND_ERF_A5 1.061405429f

#define ATTEND_TANH_SMALL 0.625f
#define ATTEND_TANH_T0 -5.70498872745e-3f
#define ATTEND_TANH_T1 2.06390887954e-2f
#define ATTEND_TANH_T2 -5.37397155531e-2f
#define ATTEND_TANH_T3 1.33314422036e-1f
#define ATTEND_TANH_T4 -3.33332819422e-1f

// MARK: - Portable

/// erf(z), and e^(−z²) through `gaussian`.
static inline float erf_scalar(float z, float *gaussian) {
    float a = fabsf(z);
    float t = 1 / (1 + ATTEND_ERF_P * a);
    float p = ATTEND_ERF_A5;
    p = p * t + ATTEND_ERF_A4;
    p = p * t + ATTEND_ERF_A3;
    p = p * t + ATTEND_ERF_A2;
    p = p * t + ATTEND_ERF_A1;
    *gaussian = exp_scalar(-a * a);
    float y = 1 - p * t * *gaussian;
    return signbit(z) ? -y : y;
}

static inline float gelu_scalar(float x) {
    float gaussian;
    return 0.5f * x * (1 + erf_scalar(x * ATTEND_SQRT1_2, &gaussian));
}

static inline float gelu_derivative_scalar(float x) {
    float gaussian, erf = erf_scalar(x * ATTEND_SQRT1_2, &gaussian);
    return 0.5f * (1 + erf) + x * gaussian * ATTEND_INV_SQRT_2PI;
}

static inline float tanh_scalar(float x) {
    float a = fabsf(x), y;
    if (a < ATTEND_TANH_SMALL) {
        float z = a * a, p = ATTEND_TANH_T0;
        p = p * z + ATTEND_TANH_T1;
        p = p * z + ATTEND_TANH_T2;
        p = p * z + ATTEND_TANH_T3;
        p = p * z + ATTEND_TANH_T4;
        y = p * z * a + a;
    } else {
        float e = exp_scalar(-2 * a);
        y = (1 - e) / (1 + e);
    }
    return copysignf(y, x);
}

static inline float gelu_tanh_scalar(float x) {
    return 0.5f * x * (1 + tanh_scalar(ATTEND_SQRT_2_PI * (x + ATTEND_GELU_CUBIC * x * x * x)));
}

static inline float gelu_tanh_derivative_scalar(float x) {
    float t = tanh_scalar(ATTEND_SQRT_2_PI * (x + ATTEND_GELU_CUBIC * x * x * x));
    return 0.5f * (1 + t) + 0.5f * x * (1 - t * t) * ATTEND_SQRT_2_PI * (1 + 3 * ATTEND_GELU_CUBIC * x * x);
}

static inline float sigmoid_scalar(float x) {
    float e = exp_scalar(-fabsf(x));
    return (x >= 0 ? 1 : e) / (1 + e);
}

static inline float silu_scalar(float x) { return x * sigmoid_scalar(x); }

static inline float silu_derivative_scalar(float x) {
    float s = sigmoid_scalar(x);
    return s * (1 + x * (1 - s));
}

ATTEND_MAP_PORTABLE(gelu, gelu_scalar)
ATTEND_BACKWARD_MAP_PORTABLE(gelu_backward, gelu_derivative_scalar)
ATTEND_MAP_PORTABLE(gelu_tanh, gelu_tanh_scalar)
ATTEND_BACKWARD_MAP_PORTABLE(gelu_tanh_backward, gelu_tanh_derivative_scalar)
ATTEND_MAP_PORTABLE(silu, silu_scalar)
ATTEND_BACKWARD_MAP_PORTABLE(silu_backward, silu_derivative_scalar)
ATTEND_MAP_PORTABLE(sigmoid, sigmoid_scalar)
ATTEND_MAP_PORTABLE(tanh, tanh_scalar)

#if ATTEND_X86

// MARK: - AVX2 + FMA, 8 lanes

/// erf(z), and e^(−z²) through `gaussian`.
ATTEND_AVX2 static inline __m256 erf256(__m256 z, __m256 *gaussian) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign, z);
    __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(ATTEND_ERF_P), a, one));
    __m256 p = _mm256_set1_ps(ATTEND_ERF_A5);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(ATTEND_ERF_A4));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(ATTEND_ERF_A3));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(ATTEND_ERF_A2));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(ATTEND_ERF_A1));
    *gaussian = exp256(_mm256_mul_ps(_mm256_xor_ps(a, sign), a));
    __m256 y = _mm256_fnmadd_ps(_mm256_mul_ps(p, t), *gaussian, one);
    return _mm256_xor_ps(y, _mm256_and_ps(z, sign));   // negated where z's sign bit is set
}

ATTEND_AVX2 static inline __m256 gelu256(__m256 x) {
    __m256 gaussian, h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    return _mm256_fmadd_ps(h, erf256(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_SQRT1_2)), &gaussian), h);
}

ATTEND_AVX2 static inline __m256 gelu_derivative256(__m256 x) {
    const __m256 half = _mm256_set1_ps(0.5f);
    __m256 gaussian, erf = erf256(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_SQRT1_2)), &gaussian);
    __m256 density = _mm256_mul_ps(_mm256_mul_ps(x, gaussian), _mm256_set1_ps(ATTEND_INV_SQRT_2PI));
    return _mm256_add_ps(_mm256_fmadd_ps(half, erf, half), density);
}

ATTEND_AVX2 static inline __m256 tanh256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f), sign = _mm256_set1_ps(-0.0f);
    __m256 a = _mm256_andnot_ps(sign, x), z = _mm256_mul_ps(a, a);
    __m256 p = _mm256_set1_ps(ATTEND_TANH_T0);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(ATTEND_TANH_T1));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(ATTEND_TANH_T2));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(ATTEND_TANH_T3));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(ATTEND_TANH_T4));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), a, a);
    __m256 e = exp256(_mm256_mul_ps(a, _mm256_set1_ps(-2.0f)));
    __m256 large = _mm256_div_ps(_mm256_sub_ps(one, e), _mm256_add_ps(one, e));
    __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, _mm256_set1_ps(ATTEND_TANH_SMALL), _CMP_LT_OQ));
    return _mm256_or_ps(y, _mm256_and_ps(x, sign));   // y ≥ 0: or'ing in x's sign is copysign
}

/// u = √(2/π)(x + 0.044715x³).
ATTEND_AVX2 static inline __m256 gelu_tanh_argument256(__m256 x) {
    __m256 cubic = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(x, _mm256_set1_ps(ATTEND_GELU_CUBIC)), x), x);
    return _mm256_mul_ps(_mm256_add_ps(x, cubic), _mm256_set1_ps(ATTEND_SQRT_2_PI));
}

ATTEND_AVX2 static inline __m256 gelu_tanh256(__m256 x) {
    __m256 h = _mm256_mul_ps(x, _mm256_set1_ps(0.5f));
    return _mm256_fmadd_ps(h, tanh256(gelu_tanh_argument256(x)), h);
}

ATTEND_AVX2 static inline __m256 gelu_tanh_derivative256(__m256 x) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
    __m256 t = tanh256(gelu_tanh_argument256(x));
    __m256 slope = _mm256_fmadd_ps(_mm256_mul_ps(x, _mm256_set1_ps(3 * ATTEND_GELU_CUBIC)), x, one);
    __m256 h = _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_fnmadd_ps(t, t, one));
    return _mm256_fmadd_ps(_mm256_mul_ps(h, _mm256_set1_ps(ATTEND_SQRT_2_PI)), slope, _mm256_fmadd_ps(half, t, half));
}

ATTEND_AVX2 static inline __m256 sigmoid256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = exp256(_mm256_or_ps(x, _mm256_set1_ps(-0.0f)));   // −|x|
    __m256 numerator = _mm256_blendv_ps(e, one, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
    return _mm256_div_ps(numerator, _mm256_add_ps(one, e));
}

ATTEND_AVX2 static inline __m256 silu256(__m256 x) { return _mm256_mul_ps(x, sigmoid256(x)); }

ATTEND_AVX2 static inline __m256 silu_derivative256(__m256 x) {
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 s = sigmoid256(x);
    return _mm256_mul_ps(s, _mm256_fmadd_ps(x, _mm256_sub_ps(one, s), one));
}

ATTEND_MAP_AVX2(gelu, gelu256)
ATTEND_BACKWARD_MAP_AVX2(gelu_backward, gelu_derivative256)
ATTEND_MAP_AVX2(gelu_tanh, gelu_tanh256)
ATTEND_BACKWARD_MAP_AVX2(gelu_tanh_backward, gelu_tanh_derivative256)
ATTEND_MAP_AVX2(silu, silu256)
ATTEND_BACKWARD_MAP_AVX2(silu_backward, silu_derivative256)
ATTEND_MAP_AVX2(sigmoid, sigmoid256)
ATTEND_MAP_AVX2(tanh, tanh256)

// MARK: - AVX-512, 16 lanes

/// erf(z), and e^(−z²) through `gaussian`.
ATTEND_AVX512 static inline __m512 erf512(__m512 z, __m512 *gaussian) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_abs_ps(z);
    __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(ATTEND_ERF_P), a, one));
    __m512 p = _mm512_set1_ps(ATTEND_ERF_A5);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ATTEND_ERF_A4));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ATTEND_ERF_A3));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ATTEND_ERF_A2));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(ATTEND_ERF_A1));
    const __m512 sign = _mm512_set1_ps(-0.0f);
    *gaussian = exp512(_mm512_mul_ps(_mm512_xor_ps(a, sign), a));
    __m512 y = _mm512_fnmadd_ps(_mm512_mul_ps(p, t), *gaussian, one);
    return _mm512_xor_ps(y, _mm512_and_ps(z, sign));   // negated where z's sign bit is set
}

ATTEND_AVX512 static inline __m512 gelu512(__m512 x) {
    __m512 gaussian, h = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(h, erf512(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_SQRT1_2)), &gaussian), h);
}

ATTEND_AVX512 static inline __m512 gelu_derivative512(__m512 x) {
    const __m512 half = _mm512_set1_ps(0.5f);
    __m512 gaussian, erf = erf512(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_SQRT1_2)), &gaussian);
    __m512 density = _mm512_mul_ps(_mm512_mul_ps(x, gaussian), _mm512_set1_ps(ATTEND_INV_SQRT_2PI));
    return _mm512_add_ps(_mm512_fmadd_ps(half, erf, half), density);
}

ATTEND_AVX512 static inline __m512 tanh512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 a = _mm512_abs_ps(x), z = _mm512_mul_ps(a, a);
    __m512 p = _mm512_set1_ps(ATTEND_TANH_T0);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(ATTEND_TANH_T1));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(ATTEND_TANH_T2));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(ATTEND_TANH_T3));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(ATTEND_TANH_T4));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), a, a);
    __m512 e = exp512(_mm512_mul_ps(a, _mm512_set1_ps(-2.0f)));
    __m512 large = _mm512_div_ps(_mm512_sub_ps(one, e), _mm512_add_ps(one, e));
    __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, _mm512_set1_ps(ATTEND_TANH_SMALL), _CMP_LT_OQ), large, small);
    return _mm512_or_ps(y, _mm512_and_ps(x, _mm512_set1_ps(-0.0f)));   // y ≥ 0: or'ing in x's sign is copysign
}

/// u = √(2/π)(x + 0.044715x³).
ATTEND_AVX512 static inline __m512 gelu_tanh_argument512(__m512 x) {
    __m512 cubic = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(ATTEND_GELU_CUBIC)), x), x);
    return _mm512_mul_ps(_mm512_add_ps(x, cubic), _mm512_set1_ps(ATTEND_SQRT_2_PI));
}

ATTEND_AVX512 static inline __m512 gelu_tanh512(__m512 x) {
    __m512 h = _mm512_mul_ps(x, _mm512_set1_ps(0.5f));
    return _mm512_fmadd_ps(h, tanh512(gelu_tanh_argument512(x)), h);
}

ATTEND_AVX512 static inline __m512 gelu_tanh_derivative512(__m512 x) {
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    __m512 t = tanh512(gelu_tanh_argument512(x));
    __m512 slope = _mm512_fmadd_ps(_mm512_mul_ps(x, _mm512_set1_ps(3 * ATTEND_GELU_CUBIC)), x, one);
    __m512 h = _mm512_mul_ps(_mm512_mul_ps(half, x), _mm512_fnmadd_ps(t, t, one));
    return _mm512_fmadd_ps(_mm512_mul_ps(h, _mm512_set1_ps(ATTEND_SQRT_2_PI)), slope, _mm512_fmadd_ps(half, t, half));
}

ATTEND_AVX512 static inline __m512 sigmoid512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = exp512(_mm512_or_ps(x, _mm512_set1_ps(-0.0f)));   // −|x|
    __m512 numerator = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), e, one);
    return _mm512_div_ps(numerator, _mm512_add_ps(one, e));
}

ATTEND_AVX512 static inline __m512 silu512(__m512 x) { return _mm512_mul_ps(x, sigmoid512(x)); }

ATTEND_AVX512 static inline __m512 silu_derivative512(__m512 x) {
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 s = sigmoid512(x);
    return _mm512_mul_ps(s, _mm512_fmadd_ps(x, _mm512_sub_ps(one, s), one));
}

ATTEND_MAP_AVX512(gelu, gelu512)
ATTEND_BACKWARD_MAP_AVX512(gelu_backward, gelu_derivative512)
ATTEND_MAP_AVX512(gelu_tanh, gelu_tanh512)
ATTEND_BACKWARD_MAP_AVX512(gelu_tanh_backward, gelu_tanh_derivative512)
ATTEND_MAP_AVX512(silu, silu512)
ATTEND_BACKWARD_MAP_AVX512(silu_backward, silu_derivative512)
ATTEND_MAP_AVX512(sigmoid, sigmoid512)
ATTEND_MAP_AVX512(tanh, tanh512)

#endif // ATTEND_X86
