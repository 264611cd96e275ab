/* beta_tcvae.c - the beta-TCVAE (Chen et al. 2018) in the official framework's form (vaetc's
 * `btcvae`): reconstruction + KL + (beta - 1) TC, the analytic KL to N(0, I) and the total
 * correlation TC of the batch's codes. TC's log-densities are estimated on the batch by
 * minibatch-weighted sampling (Chen et al., the default: log q(z) ~ logsumexp_j log q(z|x_j) -
 * log(B N), N the training images) or by the framework's plain full-batch estimate (- log B;
 * vaetc also drops that constant). The two differ by the constant (L - 1) log N in the TC value
 * and give the same gradients; docs/models.md says so. The Gromov-Monge gap regulariser
 * (--gmg, gmg.h) can be added. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gmg.h"

enum { T_LOSS, T_REC, T_KL, T_TC, T_GMG, T_GMG_DST, T_GMG_GW, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_KL] = {"loss_kl", "kl"},
    [T_TC] = {"loss_tc", "tc"}, GW_GMG_TERMS,
};

struct btc_options {
    char reconstruction[GW_RECON_NAME_MAX];
    float beta;
    char estimator[16]; /* "mws" or "full-batch" */
    struct gw_gmg_options gmg; /* the Gromov-Monge gap regulariser (--gmg) */
};

static const char *const estimators[] = {"mws", "full-batch", NULL};

static void btc_defaults(void *options) {
    *(struct btc_options *)options =
        (struct btc_options){.reconstruction = "gaussian", .beta = 2.0f, .estimator = "mws",
                             .gmg = gw_gmg_defaults()};
}

struct tn_tensor *gw_total_correlation(struct tn_tensor *z, struct tn_tensor *mu,
                                       struct tn_tensor *logvar, double log_norm) {
    int64_t b = z->shape[0], l = z->shape[1];
    int64_t zi[3] = {b, 1, l}, mj[3] = {1, b, l};
    /* log N(z_ik; mu_jk, exp(logvar_jk)) [B, B, L], i the code and j the component */
    struct tn_tensor *lv = ag_reshape(logvar, 3, mj);
    struct tn_tensor *d = ag_sub(ag_reshape(z, 3, zi), ag_reshape(mu, 3, mj));
    const float log_2pi = 1.8378770664093453f;
    struct tn_tensor *lq = ag_mul_scalar(
        ag_add_scalar(ag_add(ag_mul(ag_square(d), ag_exp(ag_neg(lv))), lv), log_2pi), -0.5f);
    struct tn_tensor *log_qz = ag_logsumexp(ag_sum(lq, AG_AXIS(2), false), AG_AXIS(1), false);
    struct tn_tensor *log_marginals = ag_sum(ag_logsumexp(lq, AG_AXIS(1), false), AG_AXIS(1), false);
    /* the -log_norm of each of the L marginals and of the joint: (L - 1) log_norm per code */
    return ag_add_scalar(ag_mean_all(ag_sub(log_qz, log_marginals)), (float)((double)(l - 1) * log_norm));
}

static struct tn_tensor *btc_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                  struct gw_terms *t) {
    const struct btc_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *decoded;
    struct tn_tensor *rec =
        ag_mean_all(gw_gmg_recon((struct gw_vae_base *)m, &o->gmg, x, z, &decoded));
    struct tn_tensor *kl = ag_mean_all(gw_kl_normal_per_image(mu, logvar));
    double b = (double)x->shape[0], n = (double)m->common.train_size;
    bool mws = strcmp(o->estimator, "mws") == 0;
    double log_norm = log(mws && n > b ? b * n : b);
    struct tn_tensor *tc = gw_total_correlation(z, mu, logvar, log_norm);
    struct tn_tensor *loss = ag_add(ag_add(rec, kl), ag_mul_scalar(tc, o->beta - 1.0f));
    loss = gw_gmg_add(&o->gmg, loss, x, mu, z, decoded, t, T_GMG);
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_KL, kl);
    gw_terms_put(t, T_TC, tc);
    return loss;
}

static const struct gw_model_ops btc_ops = {
    .loss = btc_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_neg_elbo,
};

extern const struct gw_model_entry gw_model_beta_tcvae;

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct btc_options *o = options;
    if (strcmp(o->estimator, "mws") != 0 && strcmp(o->estimator, "full-batch") != 0)
        return tn_error(TN_ERR_INVALID, "unknown TC estimator '%s' (mws or full-batch)", o->estimator);
    enum tn_status st = gw_gmg_check(&o->gmg);
    if (st != TN_OK) return st;
    struct gw_vae_base *v;
    st = gw_vae_model_new(sizeof *v, &gw_model_beta_tcvae, &btc_ops, common, options, true,
                          o->reconstruction, prior_options, rng, true, &v);
    *out = v ? &v->base : NULL;
    return st;
}

#define O(field) GW_FIELD(struct btc_options, field)

static const struct gw_option option_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct btc_options, reconstruction, "Model beta-tcvae"),
    {"beta", GW_OPT_FLOAT, O(beta), 0, 1e6, NULL, GW_OPT_FIXED, "Model beta-tcvae", "X",
     "weight of the total correlation (the loss has (beta - 1) TC)",
     "official 2: settings/btcvae.yaml beta"},
    {"tc-estimator", GW_OPT_STRING, O(estimator), 1, 0, estimators, GW_OPT_FIXED,
     "Model beta-tcvae", "NAME",
     "mws: minibatch-weighted sampling (Chen et al.); full-batch: the official framework's",
     "mws: Chen et al. 2018 (vaetc: full-batch)"},
    GW_GMG_OPTION_ROWS(struct btc_options, gmg, "Model beta-tcvae", GW_GMG_LAMBDA_SOURCE),
    GW_GMG_MAP_ROW(struct btc_options, gmg, "Model beta-tcvae"),
};

const struct gw_model_entry gw_model_beta_tcvae = {
    .name = "beta-tcvae",
    .summary = "beta-TCVAE: reconstruction + KL + (beta - 1) total correlation",
    .options = option_rows,
    .n_options = (int)(sizeof option_rows / sizeof option_rows[0]),
    .options_size = sizeof(struct btc_options),
    .defaults = btc_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_elbo,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
