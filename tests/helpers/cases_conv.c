/* cases_conv.c - test cases of the convolution ops: CONV2D (plain, strided, padded, dilated,
 * grouped, non-square, 1x1), CONV2D_GRAD_INPUT and CONV2D_GRAD_WEIGHT called directly, and the
 * composites conv2d with bias, conv_transpose2d (with output_padding, groups, bias) and conv1d.
 * References are the naive loops in double: the conv sum, its scatter (input gradient and
 * transposed conv) and its correlation with the output gradient (weight gradient).
 */
#include <stdlib.h>

#include "op_cases.h"

/* ---- references; x [N,C,H,W], w [K,C/g,kh,kw], y [N,K,Ho,Wo], all row-major ---- */

#define AT4(s, a, b, c, d) ((((a) * (s)[1] + (b)) * (s)[2] + (c)) * (s)[3] + (d))

/* input coordinate tapped by output o through kernel tap k, or -1 outside the image */
static int64_t tap(int64_t o, int64_t k, int stride, int pad, int dil, int64_t size) {
    int64_t i = o * stride - pad + k * dil;
    return i >= 0 && i < size ? i : -1;
}

/* y[n,o,i,j] = sum_{c,ki,kj} x[n, g*Cg + c, i*s - p + ki*d, j*s - p + kj*d] w[o,c,ki,kj],
 * g = o / (K/groups), Cg = C/groups, zero outside the image */
static void conv_ref(const float *x, const int64_t *xs, const float *w, const int64_t *ws,
                     const struct tn_conv_geom *g, float *y, const int64_t *ys) {
    int64_t cg = ws[1], kg = ws[0] / g->groups;
    for (int64_t n = 0; n < ys[0]; n++)
        for (int64_t o = 0; o < ys[1]; o++)
            for (int64_t i = 0; i < ys[2]; i++)
                for (int64_t j = 0; j < ys[3]; j++) {
                    double acc = 0;
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t ki = 0; ki < ws[2]; ki++)
                            for (int64_t kj = 0; kj < ws[3]; kj++) {
                                int64_t hi = tap(i, ki, g->stride[0], g->padding[0], g->dilation[0], xs[2]);
                                int64_t wi = tap(j, kj, g->stride[1], g->padding[1], g->dilation[1], xs[3]);
                                if (hi < 0 || wi < 0) continue;
                                acc += (double)x[AT4(xs, n, o / kg * cg + c, hi, wi)] *
                                       w[AT4(ws, o, c, ki, kj)];
                            }
                    y[AT4(ys, n, o, i, j)] = (float)acc;
                }
}

/* The transpose of conv_ref in x: every gy[n,o,i,j] w[o,c,ki,kj] adds into the x pixel it
 * came from. dx has shape xs (given: strided convs leave it ambiguous). Also the transposed
 * conv, whose weight [Cin, Cout/g, kh, kw] is exactly the conv weight of this scatter. */
static void conv_scatter_ref(const float *gy, const int64_t *gys, const float *w,
                             const int64_t *ws, const struct tn_conv_geom *g, float *dx,
                             const int64_t *xs) {
    int64_t cg = ws[1], kg = ws[0] / g->groups, n_x = xs[0] * xs[1] * xs[2] * xs[3];
    double *acc = calloc((size_t)n_x, sizeof *acc);
    cr_assert(acc);
    for (int64_t n = 0; n < gys[0]; n++)
        for (int64_t o = 0; o < gys[1]; o++)
            for (int64_t i = 0; i < gys[2]; i++)
                for (int64_t j = 0; j < gys[3]; j++)
                    for (int64_t c = 0; c < cg; c++)
                        for (int64_t ki = 0; ki < ws[2]; ki++)
                            for (int64_t kj = 0; kj < ws[3]; kj++) {
                                int64_t hi = tap(i, ki, g->stride[0], g->padding[0], g->dilation[0], xs[2]);
                                int64_t wi = tap(j, kj, g->stride[1], g->padding[1], g->dilation[1], xs[3]);
                                if (hi < 0 || wi < 0) continue;
                                acc[AT4(xs, n, o / kg * cg + c, hi, wi)] +=
                                    (double)gy[AT4(gys, n, o, i, j)] * w[AT4(ws, o, c, ki, kj)];
                            }
    for (int64_t e = 0; e < n_x; e++) dx[e] = (float)acc[e];
    free(acc);
}

/* dw[o,c,ki,kj] = sum_{n,i,j} x[n, g*Cg + c, i*s - p + ki*d, j*s - p + kj*d] gy[n,o,i,j] */
static void conv_corr_ref(const float *x, const int64_t *xs, const float *gy, const int64_t *gys,
                          const struct tn_conv_geom *g, float *dw, const int64_t *ws) {
    int64_t cg = ws[1], kg = ws[0] / g->groups;
    for (int64_t o = 0; o < ws[0]; o++)
        for (int64_t c = 0; c < cg; c++)
            for (int64_t ki = 0; ki < ws[2]; ki++)
                for (int64_t kj = 0; kj < ws[3]; kj++) {
                    double acc = 0;
                    for (int64_t n = 0; n < gys[0]; n++)
                        for (int64_t i = 0; i < gys[2]; i++)
                            for (int64_t j = 0; j < gys[3]; j++) {
                                int64_t hi = tap(i, ki, g->stride[0], g->padding[0], g->dilation[0], xs[2]);
                                int64_t wi = tap(j, kj, g->stride[1], g->padding[1], g->dilation[1], xs[3]);
                                if (hi < 0 || wi < 0) continue;
                                acc += (double)x[AT4(xs, n, o / kg * cg + c, hi, wi)] *
                                       gy[AT4(gys, n, o, i, j)];
                            }
                    dw[AT4(ws, o, c, ki, kj)] = (float)acc;
                }
}

/* y[n, o, ...] += bias[o] */
static void add_bias(float *y, const int64_t *ys, int ndim, const float *bias) {
    int64_t inner = tn_numel_of(ndim - 2, ys + 2);
    for (int64_t n = 0; n < ys[0]; n++)
        for (int64_t o = 0; o < ys[1]; o++)
            for (int64_t e = 0; e < inner; e++) y[(n * ys[1] + o) * inner + e] += bias[o];
}

/* ---- one spec per case: what to call and with which geometry ---- */

enum conv_call {
    CALL_CONV,           /* (x, w[, bias]) -> ag_conv2d */
    CALL_GRAD_INPUT,     /* (gy, w) -> ag_conv2d_grad_input, shape = x's shape */
    CALL_GRAD_WEIGHT,    /* (x, gy) -> ag_conv2d_grad_weight, shape = w's shape */
    CALL_TRANSPOSE,      /* (x, w[, bias]) -> ag_conv_transpose2d */
    CALL_CONV1D,         /* (x, w[, bias]) -> ag_conv1d, geometry in index 1 of the arrays */
};

struct conv_spec {
    enum conv_call call;
    struct tn_conv_geom geom;
    int64_t shape[4];    /* CALL_GRAD_INPUT: x's shape; CALL_GRAD_WEIGHT: w's shape */
    int output_padding;  /* CALL_TRANSPOSE */
    bool bias;           /* the third input is a bias [Cout] */
};

static struct tn_tensor *run_spec(const struct conv_spec *s, struct tn_tensor *const *in) {
    struct tn_tensor *bias = s->bias ? in[2] : NULL;
    const struct tn_conv_geom *g = &s->geom;
    switch (s->call) {
    case CALL_CONV: return ag_conv2d(in[0], in[1], bias, *g);
    case CALL_GRAD_INPUT: return ag_conv2d_grad_input(in[0], in[1], s->shape, *g);
    case CALL_GRAD_WEIGHT: return ag_conv2d_grad_weight(in[0], in[1], s->shape, *g);
    case CALL_TRANSPOSE: return ag_conv_transpose2d(in[0], in[1], bias, *g, s->output_padding);
    case CALL_CONV1D:
        return ag_conv1d(in[0], in[1], bias, g->stride[1], g->padding[1], g->dilation[1], g->groups);
    }
    return NULL;
}

static void ref_spec(const struct conv_spec *s, const struct op_case *c, float *const *in,
                     float *out) {
    const int64_t *s0 = c->in[0].shape, *s1 = c->in[1].shape, *so = c->out_shape;
    switch (s->call) {
    case CALL_CONV: conv_ref(in[0], s0, in[1], s1, &s->geom, out, so); break;
    case CALL_GRAD_INPUT: conv_scatter_ref(in[0], s0, in[1], s1, &s->geom, out, so); break;
    case CALL_GRAD_WEIGHT: conv_corr_ref(in[0], s0, in[1], s1, &s->geom, out, so); break;
    case CALL_TRANSPOSE: conv_scatter_ref(in[0], s0, in[1], s1, &s->geom, out, so); break;
    case CALL_CONV1D: {
        /* a 1-D conv is a 2-D conv over images of height 1 */
        int64_t x4[4] = {s0[0], s0[1], 1, s0[2]}, w4[4] = {s1[0], s1[1], 1, s1[2]};
        int64_t y4[4] = {so[0], so[1], 1, so[2]};
        conv_ref(in[0], x4, in[1], w4, &s->geom, out, y4);
        break;
    }
    }
    if (s->bias) add_bias(out, so, c->out_ndim, in[2]);
}

#define SPEC(name, ...)                                                                     \
    static const struct conv_spec spec_##name = {__VA_ARGS__};                              \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return run_spec(&spec_##name, in);                                                  \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        ref_spec(&spec_##name, c, in, out);                                                 \
    }

/* geometry: stride, padding, dilation (each {h, w}), groups */
#define GEOM(sh, sw, ph, pw, dh, dw, groups) {{sh, sw}, {ph, pw}, {dh, dw}, groups}

SPEC(plain, CALL_CONV, GEOM(1, 1, 1, 1, 1, 1, 1))
SPEC(s2_p1_d2, CALL_CONV, GEOM(2, 2, 1, 1, 2, 2, 1))
SPEC(groups2, CALL_CONV, GEOM(1, 1, 1, 1, 1, 1, 2))
SPEC(groups2_s2_p1, CALL_CONV, GEOM(2, 2, 1, 1, 1, 1, 2))
SPEC(depthwise_d2, CALL_CONV, GEOM(1, 1, 2, 2, 2, 2, 3))
SPEC(k4_s2_p1, CALL_CONV, GEOM(2, 2, 1, 1, 1, 1, 1))
SPEC(nonsquare, CALL_CONV, GEOM(2, 1, 0, 1, 1, 2, 1))
SPEC(pointwise, CALL_CONV, GEOM(1, 1, 0, 0, 1, 1, 1))
SPEC(conv_bias, CALL_CONV, GEOM(1, 1, 1, 1, 1, 1, 1), .bias = true)
SPEC(conv_bias_groups, CALL_CONV, GEOM(2, 2, 1, 1, 1, 1, 2), .bias = true)
SPEC(k4_s2_p1_bias, CALL_CONV, GEOM(2, 2, 1, 1, 1, 1, 1), .bias = true)
SPEC(gi_plain, CALL_GRAD_INPUT, GEOM(1, 1, 1, 1, 1, 1, 1), {2, 3, 5, 5})
SPEC(gi_grouped, CALL_GRAD_INPUT, GEOM(2, 2, 1, 1, 2, 2, 2), {1, 4, 7, 7})
SPEC(gi_uncovered, CALL_GRAD_INPUT, GEOM(2, 2, 0, 0, 1, 1, 1), {1, 2, 6, 6})
SPEC(gw_plain, CALL_GRAD_WEIGHT, GEOM(1, 1, 1, 1, 1, 1, 1), {4, 3, 3, 3})
SPEC(gw_grouped, CALL_GRAD_WEIGHT, GEOM(2, 2, 1, 1, 2, 2, 2), {6, 2, 3, 3})
SPEC(gw_nonsquare, CALL_GRAD_WEIGHT, GEOM(1, 2, 1, 0, 2, 1, 1), {2, 2, 2, 3})
SPEC(gi_cut, CALL_GRAD_INPUT, GEOM(2, 2, 1, 1, 1, 1, 1), {2, 3, 2, 2})
SPEC(k5_p2, CALL_CONV, GEOM(1, 1, 2, 2, 1, 1, 1))
SPEC(gi_k5_p2, CALL_GRAD_INPUT, GEOM(1, 1, 2, 2, 1, 1, 1), {2, 3, 2, 2})
SPEC(gw_k5_p2, CALL_GRAD_WEIGHT, GEOM(1, 1, 2, 2, 1, 1, 1), {4, 3, 5, 5})
SPEC(gw_cut, CALL_GRAD_WEIGHT, GEOM(2, 2, 1, 1, 1, 1, 1), {4, 3, 4, 4})
SPEC(tr_s2, CALL_TRANSPOSE, GEOM(2, 2, 1, 1, 1, 1, 1))
SPEC(tr_s2_op1, CALL_TRANSPOSE, GEOM(2, 2, 1, 1, 1, 1, 1), .output_padding = 1)
SPEC(tr_groups, CALL_TRANSPOSE, GEOM(2, 2, 1, 1, 1, 1, 2), .output_padding = 1, .bias = true)
SPEC(tr_k4_s2_p1, CALL_TRANSPOSE, GEOM(2, 2, 1, 1, 1, 1, 1), .bias = true)
SPEC(c1d_groups, CALL_CONV1D, GEOM(1, 2, 0, 1, 1, 1, 2))
SPEC(c1d_groups_d2_bias, CALL_CONV1D, GEOM(1, 1, 0, 2, 1, 2, 2), .bias = true)

/* ---- the table ---- */

#define R(lo, hi) IN_RANDOM, lo, hi
#define T(lo, hi) IN_TRANSPOSED, lo, hi
#define IN4(kind, a, b, c, d) {4, {a, b, c, d}, kind, true}
#define IN3(kind, a, b, c) {3, {a, b, c}, kind, true}
#define BIAS(n) {1, {n}, R(-1, 1), true}
#define OUT4(a, b, c, d) 4, {a, b, c, d}
#define OUT3(a, b, c) 3, {a, b, c}
/* Forward: float sums of up to ~100 products, 1e-4 absolute and relative.
 * Gradients: default tolerances, but a finite-difference step of 0.1 instead of 1e-3. Every
 * conv op is bilinear, so the checked scalars (<y, w> and the second-order h) are linear in
 * each input perturbed alone and central differences are exact at any step; their only error
 * is float32 rounding of the outputs (~1e-5 in the scalar), which divided by 2 eps reaches
 * ~5e-3 at eps = 1e-3: above atol on several cases (up to 2.7x the tolerance). At eps = 0.1 that
 * noise is 100x smaller (the worst case then sits at 0.02 of the tolerance). */
#define TOL 1e-4, 1e-4, {.eps = 1e-1}

static const struct op_case cases[] = {
    /* CONV2D; Ho = (H + 2p - d (k - 1) - 1) / s + 1 */
    {TN_OP_CONV2D, "conv2d plain k3 s1 p1", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 6, 6), IN4(R(-1, 1), 4, 3, 3, 3)},
     apply_plain, ref_plain, OUT4(2, 4, 6, 6), TOL},
    {TN_OP_CONV2D, "conv2d plain, strided x and w", CHECK_ALL, 2,
     {IN4(T(-1, 1), 2, 3, 6, 5), IN4(T(-1, 1), 4, 3, 3, 2)},
     apply_plain, ref_plain, OUT4(2, 4, 6, 6), TOL},
    {TN_OP_CONV2D, "conv2d stride 2 padding 1 dilation 2", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 2, 7, 7), IN4(R(-1, 1), 3, 2, 3, 3)},
     apply_s2_p1_d2, ref_s2_p1_d2, OUT4(2, 3, 3, 3), TOL},
    {TN_OP_CONV2D, "conv2d groups 2", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 5, 5), IN4(R(-1, 1), 6, 2, 3, 3)},
     apply_groups2, ref_groups2, OUT4(2, 6, 5, 5), TOL},
    {TN_OP_CONV2D, "conv2d groups 2 stride 2 padding 1", CHECK_ALL, 2,
     {IN4(R(-1, 1), 1, 4, 6, 6), IN4(R(-1, 1), 4, 2, 3, 3)},
     apply_groups2_s2_p1, ref_groups2_s2_p1, OUT4(1, 4, 3, 3), TOL},
    {TN_OP_CONV2D, "conv2d depthwise-style groups 3, channel multiplier 2, dilation 2", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 5, 5), IN4(R(-1, 1), 6, 1, 3, 3)},
     apply_depthwise_d2, ref_depthwise_d2, OUT4(2, 6, 5, 5), TOL},
    {TN_OP_CONV2D, "conv2d k4 s2 p1 (the GWAE encoder)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 8, 8), IN4(R(-1, 1), 4, 3, 4, 4)},
     apply_k4_s2_p1, ref_k4_s2_p1, OUT4(2, 4, 4, 4), TOL},
    {TN_OP_CONV2D, "conv2d non-square kernel, stride (2,1), padding (0,1), dilation (1,2)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 2, 5, 6), IN4(R(-1, 1), 3, 2, 2, 3)},
     apply_nonsquare, ref_nonsquare, OUT4(2, 3, 2, 4), TOL},
    /* maps so small that outer taps only ever see padding (cpu_conv_trim.c cuts them) */
    {TN_OP_CONV2D, "conv2d k4 s2 p1 on a 2x2 map (taps cut to 2x2)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 2, 2), IN4(R(-1, 1), 4, 3, 4, 4)},
     apply_k4_s2_p1, ref_k4_s2_p1, OUT4(2, 4, 1, 1), TOL},
    {TN_OP_CONV2D, "conv2d k4 s2 p1 on a 3x2 map (taps cut to 3x2)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 3, 2), IN4(T(-1, 1), 4, 3, 4, 4)},
     apply_k4_s2_p1, ref_k4_s2_p1, OUT4(2, 4, 1, 1), TOL},
    /* cut taps that still leave a 2x2 output (not the one-pixel product) */
    {TN_OP_CONV2D, "conv2d k5 p2 on a 2x2 map (taps cut to 3x3)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 2, 2), IN4(R(-1, 1), 4, 3, 5, 5)},
     apply_k5_p2, ref_k5_p2, OUT4(2, 4, 2, 2), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv2d grad input k5 p2 on a 2x2 map (taps cut)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 2, 2), IN4(R(-1, 1), 4, 3, 5, 5)},
     apply_gi_k5_p2, ref_gi_k5_p2, OUT4(2, 3, 2, 2), TOL},
    {TN_OP_CONV2D_GRAD_WEIGHT, "conv2d grad weight k5 p2 on a 2x2 map (cut taps get 0)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 2, 2), IN4(R(-1, 1), 2, 4, 2, 2)},
     apply_gw_k5_p2, ref_gw_k5_p2, OUT4(4, 3, 5, 5), TOL},
    {TN_OP_CONV2D, "conv2d 1x1", CHECK_ALL, 2,
     {IN4(T(-1, 1), 2, 3, 4, 3), IN4(R(-1, 1), 5, 3, 1, 1)},
     apply_pointwise, ref_pointwise, OUT4(2, 5, 4, 3), TOL},
    {TN_OP_CONV2D, "conv2d large maps, one image per chunk", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 2, 16, 16), IN4(R(-1, 1), 2, 2, 3, 3)},
     apply_plain, ref_plain, OUT4(2, 2, 16, 16), TOL},
    /* composite: conv2d with bias */
    {TN_OP_CONV2D, "conv2d with bias", CHECK_ALL, 3,
     {IN4(R(-1, 1), 2, 3, 5, 5), IN4(R(-1, 1), 4, 3, 3, 3), BIAS(4)},
     apply_conv_bias, ref_conv_bias, OUT4(2, 4, 5, 5), TOL},
    {TN_OP_CONV2D, "conv2d with bias, groups 2 stride 2", CHECK_ALL, 3,
     {IN4(R(-1, 1), 1, 4, 6, 6), IN4(R(-1, 1), 6, 2, 3, 3), BIAS(6)},
     apply_conv_bias_groups, ref_conv_bias_groups, OUT4(1, 6, 3, 3), TOL},
    /* the bias on each path: large maps (direct), many images (chunks), cut taps (trim) */
    {TN_OP_CONV2D, "conv2d k4 s2 p1 with bias, 32x32 maps", CHECK_ALL, 3,
     {IN4(R(-1, 1), 2, 3, 32, 32), IN4(R(-1, 1), 8, 3, 4, 4), BIAS(8)},
     apply_k4_s2_p1_bias, ref_k4_s2_p1_bias, OUT4(2, 8, 16, 16), TOL},
    {TN_OP_CONV2D, "conv2d k4 s2 p1 with bias, 4x4 maps of 6 images", CHECK_ALL, 3,
     {IN4(R(-1, 1), 6, 3, 4, 4), IN4(R(-1, 1), 5, 3, 4, 4), BIAS(5)},
     apply_k4_s2_p1_bias, ref_k4_s2_p1_bias, OUT4(6, 5, 2, 2), TOL},
    {TN_OP_CONV2D, "conv2d k4 s2 p1 with bias on a 2x2 map (taps cut)", CHECK_ALL, 3,
     {IN4(R(-1, 1), 2, 3, 2, 2), IN4(R(-1, 1), 4, 3, 4, 4), BIAS(4)},
     apply_k4_s2_p1_bias, ref_k4_s2_p1_bias, OUT4(2, 4, 1, 1), TOL},
    /* CONV2D_GRAD_INPUT (gy, w) -> dx */
    {TN_OP_CONV2D_GRAD_INPUT, "conv2d grad input k3 s1 p1", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 5, 5), IN4(R(-1, 1), 4, 3, 3, 3)},
     apply_gi_plain, ref_gi_plain, OUT4(2, 3, 5, 5), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv2d grad input groups 2 stride 2 padding 1 dilation 2", CHECK_ALL, 2,
     {IN4(T(-1, 1), 1, 6, 3, 3), IN4(R(-1, 1), 6, 2, 3, 3)},
     apply_gi_grouped, ref_gi_grouped, OUT4(1, 4, 7, 7), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv2d grad input, last row and column untouched", CHECK_ALL, 2,
     {IN4(R(-1, 1), 1, 3, 2, 2), IN4(R(-1, 1), 3, 2, 3, 3)},
     apply_gi_uncovered, ref_gi_uncovered, OUT4(1, 2, 6, 6), TOL},
    /* CONV2D_GRAD_WEIGHT (x, gy) -> dw */
    {TN_OP_CONV2D_GRAD_WEIGHT, "conv2d grad weight k3 s1 p1", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 5, 5), IN4(R(-1, 1), 2, 4, 5, 5)},
     apply_gw_plain, ref_gw_plain, OUT4(4, 3, 3, 3), TOL},
    {TN_OP_CONV2D_GRAD_WEIGHT, "conv2d grad weight groups 2 stride 2 padding 1 dilation 2", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 7, 7), IN4(T(-1, 1), 2, 6, 3, 3)},
     apply_gw_grouped, ref_gw_grouped, OUT4(6, 2, 3, 3), TOL},
    {TN_OP_CONV2D_GRAD_WEIGHT, "conv2d grad weight non-square, stride (1,2), dilation (2,1)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 1, 2, 6, 5), IN4(R(-1, 1), 1, 2, 6, 2)},
     apply_gw_nonsquare, ref_gw_nonsquare, OUT4(2, 2, 2, 3), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv2d grad input k4 s2 p1 on a 2x2 map (taps cut)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 1, 1), IN4(R(-1, 1), 4, 3, 4, 4)},
     apply_gi_cut, ref_gi_cut, OUT4(2, 3, 2, 2), TOL},
    {TN_OP_CONV2D_GRAD_WEIGHT, "conv2d grad weight k4 s2 p1 on a 2x2 map (cut taps get 0)", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 3, 2, 2), IN4(R(-1, 1), 2, 4, 1, 1)},
     apply_gw_cut, ref_gw_cut, OUT4(4, 3, 4, 4), TOL},
    /* composite: conv_transpose2d, w [Cin, Cout/g, kh, kw];
     * Ho = (H - 1) s - 2p + d (k - 1) + output_padding + 1 */
    {TN_OP_CONV2D_GRAD_INPUT, "conv_transpose2d k3 s2 p1", CHECK_ALL, 2,
     {IN4(R(-1, 1), 2, 4, 3, 3), IN4(R(-1, 1), 4, 3, 3, 3)},
     apply_tr_s2, ref_tr_s2, OUT4(2, 3, 5, 5), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv_transpose2d k3 s2 p1 output_padding 1", CHECK_ALL, 2,
     {IN4(T(-1, 1), 2, 4, 3, 3), IN4(R(-1, 1), 4, 3, 3, 3)},
     apply_tr_s2_op1, ref_tr_s2_op1, OUT4(2, 3, 6, 6), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv_transpose2d groups 2, output_padding 1, bias", CHECK_ALL, 3,
     {IN4(R(-1, 1), 1, 4, 3, 3), IN4(R(-1, 1), 4, 3, 3, 3), BIAS(6)},
     apply_tr_groups, ref_tr_groups, OUT4(1, 6, 6, 6), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv_transpose2d k4 s2 p1 with bias (the GWAE decoder)", CHECK_ALL, 3,
     {IN4(R(-1, 1), 2, 4, 3, 3), IN4(R(-1, 1), 4, 2, 4, 4), BIAS(2)},
     apply_tr_k4_s2_p1, ref_tr_k4_s2_p1, OUT4(2, 2, 6, 6), TOL},
    {TN_OP_CONV2D_GRAD_INPUT, "conv_transpose2d k4 s2 p1 with bias, 16x16 maps", CHECK_ALL, 3,
     {IN4(R(-1, 1), 2, 8, 16, 16), IN4(R(-1, 1), 8, 3, 4, 4), BIAS(3)},
     apply_tr_k4_s2_p1, ref_tr_k4_s2_p1, OUT4(2, 3, 32, 32), TOL},
    /* composite: conv1d, x [N, Cin, L], w [Cout, Cin/g, k] */
    {TN_OP_CONV2D, "conv1d groups 2 stride 2 padding 1", CHECK_ALL, 2,
     {IN3(R(-1, 1), 2, 4, 7), IN3(R(-1, 1), 6, 2, 3)},
     apply_c1d_groups, ref_c1d_groups, OUT3(2, 6, 4), TOL},
    {TN_OP_CONV2D, "conv1d groups 2 dilation 2 padding 2 with bias, strided x", CHECK_ALL, 3,
     {IN3(T(-1, 1), 2, 4, 6), IN3(R(-1, 1), 4, 2, 3), BIAS(4)},
     apply_c1d_groups_d2_bias, ref_c1d_groups_d2_bias, OUT3(2, 4, 6), TOL},
};

const struct op_case_table cases_conv = {cases, sizeof cases / sizeof *cases};
