/* vae.c - the VAE and the beta-VAE (vaetc's `vae` and `bvae`): the shared Gaussian encoder and
 * decoder with the prior N(0, I), and the loss reconstruction + beta KL, beta = 1 for the VAE.
 * One file for both: the beta-VAE is the VAE with its KL weighted, nothing else, except that
 * the beta-VAE takes the Gromov-Monge gap regulariser (--gmg, gmg.h). */

#include "gmg.h"

enum { T_LOSS, T_REC, T_KL, T_GMG, T_GMG_DST, T_GMG_GW, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_KL] = {"loss_kl", "kl"},
    GW_GMG_TERMS,
};

struct vae_options {
    char reconstruction[GW_RECON_NAME_MAX];
    float beta; /* the KL weight: 1 for the VAE */
    struct gw_gmg_options gmg; /* the Gromov-Monge gap (beta-vae's --gmg; off for the VAE) */
};

static void vae_defaults(void *options) {
    *(struct vae_options *)options =
        (struct vae_options){.reconstruction = "gaussian", .beta = 1, .gmg = gw_gmg_defaults()};
}

static void beta_vae_defaults(void *options) {
    *(struct vae_options *)options =
        (struct vae_options){.reconstruction = "gaussian", .beta = 0.1f, .gmg = gw_gmg_defaults()};
}

/* mean_b rec + beta mean_b KL (+ lambda GMG), z ~ q(z|x) reparameterised */
static struct tn_tensor *vae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                  struct gw_terms *t) {
    const struct vae_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *decoded;
    struct tn_tensor *rec =
        ag_mean_all(gw_gmg_recon((struct gw_vae_base *)m, &o->gmg, x, z, &decoded));
    struct tn_tensor *kl = ag_mean_all(gw_kl_normal_per_image(mu, logvar));
    struct tn_tensor *loss = ag_add(rec, ag_mul_scalar(kl, o->beta));
    loss = gw_gmg_add(&o->gmg, loss, x, mu, z, decoded, t, T_GMG);
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_KL, kl);
    return loss;
}

static const struct gw_model_ops vae_ops = {
    .loss = vae_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_neg_elbo,
};

static enum tn_status make_entry(const struct gw_model_entry *entry, const struct gw_common *common,
                                 const void *options, const void *prior_options,
                                 struct tn_rng *rng, struct gw_model **out) {
    const struct vae_options *o = options;
    enum tn_status st = gw_gmg_check(&o->gmg);
    if (st != TN_OK) return st;
    struct gw_vae_base *v;
    st = gw_vae_model_new(sizeof *v, entry, &vae_ops, common, options, true, o->reconstruction,
                          prior_options, rng, true, &v);
    *out = v ? &v->base : NULL;
    return st;
}

extern const struct gw_model_entry gw_model_vae, gw_model_beta_vae;

static enum tn_status make_vae(const struct gw_common *common, const void *options,
                               const void *prior_options, struct tn_rng *rng,
                               struct gw_model **out) {
    return make_entry(&gw_model_vae, common, options, prior_options, rng, out);
}

static enum tn_status make_beta_vae(const struct gw_common *common, const void *options,
                                    const void *prior_options, struct tn_rng *rng,
                                    struct gw_model **out) {
    return make_entry(&gw_model_beta_vae, common, options, prior_options, rng, out);
}

static const struct gw_option vae_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct vae_options, reconstruction, "Model vae"),
};

static const struct gw_option beta_vae_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct vae_options, reconstruction, "Model beta-vae"),
    {"beta", GW_OPT_FLOAT, GW_FIELD(struct vae_options, beta), 0, 1e6, NULL, GW_OPT_FIXED,
     "Model beta-vae", "X", "weight of the KL term", "official 0.1: settings/bvae.yaml beta"},
    GW_GMG_OPTION_ROWS(struct vae_options, gmg, "Model beta-vae", GW_GMG_LAMBDA_SOURCE),
    GW_GMG_MAP_ROW(struct vae_options, gmg, "Model beta-vae"),
};

const struct gw_model_entry gw_model_vae = {
    .name = "vae",
    .summary = "VAE: Gaussian encoder, reconstruction + KL to N(0, I)",
    .options = vae_rows,
    .n_options = 1,
    .options_size = sizeof(struct vae_options),
    .defaults = vae_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_elbo,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make_vae,
};

const struct gw_model_entry gw_model_beta_vae = {
    .name = "beta-vae",
    .summary = "beta-VAE: reconstruction + beta KL",
    .options = beta_vae_rows,
    .n_options = (int)(sizeof beta_vae_rows / sizeof beta_vae_rows[0]),
    .options_size = sizeof(struct vae_options),
    .defaults = beta_vae_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_elbo,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make_beta_vae,
};
