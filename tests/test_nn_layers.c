/* test_nn_layers.c - the layers of nn/nn_layers.h and the initialisers of nn/nn_init.h:
 * every layer's forward against a naive reference, first- and second-order gradient checks
 * through each layer (input and parameters), spectral norm against known singular values,
 * batch norm in both modes against hand computation, PyTorch init bounds, module names,
 * parameter counts and freezing. Sizes are small: the machine is shared.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/test_support.h"
#include "nn/nn_init.h"
#include "nn/nn_layers.h"

/* ---- helpers ---- */

/* t's values into a host array of cap floats */
static void to_host(const struct tn_tensor *t, float *out, size_t cap) {
    cr_assert(t->numel <= (int64_t)cap, "%lld values for a buffer of %zu", (long long)t->numel, cap);
    tn_to_host(t, out);
}

#define HOST(t, array) to_host((t), (array), sizeof(array) / sizeof *(array))

/* The function the gradient checks differentiate: the module (ctx) applied to inputs[0];
 * the other inputs are the module's own parameter tensors, perturbed in place. */
static struct tn_tensor *apply_module(struct tn_tensor *const *inputs, void *ctx) {
    return nn_forward(ctx, inputs[0]);
}

/* gradcheck and gradgradcheck of m w.r.t. x and every parameter of m. The step is 5e-3, not
 * the engine's 1e-3: with float32 evaluations, round-off dominates the central differences of
 * a conv's sums at 1e-3 (1.25x the tolerance on the replicate conv's second order), and at
 * 1e-2 the truncation error of spectral norm's 1/sigma reaches 0.4x; 5e-3 keeps every check
 * here under 0.25x. */
static void check_module_grads(struct nn_module *m, struct tn_tensor *x) {
    const struct ag_check_opts opts = {.eps = 5e-3};
    struct nn_entry_list params = {0};
    nn_module_collect(m, "", false, &params);
    struct tn_tensor *in[TN_MAX_INPUTS];
    int n = 0;
    in[n++] = tn_set_requires_grad(x, true);
    for (int i = 0; i < params.n && n < TN_MAX_INPUTS; i++) in[n++] = params.items[i].tensor;
    nn_entry_list_free(&params);
    struct ag_check_result r;
    ag_gradcheck(apply_module, m, n, in, &opts, &r);
    cr_assert(r.ok, "%s: gradcheck: %s", m->name, r.message);
    ag_gradgradcheck(apply_module, m, n, in, &opts, &r);
    cr_assert(r.ok, "%s: gradgradcheck: %s", m->name, r.message);
}

/* m's dotted names (nn_module_collect with prefix) are exactly names[0..n) */
static void assert_names(struct nn_module *m, const char *prefix, bool with_buffers, int n,
                         const char *const *names) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, prefix, with_buffers, &list);
    int got = list.n;
    for (int i = 0; i < n && i < got; i++)
        cr_expect_str_eq(list.items[i].name, names[i], "entry %d", i);
    nn_entry_list_free(&list);
    cr_assert_eq(got, n, "%d entries, expected %d", got, n);
}

static struct tn_tensor *random4(struct tn_rng *rng, int64_t a, int64_t b, int64_t c, int64_t d) {
    int64_t shape[4] = {a, b, c, d};
    return make_random(rng, 4, shape, -1.0f, 1.0f);
}

/* naive Conv2d: square kernel, zero or replicate (clamped index) padding, groups */
struct conv_cfg {
    int n, cin, h, w, cout, k, stride, pad, dil, groups;
    bool replicate;
};

static int conv_out(int in, int k, int stride, int pad, int dil) {
    return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

static void conv2d_ref(const struct conv_cfg *c, const float *x, const float *w, const float *b,
                       float *y) {
    int ho = conv_out(c->h, c->k, c->stride, c->pad, c->dil);
    int wo = conv_out(c->w, c->k, c->stride, c->pad, c->dil);
    int cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    for (int n = 0; n < c->n; n++)
        for (int co = 0; co < c->cout; co++)
            for (int oh = 0; oh < ho; oh++)
                for (int ow = 0; ow < wo; ow++) {
                    double s = b ? b[co] : 0.0;
                    int g = co / cout_g;
                    for (int cl = 0; cl < cin_g; cl++)
                        for (int kh = 0; kh < c->k; kh++)
                            for (int kw = 0; kw < c->k; kw++) {
                                int ih = oh * c->stride - c->pad + kh * c->dil;
                                int iw = ow * c->stride - c->pad + kw * c->dil;
                                if (c->replicate) {
                                    ih = ih < 0 ? 0 : (ih >= c->h ? c->h - 1 : ih);
                                    iw = iw < 0 ? 0 : (iw >= c->w ? c->w - 1 : iw);
                                } else if (ih < 0 || ih >= c->h || iw < 0 || iw >= c->w) {
                                    continue;
                                }
                                int ci = g * cin_g + cl;
                                s += (double)x[((n * c->cin + ci) * c->h + ih) * c->w + iw] *
                                     w[((co * cin_g + cl) * c->k + kh) * c->k + kw];
                            }
                    y[((n * c->cout + co) * ho + oh) * wo + ow] = (float)s;
                }
}

/* forward against conv2d_ref, then gradcheck and gradgradcheck on the same layer and input */
static void check_conv2d(struct conv_cfg cfg, uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    struct nn_conv2d *conv = nn_conv2d_new("conv", cfg.cin, cfg.cout, cfg.k, cfg.stride, cfg.pad,
                                           cfg.dil, cfg.groups, true,
                                           cfg.replicate ? TN_PAD_REPLICATE : TN_PAD_ZEROS, &rng);
    struct tn_tensor *x = random4(&rng, cfg.n, cfg.cin, cfg.h, cfg.w);
    struct tn_tensor *y = nn_conv2d_forward(conv, x);
    int ho = conv_out(cfg.h, cfg.k, cfg.stride, cfg.pad, cfg.dil);
    int wo = conv_out(cfg.w, cfg.k, cfg.stride, cfg.pad, cfg.dil);
    int64_t shape[4] = {cfg.n, cfg.cout, ho, wo};
    assert_shape(y, 4, shape);
    float xh[256], wh[256], bh[16], expected[256];
    HOST(x, xh);
    HOST(conv->weight, wh);
    HOST(conv->bias, bh);
    cr_assert(y->numel <= 256);
    conv2d_ref(&cfg, xh, wh, bh, expected);
    assert_close(y, expected, 1e-5, 1e-4);
    check_module_grads(&conv->base, x);
    nn_module_free(&conv->base);
}

/* ---- Linear ---- */

LEAK_CHECKED_SUITE(linear);

/* naive y [rows, out] = (x [rows, in] W^T [in, out] + b) / scale; b may be NULL */
static void linear_ref(const float *x, const float *w, const float *b, int rows, int in, int out,
                       double scale, float *y) {
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < in; i++) s += (double)x[r * in + i] * w[o * in + i];
            y[r * out + o] = (float)(s / scale);
        }
}

Test(linear, forward_matches_naive_and_keeps_pytorch_layout) {
    struct tn_rng rng = tn_rng_new(1);
    struct nn_linear *l = nn_linear_new("fc", 5, 3, true, &rng);
    assert_shape(l->weight, 2, (int64_t[]){3, 5});
    int64_t xs[3] = {2, 4, 5};
    struct tn_tensor *x = make_random(&rng, 3, xs, -1.0f, 1.0f);
    struct tn_tensor *y = nn_linear_forward(l, x);
    assert_shape(y, 3, (int64_t[]){2, 4, 3});
    float xh[40], wh[15], bh[3], expected[24];
    HOST(x, xh);
    HOST(l->weight, wh);
    HOST(l->bias, bh);
    linear_ref(xh, wh, bh, 8, 5, 3, 1.0, expected);
    assert_close(y, expected, 1e-5, 1e-5);
    struct tn_tensor *y1 = nn_linear_forward(l, ag_reshape(ag_slice(ag_slice(x, 0, 0, 1), 1, 0, 1), 1, (int64_t[]){5}));
    assert_shape(y1, 1, (int64_t[]){3});
    assert_close(y1, expected, 1e-5, 1e-5);
    nn_module_free(&l->base);
}

Test(linear, without_bias_has_weight_only) {
    struct tn_rng rng = tn_rng_new(2);
    struct nn_linear *l = nn_linear_new("fc", 4, 2, false, &rng);
    cr_assert_null(l->bias);
    cr_assert_eq(l->base.n_params, 1);
    cr_assert_str_eq(l->base.params[0].name, "weight");
    cr_assert_eq(nn_module_param_count(&l->base), 8);
    nn_module_free(&l->base);
}

Test(linear, gradcheck_and_gradgradcheck) {
    struct tn_rng rng = tn_rng_new(3);
    struct nn_linear *l = nn_linear_new("fc", 4, 3, true, &rng);
    check_module_grads(&l->base, make_random(&rng, 2, (int64_t[]){3, 4}, -1.0f, 1.0f));
    nn_module_free(&l->base);
}

/* ---- Conv2d ---- */

LEAK_CHECKED_SUITE(conv2d);

Test(conv2d, zero_padding_grouped_strided_forward_and_gradients) {
    check_conv2d((struct conv_cfg){2, 4, 5, 5, 6, 3, 2, 1, 1, 2, false}, 10);
}

Test(conv2d, dilation_forward_and_gradients) {
    check_conv2d((struct conv_cfg){1, 2, 6, 6, 3, 3, 1, 2, 2, 1, false}, 11);
}

/* the encoder's convs: k4 s2 p1, padding_mode="replicate" */
Test(conv2d, replicate_padding_forward_and_gradients) {
    check_conv2d((struct conv_cfg){2, 3, 6, 6, 4, 4, 2, 1, 1, 1, true}, 12);
}

/* ---- ConvTranspose2d ---- */

LEAK_CHECKED_SUITE(conv_transpose2d);

static void check_conv_transpose(int n, int cin, int h, int cout, int k, int s, int p, int op,
                                 int groups, uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    struct nn_conv_transpose2d *c =
        nn_conv_transpose2d_new("deconv", cin, cout, k, s, p, op, groups, true, &rng);
    assert_shape(c->weight, 4, (int64_t[]){cin, cout / groups, k, k});
    struct tn_tensor *x = random4(&rng, n, cin, h, h);
    struct tn_tensor *y = nn_conv_transpose2d_forward(c, x);
    int ho = (h - 1) * s - 2 * p + (k - 1) + op + 1, cin_g = cin / groups, cout_g = cout / groups;
    assert_shape(y, 4, (int64_t[]){n, cout, ho, ho});
    float xh[128], wh[256], bh[16], expected[512];
    double acc[512] = {0};
    HOST(x, xh);
    HOST(c->weight, wh);
    HOST(c->bias, bh);
    cr_assert(y->numel <= 512);
    for (int b = 0; b < n; b++)
        for (int ci = 0; ci < cin; ci++)
            for (int ih = 0; ih < h; ih++)
                for (int iw = 0; iw < h; iw++)
                    for (int cl = 0; cl < cout_g; cl++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++) {
                                int oh = ih * s - p + kh, ow = iw * s - p + kw;
                                if (oh < 0 || oh >= ho || ow < 0 || ow >= ho) continue;
                                int co = (ci / cin_g) * cout_g + cl;
                                acc[((b * cout + co) * ho + oh) * ho + ow] +=
                                    (double)xh[((b * cin + ci) * h + ih) * h + iw] *
                                    wh[((ci * cout_g + cl) * k + kh) * k + kw];
                            }
    for (int64_t i = 0; i < y->numel; i++) expected[i] = (float)(acc[i] + bh[(i / (ho * ho)) % cout]);
    assert_close(y, expected, 1e-5, 1e-4);
    check_module_grads(&c->base, x);
    nn_module_free(&c->base);
}

Test(conv_transpose2d, k4_s2_p1_grouped_forward_and_gradients) {
    check_conv_transpose(2, 4, 3, 6, 4, 2, 1, 0, 2, 20);
}

Test(conv_transpose2d, output_padding_forward_and_gradients) {
    check_conv_transpose(1, 2, 3, 3, 3, 2, 1, 1, 1, 21);
}

/* ---- Conv1d ---- */

LEAK_CHECKED_SUITE(conv1d);

static void check_conv1d(int n, int cin, int len, int cout, int k, int s, int p, int groups,
                         uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    struct nn_conv1d *c = nn_conv1d_new("conv1d", cin, cout, k, s, p, groups, true, &rng);
    assert_shape(c->weight, 3, (int64_t[]){cout, cin / groups, k});
    struct tn_tensor *x = make_random(&rng, 3, (int64_t[]){n, cin, len}, -1.0f, 1.0f);
    struct tn_tensor *y = nn_conv1d_forward(c, x);
    int lo = (len + 2 * p - k) / s + 1, cin_g = cin / groups, cout_g = cout / groups;
    assert_shape(y, 3, (int64_t[]){n, cout, lo});
    float xh[128], wh[128], bh[16], expected[128];
    HOST(x, xh);
    HOST(c->weight, wh);
    HOST(c->bias, bh);
    cr_assert(y->numel <= 128);
    for (int b = 0; b < n; b++)
        for (int co = 0; co < cout; co++)
            for (int o = 0; o < lo; o++) {
                double acc = bh[co];
                for (int cl = 0; cl < cin_g; cl++)
                    for (int j = 0; j < k; j++) {
                        int i = o * s - p + j;
                        if (i < 0 || i >= len) continue;
                        int ci = (co / cout_g) * cin_g + cl;
                        acc += (double)xh[(b * cin + ci) * len + i] * wh[(co * cin_g + cl) * k + j];
                    }
                expected[(b * cout + co) * lo + o] = (float)acc;
            }
    assert_close(y, expected, 1e-5, 1e-4);
    check_module_grads(&c->base, x);
    nn_module_free(&c->base);
}

/* the factorized prior's first layer: a per-channel 1 -> 4 map, k = 1, groups = channels */
Test(conv1d, grouped_k1_forward_and_gradients) { check_conv1d(3, 4, 1, 16, 1, 1, 0, 4, 30); }

Test(conv1d, strided_padded_grouped_forward_and_gradients) {
    check_conv1d(2, 4, 7, 6, 3, 2, 1, 2, 31);
}

/* ---- BatchNorm ---- */

LEAK_CHECKED_SUITE(batchnorm);

/* Per-channel batch statistics of x [N, C, S] (S = spatial size): mean, biased variance. */
static void channel_stats(const float *x, int n, int c, int s, double *mean, double *var) {
    for (int ch = 0; ch < c; ch++) {
        double sum = 0.0, sq = 0.0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < s; i++) sum += x[(b * c + ch) * s + i];
        mean[ch] = sum / (n * s);
        for (int b = 0; b < n; b++)
            for (int i = 0; i < s; i++) {
                double d = x[(b * c + ch) * s + i] - mean[ch];
                sq += d * d;
            }
        var[ch] = sq / (n * s);
    }
}

static void assert_buffer(struct nn_module *m, const char *name, const double *expected, int n) {
    struct tn_tensor *t = nn_module_find(m, name);
    cr_assert_not_null(t, "no buffer %s", name);
    float e[16];
    for (int i = 0; i < n; i++) e[i] = (float)expected[i];
    assert_close(t, e, 1e-6, 1e-5);
}

/* Train-mode forward of bn on x [N, C, S...] against hand values, the running stats after
 * that one step: (1 - m) * initial + m * batch (unbiased variance); then the gradient checks
 * in train mode (their calls move the running stats, which train-mode outputs ignore). */
static void check_bn_train(struct nn_batchnorm *bn, struct tn_tensor *x, int n, int c, int s,
                           const float *weight, const float *bias) {
    float xh[64], expected[64];
    double mean[8], var[8], rm[8], rv[8];
    HOST(x, xh);
    channel_stats(xh, n, c, s, mean, var);
    struct tn_tensor *y = nn_batchnorm_forward(bn, x);
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < s; i++) {
                int at = (b * c + ch) * s + i;
                double z = (xh[at] - mean[ch]) / sqrt(var[ch] + bn->eps);
                expected[at] = (float)(weight ? z * weight[ch] + bias[ch] : z);
            }
    assert_close(y, expected, 1e-5, 1e-4);
    double m = bn->momentum, count = (double)n * s;
    for (int ch = 0; ch < c; ch++) {
        rm[ch] = (1 - m) * 0.0 + m * mean[ch];
        rv[ch] = (1 - m) * 1.0 + m * var[ch] * count / (count - 1);
    }
    assert_buffer(&bn->base, "running_mean", rm, c);
    assert_buffer(&bn->base, "running_var", rv, c);
    check_module_grads(&bn->base, x);
}

Test(batchnorm, train_1d_affine_matches_hand_values_and_gradients) {
    struct nn_batchnorm *bn = nn_batchnorm1d_new("bn", 3, NN_BN_EPS, 0.5f, true);
    const float w[3] = {1.5f, -0.5f, 2.0f}, b[3] = {0.1f, 0.2f, -0.3f};
    tn_write_host(bn->weight, w);
    tn_write_host(bn->bias, b);
    const float xv[12] = {0.5f, -1.0f, 2.0f, 1.5f, 0.0f, -2.0f, -0.5f, 3.0f, 1.0f, 2.5f, 1.0f, 0.0f};
    check_bn_train(bn, make_tensor(2, (int64_t[]){4, 3}, xv), 4, 3, 1, w, b);
    nn_module_free(&bn->base);
}

Test(batchnorm, train_1d_on_ncl_reduces_over_batch_and_length_gradients_too) {
    struct tn_rng rng = tn_rng_new(40);
    struct nn_batchnorm *bn = nn_batchnorm1d_new("bn", 2, NN_BN_EPS, NN_BN_MOMENTUM, false);
    cr_assert_eq(bn->base.n_params, 0);
    check_bn_train(bn, make_random(&rng, 3, (int64_t[]){3, 2, 4}, -2.0f, 2.0f), 3, 2, 4, NULL, NULL);
    nn_module_free(&bn->base);
}

Test(batchnorm, train_2d_then_eval_uses_running_stats_gradients_in_both) {
    struct tn_rng rng = tn_rng_new(41);
    struct nn_batchnorm *bn = nn_batchnorm2d_new("bn", 3, NN_BN_EPS, 0.5f, true);
    const float w[3] = {0.5f, 1.0f, 3.0f}, b[3] = {0.0f, -1.0f, 0.5f};
    tn_write_host(bn->weight, w);
    tn_write_host(bn->bias, b);
    check_bn_train(bn, random4(&rng, 2, 3, 2, 2), 2, 3, 4, w, b);
    float rm[3], rv[3];
    tn_to_host(nn_module_find(&bn->base, "running_mean"), rm);
    tn_to_host(nn_module_find(&bn->base, "running_var"), rv);
    nn_module_train(&bn->base, false);
    struct tn_tensor *x = random4(&rng, 2, 3, 2, 2);
    struct tn_tensor *y = nn_batchnorm_forward(bn, x);
    float xh[24], expected[24];
    HOST(x, xh);
    for (int i = 0; i < 24; i++) {
        int ch = (i / 4) % 3;
        expected[i] = (float)((xh[i] - rm[ch]) / sqrt(rv[ch] + NN_BN_EPS) * w[ch] + b[ch]);
    }
    assert_close(y, expected, 1e-5, 1e-4);
    double rmd[3] = {rm[0], rm[1], rm[2]}, rvd[3] = {rv[0], rv[1], rv[2]};
    assert_buffer(&bn->base, "running_mean", rmd, 3); /* eval leaves the statistics alone */
    assert_buffer(&bn->base, "running_var", rvd, 3);
    check_module_grads(&bn->base, x);
    nn_module_free(&bn->base);
}

/* An eval-mode graph is still differentiable after a train-mode call updated the running
 * statistics it used (the graph holds copies, the buffers are written in place). */
Test(batchnorm, eval_graph_survives_a_running_stats_update) {
    struct tn_rng rng = tn_rng_new(45);
    struct nn_batchnorm *bn = nn_batchnorm1d_new("bn", 2, NN_BN_EPS, 0.5f, false);
    struct tn_tensor *running = nn_module_find(&bn->base, "running_mean");
    nn_module_train(&bn->base, false);
    struct tn_tensor *x = tn_set_requires_grad(make_random(&rng, 2, (int64_t[]){4, 2}, -1.0f, 1.0f), true);
    struct tn_tensor *y = nn_forward(&bn->base, x), *gx;
    nn_module_train(&bn->base, true);
    nn_forward(&bn->base, make_random(&rng, 2, (int64_t[]){4, 2}, -1.0f, 1.0f));
    cr_assert_eq(nn_module_find(&bn->base, "running_mean"), running);
    ag_grad(1, &y, NULL, 1, &x, &gx, 0);
    const float expected[8] = {1, 1, 1, 1, 1, 1, 1, 1}; /* 1 / sqrt(1 + eps), var was 1 */
    assert_close(gx, expected, 1e-5, 1e-5);
    nn_module_free(&bn->base);
}

Test(batchnorm, names_follow_pytorch) {
    struct nn_batchnorm *bn = nn_batchnorm1d_new("bn", 4, NN_BN_EPS, NN_BN_MOMENTUM, true);
    const char *names[4] = {"prior.bn.weight", "prior.bn.bias", "prior.bn.running_mean",
                            "prior.bn.running_var"};
    assert_names(&bn->base, "prior.bn", true, 4, names);
    nn_module_free(&bn->base);
}

/* ---- spectral normalisation ---- */

LEAK_CHECKED_SUITE(spectral);

static double norm_of(const float *v, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)v[i] * v[i];
    return sqrt(s);
}

/* n train-mode forward calls, each in its own scope (each runs one power step) */
static void train_forwards(struct nn_module *m, struct tn_tensor *x, int n) {
    for (int i = 0; i < n; i++) {
        tn_scope_begin();
        nn_forward(m, x);
        tn_scope_end();
    }
}

Test(spectral, renames_weight_and_registers_unit_buffers) {
    struct tn_rng rng = tn_rng_new(50);
    struct nn_conv2d *c = nn_conv2d_new("conv", 2, 3, 3, 1, 1, 1, 1, true, TN_PAD_ZEROS, &rng);
    struct tn_tensor *w = c->weight;
    nn_spectral_norm(&c->base, 1, &rng);
    assert_names(&c->base, "", true, 4, (const char *[]){"bias", "weight_orig", "weight_u", "weight_v"});
    cr_assert_eq(nn_module_find(&c->base, "weight_orig"), w);
    cr_assert(w->requires_grad);
    cr_assert_null(nn_module_find(&c->base, "weight"));
    struct tn_tensor *u = nn_module_find(&c->base, "weight_u"), *v = nn_module_find(&c->base, "weight_v");
    assert_shape(u, 1, (int64_t[]){3});
    assert_shape(v, 1, (int64_t[]){18});
    float uh[3], vh[18];
    HOST(u, uh);
    HOST(v, vh);
    cr_assert_float_eq(norm_of(uh, 3), 1.0, 1e-6);
    cr_assert_float_eq(norm_of(vh, 18), 1.0, 1e-6);
    nn_module_free(&c->base);
}

/* 3x3 rotations about two axes, row-major */
static void rotation(double a, double b, double *r) {
    double ca = cos(a), sa = sin(a), cb = cos(b), sb = sin(b);
    double rz[9] = {ca, -sa, 0, sa, ca, 0, 0, 0, 1}, rx[9] = {1, 0, 0, 0, cb, -sb, 0, sb, cb};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            r[i * 3 + j] = 0.0;
            for (int k = 0; k < 3; k++) r[i * 3 + j] += rz[i * 3 + k] * rx[k * 3 + j];
        }
}

Test(spectral, sigma_of_linear_converges_to_largest_singular_value) {
    struct tn_rng rng = tn_rng_new(51);
    struct nn_linear *l = nn_linear_new("fc", 3, 3, false, &rng);
    double r[9], q[9], s[3] = {3.0, 2.0, 1.0};
    rotation(0.3, 0.7, r);
    rotation(1.1, -0.4, q);
    float w[9]; /* W = R diag(3, 2, 1) Q^T */
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double acc = 0.0;
            for (int k = 0; k < 3; k++) acc += r[i * 3 + k] * s[k] * q[j * 3 + k];
            w[i * 3 + j] = (float)acc;
        }
    tn_write_host(l->weight, w);
    nn_spectral_norm(&l->base, 1, &rng);
    struct tn_tensor *x = make_random(&rng, 2, (int64_t[]){2, 3}, -1.0f, 1.0f);
    train_forwards(&l->base, x, 50);
    float sigma = nn_spectral_sigma(&l->base);
    cr_assert_float_eq(sigma, 3.0, 1e-4, "sigma %.7g", (double)sigma);
    /* the forward uses W / sigma: y = x W^T / sigma */
    struct tn_tensor *y = nn_forward(&l->base, x);
    sigma = nn_spectral_sigma(&l->base);
    float xh[6], expected[6];
    HOST(x, xh);
    linear_ref(xh, w, NULL, 2, 3, 3, sigma, expected);
    assert_close(y, expected, 1e-5, 1e-4);
    nn_module_free(&l->base);
}

Test(spectral, sigma_of_conv_converges_to_largest_singular_value) {
    struct tn_rng rng = tn_rng_new(52);
    struct nn_conv2d *c = nn_conv2d_new("conv", 1, 2, 2, 1, 0, 1, 1, true, TN_PAD_ZEROS, &rng);
    /* W_mat [2, 4] with orthogonal rows of norms 3 and 1: singular values 3 and 1 */
    const float w[8] = {1.5f, 1.5f, 1.5f, 1.5f, 0.5f, -0.5f, 0.5f, -0.5f};
    tn_write_host(c->weight, w);
    nn_spectral_norm(&c->base, 1, &rng);
    train_forwards(&c->base, random4(&rng, 1, 1, 3, 3), 50);
    cr_assert_float_eq(nn_spectral_sigma(&c->base), 3.0, 1e-4);
    nn_module_free(&c->base);
}

Test(spectral, train_forward_runs_one_power_step_eval_runs_none) {
    struct tn_rng rng = tn_rng_new(53);
    struct nn_linear *l = nn_linear_new("fc", 3, 2, true, &rng);
    nn_spectral_norm(&l->base, 1, &rng);
    struct tn_tensor *u = nn_module_find(&l->base, "weight_u");
    float u0[2], w[6], v1[3], u1[2], after[2];
    tn_to_host(u, u0);
    tn_to_host(l->weight, w);
    struct tn_tensor *x = make_random(&rng, 2, (int64_t[]){1, 3}, -1.0f, 1.0f);
    nn_forward(&l->base, x);
    for (int i = 0; i < 3; i++) v1[i] = u0[0] * w[i] + u0[1] * w[3 + i]; /* W^T u */
    double nv = norm_of(v1, 3);
    for (int i = 0; i < 3; i++) v1[i] = (float)(v1[i] / nv);
    for (int o = 0; o < 2; o++) u1[o] = w[o * 3] * v1[0] + w[o * 3 + 1] * v1[1] + w[o * 3 + 2] * v1[2];
    double nu = norm_of(u1, 2);
    for (int o = 0; o < 2; o++) u1[o] = (float)(u1[o] / nu);
    cr_assert_eq(nn_module_find(&l->base, "weight_u"), u, "buffers are updated in place");
    assert_close(u, u1, 1e-6, 1e-5);
    assert_close(nn_module_find(&l->base, "weight_v"), v1, 1e-6, 1e-5);
    nn_module_train(&l->base, false);
    tn_to_host(u, after);
    nn_forward(&l->base, x);
    assert_close(u, after, 0, 0); /* eval mode does not iterate */
    nn_module_free(&l->base);
}

/* A graph from an earlier train-mode call stays differentiable after later calls moved u
 * and v, and its weight_orig gradient is (G - <G, W> u v^T) / sigma with that call's u, v. */
Test(spectral, earlier_graph_keeps_its_snapshot_and_spec_gradient) {
    struct tn_rng rng = tn_rng_new(54);
    struct nn_linear *l = nn_linear_new("fc", 3, 2, false, &rng);
    nn_spectral_norm(&l->base, 1, &rng);
    struct tn_tensor *x = make_random(&rng, 2, (int64_t[]){4, 3}, -1.0f, 1.0f);
    struct tn_tensor *y = nn_forward(&l->base, x);
    float u[2], v[3], w[6], xh[12];
    tn_to_host(nn_module_find(&l->base, "weight_u"), u);
    tn_to_host(nn_module_find(&l->base, "weight_v"), v);
    tn_to_host(l->weight, w);
    tn_to_host(x, xh);
    train_forwards(&l->base, x, 2);
    struct tn_tensor *g;
    ag_grad(1, &y, NULL, 1, &l->weight, &g, 0);
    double sigma = 0.0;
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 3; i++) sigma += u[o] * w[o * 3 + i] * v[i];
    double gw[6], inner = 0.0; /* G = dL/dW for L = sum y, y = x W^T: G[o][i] = sum_n x[n][i] */
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 3; i++) {
            gw[o * 3 + i] = xh[i] + xh[3 + i] + xh[6 + i] + xh[9 + i];
            inner += gw[o * 3 + i] * w[o * 3 + i] / sigma;
        }
    float expected[6];
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 3; i++)
            expected[o * 3 + i] = (float)((gw[o * 3 + i] - inner * u[o] * v[i]) / sigma);
    assert_close(g, expected, 1e-5, 1e-4);
    nn_module_free(&l->base);
}

/* The finite-difference checks run in EVAL mode: in training mode every evaluation would move
 * u and v, so the function being differentiated would change between evaluations. */
Test(spectral, gradcheck_and_gradgradcheck_linear_eval) {
    struct tn_rng rng = tn_rng_new(55);
    struct nn_linear *l = nn_linear_new("fc", 4, 3, true, &rng);
    nn_spectral_norm(&l->base, 1, &rng);
    struct tn_tensor *x = make_random(&rng, 2, (int64_t[]){3, 4}, -1.0f, 1.0f);
    train_forwards(&l->base, x, 3);
    nn_module_train(&l->base, false);
    check_module_grads(&l->base, x);
    nn_module_free(&l->base);
}

Test(spectral, gradcheck_and_gradgradcheck_conv_eval) {
    struct tn_rng rng = tn_rng_new(56);
    struct nn_conv2d *c = nn_conv2d_new("conv", 2, 3, 4, 2, 1, 1, 1, true, TN_PAD_ZEROS, &rng);
    nn_spectral_norm(&c->base, 1, &rng);
    struct tn_tensor *x = random4(&rng, 2, 2, 4, 4);
    train_forwards(&c->base, x, 3);
    nn_module_train(&c->base, false);
    check_module_grads(&c->base, x);
    nn_module_free(&c->base);
}

/* The gradient penalty's path: d/dtheta of ||d f / d x||^2 through SN layers in TRAIN mode
 * (one forward, so u and v are fixed within it) is recorded without error and is finite. */
Test(spectral, double_backward_through_train_mode_critic) {
    struct tn_rng rng = tn_rng_new(57);
    struct nn_conv2d *c = nn_conv2d_new("0", 2, 4, 4, 2, 1, 1, 1, true, TN_PAD_ZEROS, &rng);
    struct nn_linear *l = nn_linear_new("3", 16, 1, true, &rng);
    struct nn_sequential *f = nn_sequential_of("critic", nn_spectral_norm(&c->base, 1, &rng),
                                               &nn_leaky_relu_new("1", 0.2f)->base,
                                               &nn_flatten_new("2", 1)->base,
                                               nn_spectral_norm(&l->base, 1, &rng), NULL);
    struct tn_tensor *x = tn_set_requires_grad(random4(&rng, 2, 2, 4, 4), true);
    struct tn_tensor *out = nn_forward(&f->base, x), *gx, *gw;
    ag_grad(1, &out, NULL, 1, &x, &gx, AG_CREATE_GRAPH);
    struct tn_tensor *gp = ag_sum_all(ag_square(gx));
    ag_grad(1, &gp, NULL, 1, &c->weight, &gw, 0);
    float h[128], norm = 0.0f;
    HOST(gw, h);
    for (int64_t i = 0; i < gw->numel; i++) norm += h[i] * h[i];
    cr_assert(isfinite(norm) && norm > 0.0f, "gradient-penalty gradient norm %g", (double)norm);
    nn_module_free(&f->base);
}

/* ---- activations ---- */

LEAK_CHECKED_SUITE(activations);

static double sigmoid_ref(double x) { return 1.0 / (1.0 + exp(-x)); }

static double activation_ref(enum nn_activation_kind kind, double param, double x) {
    switch (kind) {
    case NN_ACT_RELU: return x > 0 ? x : 0.0;
    case NN_ACT_LEAKY_RELU: return x > 0 ? x : param * x;
    case NN_ACT_SILU: return x * sigmoid_ref(x);
    case NN_ACT_LEAKY_SILU: return (1 - param) * x * sigmoid_ref(x) + param * x;
    case NN_ACT_SIGMOID: return sigmoid_ref(x);
    case NN_ACT_TANH: return tanh(x);
    }
    return NAN;
}

static struct nn_activation *make_activation(int i) {
    switch (i) {
    case 0: return nn_relu_new("act");
    case 1: return nn_leaky_relu_new("act", 0.2f);
    case 2: return nn_silu_new("act");
    case 3: return nn_leaky_silu_new("act", NN_LEAKY_SILU_DEFAULT);
    case 4: return nn_sigmoid_new("act");
    default: return nn_tanh_new("act");
    }
}

Test(activations, forward_matches_formulas) {
    const float xv[8] = {-3.0f, -1.0f, -0.25f, 0.0f, 0.1f, 0.5f, 2.0f, 4.0f};
    struct tn_tensor *x = make_tensor(2, (int64_t[]){2, 4}, xv);
    for (int k = 0; k < 6; k++) {
        struct nn_activation *a = make_activation(k);
        struct tn_tensor *y = nn_forward(&a->base, x);
        float expected[8];
        for (int i = 0; i < 8; i++) expected[i] = (float)activation_ref(a->kind, a->param, xv[i]);
        assert_close(y, expected, 1e-6, 1e-5);
        nn_module_free(&a->base);
    }
}

Test(activations, gradcheck_and_gradgradcheck_each) {
    struct tn_rng rng = tn_rng_new(60);
    float xv[12];
    tn_rng_uniform_host(&rng, xv, 12);
    for (int i = 0; i < 12; i++) xv[i] = (i % 2 ? -1.0f : 1.0f) * (0.2f + xv[i]); /* off the kink */
    for (int k = 0; k < 6; k++) {
        struct nn_activation *a = make_activation(k);
        check_module_grads(&a->base, make_tensor(2, (int64_t[]){3, 4}, xv));
        nn_module_free(&a->base);
    }
}

/* ---- modules: Sequential, names, counts, freezing, shapes ---- */

LEAK_CHECKED_SUITE(modules);

/* net: conv "0" (2->3, k3 p1), silu "1", bn "bn", flatten "3", head (linear "0" 6->4, tanh "1") */
static struct nn_sequential *small_net(struct tn_rng *rng) {
    struct nn_sequential *head = nn_sequential_of("head", &nn_linear_new("", 6, 4, true, rng)->base,
                                                  &nn_tanh_new("")->base, NULL);
    return nn_sequential_of(
        "net", &nn_conv2d_new("", 2, 3, 3, 1, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base,
        &nn_silu_new("")->base, &nn_batchnorm2d_new("bn", 3, NN_BN_EPS, 0.5f, true)->base,
        &nn_flatten_new("", 1)->base, &head->base, NULL);
}

Test(modules, nested_sequential_names_and_param_count) {
    struct tn_rng rng = tn_rng_new(70);
    struct nn_sequential *net = small_net(&rng);
    cr_assert_eq(nn_module_param_count(&net->base), 54 + 3 + 3 + 3 + 24 + 4);
    const char *names[8] = {"0.weight", "0.bias", "bn.weight", "bn.bias", "bn.running_mean",
                            "bn.running_var", "head.0.weight", "head.0.bias"};
    assert_names(&net->base, "", true, 8, names);
    const char *params[6] = {"0.weight", "0.bias", "bn.weight", "bn.bias", "head.0.weight", "head.0.bias"};
    assert_names(&net->base, "", false, 6, params);
    cr_assert_eq(nn_module_find(&net->base, "head.0.weight"),
                 nn_as_linear(net->base.children[4]->children[0])->weight);
    nn_module_free(&net->base);
}

Test(modules, sequential_applies_children_in_order) {
    struct tn_rng rng = tn_rng_new(71);
    struct nn_sequential *net = small_net(&rng);
    struct tn_tensor *x = random4(&rng, 2, 2, 2, 1);
    struct tn_tensor *y = nn_forward(&net->base, x);
    assert_shape(y, 2, (int64_t[]){2, 4});
    struct tn_tensor *h = x;
    for (int i = 0; i < 4; i++) h = nn_forward(net->base.children[i], h);
    struct nn_module *head = net->base.children[4];
    h = nn_activation_forward((struct nn_activation *)head->children[1],
                              nn_linear_forward(nn_as_linear(head->children[0]), h));
    float expected[8];
    HOST(h, expected);
    assert_close(y, expected, 1e-6, 1e-6);
    nn_module_free(&net->base);
}

Test(modules, set_requires_grad_freezes_and_unfreezes) {
    struct tn_rng rng = tn_rng_new(73);
    struct nn_sequential *net = small_net(&rng);
    struct tn_tensor *x = random4(&rng, 2, 2, 2, 1);
    nn_module_set_requires_grad(&net->base, false);
    struct nn_entry_list list = {0};
    nn_module_collect(&net->base, "", false, &list);
    for (int i = 0; i < list.n; i++) cr_assert(!list.items[i].tensor->requires_grad, "%s", list.items[i].name);
    cr_assert(!nn_forward(&net->base, x)->requires_grad, "a frozen net records nothing");
    /* gradients still reach a frozen net's input */
    tn_set_requires_grad(x, true);
    struct tn_tensor *y = nn_forward(&net->base, x), *gx;
    cr_assert(y->requires_grad);
    ag_grad(1, &y, NULL, 1, &x, &gx, 0);
    assert_shape(gx, 4, x->shape);
    nn_module_set_requires_grad(&net->base, true);
    for (int i = 0; i < list.n; i++) cr_assert(list.items[i].tensor->requires_grad);
    nn_entry_list_free(&list);
    nn_module_free(&net->base);
}

Test(modules, flatten_and_unflatten_shapes) {
    struct tn_rng rng = tn_rng_new(74);
    struct nn_reshape *flat = nn_flatten_new("flat", 1);
    struct nn_reshape *unflat = nn_unflatten_new("unflat", 1, 3, (int64_t[]){4, 2, 2});
    struct tn_tensor *x = random4(&rng, 3, 4, 2, 2);
    struct tn_tensor *f = nn_forward(&flat->base, x);
    assert_shape(f, 2, (int64_t[]){3, 16});
    struct tn_tensor *back = nn_forward(&unflat->base, f);
    assert_shape(back, 4, x->shape);
    float expected[48];
    HOST(x, expected);
    assert_close(back, expected, 0, 0);
    nn_module_free(&flat->base);
    nn_module_free(&unflat->base);
}

Test(modules, spectral_norm_inside_sequential_has_pytorch_names) {
    struct tn_rng rng = tn_rng_new(75);
    struct nn_sequential *s = nn_sequential_of(
        "x_net", nn_spectral_norm(&nn_conv2d_new("", 3, 8, 4, 2, 1, 1, 1, true, TN_PAD_ZEROS, &rng)->base, 1, &rng),
        &nn_leaky_relu_new("", 0.2f)->base, NULL);
    const char *names[4] = {"critic.x_net.0.bias", "critic.x_net.0.weight_orig",
                            "critic.x_net.0.weight_u", "critic.x_net.0.weight_v"};
    assert_names(&s->base, "critic.x_net", true, 4, names);
    nn_module_free(&s->base);
}

/* ---- initialisers ---- */

LEAK_CHECKED_SUITE(init);

/* every element of t within [-bound, bound] */
static void assert_within(const struct tn_tensor *t, double bound) {
    float h[2048];
    HOST(t, h);
    for (int64_t i = 0; i < t->numel; i++)
        cr_assert(fabs(h[i]) <= bound, "element %lld = %g outside +-%g", (long long)i, (double)h[i], bound);
}

Test(init, fans_and_bounds_follow_pytorch) {
    cr_assert_float_eq(nn_init_kaiming_uniform_bound(NN_INIT_DEFAULT_A, 25), 0.2, 1e-12);
    cr_assert_float_eq(nn_init_kaiming_uniform_bound(0.0, 6), 1.0, 1e-12); /* sqrt(2) sqrt(3/6) */
    cr_assert_float_eq(nn_init_leaky_relu_gain(NN_INIT_DEFAULT_A), sqrt(1.0 / 3.0), 1e-12);
    cr_assert_float_eq(nn_init_bias_bound(16), 0.25, 1e-12);
    cr_assert_float_eq(nn_init_bias_bound(0), 0.0, 0);
    struct tn_rng rng = tn_rng_new(80);
    struct nn_linear *l = nn_linear_new("fc", 50, 40, true, &rng);
    struct nn_conv2d *c = nn_conv2d_new("conv", 6, 8, 3, 1, 0, 1, 2, true, TN_PAD_ZEROS, &rng);
    struct nn_conv_transpose2d *t = nn_conv_transpose2d_new("deconv", 4, 6, 4, 2, 1, 0, 2, true, &rng);
    struct nn_conv1d *d = nn_conv1d_new("conv1d", 4, 16, 1, 1, 0, 4, true, &rng);
    const int64_t fans[4] = {50, 3 * 9, 3 * 16, 1};
    struct tn_tensor *ws[4] = {l->weight, c->weight, t->weight, d->weight};
    struct tn_tensor *bs[4] = {l->bias, c->bias, t->bias, d->bias};
    struct nn_module *ms[4] = {&l->base, &c->base, &t->base, &d->base};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(nn_init_fan_in(ws[i]), fans[i], "layer %d", i);
        assert_within(ws[i], 1.0 / sqrt((double)fans[i]));
        assert_within(bs[i], 1.0 / sqrt((double)fans[i]));
        nn_module_free(ms[i]);
    }
}

Test(init, big_layer_has_uniform_moments) {
    struct tn_rng rng = tn_rng_new(81);
    struct nn_linear *l = nn_linear_new("fc", 256, 256, false, &rng);
    static float h[65536];
    HOST(l->weight, h);
    double n = 65536.0, mean = 0.0, var = 0.0, bound = 1.0 / 16.0;
    for (int i = 0; i < 65536; i++) mean += h[i];
    mean /= n;
    for (int i = 0; i < 65536; i++) var += (h[i] - mean) * (h[i] - mean);
    var /= n - 1;
    cr_assert(fabs(mean) < 5.0 * bound / sqrt(3.0 * n), "mean %g", mean);
    cr_assert(fabs(var / (bound * bound / 3.0) - 1.0) < 0.03, "variance %g, expected %g", var,
              bound * bound / 3.0);
    nn_module_free(&l->base);
}

Test(init, draws_weight_then_bias_from_the_generator) {
    struct tn_rng rng = tn_rng_new(82), replay = tn_rng_new(82);
    struct nn_linear *l = nn_linear_new("fc", 4, 3, true, &rng);
    float u[15], w[12], b[3];
    tn_rng_uniform_host(&replay, u, 15);
    float bound = 0.5f; /* 1/sqrt(4) */
    for (int i = 0; i < 12; i++) w[i] = -bound + 2 * bound * u[i];
    for (int i = 0; i < 3; i++) b[i] = -bound + 2 * bound * u[12 + i];
    assert_close(l->weight, w, 1e-7, 1e-6);
    assert_close(l->bias, b, 1e-7, 1e-6);
    cr_assert_eq(rng.offset, replay.offset, "the layer consumed exactly its parameters' draws");
    nn_module_free(&l->base);
}
