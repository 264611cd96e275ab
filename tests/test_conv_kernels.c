/* test_conv_kernels.c - the CPU kernels of CONV2D, CONV2D_GRAD_INPUT and CONV2D_GRAD_WEIGHT
 * against naive seven-loop references computed in double, to 1e-4 of the sum of the terms'
 * magnitudes: random geometries (groups 1-3, stride 1-2, padding 0-2, dilation 1-2, kernels
 * 1-4, odd sizes, N 1-3) sized to take each of the kernels' two paths (phase planes with the
 * tile kernel; im2col and sgemm), the 1x1 shortcut, wide maps, two threads (per-thread
 * buffers, the dW reduction, one image split over threads), strided views and empty sums.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "autograd/ag.h"

/* One test case: x [N,C,H,W], w [K,C/g,kh,kw] and the geometry. */
struct geo {
    int64_t n, c, h, w, k, kh, kw;
    struct tn_conv_geom g;
};

static uint64_t rng_state;

/* Next pseudo-random 64-bit value (xorshift64*). */
static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

/* Uniform integer in [lo, hi]. */
static int64_t rand_int(int64_t lo, int64_t hi) {
    return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo + 1));
}

/* n host floats uniform in [-1, 1). */
static float *rand_floats(int64_t n) {
    float *v = malloc(sizeof(float) * (size_t)(n ? n : 1));
    cr_assert(v);
    for (int64_t i = 0; i < n; i++) v[i] = (float)((next_u64() >> 40) / 8388608.0 - 1.0);
    return v;
}

static int64_t out_size(int64_t in, int64_t k, int s, int p, int d) {
    return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

/* Output shape [N,K,Ho,Wo] of the case. */
static void y_shape(const struct geo *q, int64_t *ys) {
    ys[0] = q->n;
    ys[1] = q->k;
    ys[2] = out_size(q->h, q->kh, q->g.stride[0], q->g.padding[0], q->g.dilation[0]);
    ys[3] = out_size(q->w, q->kw, q->g.stride[1], q->g.padding[1], q->g.dilation[1]);
}

/* The three references at once: y = conv(x, w); dx = grad_input(gy, w); dw = grad_weight(x,
 * gy); with the sums of absolute terms (for a relative tolerance) in the *_abs arrays. */
static void reference(const struct geo *q, const float *x, const float *w, const float *gy,
                      double *y, double *y_abs, double *dx, double *dx_abs, double *dw,
                      double *dw_abs) {
    int64_t ys[4];
    y_shape(q, ys);
    int64_t cg = q->c / q->g.groups, kg = q->k / q->g.groups, ho = ys[2], wo = ys[3];
    int64_t nx = q->n * q->c * q->h * q->w, nw = q->k * cg * q->kh * q->kw;
    for (int64_t i = 0; i < nx; i++) dx[i] = dx_abs[i] = 0;
    for (int64_t i = 0; i < nw; i++) dw[i] = dw_abs[i] = 0;
    for (int64_t n = 0; n < q->n; n++)
        for (int64_t k = 0; k < q->k; k++)
            for (int64_t oh = 0; oh < ho; oh++)
                for (int64_t ow = 0; ow < wo; ow++) {
                    int64_t yi = ((n * q->k + k) * ho + oh) * wo + ow;
                    double s = 0, sa = 0;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t i = 0; i < q->kh; i++)
                            for (int64_t j = 0; j < q->kw; j++) {
                                int64_t ih = oh * q->g.stride[0] - q->g.padding[0] +
                                             i * q->g.dilation[0];
                                int64_t iw = ow * q->g.stride[1] - q->g.padding[1] +
                                             j * q->g.dilation[1];
                                if (ih < 0 || ih >= q->h || iw < 0 || iw >= q->w) continue;
                                int64_t ci = k / kg * cg + c;
                                int64_t xi = ((n * q->c + ci) * q->h + ih) * q->w + iw;
                                int64_t wi = ((k * cg + c) * q->kh + i) * q->kw + j;
                                s += (double)x[xi] * w[wi];
                                sa += fabs((double)x[xi] * w[wi]);
                                dx[xi] += (double)gy[yi] * w[wi];
                                dx_abs[xi] += fabs((double)gy[yi] * w[wi]);
                                dw[wi] += (double)gy[yi] * x[xi];
                                dw_abs[wi] += fabs((double)gy[yi] * x[xi]);
                            }
                    y[yi] = s;
                    y_abs[yi] = sa;
                }
}

/* Asserts |got - ref| <= 1e-4 * abs_sum + 1e-6 elementwise. */
static void check(const char *what, const struct geo *q, const struct tn_tensor *t,
                  const double *ref, const double *abs_sum, int64_t n) {
    cr_assert_eq(t->numel, n, "%s: %lld elements, expected %lld", what, (long long)t->numel,
                 (long long)n);
    float *got = malloc(sizeof(float) * (size_t)(n ? n : 1));
    cr_assert(got);
    tn_to_host(t, got);
    for (int64_t i = 0; i < n; i++) {
        double err = fabs(got[i] - ref[i]), tol = 1e-4 * abs_sum[i] + 1e-6;
        if (!(err <= tol)) {
            float g = got[i];
            free(got);
            cr_assert_fail("%s of x [%lld,%lld,%lld,%lld] w [%lld,%lld,%lld,%lld] stride "
                           "%d,%d pad %d,%d dil %d,%d groups %d: element %lld is %.7g, "
                           "expected %.7g",
                           what, (long long)q->n, (long long)q->c, (long long)q->h,
                           (long long)q->w, (long long)q->k, (long long)(q->c / q->g.groups),
                           (long long)q->kh, (long long)q->kw, q->g.stride[0], q->g.stride[1],
                           q->g.padding[0], q->g.padding[1], q->g.dilation[0],
                           q->g.dilation[1], q->g.groups, (long long)i, (double)g, ref[i]);
        }
    }
    free(got);
}

/* A tensor of shape holding values, stored with its last two dims swapped when strided. */
static struct tn_tensor *make(const int64_t *shape, const float *values, bool strided) {
    if (!strided) return tn_from_host(TN_CPU, 4, shape, values);
    int64_t sw[4] = {shape[0], shape[1], shape[3], shape[2]};
    float *t = malloc(sizeof(float) * (size_t)(tn_numel_of(4, shape) + 1));
    cr_assert(t);
    for (int64_t a = 0; a < shape[0] * shape[1]; a++)
        for (int64_t i = 0; i < shape[2]; i++)
            for (int64_t j = 0; j < shape[3]; j++)
                t[(a * shape[3] + j) * shape[2] + i] = values[(a * shape[2] + i) * shape[3] + j];
    struct tn_tensor *base = tn_from_host(TN_CPU, 4, sw, t);
    free(t);
    int64_t st[4] = {base->strides[0], base->strides[1], base->strides[3], base->strides[2]};
    return tn_view(base, 4, shape, st, base->offset);
}

/* Runs the three kernels on q with random data and checks them against the references. */
static void run_case(const struct geo *q, bool strided) {
    tn_scope_begin();
    int64_t xs[4] = {q->n, q->c, q->h, q->w};
    int64_t ws[4] = {q->k, q->c / q->g.groups, q->kh, q->kw}, ys[4];
    y_shape(q, ys);
    int64_t nx = tn_numel_of(4, xs), nw = tn_numel_of(4, ws), ny = tn_numel_of(4, ys);
    float *x = rand_floats(nx), *w = rand_floats(nw), *gy = rand_floats(ny);
    double *ref = malloc(sizeof(double) * (size_t)(2 * (nx + nw + ny) + 1));
    cr_assert(ref);
    double *y = ref, *y_abs = y + ny, *dx = y_abs + ny, *dx_abs = dx + nx, *dw = dx_abs + nx,
           *dw_abs = dw + nw;
    reference(q, x, w, gy, y, y_abs, dx, dx_abs, dw, dw_abs);

    struct tn_tensor *tx = make(xs, x, strided), *tw = make(ws, w, strided),
                     *tgy = make(ys, gy, strided);
    struct tn_tensor *in_y[2] = {tx, tw}, *in_dx[2] = {tgy, tw}, *in_dw[2] = {tx, tgy};
    struct tn_op_params p = {.conv = q->g, .ndim = 4};
    struct tn_tensor *ty = tn_op_run(TN_OP_CONV2D, 2, in_y, &p);
    for (int d = 0; d < 4; d++) p.shape[d] = xs[d];
    struct tn_tensor *tdx = tn_op_run(TN_OP_CONV2D_GRAD_INPUT, 2, in_dx, &p);
    for (int d = 0; d < 4; d++) p.shape[d] = ws[d];
    struct tn_tensor *tdw = tn_op_run(TN_OP_CONV2D_GRAD_WEIGHT, 2, in_dw, &p);
    check("CONV2D", q, ty, y, y_abs, ny);
    check("CONV2D_GRAD_INPUT", q, tdx, dx, dx_abs, nx);
    check("CONV2D_GRAD_WEIGHT", q, tdw, dw, dw_abs, nw);
    free(ref);
    free(x);
    free(w);
    free(gy);
    tn_scope_end();
}

/* A random geometry with maps of min_hw to max_hw pixels, min_c to max_c channels per
 * group (in and out) and a valid output. */
static struct geo random_geo(int64_t min_hw, int64_t max_hw, int64_t min_c, int64_t max_c) {
    struct geo q;
    for (;;) {
        int groups = (int)rand_int(1, 3);
        q = (struct geo){.n = rand_int(1, 3), .c = groups * rand_int(min_c, max_c),
                         .k = groups * rand_int(min_c, max_c), .h = rand_int(min_hw, max_hw),
                         .w = rand_int(min_hw, max_hw), .kh = rand_int(1, 4),
                         .kw = rand_int(1, 4)};
        q.g = (struct tn_conv_geom){
            .stride = {(int)rand_int(1, 2), (int)rand_int(1, 2)},
            .padding = {(int)rand_int(0, 2), (int)rand_int(0, 2)},
            .dilation = {(int)rand_int(1, 2), (int)rand_int(1, 2)},
            .groups = groups};
        int64_t ys[4];
        y_shape(&q, ys);
        if (ys[2] >= 1 && ys[3] >= 1) return q;
    }
}

static int64_t live_at_start;

static void begin(void) {
    rng_state = 0x9e3779b97f4a7c15ull;
    live_at_start = tn_mem_stats(TN_CPU).live_tensors;
}

static void end(void) {
    cr_assert_eq(tn_mem_stats(TN_CPU).live_tensors, live_at_start, "tensors leaked");
}

TestSuite(conv_kernels, .init = begin, .fini = end);

/* Few channels: mostly the phase-plane paths. */
Test(conv_kernels, random_geometries) {
    for (int t = 0; t < 400; t++) {
        struct geo q = random_geo(1, 9, 1, 3);
        run_case(&q, false);
    }
}

/* Many channels on small maps: mostly im2col and sgemm. */
Test(conv_kernels, random_many_channels) {
    for (int t = 0; t < 200; t++) {
        struct geo q = random_geo(1, 6, 12, 24);
        run_case(&q, false);
    }
}

Test(conv_kernels, strided_views) {
    for (int t = 0; t < 60; t++) {
        struct geo q = random_geo(1, 9, 1, 16);
        run_case(&q, true);
    }
}

/* Random geometries on maps of 10 to 24 pixels, where the phase-plane paths run. */
Test(conv_kernels, random_wide_maps) {
    for (int t = 0; t < 150; t++) {
        struct geo q = random_geo(10, 24, 1, 4);
        run_case(&q, false);
    }
}

/* Outputs of 256+ pixels: one image per chunk, with the per-image paths. */
Test(conv_kernels, wide_maps) {
    struct geo cases[] = {
        {2, 3, 17, 18, 4, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1}},
        {3, 4, 35, 33, 6, 4, 4, {{2, 2}, {1, 1}, {1, 1}, 2}},
        {2, 6, 20, 19, 3, 3, 2, {{1, 1}, {2, 0}, {2, 1}, 3}},
        {2, 4, 16, 17, 6, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 1}}, /* 1x1: col = x */
        {2, 4, 16, 17, 6, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 2}},
        {2, 4, 33, 32, 2, 1, 1, {{2, 2}, {0, 0}, {1, 1}, 1}}, /* 1x1 with stride */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i], false);
}

/* 1x1 kernels on small maps (batched chunks), with and without padding. */
Test(conv_kernels, one_by_one) {
    struct geo cases[] = {
        {3, 4, 5, 3, 6, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 1}},
        {3, 6, 4, 4, 6, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 3}},
        {2, 4, 5, 3, 2, 1, 1, {{1, 1}, {1, 0}, {1, 1}, 2}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i], false);
}

/* Enough work for chunks to run on two threads: per-thread buffers and the dW reduction,
 * with a chunk count that does not divide evenly. */
Test(conv_kernels, two_threads) {
    int saved = omp_get_max_threads();
    omp_set_num_threads(2);
    struct geo cases[] = {
        {5, 16, 20, 20, 16, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1}},  /* 5 chunks of one image */
        {7, 16, 17, 16, 8, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 2}},
        {21, 32, 8, 8, 32, 4, 4, {{2, 2}, {1, 1}, {1, 1}, 1}},   /* batched chunks */
        {9, 16, 19, 18, 16, 1, 1, {{1, 1}, {0, 0}, {1, 1}, 1}},  /* 1x1 */
        {1, 32, 40, 40, 32, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1}},  /* one image: split tiles */
        {1, 24, 33, 35, 36, 4, 4, {{2, 2}, {1, 1}, {1, 1}, 3}},
        {3, 64, 4, 4, 64, 3, 3, {{1, 1}, {1, 1}, {1, 1}, 1}},    /* one batched chunk */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i], false);
    omp_set_num_threads(saved);
}

/* The GWAE shapes at batch 2 (k4 s2 p1 down the critic, 64x64 input). */
Test(conv_kernels, gwae_layers) {
    int64_t ch[] = {3, 8, 16, 32, 64, 128, 256}, hw = 64;
    for (int l = 0; l + 1 < 7; l++, hw /= 2) {
        struct geo q = {2, ch[l], hw, hw, ch[l + 1], 4, 4, {{2, 2}, {1, 1}, {1, 1}, 1}};
        run_case(&q, false);
    }
}

/* No images: the weight gradient is zeros, and conv2d of nothing is nothing. */
Test(conv_kernels, empty_batch) {
    tn_scope_begin();
    int64_t xs[4] = {0, 2, 5, 5}, ws[4] = {3, 2, 3, 3}, ys[4] = {0, 3, 3, 3};
    struct tn_tensor *x = tn_zeros(TN_CPU, 4, xs), *w = tn_full(TN_CPU, 4, ws, 1.0f);
    struct tn_tensor *gy = tn_zeros(TN_CPU, 4, ys);
    struct tn_op_params p = {.conv = ag_conv_geom(1, 0), .ndim = 4};
    for (int d = 0; d < 4; d++) p.shape[d] = ws[d];
    struct tn_tensor *in[2] = {x, gy};
    struct tn_tensor *dw = tn_op_run(TN_OP_CONV2D_GRAD_WEIGHT, 2, in, &p);
    float got[54];
    tn_to_host(dw, got);
    for (int i = 0; i < 54; i++) cr_assert_eq(got[i], 0.0f, "dw[%d] = %g", i, (double)got[i]);
    struct tn_tensor *in_y[2] = {x, w};
    struct tn_tensor *y = tn_op_run(TN_OP_CONV2D, 2, in_y, &p);
    cr_assert_eq(y->numel, 0);
    tn_scope_end();
}
