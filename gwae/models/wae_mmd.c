/* wae_mmd.c - the WAE with the MMD penalty in the official framework's InfoVAE form (vaetc's
 * `wae`, MMDVAE): reconstruction + (1 - alpha) KL + (alpha + lambda - 1) MMD(z_p, z) between
 * the batch's codes z ~ q(z|x) and as many draws z_p ~ N(0, I), with the biased estimator
 * (diagonals included) and the RBF kernel of vaetc or an inverse multiquadric one. */
#include <string.h>

#include "vae_family.h"

enum { T_LOSS, T_REC, T_KL, T_MMD, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_KL] = {"loss_kl", "kl"},
    [T_MMD] = {"loss_mmd", "mmd"},
};

struct wae_options {
    char reconstruction[GW_RECON_NAME_MAX];
    float alpha, lambda;
    char kernel[8]; /* "rbf" or "imq" */
};

static const char *const kernels[] = {"rbf", "imq", NULL};

static void wae_defaults(void *options) {
    *(struct wae_options *)options = (struct wae_options){
        .reconstruction = "gaussian", .alpha = 0.9f, .lambda = 100.0f, .kernel = "rbf"};
}

/* k(a_i, b_j) [B, B'] for a [B, L], b [B', L] */
static struct tn_tensor *kernel_matrix(struct tn_tensor *a, struct tn_tensor *b,
                                       enum gw_mmd_kernel kernel) {
    int64_t l = a->shape[1], ai[3] = {a->shape[0], 1, l}, bj[3] = {1, b->shape[0], l};
    struct tn_tensor *sq = ag_sum(ag_square(ag_sub(ag_reshape(a, 3, ai), ag_reshape(b, 3, bj))),
                                  AG_AXIS(2), false);
    if (kernel == GW_MMD_RBF) return ag_exp(ag_mul_scalar(sq, -1.0f / (float)(l * l)));
    float c = 2.0f * (float)l;
    return ag_rdiv_scalar(c, ag_add_scalar(sq, c));
}

struct tn_tensor *gw_mmd(struct tn_tensor *x, struct tn_tensor *y, enum gw_mmd_kernel kernel) {
    struct tn_tensor *xx = ag_mean_all(kernel_matrix(x, x, kernel));
    struct tn_tensor *yy = ag_mean_all(kernel_matrix(y, y, kernel));
    struct tn_tensor *xy = ag_mean_all(kernel_matrix(x, y, kernel));
    return ag_sub(ag_add(xx, yy), ag_mul_scalar(xy, 2.0f));
}

static struct tn_tensor *wae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                  struct gw_terms *t) {
    const struct wae_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *rec = ag_mean_all(gw_vae_recon_per_image((struct gw_vae_base *)m, x, z));
    struct tn_tensor *kl = ag_mean_all(gw_kl_normal_per_image(mu, logvar));
    struct tn_tensor *zp = gw_model_sample(m, x->shape[0], rng);
    enum gw_mmd_kernel k = strcmp(o->kernel, "imq") == 0 ? GW_MMD_IMQ : GW_MMD_RBF;
    struct tn_tensor *mmd = gw_mmd(zp, z, k);
    struct tn_tensor *loss = ag_add(ag_add(rec, ag_mul_scalar(kl, 1.0f - o->alpha)),
                                    ag_mul_scalar(mmd, o->alpha + o->lambda - 1.0f));
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_KL, kl);
    gw_terms_put(t, T_MMD, mmd);
    return loss;
}

static const struct gw_model_ops wae_ops = {
    .loss = wae_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_recon_error,
};

extern const struct gw_model_entry gw_model_wae_mmd;

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct wae_options *o = options;
    if (strcmp(o->kernel, "rbf") != 0 && strcmp(o->kernel, "imq") != 0)
        return tn_error(TN_ERR_INVALID, "unknown MMD kernel '%s' (rbf or imq)", o->kernel);
    struct gw_vae_base *v;
    enum tn_status st = gw_vae_model_new(sizeof *v, &gw_model_wae_mmd, &wae_ops, common, options,
                                         true, o->reconstruction, prior_options, rng, true, &v);
    *out = v ? &v->base : NULL;
    return st;
}

#define O(field) GW_FIELD(struct wae_options, field)

static const struct gw_option option_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct wae_options, reconstruction, "Model wae-mmd"),
    {"alpha", GW_OPT_FLOAT, O(alpha), 0, 1, NULL, GW_OPT_FIXED, "Model wae-mmd", "X",
     "InfoVAE alpha: the KL weighs 1 - alpha", "official 0.9: settings/wae.yaml alpha"},
    {"lambda", GW_OPT_FLOAT, O(lambda), 0, 1e6, NULL, GW_OPT_FIXED, "Model wae-mmd", "X",
     "InfoVAE lambda: the MMD weighs alpha + lambda - 1", "official 100: settings/wae.yaml lambda"},
    {"kernel", GW_OPT_STRING, O(kernel), 1, 0, kernels, GW_OPT_FIXED, "Model wae-mmd", "NAME",
     "rbf: exp(-|a-b|^2 / L^2) as vaetc; imq: 2L / (2L + |a-b|^2)", "official rbf: vaetc models/infovae.py"},
};

const struct gw_model_entry gw_model_wae_mmd = {
    .name = "wae-mmd",
    .summary = "WAE-MMD (InfoVAE form): reconstruction + (1 - alpha) KL + (alpha + lambda - 1) MMD",
    .options = option_rows,
    .n_options = 4,
    .options_size = sizeof(struct wae_options),
    .defaults = wae_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_recon,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
