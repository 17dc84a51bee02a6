// Shared helpers of the C kernels: multi-versioned vector code, vectorizable math, parallel loops.
#ifndef BP_INTERNAL_H
#define BP_INTERNAL_H

#include "CBackpropKernels.h"
#include <stdint.h>
#include <string.h>

// Each hot loop is compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time, so the
// package needs no -march flag (which would make it unusable as a dependency).
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define BP_VECTOR __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define BP_VECTOR
#endif

#define BP_RESTRICT __restrict

// Work below this many elements runs on the calling thread: waking the pool costs more.
#define BP_PARALLEL_GRAIN 32768

typedef void (*bp_range_fn)(void *context, int64_t begin, int64_t end);
/// Runs fn over [0, n) split into one contiguous range per OpenMP thread (serial when n < grain).
void bp_parallel_for(int64_t n, int64_t grain, bp_range_fn fn, void *context);

static inline float bp_bits_to_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t bp_float_to_bits(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

// exp with Cody-Waite range reduction and a degree-6 polynomial (Cephes expf), about 1 ulp,
// branch-free so loops around it vectorize. Returns 0 below -87.3 and +inf above 88.72.
static inline float bp_expf(float x) {
    float xc = __builtin_fminf(__builtin_fmaxf(x, -87.33654f), 88.37626f);
    float fx = __builtin_floorf(xc * 1.44269504088896341f + 0.5f);
    float r = xc - fx * 0.693359375f + fx * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    float scale = bp_bits_to_float(((int32_t)fx + 127) << 23);
    y = y * scale;
    y = x < -87.33654f ? 0.0f : y;
    y = x > 88.72283f ? __builtin_inff() : y;
    return y;
}

// Natural log (Cephes logf), about 1 ulp for normal x > 0; log(0) = -inf, log(x < 0) = NaN.
static inline float bp_logf(float x) {
    int32_t bits = bp_float_to_bits(x);
    int32_t exponent = ((bits >> 23) & 0xff) - 126;
    float m = bp_bits_to_float((bits & 0x007fffff) | 0x3f000000); // in [0.5, 1)
    int below = m < 0.707106781186547524f;
    float e = (float)(exponent - below);
    m = below ? m + m - 1.0f : m - 1.0f;
    float z = m * m;
    float p = 7.0376836292e-2f;
    p = p * m - 1.1514610310e-1f;
    p = p * m + 1.1676998740e-1f;
    p = p * m - 1.2420140846e-1f;
    p = p * m + 1.4249322787e-1f;
    p = p * m - 1.6668057665e-1f;
    p = p * m + 2.0000714765e-1f;
    p = p * m - 2.4999993993e-1f;
    p = p * m + 3.3333331174e-1f;
    float y = p * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    float result = m + y + 0.693359375f * e;
    result = x == __builtin_inff() ? x : result;
    result = x == 0.0f ? -__builtin_inff() : result;
    result = x < 0.0f ? __builtin_nanf("") : result;
    result = x != x ? x : result;
    return result;
}

// tanh: odd polynomial below |x| = 0.625 (Cephes tanhf), 1 - 2/(exp(2|x|) + 1) above.
static inline float bp_tanhf(float x) {
    float ax = __builtin_fabsf(x);
    float z = x * x;
    float small = ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z
                    + 1.33314422036e-1f) * z - 3.33332819422e-1f) * z * x + x;
    float large = 1.0f - 2.0f / (bp_expf(2.0f * ax) + 1.0f);
    large = x < 0.0f ? -large : large;
    return ax < 0.625f ? small : large;
}

// exp(x) − 1 without the cancellation of bp_expf(x) − 1 near 0 (ELU's relative precision there):
// a degree-7 Taylor polynomial for |x| < 0.35 (truncation < 2e-8 relative), bp_expf(x) − 1 beyond.
static inline float bp_expm1f(float x) {
    float series = x * (1.0f + x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720 + x * (1.0f / 5040)))))));
    float direct = bp_expf(x) - 1.0f;
    return __builtin_fabsf(x) < 0.35f ? series : direct;
}

static inline float bp_sigmoidf(float x) { return 1.0f / (1.0f + bp_expf(-x)); }

// softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for any finite x.
static inline float bp_softplusf(float x) {
    return __builtin_fmaxf(x, 0.0f) + bp_logf(1.0f + bp_expf(-__builtin_fabsf(x)));
}

#endif
