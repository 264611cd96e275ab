/* nets.c - the shared encoder and decoder of nets.h, built as the official GWAE code builds
 * them (module names and the order of initial draws included, so that checkpoints keep their
 * tensor names and a seed gives the same weights as before the model interface).
 */
#include "nets.h"

#include <math.h>
#include <stdlib.h>

int64_t gw_nets_width(const struct gw_common *c, int64_t base) {
    int64_t w = (int64_t)lrintf((float)base * c->width);
    return w < 1 ? 1 : w;
}

/* conv channel lists: encoder 3->32->64->128->256 (64x64) or 3->64->128->256 (32x32) */
static int stages(const struct gw_common *c, int64_t *ch) {
    static const int64_t full[4] = {32, 64, 128, 256};
    int n = c->image_size == 64 ? 4 : 3;
    for (int i = 0; i < n; i++) ch[i] = gw_nets_width(c, full[4 - n + i]);
    return n;
}

struct gw_encoder *gw_encoder_new(const struct gw_common *c, bool gaussian, struct tn_rng *rng) {
    struct nn_sequential *trunk = nn_sequential_new("trunk");
    int64_t ch[4], in = c->channels;
    int n = stages(c, ch);
    enum tn_pad_mode pad = c->zero_padding ? TN_PAD_ZEROS : TN_PAD_REPLICATE;
    for (int i = 0; i < n; i++) {
        nn_sequential_add(trunk, &nn_conv2d_new("", in, ch[i], 4, 2, 1, 1, 1, true, pad, rng)->base);
        nn_sequential_add(trunk, &nn_silu_new("")->base);
        in = ch[i];
    }
    nn_sequential_add(trunk, &nn_flatten_new("", 1)->base);
    int64_t hidden = gw_nets_width(c, 256);
    nn_sequential_add(trunk, &nn_linear_new("", in * 16, hidden, true, rng)->base);
    nn_sequential_add(trunk, &nn_silu_new("")->base);
    struct gw_encoder *e = calloc(1, sizeof *e);
    TN_CHECK(e, "gw_encoder_new", "out of host memory");
    nn_module_init(&e->base, "encoder", NULL, NULL);
    e->trunk = nn_module_add_child(&e->base, &trunk->base);
    e->head_mu = nn_linear_new("fc", hidden, c->latent, true, rng);
    nn_module_add_child(&e->base, &e->head_mu->base);
    if (gaussian) {
        e->head_logvar = nn_linear_new("fc_logvar", hidden, c->latent, true, rng);
        nn_module_add_child(&e->base, &e->head_logvar->base);
    }
    return e;
}

/* logit(clamp(x)): the official SigmoidInverse, applied to data only */
static struct tn_tensor *logit(struct tn_tensor *x) {
    struct tn_tensor *p = ag_clamp(x, 1e-4f, 1.0f - 1e-4f);
    struct tn_tensor *q = ag_clamp(ag_rsub_scalar(1.0f, x), 1e-4f, 1.0f - 1e-4f);
    return ag_sub(ag_log(p), ag_log(q));
}

void gw_encoder_forward(struct gw_encoder *e, struct tn_tensor *x, struct tn_tensor **mu,
                        struct tn_tensor **logvar) {
    struct tn_tensor *h = nn_forward(e->trunk, logit(x));
    *mu = nn_linear_forward(e->head_mu, h);
    *logvar = e->head_logvar ? nn_linear_forward(e->head_logvar, h) : NULL;
}

struct nn_sequential *gw_decoder_new(const struct gw_common *c, struct tn_rng *rng) {
    struct nn_sequential *dec = nn_sequential_new("decoder");
    int64_t ch[4];
    int n = stages(c, ch);
    int64_t hidden = gw_nets_width(c, 256);
    nn_sequential_add(dec, &nn_linear_new("", c->latent, hidden, true, rng)->base);
    nn_sequential_add(dec, &nn_silu_new("")->base);
    nn_sequential_add(dec, &nn_linear_new("", hidden, ch[n - 1] * 16, true, rng)->base);
    nn_sequential_add(dec, &nn_silu_new("")->base);
    int64_t sizes[3] = {ch[n - 1], 4, 4};
    nn_sequential_add(dec, &nn_unflatten_new("", 1, 3, sizes)->base);
    for (int i = n - 1; i >= 0; i--) {
        int64_t out = i > 0 ? ch[i - 1] : c->channels;
        nn_sequential_add(dec, &nn_conv_transpose2d_new("", ch[i], out, 4, 2, 1, 0, 1, true, rng)->base);
        nn_sequential_add(dec, i > 0 ? &nn_silu_new("")->base : &nn_sigmoid_new("")->base);
    }
    return dec;
}

struct tn_tensor *gw_decoder_logits(struct nn_sequential *d, struct tn_tensor *z) {
    for (int i = 0; i + 1 < d->base.n_children; i++) z = nn_forward(d->base.children[i], z);
    return z;
}
