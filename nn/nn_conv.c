/* nn_conv.c - the convolution layers of nn_layers.h: Conv2d (zero or replicate padding,
 * dilation, groups, optional spectral norm), ConvTranspose2d and Conv1d, each a thin client
 * of ag_conv2d / ag_conv_transpose2d / ag_conv1d. Initialisation is nn_init_default.
 */
#include <stdlib.h>

#include "nn_init.h"
#include "nn_layers.h"

/* Allocates a zeroed layer of size bytes with its module set up. */
static void *layer_alloc(size_t size, const char *name, nn_forward_fn forward) {
    struct nn_module *m = calloc(1, size);
    TN_CHECK(m, "nn_conv", "out of host memory");
    nn_module_init(m, name, forward, NULL);
    return m;
}

/* Registers "weight" of w_shape and optionally "bias" [n_bias], drawn as PyTorch does. */
static void add_weight_bias(struct nn_module *m, int ndim, const int64_t *w_shape, bool bias,
                            int64_t n_bias, struct tn_rng *rng, struct tn_tensor **weight,
                            struct tn_tensor **bias_out) {
    tn_scope_begin();
    struct tn_tensor *w = tn_empty(TN_CPU, ndim, w_shape);
    struct tn_tensor *b = bias ? tn_empty(TN_CPU, 1, &n_bias) : NULL;
    nn_init_default(w, b, rng);
    *weight = nn_module_add_param(m, "weight", w);
    *bias_out = b ? nn_module_add_param(m, "bias", b) : NULL;
    tn_scope_end();
}

static void check_channels(const char *what, const char *name, int64_t in, int64_t out, int k,
                           int stride, int padding, int groups) {
    TN_CHECK(in > 0 && out > 0 && k > 0 && stride > 0 && padding >= 0 && groups > 0, what,
             "%s: bad sizes (in %lld, out %lld, k %d, stride %d, padding %d, groups %d)", name,
             (long long)in, (long long)out, k, stride, padding, groups);
    TN_CHECK(in % groups == 0 && out % groups == 0, what,
             "%s: channels %lld -> %lld are not divisible by %d groups", name, (long long)in,
             (long long)out, groups);
}

static void check_input(const char *what, const struct nn_module *m, const struct tn_tensor *x,
                        int ndim, int64_t channels) {
    char buf[96];
    TN_CHECK(x->ndim == ndim && x->shape[1] == channels, what,
             "%s: input %s, expected %d dims with %lld channels", m->name,
             tn_shape_str(x->ndim, x->shape, buf, sizeof buf), ndim, (long long)channels);
}

/* ---- Conv2d ---- */

static struct tn_tensor *conv2d_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_conv2d_forward((struct nn_conv2d *)m, x);
}

struct nn_conv2d *nn_as_conv2d(struct nn_module *m) {
    return m && m->forward == conv2d_module_forward ? (struct nn_conv2d *)m : NULL;
}

struct nn_conv2d *nn_conv2d_new(const char *name, int64_t in_channels, int64_t out_channels,
                                int kernel_size, int stride, int padding, int dilation,
                                int groups, bool bias, enum tn_pad_mode pad_mode,
                                struct tn_rng *rng) {
    check_channels("nn_conv2d_new", name, in_channels, out_channels, kernel_size, stride,
                   padding, groups);
    TN_CHECK(dilation > 0, "nn_conv2d_new", "%s: dilation %d", name, dilation);
    TN_CHECK(pad_mode == TN_PAD_ZEROS || pad_mode == TN_PAD_REPLICATE, "nn_conv2d_new",
             "%s: unknown padding mode %d", name, (int)pad_mode);
    struct nn_conv2d *c = layer_alloc(sizeof *c, name, conv2d_module_forward);
    c->in_channels = in_channels;
    c->out_channels = out_channels;
    c->kernel_size = kernel_size;
    c->stride = stride;
    c->padding = padding;
    c->dilation = dilation;
    c->groups = groups;
    c->pad_mode = pad_mode;
    int64_t w_shape[4] = {out_channels, in_channels / groups, kernel_size, kernel_size};
    add_weight_bias(&c->base, 4, w_shape, bias, out_channels, rng, &c->weight, &c->bias);
    return c;
}

struct tn_tensor *nn_conv2d_forward(struct nn_conv2d *c, struct tn_tensor *x) {
    check_input("nn_conv2d_forward", &c->base, x, 4, c->in_channels);
    struct tn_tensor *w = c->sn.n_power_iterations > 0
                              ? nn_spectral_weight(&c->base, &c->sn, c->weight)
                              : c->weight;
    struct tn_conv_geom geom = {.stride = {c->stride, c->stride},
                                .padding = {c->padding, c->padding},
                                .dilation = {c->dilation, c->dilation},
                                .groups = c->groups};
    if (c->pad_mode == TN_PAD_REPLICATE && c->padding > 0) {
        /* padding_mode="replicate": pad by copying the border, then a conv with no padding */
        x = ag_pad2d(x, TN_PAD_REPLICATE, c->padding, c->padding, c->padding, c->padding);
        geom.padding[0] = geom.padding[1] = 0;
    }
    return ag_conv2d(x, w, c->bias, geom);
}

/* ---- ConvTranspose2d ---- */

static struct tn_tensor *conv_transpose2d_module_forward(struct nn_module *m,
                                                         struct tn_tensor *x) {
    return nn_conv_transpose2d_forward((struct nn_conv_transpose2d *)m, x);
}

struct nn_conv_transpose2d *nn_conv_transpose2d_new(const char *name, int64_t in_channels,
                                                    int64_t out_channels, int kernel_size,
                                                    int stride, int padding, int output_padding,
                                                    int groups, bool bias, struct tn_rng *rng) {
    check_channels("nn_conv_transpose2d_new", name, in_channels, out_channels, kernel_size,
                   stride, padding, groups);
    TN_CHECK(output_padding >= 0 && output_padding < stride, "nn_conv_transpose2d_new",
             "%s: output_padding %d must be below stride %d", name, output_padding, stride);
    struct nn_conv_transpose2d *c =
        layer_alloc(sizeof *c, name, conv_transpose2d_module_forward);
    c->in_channels = in_channels;
    c->out_channels = out_channels;
    c->kernel_size = kernel_size;
    c->stride = stride;
    c->padding = padding;
    c->output_padding = output_padding;
    c->groups = groups;
    /* PyTorch's layout [in, out/groups, k, k]: fan_in comes out as (out/groups) k k */
    int64_t w_shape[4] = {in_channels, out_channels / groups, kernel_size, kernel_size};
    add_weight_bias(&c->base, 4, w_shape, bias, out_channels, rng, &c->weight, &c->bias);
    return c;
}

struct tn_tensor *nn_conv_transpose2d_forward(struct nn_conv_transpose2d *c,
                                              struct tn_tensor *x) {
    check_input("nn_conv_transpose2d_forward", &c->base, x, 4, c->in_channels);
    struct tn_conv_geom geom = {.stride = {c->stride, c->stride},
                                .padding = {c->padding, c->padding},
                                .dilation = {1, 1},
                                .groups = c->groups};
    return ag_conv_transpose2d(x, c->weight, c->bias, geom, c->output_padding);
}

/* ---- Conv1d ---- */

static struct tn_tensor *conv1d_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_conv1d_forward((struct nn_conv1d *)m, x);
}

struct nn_conv1d *nn_conv1d_new(const char *name, int64_t in_channels, int64_t out_channels,
                                int kernel_size, int stride, int padding, int groups, bool bias,
                                struct tn_rng *rng) {
    check_channels("nn_conv1d_new", name, in_channels, out_channels, kernel_size, stride,
                   padding, groups);
    struct nn_conv1d *c = layer_alloc(sizeof *c, name, conv1d_module_forward);
    c->in_channels = in_channels;
    c->out_channels = out_channels;
    c->kernel_size = kernel_size;
    c->stride = stride;
    c->padding = padding;
    c->groups = groups;
    int64_t w_shape[3] = {out_channels, in_channels / groups, kernel_size};
    add_weight_bias(&c->base, 3, w_shape, bias, out_channels, rng, &c->weight, &c->bias);
    return c;
}

struct tn_tensor *nn_conv1d_forward(struct nn_conv1d *c, struct tn_tensor *x) {
    check_input("nn_conv1d_forward", &c->base, x, 3, c->in_channels);
    return ag_conv1d(x, c->weight, c->bias, c->stride, c->padding, 1, c->groups);
}
