// The dispatch table: which variant of every kernel this process runs, chosen once from CPU
// feature bits (CPUID through the compiler's `__builtin_cpu_supports`, which also checks that
// the OS saves the wide registers), lowered by `ATTEND_ISA` for tests.
#include "kernels_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if ATTEND_X86
#include <cpuid.h>
#endif

#define ATTEND_TABLE(isa_suffix, isa_value)                                   \
    static const attend_kernel_table table_##isa_suffix = {                   \
        .isa = isa_value,                                                     \
        .exp = attend_exp_##isa_suffix,                                       \
        .exp_shifted_sum = attend_exp_shifted_sum_##isa_suffix,               \
        .max = attend_max_##isa_suffix,                                       \
        .sum = attend_sum_##isa_suffix,                                       \
        .softmax = attend_softmax_##isa_suffix,                               \
        .log_softmax = attend_log_softmax_##isa_suffix,                       \
        .online_softmax_step = attend_online_softmax_step_##isa_suffix,       \
        .gelu = attend_gelu_##isa_suffix,                                     \
        .gelu_backward = attend_gelu_backward_##isa_suffix,                   \
        .gelu_tanh = attend_gelu_tanh_##isa_suffix,                           \
        .gelu_tanh_backward = attend_gelu_tanh_backward_##isa_suffix,         \
        .silu = attend_silu_##isa_suffix,                                     \
        .silu_backward = attend_silu_backward_##isa_suffix,                   \
        .sigmoid = attend_sigmoid_##isa_suffix,                               \
        .tanh = attend_tanh_##isa_suffix,                                     \
        .layer_norm = attend_layer_norm_##isa_suffix,                         \
        .layer_norm_backward = attend_layer_norm_backward_##isa_suffix,       \
        .rms_norm = attend_rms_norm_##isa_suffix,                             \
        .rms_norm_backward = attend_rms_norm_backward_##isa_suffix,           \
        .matvec = attend_matvec_##isa_suffix,                                 \
        .vecmat = attend_vecmat_##isa_suffix,                                 \
        .quantize_rows_u8 = attend_quantize_rows_u8_##isa_suffix,             \
        .pack_weights_s8 = attend_pack_weights_s8_##isa_suffix,               \
        .quantized_linear = attend_quantized_linear_##isa_suffix,             \
        .dequantize_q4_0 = attend_dequantize_q4_0_##isa_suffix,               \
        .dequantize_q4_1 = attend_dequantize_q4_1_##isa_suffix,               \
        .dequantize_q8_0 = attend_dequantize_q8_0_##isa_suffix,               \
        .dequantize_f16 = attend_dequantize_f16_##isa_suffix,                 \
        .dequantize_bf16 = attend_dequantize_bf16_##isa_suffix,               \
        .quantize_row_q8 = attend_quantize_row_q8_##isa_suffix,               \
        .matvec_q4_0_q8 = attend_matvec_q4_0_q8_##isa_suffix,                 \
        .matvec_q4_1_q8 = attend_matvec_q4_1_q8_##isa_suffix,                 \
        .matvec_q8_0_q8 = attend_matvec_q8_0_q8_##isa_suffix,                 \
        .matmul_q4_0_q8 = attend_matmul_q4_0_q8_##isa_suffix,                 \
        .matmul_q4_1_q8 = attend_matmul_q4_1_q8_##isa_suffix,                 \
        .matmul_q8_0_q8 = attend_matmul_q8_0_q8_##isa_suffix,                 \
        .quantize_row_q16 = attend_quantize_row_q16_##isa_suffix,             \
        .matvec_q4_0_q16 = attend_matvec_q4_0_q16_##isa_suffix,               \
        .matvec_q4_1_q16 = attend_matvec_q4_1_q16_##isa_suffix,               \
        .matvec_q8_0_q16 = attend_matvec_q8_0_q16_##isa_suffix,               \
        .matmul_q4_0_q16 = attend_matmul_q4_0_q16_##isa_suffix,               \
        .matmul_q4_1_q16 = attend_matmul_q4_1_q16_##isa_suffix,               \
        .matmul_q8_0_q16 = attend_matmul_q8_0_q16_##isa_suffix,               \
    };

ATTEND_TABLE(portable, ATTEND_ISA_PORTABLE)
#if ATTEND_X86
ATTEND_TABLE(avx2, ATTEND_ISA_AVX2)
ATTEND_TABLE(avx512, ATTEND_ISA_AVX512)
#endif

attend_isa attend_isa_supported(void) {
#if ATTEND_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return ATTEND_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))
        return ATTEND_ISA_AVX2;
#endif
    return ATTEND_ISA_PORTABLE;
}

const char *attend_isa_name(attend_isa isa) {
    switch (isa) {
    case ATTEND_ISA_AVX512: return "avx512";
    case ATTEND_ISA_AVX2: return "avx2";
    default: return "portable";
    }
}

const attend_kernel_table *attend_kernels_for(attend_isa isa) {
    if (isa > attend_isa_supported()) return NULL;
    switch (isa) {
#if ATTEND_X86
    case ATTEND_ISA_AVX512: return &table_avx512;
    case ATTEND_ISA_AVX2: return &table_avx2;
#endif
    case ATTEND_ISA_PORTABLE: return &table_portable;
    default: return NULL;
    }
}

static const attend_kernel_table *active_table = &table_portable;
static pthread_once_t active_table_once = PTHREAD_ONCE_INIT;

/// Reads `ATTEND_ISA` and picks the table; an unknown name or a path above the CPU's is
/// reported on stderr and the best supported path is used.
static void choose_active_table(void) {
    attend_isa best = attend_isa_supported(), chosen = best;
    const char *requested = getenv("ATTEND_ISA");
    if (requested && *requested) {
        attend_isa asked;
        if (strcmp(requested, "avx512") == 0) asked = ATTEND_ISA_AVX512;
        else if (strcmp(requested, "avx2") == 0) asked = ATTEND_ISA_AVX2;
        else if (strcmp(requested, "portable") == 0) asked = ATTEND_ISA_PORTABLE;
        else {
            fprintf(stderr, "attend: ATTEND_ISA=%s is not one of avx512, avx2, portable; using %s\n",
                    requested, attend_isa_name(best));
            asked = best;
        }
        if (asked > best)
            fprintf(stderr, "attend: ATTEND_ISA=%s is above what this CPU supports; using %s\n",
                    requested, attend_isa_name(best));
        chosen = asked < best ? asked : best;
    }
    active_table = attend_kernels_for(chosen);
}

const attend_kernel_table *attend_kernels(void) {
    pthread_once(&active_table_once, choose_active_table);
    return active_table;
}

void attend_describe_cpu(attend_cpu_description *description) {
    memset(description, 0, sizeof *description);
#if ATTEND_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    memcpy(description->vendor, &b, 4);
    memcpy(description->vendor + 4, &d, 4);
    memcpy(description->vendor + 8, &c, 4);
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        unsigned family = (a >> 8) & 0xF, model = (a >> 4) & 0xF;
        if (family == 0xF) family += (a >> 20) & 0xFF;
        if (family == 0x6 || family >= 0xF) model += ((a >> 16) & 0xF) << 4;
        description->family = (int)family;
        description->model = (int)model;
        description->stepping = (int)(a & 0xF);
    }
    unsigned highest;
    if (__get_cpuid(0x80000000, &highest, &b, &c, &d) && highest >= 0x80000004) {
        unsigned words[12];
        for (unsigned leaf = 0; leaf < 3; leaf++)
            __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1], &words[4 * leaf + 2], &words[4 * leaf + 3]);
        memcpy(description->brand, words, 48);
        description->brand[48] = 0;
        // Brand strings are padded with spaces on either side.
        char *start = description->brand;
        while (*start == ' ') start++;
        memmove(description->brand, start, strlen(start) + 1);
        for (size_t end = strlen(description->brand); end > 0 && description->brand[end - 1] == ' '; end--)
            description->brand[end - 1] = 0;
    }
    __builtin_cpu_init();
    char *out = description->features;
    size_t room = sizeof description->features;
#define ATTEND_FEATURE(name)                                                               \
    if (__builtin_cpu_supports(name)) {                                                    \
        int written = snprintf(out, room, "%s%s", out == description->features ? "" : " ", name); \
        if (written > 0 && (size_t)written < room) { out += written; room -= (size_t)written; } \
    }
    // __builtin_cpu_supports needs literal names, so the list is unrolled.
    ATTEND_FEATURE("sse4.2") ATTEND_FEATURE("avx") ATTEND_FEATURE("avx2") ATTEND_FEATURE("fma")
    ATTEND_FEATURE("f16c") ATTEND_FEATURE("avx512f") ATTEND_FEATURE("avx512vl") ATTEND_FEATURE("avx512bw")
    ATTEND_FEATURE("avx512dq") ATTEND_FEATURE("avx512vnni") ATTEND_FEATURE("avx512bf16") ATTEND_FEATURE("avxvnni")
#undef ATTEND_FEATURE
#endif
}
