/* ae.c - the plain autoencoder (vaetc's `ae`): a deterministic encoder (the mu head only),
 * the shared decoder, and the reconstruction term alone. It has no prior of its own: samples
 * are decoded from N(0, I), which its codes were never asked to follow; its
 * out-of-distribution score is the reconstruction error. */

#include "vae_family.h"

enum { T_LOSS, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {[T_LOSS] = {"loss", "loss"}};

struct ae_options {
    char reconstruction[GW_RECON_NAME_MAX];
};

static void ae_defaults(void *options) {
    *(struct ae_options *)options = (struct ae_options){.reconstruction = "gaussian"};
}

/* mean_b of the reconstruction term of x from its code */
static struct tn_tensor *ae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                 struct gw_terms *t) {
    (void)rng;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *loss = ag_mean_all(gw_vae_recon_per_image((struct gw_vae_base *)m, x, mu));
    gw_terms_put(t, T_LOSS, loss);
    return loss;
}

static const struct gw_model_ops ae_ops = {
    .loss = ae_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_recon_error,
};

extern const struct gw_model_entry gw_model_ae;

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct ae_options *o = options;
    struct gw_vae_base *v;
    enum tn_status st = gw_vae_model_new(sizeof *v, &gw_model_ae, &ae_ops, common, options, false,
                                         o->reconstruction, prior_options, rng, true, &v);
    *out = v ? &v->base : NULL;
    return st;
}

static const struct gw_option option_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct ae_options, reconstruction, "Model ae"),
};

const struct gw_model_entry gw_model_ae = {
    .name = "ae",
    .summary = "plain autoencoder: deterministic encoder, reconstruction only",
    .options = option_rows,
    .n_options = 1,
    .options_size = sizeof(struct ae_options),
    .defaults = ae_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_recon,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
