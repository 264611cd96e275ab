/* vae_family.c - the shared networks, terms and ops of the autoencoder baselines
 * (vae_family.h). Every term is written with the engine's ops, so it is differentiable twice
 * like the rest; the per-image forms feed both the losses (their batch means) and the
 * out-of-distribution scores.
 */
#include "vae_family.h"

#include <stdlib.h>
#include <string.h>

const char *const gw_reconstructions[] = {"gaussian", "bernoulli", NULL};
const char *const gw_vae_ood_elbo[] = {"neg-elbo", NULL};
const char *const gw_vae_ood_recon[] = {"recon-error", NULL};
const char *const gw_vae_priors[] = {"gaussian", NULL};

enum tn_status gw_vae_base_build(struct gw_vae_base *v, bool gaussian, const char *reconstruction,
                                 const void *prior_options, struct tn_rng *rng) {
    if (strcmp(reconstruction, "gaussian") != 0 && strcmp(reconstruction, "bernoulli") != 0)
        return tn_error(TN_ERR_INVALID, "unknown reconstruction '%s' (gaussian or bernoulli)",
                        reconstruction);
    v->bernoulli = strcmp(reconstruction, "bernoulli") == 0;
    const struct gw_common *c = &v->base.common;
    v->encoder = gw_encoder_new(c, gaussian, rng);
    nn_module_add_child(&v->base.base, &v->encoder->base);
    v->decoder = gw_decoder_new(c, rng);
    nn_module_add_child(&v->base.base, &v->decoder->base);
    return gw_model_add_prior(&v->base, prior_options, rng);
}

enum tn_status gw_vae_model_new(size_t size, const struct gw_model_entry *entry,
                                const struct gw_model_ops *ops, const struct gw_common *common,
                                const void *options, bool gaussian, const char *reconstruction,
                                const void *prior_options, struct tn_rng *rng, bool main_group,
                                struct gw_vae_base **out) {
    *out = NULL;
    struct gw_vae_base *v = calloc(1, size);
    TN_CHECK(v && size >= sizeof *v, entry->name, "out of host memory");
    gw_model_init(&v->base, entry, ops, common, options, NULL);
    enum tn_status st = gw_vae_base_build(v, gaussian, reconstruction, prior_options, rng);
    if (st != TN_OK) {
        gw_model_free(&v->base);
        return st;
    }
    if (main_group) gw_vae_base_main_group(v);
    *out = v;
    return TN_OK;
}

void gw_vae_base_main_group(struct gw_vae_base *v) {
    struct nn_module *mains[2] = {&v->encoder->base, &v->decoder->base};
    struct nn_entry_list list = {0};
    gw_model_collect(mains, 2, &list);
    struct nn_optim_opts adam = nn_optim_defaults(NN_OPTIM_ADAM, v->base.common.lr);
    gw_model_add_group(&v->base, "main", NULL, &adam, list.n, list.items);
    nn_entry_list_free(&list);
}

void gw_vae_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                   struct tn_tensor **logvar) {
    gw_encoder_forward(((struct gw_vae_base *)m)->encoder, x, mu, logvar);
}

struct tn_tensor *gw_vae_decode(struct gw_model *m, struct tn_tensor *z) {
    return nn_sequential_forward(((struct gw_vae_base *)m)->decoder, z);
}

struct tn_tensor *gw_gaussian_nll_per_image(struct tn_tensor *x, struct tn_tensor *y) {
    return ag_mul_scalar(ag_sum(ag_square(ag_sub(ag_flatten(x, 1), ag_flatten(y, 1))), AG_AXIS(1),
                                false),
                         0.5f);
}

struct tn_tensor *gw_bernoulli_nll_per_image(struct tn_tensor *x, struct tn_tensor *logits) {
    /* softplus(l) = max(l, 0) + log(1 + e^-|l|), which never overflows */
    struct tn_tensor *l = ag_flatten(logits, 1);
    struct tn_tensor *softplus = ag_add(ag_relu(l), ag_log(ag_add_scalar(ag_exp(ag_neg(ag_abs(l))), 1.0f)));
    return ag_sum(ag_sub(softplus, ag_mul(ag_flatten(x, 1), l)), AG_AXIS(1), false);
}

struct tn_tensor *gw_vae_recon_per_image(struct gw_vae_base *v, struct tn_tensor *x,
                                         struct tn_tensor *z) {
    if (v->bernoulli) return gw_bernoulli_nll_per_image(x, gw_decoder_logits(v->decoder, z));
    return gw_gaussian_nll_per_image(x, nn_sequential_forward(v->decoder, z));
}

struct tn_tensor *gw_kl_normal_per_image(struct tn_tensor *mu, struct tn_tensor *logvar) {
    struct tn_tensor *inner = ag_sub(ag_add(ag_square(mu), ag_exp(logvar)), ag_add_scalar(logvar, 1.0f));
    return ag_mul_scalar(ag_sum(inner, AG_AXIS(1), false), 0.5f);
}

struct tn_tensor *gw_vae_ood_neg_elbo(struct gw_model *m, struct tn_tensor *x, int kind,
                                      struct tn_rng *rng) {
    (void)kind;
    struct tn_tensor *mu, *logvar;
    m->ops->encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    return ag_add(gw_vae_recon_per_image((struct gw_vae_base *)m, x, z),
                  gw_kl_normal_per_image(mu, logvar));
}

struct tn_tensor *gw_vae_ood_recon_error(struct gw_model *m, struct tn_tensor *x, int kind,
                                         struct tn_rng *rng) {
    (void)kind;
    (void)rng;
    struct tn_tensor *mu, *logvar;
    m->ops->encode(m, x, &mu, &logvar);
    return gw_vae_recon_per_image((struct gw_vae_base *)m, x, mu);
}
