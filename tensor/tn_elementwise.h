/* tn_elementwise.h - the float functions that the elementwise formulas of tn_op_list.h call
 * beyond <math.h>, compiled for the CPU (C) and for CUDA (as __host__ __device__), so that
 * both backends compute them with the same float operations in the same order.
 *
 * Both sides round every operation on its own: the CPU is built as ISO C11, which does not
 * contract a * b + c into a fused multiply-add, and the CUDA file that includes this header is
 * built with --fmad=false. Not here: libm's expf, logf, powf and tanhf, whose CUDA versions
 * may differ from glibc's in the last bit.
 */
#ifndef TN_ELEMENTWISE_H
#define TN_ELEMENTWISE_H

#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define TN_EW_FN static __host__ __device__ __forceinline__
#else
#define TN_EW_FN static inline
#endif

/* e^x for the sigmoid family, in a form the compiler vectorises (libm's expf is a call per
 * element, 5x slower here). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for e^r (Cephes' coefficients, within 2 ulp of expf), and 2^n put into the
 * exponent bits. x is clamped to [-87.3, 88.0] so that 2^n stays a normal float: beyond it
 * e^x saturates near 1.3e-38 or 1.6e38, which leaves 1 / (1 + e^x) correct to float
 * precision. A NaN stays NaN (the comparisons let it through and the polynomial keeps it). */
TN_EW_FN float tn_sigmoid_exp(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.02969f ? 88.02969f : x;
    float shifted = x * 1.44269504088896341f + magic;
    float n = shifted - magic;
    float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits_shifted, bits_magic, scale_bits;
    memcpy(&bits_shifted, &shifted, 4);
    memcpy(&bits_magic, &magic, 4);
    scale_bits = (bits_shifted - bits_magic + 127u) << 23;
    float scale;
    memcpy(&scale, &scale_bits, 4);
    return p * scale;
}

/* 1 / (1 + e^-x) */
TN_EW_FN float tn_sigmoidf(float x) { return 1.0f / (1.0f + tn_sigmoid_exp(-x)); }

/* d/dx x sigmoid(x) = s (1 + x (1 - s)) */
TN_EW_FN float tn_silu_slope(float x) {
    float s = tn_sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

#endif
