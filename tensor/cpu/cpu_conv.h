/* cpu_conv.h - what the two paths of the CPU conv kernels share (not a public header): the
 * geometry of one convolution, row copies with zero fill, per-thread scratch, the bias added
 * per image, and the direct path's entry points.
 *
 * cpu_conv.c holds the kernels' entry, the batching of images and the im2col/sgemm path;
 * cpu_conv_direct.c the direct path (stride-phase planes and an AVX2 tile kernel);
 * cpu_conv_trim.c the cut of taps that only ever see padding.
 */
#ifndef CPU_CONV_H
#define CPU_CONV_H

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define CONV_TILES 1 /* the direct path is built; it runs where the CPU has AVX2 and FMA */
#endif

#define PARALLEL_MIN_FLOPS 4000000 /* multiply-adds below which one thread does everything */

/* The geometry of one convolution and how its images are split into chunks. */
struct conv {
    int64_t n, c, h, w;  /* x [N, C, H, W] */
    int64_t k, kh, kw;   /* w [K, C/g, kh, kw] */
    int64_t ho, wo;      /* y [N, K, Ho, Wo] */
    int64_t sh, sw, ph, pw, dh, dw;
    int64_t g, kg, rg;   /* groups, K/g, rows of a group's column matrix C/g*kh*kw */
    int64_t hw, p;       /* H*W, Ho*Wo */
    int64_t u0, v0;      /* largest tap shift in stride-phase planes: (kh-1)*dh/sh, ... */
    bool pointwise;      /* 1x1, stride 1, no padding: col = x[n] */
    int64_t batch;       /* images per chunk */
    int64_t chunks;
    int threads;         /* chunks run side by side on this many threads */
    const float *bias;   /* [channels of the output] added as each image is done, or NULL */
};

/* out[b, ch, :] += bias[ch] for nb images [channels, plane] of out. */
static inline void add_channel_bias(float *out, const float *bias, int64_t nb, int64_t channels,
                                    int64_t plane) {
    for (int64_t b = 0; b < nb; b++)
        for (int64_t ch = 0; ch < channels; ch++) {
            float *p = out + (b * channels + ch) * plane, v = bias[ch];
            for (int64_t i = 0; i < plane; i++) p[i] += v;
        }
}

/* cv's bias (if any) on the images [n0, n0 + nb) of op's output while they are in cache
 * (CONV2D: y [N,K,Ho,Wo]; CONV2D_GRAD_INPUT: dx [N,C,H,W]). */
static inline void add_bias(const struct conv *cv, enum tn_op op, float *out, int64_t n0,
                            int64_t nb) {
    if (!cv->bias) return;
    bool forward = op == TN_OP_CONV2D;
    int64_t channels = forward ? cv->k : cv->c, plane = forward ? cv->p : cv->hw;
    add_channel_bias(out + n0 * channels * plane, cv->bias, nb, channels, plane);
}

/* Range [lo, hi) of output positions whose input position o*s - pad + off lies in [0, in). */
static inline void valid_range(int64_t out, int64_t in, int64_t s, int64_t pad, int64_t off,
                        int64_t *lo, int64_t *hi) {
    int64_t a = pad - off, b = in + pad - off; /* need a <= o*s < b */
    int64_t l = a > 0 ? (a + s - 1) / s : 0;
    int64_t h = b > 0 ? (b - 1) / s + 1 : 0;
    if (h > out) h = out;
    if (l > h) l = h;
    *lo = l;
    *hi = h;
}

/* d[0..n) = s[0..n), for the short runs of rows where a call to memcpy costs more (the
 * empty asm keeps the compiler from turning the loop back into one). */
static inline void copy_floats(float *d, const float *s, int64_t n) {
#ifdef __AVX__
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(s + i);
        __asm__("" : "+x"(v));
        _mm256_storeu_ps(d + i, v);
    }
    for (; i < n; i++) d[i] = s[i];
#else
    memcpy(d, s, sizeof(float) * (size_t)n);
#endif
}

/* d[o] = src[o*s + base] for o in [lo, hi), zero for the rest of [0, n). */
static inline void copy_row(float *d, int64_t n, const float *src, int64_t lo, int64_t hi, int64_t s,
                     int64_t base) {
    const float *sl = src + lo * s + base; /* the first pixel read: lo*s + base >= 0 */
    for (int64_t o = 0; o < lo; o++) d[o] = 0.0f;
    if (s == 1) copy_floats(d + lo, sl, hi - lo);
    else if (s == 2) /* a constant stride, which the compiler vectorises */
        for (int64_t o = 0; o < hi - lo; o++) d[lo + o] = sl[2 * o];
    else
        for (int64_t o = 0; o < hi - lo; o++) d[lo + o] = sl[o * s];
    for (int64_t o = hi; o < n; o++) d[o] = 0.0f;
}

/* Scratch of n floats for each of `copies` threads, from the tensor allocator (which keeps
 * it cached from call to call) and freed when the kernel's scope ends. Only outside parallel
 * regions: the allocator is single-threaded. */
static inline float *scratch(int64_t n, int copies) {
    int64_t shape[1] = {(n + 15) / 16 * 16 * copies + 1};
    return tn_data(tn_empty(TN_CPU, 1, shape));
}

/* The calling thread's n floats of scratch s, zeroed when zero. */
static inline float *piece(float *s, int64_t n, bool zero) {
    float *p = s + (n + 15) / 16 * 16 * omp_get_thread_num();
    if (zero) memset(p, 0, sizeof(float) * (size_t)n);
    return p;
}

#ifdef CONV_TILES
/* True when op takes the direct path: the CPU has AVX2 and FMA, and little work is wasted. */
bool cpu_conv_use_direct(const struct conv *cv, enum tn_op op);

/* y [N,K,Ho,Wo] = conv2d(x [N,C,H,W], w) (+ cv->bias) on the direct path. */
void cpu_conv_direct_forward(const struct conv *cv, const float *x, const float *w, float *y);

/* dw [K,C/g,kh,kw] from x [N,C,H,W] and gy [N,K,Ho,Wo] on the direct path. */
void cpu_conv_direct_grad_weight(const struct conv *cv, const float *x, const float *gy, float *dw);

/* dx [N,C,H,W] (+ cv->bias) from gy [N,K,Ho,Wo] and w on the direct path. */
void cpu_conv_direct_grad_input(const struct conv *cv, const float *gy, const float *w, float *dx);
#endif

#endif
