/* gmg_encoder.c - the decoder-free model of the Gromov-Monge gap paper's last claim: an encoder
 * trained without any reconstruction, by prior matching and geometry preservation only,
 *   loss = beta KL(q(z|x) || N(0, I)) + lambda GMG(x -> mu)      (gmg.h; beta 0: GMG alone).
 * The paper's abstract says the model becomes decoder-free; summaries of the paper say the
 * encoder keeps its prior matching (seed-systems.md 2.5, [R]), the issue reads "trained by
 * GMG alone": beta keeps both readings, prior matching (beta 1) being the default because it
 * is the more specific account and keeps the codes' scale bounded under the scale-free costs.
 *
 * A decoder is kept as a probe only: it is trained on the detached codes with the Gaussian
 * reconstruction term, so no gradient of it reaches the encoder, and it lets the tool measure
 * what the codes keep (PSNR, Frechet distances, samples) with no change to the interface. The
 * logged loss is the encoder's objective; the probe's term is loss_rec, and the step descends
 * on both at once (their parameters are disjoint).
 */
#include <stdlib.h>
#include <string.h>

#include "gmg.h"

enum { T_LOSS, T_KL, T_REC, T_GMG, T_GMG_DST, T_GMG_GW, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_KL] = {"loss_kl", "kl"}, [T_REC] = {"loss_rec", "probe"},
    GW_GMG_TERMS,
};

struct gmge_options {
    float beta; /* weight of the KL term (0: GMG alone) */
    struct gw_gmg_options gmg;
};

static void gmge_defaults(void *options) {
    struct gw_gmg_options g = gw_gmg_defaults();
    g.lambda = 1.0f;
    snprintf(g.map, sizeof g.map, "encoder");
    *(struct gmge_options *)options = (struct gmge_options){.beta = 1.0f, .gmg = g};
}

static struct tn_tensor *gmge_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                   struct gw_terms *t) {
    const struct gmge_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *kl = ag_mean_all(gw_kl_normal_per_image(mu, logvar));
    struct tn_tensor *loss = ag_mul_scalar(kl, o->beta);
    loss = gw_gmg_add(&o->gmg, loss, x, mu, NULL, NULL, t, T_GMG);
    struct tn_tensor *z = ag_detach(gw_reparameterize(mu, logvar, rng));
    struct tn_tensor *probe = ag_mean_all(gw_vae_recon_per_image((struct gw_vae_base *)m, x, z));
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_KL, kl);
    gw_terms_put(t, T_REC, probe);
    return ag_add(loss, probe);
}

static const struct gw_model_ops gmge_ops = {
    .loss = gmge_loss, .encode = gw_vae_encode, .decode = gw_vae_decode,
    .ood_score = gw_vae_ood_recon_error,
};

extern const struct gw_model_entry gw_model_gmg_encoder;

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct gmge_options *o = options;
    enum tn_status st = gw_gmg_check(&o->gmg);
    if (st != TN_OK) return st;
    TN_CHECK(strcmp(o->gmg.map, "encoder") == 0, "gmg-encoder", "map %s", o->gmg.map);
    if (o->gmg.lambda == 0.0f && o->beta == 0.0f)
        return tn_error(TN_ERR_INVALID, "gmg-encoder with --gmg 0 and --beta 0 has no objective");
    struct gw_vae_base *v;
    st = gw_vae_model_new(sizeof *v, &gw_model_gmg_encoder, &gmge_ops, common, options, true,
                          "gaussian", prior_options, rng, true, &v);
    *out = v ? &v->base : NULL;
    return st;
}

static const struct gw_option option_rows[] = {
    {"beta", GW_OPT_FLOAT, GW_FIELD(struct gmge_options, beta), 0, 1e6, NULL, GW_OPT_FIXED,
     "Model gmg-encoder", "X", "weight of the KL term (prior matching; 0: GMG alone)",
     "prior matching + GMG per summaries of the paper (seed-systems 2.5, [R])"},
    GW_GMG_OPTION_ROWS(struct gmge_options, gmg, "Model gmg-encoder",
                       "1: with the KL term, the model's objective (no published weight, [?])"),
};

const struct gw_model_entry gw_model_gmg_encoder = {
    .name = "gmg-encoder",
    .summary = "decoder-free: beta KL + lambda GMG of the encoder (a probe decodes frozen codes)",
    .options = option_rows,
    .n_options = (int)(sizeof option_rows / sizeof option_rows[0]),
    .options_size = sizeof(struct gmge_options),
    .defaults = gmge_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_recon,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
