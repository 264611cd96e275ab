/* gwae_nets.c - the GWAE networks as the official code builds them (gwae-spec.md section 2),
 * their forward passes, the settings and the model's construction.
 *
 * Encoder: logit transform, k4 s2 p1 convs with SiLU and replicate padding down to 4x4
 * (3->32->64->128->256 at 64x64; 3->64->128->256 at 32x32), flatten, Linear 4096->256, SiLU,
 * heads mu and logvar. Decoder: the mirror with transposed convs and a sigmoid. Critic: the
 * Y-shaped spectrally normalised network with LeakyReLU(0.2). Widths scale with cfg.width.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/model.h"

struct gw_config gw_config_defaults(void) {
    struct gw_config c = {
        .image_size = 64, .channels = 3, .latent = 16, .width = 1.0f, .components = 10,
        .lambda_w = 1.0f, .lambda_d = 1.0f, .lambda_h = 0.03f, .lambda_gp = 10.0f,
        .drift = 1e-4f, .c_init = 2.5f, .lr = 1e-4, .lr_critic = 1e-4, .n_critic = 5,
        .sn_iterations = 1,
        .batch = 64,
    };
    snprintf(c.prior, sizeof c.prior, "np");
    return c;
}

enum tn_status gw_config_check(const struct gw_config *c) {
    if (c->image_size != 64 && c->image_size != 32)
        return tn_error(TN_ERR_INVALID, "image size %d is not supported (64 or 32; 28x28 data is "
                        "resized to 32)", c->image_size);
    if (c->channels != 3) return tn_error(TN_ERR_INVALID, "the networks take 3 channels");
    if (c->latent < 1 || c->latent > 4096) return tn_error(TN_ERR_INVALID, "latent size %lld out of [1, 4096]", (long long)c->latent);
    if (!(c->width > 0.0f && c->width <= 4.0f)) return tn_error(TN_ERR_INVALID, "width %g out of (0, 4]", c->width);
    if (c->batch < 2) return tn_error(TN_ERR_INVALID, "batch %d: the GW scale needs at least 2 samples", c->batch);
    if (c->n_critic < 0) return tn_error(TN_ERR_INVALID, "n_critic must not be negative");
    if (c->sn_iterations < 1)
        return tn_error(TN_ERR_INVALID, "sn_iterations must be at least 1");
    if (c->warmup_steps < 0) return tn_error(TN_ERR_INVALID, "warmup_steps must not be negative");
    if (!(c->lr > 0) || !(c->lr_critic > 0)) return tn_error(TN_ERR_INVALID, "learning rates must be positive");
    if (!(c->c_init > 0)) return tn_error(TN_ERR_INVALID, "initial C must be positive");
    if (!(c->lambda_w >= 0 && c->lambda_d >= 0 && c->lambda_h >= 0 && c->lambda_gp >= 0 && c->drift >= 0))
        return tn_error(TN_ERR_INVALID, "loss weights must not be negative");
    return TN_OK;
}

/* a hidden width scaled by cfg.width, at least 1 */
static int64_t wide(const struct gw_config *c, int64_t base) {
    int64_t w = (int64_t)lrintf((float)base * c->width);
    return w < 1 ? 1 : w;
}

static char *name_of(char *buf, const char *prefix, int i) {
    snprintf(buf, 32, "%s%d", prefix, i);
    return buf;
}

/* conv channel lists: encoder 3->32->64->128->256 (64x64) or 3->64->128->256 (32x32) */
static int enc_stages(const struct gw_config *c, int64_t *ch) {
    static const int64_t full[4] = {32, 64, 128, 256};
    int n = c->image_size == 64 ? 4 : 3;
    for (int i = 0; i < n; i++) ch[i] = wide(c, full[4 - n + i]);
    return n;
}

static struct nn_module *build_encoder(struct gw_model *m, struct tn_rng *rng) {
    const struct gw_config *c = &m->cfg;
    struct nn_sequential *trunk = nn_sequential_new("trunk");
    int64_t ch[4], in = c->channels;
    int n = enc_stages(c, ch);
    enum tn_pad_mode pad = c->zero_padding ? TN_PAD_ZEROS : TN_PAD_REPLICATE;
    for (int i = 0; i < n; i++) {
        nn_sequential_add(trunk, &nn_conv2d_new("", in, ch[i], 4, 2, 1, 1, 1, true, pad, rng)->base);
        nn_sequential_add(trunk, &nn_silu_new("")->base);
        in = ch[i];
    }
    nn_sequential_add(trunk, &nn_flatten_new("", 1)->base);
    int64_t hidden = wide(c, 256);
    nn_sequential_add(trunk, &nn_linear_new("", in * 16, hidden, true, rng)->base);
    nn_sequential_add(trunk, &nn_silu_new("")->base);
    struct nn_module *enc = calloc(1, sizeof *enc);
    TN_CHECK(enc, "build_encoder", "out of host memory");
    nn_module_init(enc, "encoder", NULL, NULL);
    m->encoder_trunk = nn_module_add_child(enc, &trunk->base);
    m->head_mu = nn_linear_new("fc", hidden, c->latent, true, rng);
    m->head_logvar = nn_linear_new("fc_logvar", hidden, c->latent, true, rng);
    nn_module_add_child(enc, &m->head_mu->base);
    nn_module_add_child(enc, &m->head_logvar->base);
    return enc;
}

static struct nn_module *build_decoder(struct gw_model *m, struct tn_rng *rng) {
    const struct gw_config *c = &m->cfg;
    struct nn_sequential *dec = nn_sequential_new("decoder");
    int64_t ch[4];
    int n = enc_stages(c, ch);
    int64_t hidden = wide(c, 256);
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
    return &dec->base;
}

/* a spectrally normalised layer with the configured power iterations */
static struct nn_module *sn(const struct gw_config *c, struct nn_module *layer, struct tn_rng *rng) {
    return nn_spectral_norm(layer, c->sn_iterations, rng);
}

static void build_critic(struct gw_model *m, struct tn_rng *rng) {
    const struct gw_config *c = &m->cfg;
    char buf[32];
    /* x-branch: 3->8->16->32->64->128->256 at 64x64 (to 1x1), 3->16->...->256 at 32x32 */
    static const int64_t full[6] = {8, 16, 32, 64, 128, 256};
    int n = c->image_size == 64 ? 6 : 5;
    struct nn_sequential *xb = nn_sequential_new("x");
    int64_t in = c->channels;
    for (int i = 0; i < n; i++) {
        int64_t out = wide(c, full[6 - n + i]);
        nn_sequential_add(xb, sn(c, &nn_conv2d_new(name_of(buf, "conv", i), in, out, 4, 2, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base, rng));
        nn_sequential_add(xb, &nn_leaky_relu_new(name_of(buf, "act", i), 0.2f)->base);
        in = out;
    }
    int64_t feat = wide(c, 64), hid = wide(c, 256);
    nn_sequential_add(xb, &nn_flatten_new("flatten", 1)->base);
    nn_sequential_add(xb, sn(c, &nn_linear_new("fc", in, feat, true, rng)->base, rng));
    struct nn_sequential *zb = nn_sequential_new("z");
    nn_sequential_add(zb, sn(c, &nn_linear_new("fc0", c->latent, hid, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act0", 0.2f)->base);
    nn_sequential_add(zb, sn(c, &nn_linear_new("fc1", hid, hid, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act1", 0.2f)->base);
    nn_sequential_add(zb, sn(c, &nn_linear_new("fc2", hid, feat, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act2", 0.2f)->base);
    struct nn_sequential *stem = nn_sequential_new("xz");
    nn_sequential_add(stem, sn(c, &nn_linear_new("fc0", 2 * feat, hid, true, rng)->base, rng));
    nn_sequential_add(stem, &nn_leaky_relu_new("act0", 0.2f)->base);
    nn_sequential_add(stem, sn(c, &nn_linear_new("fc1", hid, hid, true, rng)->base, rng));
    nn_sequential_add(stem, &nn_leaky_relu_new("act1", 0.2f)->base);
    nn_sequential_add(stem, sn(c, &nn_linear_new("fc2", hid, 1, true, rng)->base, rng));
    struct nn_sequential *critic = nn_sequential_new("critic");
    m->critic_x = nn_module_add_child(&critic->base, &xb->base);
    m->critic_z = nn_module_add_child(&critic->base, &zb->base);
    m->critic_stem = nn_module_add_child(&critic->base, &stem->base);
    m->critic = &critic->base;
    m->critic->forward = NULL; /* takes (x, z): use gw_critic */
}

static void model_free_impl(struct nn_module *base) {
    struct gw_model *m = (struct gw_model *)base;
    nn_optim_free(m->opt_main);
    nn_optim_free(m->opt_critic);
}

static struct nn_optim *optimizer_over(struct nn_module *const *mods, int n, double lr) {
    struct nn_entry_list list = {0};
    for (int i = 0; i < n; i++) nn_module_collect(mods[i], mods[i]->name, false, &list);
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_RMSPROP, lr);
    struct nn_optim *o = nn_optim_new(&opts, list.n, list.items);
    nn_entry_list_free(&list);
    return o;
}

enum tn_status gw_model_new(const struct gw_config *cfg, struct tn_rng *rng, struct gw_model **out) {
    enum tn_status st = gw_config_check(cfg);
    if (st != TN_OK) return st;
    struct gw_prior *prior;
    struct gw_prior_options popts = {cfg->latent, cfg->components, cfg->gmp_paper};
    tn_scope_begin();
    struct gw_model *m = calloc(1, sizeof *m);
    TN_CHECK(m, "gw_model_new", "out of host memory");
    nn_module_init(&m->base, "gwae", NULL, model_free_impl);
    m->cfg = *cfg;
    m->encoder = nn_module_add_child(&m->base, build_encoder(m, rng));
    m->decoder = nn_module_add_child(&m->base, build_decoder(m, rng));
    build_critic(m, rng);
    nn_module_add_child(&m->base, m->critic);
    st = gw_prior_new(cfg->prior, &popts, rng, &prior);
    if (st != TN_OK) {
        nn_module_free(&m->base);
        tn_scope_end();
        return st;
    }
    m->prior = prior;
    nn_module_add_child(&m->base, &prior->base);
    m->log_c = nn_module_add_param(&m->base, "log_c", tn_scalar(TN_CPU, logf(cfg->c_init)));
    if (cfg->latent_bn) {
        int64_t l[1] = {cfg->latent};
        m->latent_bn_mean = nn_module_add_buffer(&m->base, "latent_bn_mean", tn_zeros(TN_CPU, 1, l));
        m->latent_bn_logvar = nn_module_add_buffer(&m->base, "latent_bn_logvar", tn_zeros(TN_CPU, 1, l));
        nn_module_add_buffer(&m->base, "latent_bn_started", tn_scalar(TN_CPU, 0.0f));
    }
    /* main: encoder, decoder, prior and log C; critic: the critic's weights */
    struct nn_module *main_mods[3] = {m->encoder, m->decoder, &m->prior->base};
    struct nn_entry_list list = {0};
    for (int i = 0; i < 3; i++) nn_module_collect(main_mods[i], main_mods[i]->name, false, &list);
    struct nn_entry log_c_entry = {.tensor = m->log_c, .is_buffer = false};
    snprintf(log_c_entry.name, sizeof log_c_entry.name, "log_c");
    struct nn_entry *all = malloc((size_t)(list.n + 1) * sizeof *all);
    TN_CHECK(all, "gw_model_new", "out of host memory");
    memcpy(all, list.items, (size_t)list.n * sizeof *all);
    all[list.n] = log_c_entry;
    struct nn_optim_opts main_opts = nn_optim_defaults(NN_OPTIM_RMSPROP, cfg->lr);
    m->opt_main = nn_optim_new(&main_opts, list.n + 1, all);
    free(all);
    nn_entry_list_free(&list);
    struct nn_module *critic_mods[1] = {m->critic};
    m->opt_critic = optimizer_over(critic_mods, 1, cfg->lr_critic);
    tn_scope_end();
    *out = m;
    return TN_OK;
}

enum tn_status gw_model_to_device(struct gw_model *m, struct tn_device device) {
    enum tn_status st = gw_prior_to_device(m->prior, device);
    if (st == TN_OK) st = nn_module_to_device(&m->base, device);
    if (st == TN_OK) st = nn_optim_to_device(m->opt_main, device);
    if (st == TN_OK) st = nn_optim_to_device(m->opt_critic, device);
    return st;
}

struct tn_device gw_model_device(const struct gw_model *m) { return m->log_c->storage->device; }

void gw_model_free(struct gw_model *m) {
    if (m) nn_module_free(&m->base);
}

/* logit(clamp(x)): the official SigmoidInverse, applied to data only */
static struct tn_tensor *logit(struct tn_tensor *x) {
    struct tn_tensor *p = ag_clamp(x, 1e-4f, 1.0f - 1e-4f);
    struct tn_tensor *q = ag_clamp(ag_rsub_scalar(1.0f, x), 1e-4f, 1.0f - 1e-4f);
    return ag_sub(ag_log(p), ag_log(q));
}

/* eq. 53: standardise mu by the law of total variance over the batch (train) or the running
 * statistics (eval); log variances shift by the same log V */
static void latent_batch_norm(struct gw_model *m, struct tn_tensor **mu, struct tn_tensor **logvar) {
    int64_t b = (*mu)->shape[0];
    struct tn_tensor *mean, *log_v;
    if (m->base.training) {
        mean = ag_mean(*mu, AG_AXIS(0), true);
        struct tn_tensor *log_vs = ag_sub_scalar(ag_logsumexp(*logvar, AG_AXIS(0), true), logf((float)b));
        struct tn_tensor *var_mu = ag_clamp(ag_var(*mu, AG_AXIS(0), true), 1e-10f, INFINITY);
        struct tn_tensor *pair[2] = {log_vs, ag_log(var_mu)};
        log_v = ag_logsumexp(ag_concat(2, pair, 0), AG_AXIS(0), true);
        /* running statistics: the first batch is copied, later ones averaged 0.5 / 0.5; the
         * weight w = 0.5 (started > 0) is a tensor on the model's device, read by no host */
        bool mode = ag_set_grad_enabled(false);
        struct tn_tensor *started = nn_module_find(&m->base, "latent_bn_started");
        struct tn_tensor *w = ag_mul_scalar(ag_gt(started, tn_full_like(started, 0.0f)), 0.5f);
        struct tn_tensor *rest = ag_rsub_scalar(1.0f, w);
        int64_t l[1] = {m->cfg.latent};
        struct tn_tensor *new_mean = ag_add(ag_mul(m->latent_bn_mean, w),
                                            ag_mul(ag_reshape(mean, 1, l), rest));
        struct tn_tensor *new_logv = ag_add(ag_mul(m->latent_bn_logvar, w),
                                            ag_mul(ag_reshape(log_v, 1, l), rest));
        tn_copy_into(m->latent_bn_mean, new_mean);
        tn_copy_into(m->latent_bn_logvar, new_logv);
        tn_copy_into(started, tn_full_like(started, 1.0f));
        ag_set_grad_enabled(mode);
    } else {
        int64_t shape[2] = {1, m->cfg.latent};
        mean = ag_reshape(ag_detach(m->latent_bn_mean), 2, shape);
        log_v = ag_reshape(ag_detach(m->latent_bn_logvar), 2, shape);
    }
    *mu = ag_mul(ag_sub(*mu, mean), ag_exp(ag_mul_scalar(log_v, -0.5f)));
    *logvar = ag_sub(*logvar, log_v);
}

void gw_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu, struct tn_tensor **logvar) {
    struct tn_tensor *h = nn_forward(m->encoder_trunk, logit(x));
    *mu = nn_linear_forward(m->head_mu, h);
    *logvar = nn_linear_forward(m->head_logvar, h);
    if (m->cfg.latent_bn) latent_batch_norm(m, mu, logvar);
}

struct tn_tensor *gw_reparameterize(struct tn_tensor *mu, struct tn_tensor *logvar, struct tn_rng *rng) {
    struct tn_tensor *eps = tn_randn(mu->storage->device, mu->ndim, mu->shape, rng);
    return ag_add(mu, ag_mul(ag_exp(ag_mul_scalar(logvar, 0.5f)), eps));
}

struct tn_tensor *gw_decode(struct gw_model *m, struct tn_tensor *z) { return nn_forward(m->decoder, z); }

struct tn_tensor *gw_critic(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *z) {
    struct tn_tensor *parts[2] = {nn_forward(m->critic_x, x), nn_forward(m->critic_z, z)};
    struct tn_tensor *h = ag_mul_scalar(ag_concat(2, parts, 1), 0.5f);
    return nn_forward(m->critic_stem, h);
}
