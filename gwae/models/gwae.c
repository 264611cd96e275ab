/* gwae.c - the Gromov-Wasserstein autoencoder (ICLR 2023) as the official code trains it
 * (gwae-spec.md sections 2-5; docs/gwae.md): the shared encoder and decoder, the spectrally
 * normalised critic f(x, z), a trainable prior, the scale C, and the alternating optimisation.
 *
 * Main loss: L = L_GW + lw L_W + lh R_H + ld L_D over one batch (RMSprop on the encoder,
 * decoder, prior and log C). Adversary: n_critic critic steps, each on fresh latent draws,
 * minimising mean f(x, z) - mean f(xs, zs) + lambda_gp (GP + drift), where the one-centred
 * gradient penalty differentiates the critic's input gradient: a double backward.
 * Departures from the official code that change no value: the critic loop does not compute
 * the decoding Dec(z) the official code computes and never uses; the encoder's output before
 * the loop is computed without recording a graph, since it is never backpropagated; and the
 * main step does not compute the critic's weight gradients, which the official code computes
 * and then zeroes before the critic step.
 */
#include "gwae/models/gwae.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/nets.h"

enum { T_LOSS, T_GW, T_W, T_D, T_H, T_DISC, T_LOGITS, T_GP, T_C, T_FQ, T_FP, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"},     [T_GW] = {"loss_gw", "gw"},      [T_W] = {"loss_w", "w"},
    [T_D] = {"loss_d", "d"},         [T_H] = {"loss_h", NULL},        [T_DISC] = {"loss_disc", "disc"},
    [T_LOGITS] = {"loss_logits", NULL}, [T_GP] = {"loss_gp", NULL}, [T_C] = {"c", "C"},
    [T_FQ] = {"f_q", NULL},          [T_FP] = {"f_p", NULL},
};

struct gwae {
    struct gw_model base;
    struct gwae_options opt;
    struct gw_encoder *encoder;
    struct nn_sequential *decoder;
    struct nn_module *critic_x;    /* [B,3,S,S] -> [B,64] (children of critic) */
    struct nn_module *critic_z;    /* [B,L] -> [B,64] */
    struct nn_module *critic_stem; /* [B,128] -> [B,1] */
    struct nn_module *critic;      /* the parent of the three critic parts */
    struct tn_tensor *log_c;       /* 0-dim, log C */
    struct tn_tensor *latent_bn_mean, *latent_bn_logvar; /* eq. 53 running statistics [L] */
};

static void gwae_defaults(void *options) {
    struct gwae_options *o = options;
    *o = (struct gwae_options){
        .lambda_w = 1.0f, .lambda_d = 1.0f, .lambda_h = 0.03f, .lambda_gp = 10.0f,
        .drift = 1e-4f, .c_init = 2.5f, .lr_critic = 1e-4, .n_critic = 5, .sn_iterations = 1,
    };
}

static enum tn_status check(const struct gwae_options *o) {
    if (o->n_critic < 0) return tn_error(TN_ERR_INVALID, "n_critic must not be negative");
    if (o->sn_iterations < 1) return tn_error(TN_ERR_INVALID, "sn_iterations must be at least 1");
    if (!(o->lr_critic > 0)) return tn_error(TN_ERR_INVALID, "learning rates must be positive");
    if (!(o->c_init > 0)) return tn_error(TN_ERR_INVALID, "initial C must be positive");
    if (!(o->lambda_w >= 0 && o->lambda_d >= 0 && o->lambda_h >= 0 && o->lambda_gp >= 0 &&
          o->drift >= 0))
        return tn_error(TN_ERR_INVALID, "loss weights must not be negative");
    return TN_OK;
}

/* ---- networks ---- */

static char *name_of(char *buf, const char *prefix, int i) {
    snprintf(buf, 32, "%s%d", prefix, i);
    return buf;
}

/* a spectrally normalised layer with the configured power iterations */
static struct nn_module *sn(const struct gwae *g, struct nn_module *layer, struct tn_rng *rng) {
    return nn_spectral_norm(layer, g->opt.sn_iterations, rng);
}

static void build_critic(struct gwae *g, struct tn_rng *rng) {
    const struct gw_common *c = &g->base.common;
    char buf[32];
    /* x-branch: 3->8->16->32->64->128->256 at 64x64 (to 1x1), 3->16->...->256 at 32x32 */
    static const int64_t full[6] = {8, 16, 32, 64, 128, 256};
    int n = c->image_size == 64 ? 6 : 5;
    struct nn_sequential *xb = nn_sequential_new("x");
    int64_t in = c->channels;
    for (int i = 0; i < n; i++) {
        int64_t out = gw_nets_width(c, full[6 - n + i]);
        nn_sequential_add(xb, sn(g, &nn_conv2d_new(name_of(buf, "conv", i), in, out, 4, 2, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base, rng));
        nn_sequential_add(xb, &nn_leaky_relu_new(name_of(buf, "act", i), 0.2f)->base);
        in = out;
    }
    int64_t feat = gw_nets_width(c, 64), hid = gw_nets_width(c, 256);
    nn_sequential_add(xb, &nn_flatten_new("flatten", 1)->base);
    nn_sequential_add(xb, sn(g, &nn_linear_new("fc", in, feat, true, rng)->base, rng));
    struct nn_sequential *zb = nn_sequential_new("z");
    nn_sequential_add(zb, sn(g, &nn_linear_new("fc0", c->latent, hid, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act0", 0.2f)->base);
    nn_sequential_add(zb, sn(g, &nn_linear_new("fc1", hid, hid, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act1", 0.2f)->base);
    nn_sequential_add(zb, sn(g, &nn_linear_new("fc2", hid, feat, true, rng)->base, rng));
    nn_sequential_add(zb, &nn_leaky_relu_new("act2", 0.2f)->base);
    struct nn_sequential *stem = nn_sequential_new("xz");
    nn_sequential_add(stem, sn(g, &nn_linear_new("fc0", 2 * feat, hid, true, rng)->base, rng));
    nn_sequential_add(stem, &nn_leaky_relu_new("act0", 0.2f)->base);
    nn_sequential_add(stem, sn(g, &nn_linear_new("fc1", hid, hid, true, rng)->base, rng));
    nn_sequential_add(stem, &nn_leaky_relu_new("act1", 0.2f)->base);
    nn_sequential_add(stem, sn(g, &nn_linear_new("fc2", hid, 1, true, rng)->base, rng));
    struct nn_sequential *critic = nn_sequential_new("critic");
    g->critic_x = nn_module_add_child(&critic->base, &xb->base);
    g->critic_z = nn_module_add_child(&critic->base, &zb->base);
    g->critic_stem = nn_module_add_child(&critic->base, &stem->base);
    g->critic = &critic->base;
    g->critic->forward = NULL; /* takes (x, z): use gwae_critic */
}

struct tn_tensor *gwae_critic(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *z) {
    struct gwae *g = (struct gwae *)m;
    struct tn_tensor *parts[2] = {nn_forward(g->critic_x, x), nn_forward(g->critic_z, z)};
    struct tn_tensor *h = ag_mul_scalar(ag_concat(2, parts, 1), 0.5f);
    return nn_forward(g->critic_stem, h);
}

/* eq. 53: standardise mu by the law of total variance over the batch (train) or the running
 * statistics (eval); log variances shift by the same log V */
static void latent_batch_norm(struct gwae *g, struct tn_tensor **mu, struct tn_tensor **logvar) {
    int64_t b = (*mu)->shape[0];
    struct tn_tensor *mean, *log_v;
    if (g->base.base.training) {
        mean = ag_mean(*mu, AG_AXIS(0), true);
        struct tn_tensor *log_vs = ag_sub_scalar(ag_logsumexp(*logvar, AG_AXIS(0), true), logf((float)b));
        struct tn_tensor *var_mu = ag_clamp(ag_var(*mu, AG_AXIS(0), true), 1e-10f, INFINITY);
        struct tn_tensor *pair[2] = {log_vs, ag_log(var_mu)};
        log_v = ag_logsumexp(ag_concat(2, pair, 0), AG_AXIS(0), true);
        /* running statistics: the first batch is copied, later ones averaged 0.5 / 0.5; the
         * weight w = 0.5 (started > 0) is a tensor on the model's device, read by no host */
        bool mode = ag_set_grad_enabled(false);
        struct tn_tensor *started = nn_module_find(&g->base.base, "latent_bn_started");
        struct tn_tensor *w = ag_mul_scalar(ag_gt(started, tn_full_like(started, 0.0f)), 0.5f);
        struct tn_tensor *rest = ag_rsub_scalar(1.0f, w);
        int64_t l[1] = {g->base.common.latent};
        struct tn_tensor *new_mean = ag_add(ag_mul(g->latent_bn_mean, w),
                                            ag_mul(ag_reshape(mean, 1, l), rest));
        struct tn_tensor *new_logv = ag_add(ag_mul(g->latent_bn_logvar, w),
                                            ag_mul(ag_reshape(log_v, 1, l), rest));
        tn_copy_into(g->latent_bn_mean, new_mean);
        tn_copy_into(g->latent_bn_logvar, new_logv);
        tn_copy_into(started, tn_full_like(started, 1.0f));
        ag_set_grad_enabled(mode);
    } else {
        int64_t shape[2] = {1, g->base.common.latent};
        mean = ag_reshape(ag_detach(g->latent_bn_mean), 2, shape);
        log_v = ag_reshape(ag_detach(g->latent_bn_logvar), 2, shape);
    }
    *mu = ag_mul(ag_sub(*mu, mean), ag_exp(ag_mul_scalar(log_v, -0.5f)));
    *logvar = ag_sub(*logvar, log_v);
}

static void encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                   struct tn_tensor **logvar) {
    struct gwae *g = (struct gwae *)m;
    gw_encoder_forward(g->encoder, x, mu, logvar);
    if (g->opt.latent_bn) latent_batch_norm(g, mu, logvar);
}

static struct tn_tensor *decode(struct gw_model *m, struct tn_tensor *z) {
    return nn_sequential_forward(((struct gwae *)m)->decoder, z);
}

/* ---- the losses ---- */

struct tn_tensor *gwae_loss_gw(struct tn_tensor *zs, struct tn_tensor *xs, struct tn_tensor *log_c) {
    struct tn_tensor *s = ag_clamp(ag_mean_all(ag_std(zs, AG_AXIS(0), false)), 1e-8f, INFINITY);
    struct tn_tensor *d_z = ag_mul(ag_pdist(zs), ag_div(ag_exp(log_c), s));
    struct tn_tensor *d_x = ag_pdist(ag_flatten(xs, 1));
    return ag_mean_all(ag_abs(ag_sub(d_z, d_x)));
}

struct tn_tensor *gwae_loss_w(struct tn_tensor *x, struct tn_tensor *xh) {
    return ag_mul_scalar(ag_sum_all(ag_square(ag_sub(x, xh))), 0.5f / (float)x->shape[0]);
}

struct tn_tensor *gwae_loss_h(struct tn_tensor *logvar) {
    return ag_mul_scalar(ag_sum_all(logvar), -1.0f / (float)logvar->shape[0]);
}

struct tn_tensor *gwae_loss_penalty(struct tn_tensor *g_x, struct tn_tensor *g_z) {
    /* the 1e-12 keeps the square root differentiable at 0 */
    struct tn_tensor *sq = ag_add(ag_sum(ag_square(ag_flatten(g_x, 1)), AG_AXIS(1), false),
                                  ag_sum(ag_square(g_z), AG_AXIS(1), false));
    struct tn_tensor *norm = ag_sqrt(ag_add_scalar(sq, 1e-12f));
    return ag_mean_all(ag_square(ag_sub_scalar(norm, 1.0f)));
}

/* the mean over the batch of the critic's output, out of any graph */
static struct tn_tensor *mean_value(struct tn_tensor *f) {
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *v = ag_mean_all(f);
    ag_set_grad_enabled(mode);
    return v;
}

static struct tn_tensor *main_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                   struct gw_terms *t) {
    struct gwae *g = (struct gwae *)m;
    const struct gwae_options *o = &g->opt;
    int64_t b = x->shape[0];
    struct tn_tensor *mu, *logvar;
    encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *xh = decode(m, z);
    struct tn_tensor *zs = gw_prior_sample(m->prior, b, rng);
    struct tn_tensor *xs = decode(m, zs);
    struct tn_tensor *l_gw = gwae_loss_gw(zs, xs, g->log_c);
    struct tn_tensor *l_w = gwae_loss_w(x, xh);
    struct tn_tensor *l_h = gwae_loss_h(logvar);
    /* L_D = mean f(xs, zs) - mean f(x, z) (the official sign) */
    struct tn_tensor *f_q = gwae_critic(m, x, z), *f_p = gwae_critic(m, xs, zs);
    struct tn_tensor *l_d = ag_sub(ag_mean_all(f_p), ag_mean_all(f_q));
    struct tn_tensor *loss = ag_add(ag_add(l_gw, ag_mul_scalar(l_w, o->lambda_w)),
                                    ag_add(ag_mul_scalar(l_h, o->lambda_h),
                                           ag_mul_scalar(l_d, o->lambda_d)));
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_GW, l_gw);
    gw_terms_put(t, T_W, l_w);
    gw_terms_put(t, T_H, l_h);
    gw_terms_put(t, T_D, l_d);
    gw_terms_put(t, T_C, mean_value(ag_exp(g->log_c)));
    gw_terms_put(t, T_FQ, mean_value(f_q));
    gw_terms_put(t, T_FP, mean_value(f_p));
    return loss;
}

/* x_p = t a + (1 - t) b with one t per sample, broadcast over the other dims */
static struct tn_tensor *interpolate(struct tn_tensor *a, struct tn_tensor *b, struct tn_tensor *t) {
    int64_t shape[TN_MAX_DIMS] = {a->shape[0]};
    for (int d = 1; d < a->ndim; d++) shape[d] = 1;
    struct tn_tensor *tt = ag_reshape(t, a->ndim, shape);
    return ag_add(ag_mul(a, tt), ag_mul(b, ag_rsub_scalar(1.0f, tt)));
}

struct tn_tensor *gwae_critic_loss(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *mu,
                                   struct tn_tensor *logvar, struct tn_rng *rng,
                                   struct gw_terms *t) {
    const struct gwae_options *o = &((struct gwae *)m)->opt;
    int64_t b = x->shape[0];
    /* fresh latent draws, none of them trained here */
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *zs = gw_prior_sample(m->prior, b, rng);
    struct tn_tensor *xs = decode(m, zs);
    ag_set_grad_enabled(mode);
    struct tn_tensor *f_q = gwae_critic(m, x, z), *f_p = gwae_critic(m, xs, zs);
    struct tn_tensor *logits = ag_sub(ag_mean_all(f_q), ag_mean_all(f_p));
    /* one-centred penalty on per-sample interpolations of the joint (x, z) pairs */
    int64_t tb[1] = {b};
    struct tn_tensor *tw = tn_rand_uniform(x->storage->device, 1, tb, rng, 0.0f, 1.0f);
    struct tn_tensor *xp = tn_set_requires_grad(ag_detach(interpolate(x, xs, tw)), true);
    struct tn_tensor *zp = tn_set_requires_grad(ag_detach(interpolate(z, zs, tw)), true);
    struct tn_tensor *f_i = gwae_critic(m, xp, zp);
    struct tn_tensor *targets[2] = {xp, zp}, *gr[2];
    ag_grad(1, &f_i, NULL, 2, targets, gr, AG_CREATE_GRAPH);
    struct tn_tensor *gp = gwae_loss_penalty(gr[0], gr[1]);
    struct tn_tensor *drift = ag_mul_scalar(ag_add(ag_mean_all(ag_square(f_q)), ag_mean_all(ag_square(f_p))), o->drift);
    struct tn_tensor *penalty = ag_add(gp, drift);
    struct tn_tensor *loss = ag_add(logits, ag_mul_scalar(penalty, o->lambda_gp));
    gw_terms_put(t, T_DISC, loss);
    gw_terms_put(t, T_LOGITS, logits);
    gw_terms_put(t, T_GP, penalty);
    return loss;
}

/* n_critic critic steps on x, each with fresh latent draws */
static void critic_steps(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                         struct gw_terms *t) {
    struct tn_tensor *mu, *logvar;
    bool mode = ag_set_grad_enabled(false);
    encode(m, x, &mu, &logvar);
    ag_set_grad_enabled(mode);
    for (int k = 0; k < ((struct gwae *)m)->opt.n_critic; k++) {
        tn_scope_begin();
        gw_model_group_step(m, 1, gwae_critic_loss(m, x, mu, logvar, rng, t));
        tn_scope_end();
    }
}

/* ---- out-of-distribution scores and the scale ---- */

static const char *const ood_scores[] = {"decoded", "data", NULL};

/* the critic's Kantorovich potential of each image: f(Dec(z), z) as the official clu.py
 * (kind 0) or f(x, z) (kind 1), z ~ q(z|x), without a sign flip (docs/evaluation.md) */
static struct tn_tensor *ood_score(struct gw_model *m, struct tn_tensor *x, int kind,
                                   struct tn_rng *rng) {
    struct tn_tensor *mu, *logvar;
    encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    int64_t n[1] = {x->shape[0]};
    return ag_reshape(gwae_critic(m, kind == 0 ? decode(m, z) : x, z), 1, n);
}

static struct tn_tensor *latent_scale(struct gw_model *m) {
    return ag_exp(((struct gwae *)m)->log_c);
}

static const struct gw_model_ops gwae_ops = {
    .loss = main_loss, .adversary = critic_steps, .encode = encode, .decode = decode,
    .ood_score = ood_score, .latent_scale = latent_scale,
};

/* ---- construction ---- */

static struct nn_optim_opts rmsprop(double lr) { return nn_optim_defaults(NN_OPTIM_RMSPROP, lr); }

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct gwae_options *o = options;
    enum tn_status st = check(o);
    if (st != TN_OK) return st;
    struct gwae *g = calloc(1, sizeof *g);
    TN_CHECK(g, "gwae", "out of host memory");
    gw_model_init(&g->base, &gw_model_gwae, &gwae_ops, common, options, NULL);
    g->opt = *o;
    struct nn_module *root = &g->base.base;
    g->encoder = gw_encoder_new(common, true, rng);
    nn_module_add_child(root, &g->encoder->base);
    g->decoder = gw_decoder_new(common, rng);
    nn_module_add_child(root, &g->decoder->base);
    build_critic(g, rng);
    nn_module_add_child(root, g->critic);
    if ((st = gw_model_add_prior(&g->base, prior_options, rng)) != TN_OK) {
        gw_model_free(&g->base);
        return st;
    }
    g->log_c = nn_module_add_param(root, "log_c", tn_scalar(TN_CPU, logf(o->c_init)));
    if (o->latent_bn) {
        int64_t l[1] = {common->latent};
        g->latent_bn_mean = nn_module_add_buffer(root, "latent_bn_mean", tn_zeros(TN_CPU, 1, l));
        g->latent_bn_logvar = nn_module_add_buffer(root, "latent_bn_logvar", tn_zeros(TN_CPU, 1, l));
        nn_module_add_buffer(root, "latent_bn_started", tn_scalar(TN_CPU, 0.0f));
    }
    /* main: encoder, decoder, prior and log C; critic: the critic's weights */
    struct nn_module *mains[3] = {&g->encoder->base, &g->decoder->base, &g->base.prior->base};
    struct nn_entry_list list = {0};
    gw_model_collect(mains, 3, &list);
    nn_entry_list_add(&list, "", "log_c", g->log_c, false);
    struct nn_optim_opts main_opts = rmsprop(common->lr);
    gw_model_add_group(&g->base, "main", NULL, &main_opts, list.n, list.items);
    nn_entry_list_free(&list);
    gw_model_collect(&g->critic, 1, &list);
    struct nn_optim_opts critic_opts = rmsprop(o->lr_critic);
    gw_model_add_group(&g->base, "critic", g->critic, &critic_opts, list.n, list.items);
    nn_entry_list_free(&list);
    *out = &g->base;
    return TN_OK;
}

#define O(field) GW_FIELD(struct gwae_options, field)

static const struct gw_option option_rows[] = {
    {"latent-bn", GW_OPT_BOOL, O(latent_bn), 0, 0, NULL, GW_OPT_FIXED, "Model gwae", NULL,
     "batch-normalise the encoder's output (paper eq. 53)", "official off: models/gwae.py"},
    {"c-init", GW_OPT_FLOAT, O(c_init), 1e-6, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "C",
     "initial GW scale C", "official 2.5: settings/gwae.yaml distance_coef_initial"},
    {"lambda-w", GW_OPT_FLOAT, O(lambda_w), 0, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "weight of the reconstruction term L_W", "official 1: settings/gwae.yaml coef_w"},
    {"lambda-d", GW_OPT_FLOAT, O(lambda_d), 0, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "weight of the critic term L_D", "official 1: settings/gwae.yaml coef_d"},
    {"lambda-h", GW_OPT_FLOAT, O(lambda_h), 0, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "weight of the entropy term R_H", "official 0.03: settings/gwae.yaml coef_qentropy"},
    {"lambda-gp", GW_OPT_FLOAT, O(lambda_gp), 0, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "weight of the critic's gradient penalty", "official 10: settings/gwae.yaml coef_gp"},
    {"drift", GW_OPT_FLOAT, O(drift), 0, 1e6, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "weight of the drift terms E[f^2] inside the penalty", "official 1e-4: models/gwae.py"},
    {"lr-critic", GW_OPT_DOUBLE, O(lr_critic), 1e-12, 10, NULL, GW_OPT_FIXED, "Model gwae", "X",
     "RMSprop learning rate of the critic", "official 1e-4: settings/gwae.yaml lr_disc"},
    {"n-critic", GW_OPT_INT, O(n_critic), 0, 100, NULL, GW_OPT_FIXED, "Model gwae", "N",
     "critic steps per training iteration", "official 5: settings/gwae.yaml times_d_training"},
    {"sn-iterations", GW_OPT_INT, O(sn_iterations), 1, 100, NULL, GW_OPT_FIXED, "Model gwae", "N",
     "spectral-norm power iterations per critic forward", "official 1: PyTorch's spectral_norm default"},
};

/* the small default trains for minutes: 5x the official rates (warmed up, gw_common) and 2
 * critic steps; with 1e-4 and 5 steps, 1500 iterations leave blurry blobs */
static const struct gw_setting small[] = {{"lr-critic", "5e-4"}, {"n-critic", "2"}, {NULL, NULL}};

static const char *const priors[] = {"np", "gaussian", "fnp", "gmp", NULL};

const struct gw_model_entry gw_model_gwae = {
    .name = "gwae",
    .summary = "Gromov-Wasserstein autoencoder: L_GW + L_W + R_H + critic L_D, trainable prior",
    .options = option_rows,
    .n_options = (int)(sizeof option_rows / sizeof option_rows[0]),
    .options_size = sizeof(struct gwae_options),
    .defaults = gwae_defaults,
    .small = small,
    .priors = priors,
    .ood_scores = ood_scores,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
