/* gwae_loss.c - the GWAE objective and its alternating optimisation (gwae-spec.md sections 4, 5).
 *
 * Main step: L = L_GW + lw L_W + lh R_H + ld L_D over one batch, backward, RMSprop on the
 * encoder, decoder, prior and log C. Then n_critic critic steps, each on fresh latent draws,
 * minimising mean f(x, z) - mean f(xs, zs) + lambda_gp (GP + drift), where the one-centred
 * gradient penalty differentiates the critic's input gradient: a double backward.
 * Departures from the official code that change no value: the critic loop does not compute
 * the decoding Dec(z) the official code computes and never uses; the encoder's output before
 * the loop is computed without recording a graph, since it is never backpropagated; and the
 * main step does not compute the critic's weight gradients, which the official code computes
 * and then zeroes before the critic step.
 */
#include <math.h>

#include "gwae/model.h"

/* the mean over the batch of the critic's output */
static double mean_value(struct tn_tensor *f) {
    bool mode = ag_set_grad_enabled(false);
    double v = tn_item(ag_mean_all(f));
    ag_set_grad_enabled(mode);
    return v;
}

struct tn_tensor *gw_loss_gw(struct tn_tensor *zs, struct tn_tensor *xs, struct tn_tensor *log_c) {
    struct tn_tensor *s = ag_clamp(ag_mean_all(ag_std(zs, AG_AXIS(0), false)), 1e-8f, INFINITY);
    struct tn_tensor *d_z = ag_mul(ag_pdist(zs), ag_div(ag_exp(log_c), s));
    struct tn_tensor *d_x = ag_pdist(ag_flatten(xs, 1));
    return ag_mean_all(ag_abs(ag_sub(d_z, d_x)));
}

struct tn_tensor *gw_loss_w(struct tn_tensor *x, struct tn_tensor *xh) {
    return ag_mul_scalar(ag_sum_all(ag_square(ag_sub(x, xh))), 0.5f / (float)x->shape[0]);
}

struct tn_tensor *gw_loss_h(struct tn_tensor *logvar) {
    return ag_mul_scalar(ag_sum_all(logvar), -1.0f / (float)logvar->shape[0]);
}

struct tn_tensor *gw_loss_penalty(struct tn_tensor *g_x, struct tn_tensor *g_z) {
    /* the 1e-12 keeps the square root differentiable at 0 */
    struct tn_tensor *sq = ag_add(ag_sum(ag_square(ag_flatten(g_x, 1)), AG_AXIS(1), false),
                                  ag_sum(ag_square(g_z), AG_AXIS(1), false));
    struct tn_tensor *norm = ag_sqrt(ag_add_scalar(sq, 1e-12f));
    return ag_mean_all(ag_square(ag_sub_scalar(norm, 1.0f)));
}

struct tn_tensor *gw_main_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                               struct gw_losses *t) {
    const struct gw_config *cfg = &m->cfg;
    int64_t b = x->shape[0];
    struct tn_tensor *mu, *logvar;
    gw_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *xh = gw_decode(m, z);
    struct tn_tensor *zs = gw_prior_sample(m->prior, b, rng);
    struct tn_tensor *xs = gw_decode(m, zs);
    struct tn_tensor *l_gw = gw_loss_gw(zs, xs, m->log_c);
    struct tn_tensor *l_w = gw_loss_w(x, xh);
    struct tn_tensor *l_h = gw_loss_h(logvar);
    /* L_D = mean f(xs, zs) - mean f(x, z) (the official sign) */
    struct tn_tensor *f_q = gw_critic(m, x, z), *f_p = gw_critic(m, xs, zs);
    struct tn_tensor *l_d = ag_sub(ag_mean_all(f_p), ag_mean_all(f_q));
    struct tn_tensor *loss = ag_add(ag_add(l_gw, ag_mul_scalar(l_w, cfg->lambda_w)),
                                    ag_add(ag_mul_scalar(l_h, cfg->lambda_h),
                                           ag_mul_scalar(l_d, cfg->lambda_d)));
    t->loss = tn_item(loss);
    t->loss_gw = tn_item(l_gw);
    t->loss_w = tn_item(l_w);
    t->loss_h = tn_item(l_h);
    t->loss_d = tn_item(l_d);
    t->c = exp((double)tn_item(m->log_c));
    t->f_q = mean_value(f_q);
    t->f_p = mean_value(f_p);
    return loss;
}

/* x_p = t a + (1 - t) b with one t per sample, broadcast over the other dims */
static struct tn_tensor *interpolate(struct tn_tensor *a, struct tn_tensor *b, struct tn_tensor *t) {
    int64_t shape[TN_MAX_DIMS] = {a->shape[0]};
    for (int d = 1; d < a->ndim; d++) shape[d] = 1;
    struct tn_tensor *tt = ag_reshape(t, a->ndim, shape);
    return ag_add(ag_mul(a, tt), ag_mul(b, ag_rsub_scalar(1.0f, tt)));
}

struct tn_tensor *gw_critic_loss(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *mu,
                                 struct tn_tensor *logvar, struct tn_rng *rng,
                                 struct gw_losses *t) {
    const struct gw_config *cfg = &m->cfg;
    int64_t b = x->shape[0];
    /* fresh latent draws, none of them trained here */
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *zs = gw_prior_sample(m->prior, b, rng);
    struct tn_tensor *xs = gw_decode(m, zs);
    ag_set_grad_enabled(mode);
    struct tn_tensor *f_q = gw_critic(m, x, z), *f_p = gw_critic(m, xs, zs);
    struct tn_tensor *logits = ag_sub(ag_mean_all(f_q), ag_mean_all(f_p));
    /* one-centred penalty on per-sample interpolations of the joint (x, z) pairs */
    int64_t tb[1] = {b};
    struct tn_tensor *tw = tn_rand_uniform(x->storage->device, 1, tb, rng, 0.0f, 1.0f);
    struct tn_tensor *xp = tn_set_requires_grad(ag_detach(interpolate(x, xs, tw)), true);
    struct tn_tensor *zp = tn_set_requires_grad(ag_detach(interpolate(z, zs, tw)), true);
    struct tn_tensor *f_i = gw_critic(m, xp, zp);
    struct tn_tensor *targets[2] = {xp, zp}, *g[2];
    ag_grad(1, &f_i, NULL, 2, targets, g, AG_CREATE_GRAPH);
    struct tn_tensor *gp = gw_loss_penalty(g[0], g[1]);
    struct tn_tensor *drift = ag_mul_scalar(ag_add(ag_mean_all(ag_square(f_q)), ag_mean_all(ag_square(f_p))), cfg->drift);
    struct tn_tensor *penalty = ag_add(gp, drift);
    struct tn_tensor *loss = ag_add(logits, ag_mul_scalar(penalty, cfg->lambda_gp));
    t->loss_disc = tn_item(loss);
    t->loss_logits = tn_item(logits);
    t->loss_gp = tn_item(penalty);
    return loss;
}

void gw_main_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng, struct gw_losses *t) {
    tn_scope_begin();
    nn_module_train(&m->base, true);
    /* the critic's weight gradients from this loss would be zeroed unused: skip computing them */
    nn_module_set_requires_grad(m->critic, false);
    struct tn_tensor *loss = gw_main_loss(m, x, rng, t);
    nn_module_zero_grad(&m->base);
    ag_backward(loss, 0);
    nn_optim_step(m->opt_main);
    nn_module_set_requires_grad(m->critic, true);
    tn_scope_end();
}

void gw_critic_steps(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                     struct gw_losses *t) {
    tn_scope_begin();
    nn_module_train(&m->base, true);
    struct tn_tensor *mu, *logvar;
    bool mode = ag_set_grad_enabled(false);
    gw_encode(m, x, &mu, &logvar);
    ag_set_grad_enabled(mode);
    for (int k = 0; k < m->cfg.n_critic; k++) {
        tn_scope_begin();
        struct tn_tensor *loss_disc = gw_critic_loss(m, x, mu, logvar, rng, t);
        nn_module_zero_grad(&m->base);
        ag_backward(loss_disc, 0);
        nn_optim_step(m->opt_critic);
        tn_scope_end();
    }
    tn_scope_end();
}

void gw_set_iteration_lr(struct gw_model *m, int64_t step) {
    double f = m->cfg.warmup_steps > 0 && step < m->cfg.warmup_steps
                   ? (double)(step > 0 ? step : 1) / (double)m->cfg.warmup_steps
                   : 1.0;
    nn_optim_set_lr(m->opt_main, m->cfg.lr * f);
    nn_optim_set_lr(m->opt_critic, m->cfg.lr_critic * f);
}

void gw_train_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng, struct gw_losses *t) {
    gw_main_step(m, x, rng, t);
    gw_critic_steps(m, x, rng, t);
}

void gw_eval_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng, struct gw_losses *t) {
    tn_scope_begin();
    nn_module_train(&m->base, false);
    bool mode = ag_set_grad_enabled(false);
    gw_main_loss(m, x, rng, t);
    ag_set_grad_enabled(mode);
    nn_module_train(&m->base, true);
    tn_scope_end();
}
