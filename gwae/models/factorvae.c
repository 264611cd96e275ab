/* factorvae.c - FactorVAE (Kim and Mnih 2018) as the official framework trains it (vaetc's
 * `factorvae`): the VAE loss plus gamma times the discriminator's estimate of the total
 * correlation, mean(log D_0(z) - log D_1(z)), and one discriminator step per iteration that
 * tells the batch's codes z (class 0) from the same codes with each dimension permuted across
 * the batch (class 1), on the z of the main step, detached, as vaetc does.
 * Discriminator: MLP L -> 1000 (x5, LeakyReLU 0.2) -> 2, log-softmax; Adam lr_disc with betas
 * (0.5, 0.9). The main step keeps its z (a kept reference) for the discriminator step.
 */
#include <stdlib.h>

#include "vae_family.h"

enum { T_LOSS, T_REC, T_KL, T_TC, T_DISC, N_TERMS };

static const struct gw_term_info terms[N_TERMS] = {
    [T_LOSS] = {"loss", "loss"}, [T_REC] = {"loss_rec", "rec"}, [T_KL] = {"loss_kl", "kl"},
    [T_TC] = {"loss_tc", "tc"},  [T_DISC] = {"loss_disc", "disc"},
};

struct factorvae_options {
    char reconstruction[GW_RECON_NAME_MAX];
    float gamma;
    double lr_disc;
};

struct factorvae {
    struct gw_vae_base base;
    struct nn_sequential *disc;  /* child "discriminator": [B, L] -> [B, 2] logits */
    struct tn_tensor *z_last;    /* the codes of the last main loss, detached (kept) */
};

static void factorvae_defaults(void *options) {
    *(struct factorvae_options *)options = (struct factorvae_options){
        .reconstruction = "gaussian", .gamma = 0.1f, .lr_disc = 1e-3};
}

struct tn_tensor *gw_permute_dims(struct tn_tensor *z, struct tn_rng *rng) {
    struct tn_tensor *u = tn_rand_uniform(z->storage->device, z->ndim, z->shape, rng, 0.0f, 1.0f);
    return ag_gather(z, 0, ag_argsort(u, 0, false));
}

/* log-softmax of the discriminator's logits: [B, 2] */
static struct tn_tensor *log_probs(struct factorvae *f, struct tn_tensor *z) {
    struct tn_tensor *logits = nn_sequential_forward(f->disc, z);
    return ag_sub(logits, ag_logsumexp(logits, AG_AXIS(1), true));
}

/* column c of lp [B, 2] as [B] */
static struct tn_tensor *column(struct tn_tensor *lp, int c) {
    return ag_squeeze(ag_slice(lp, 1, c, 1), 1);
}

static struct tn_tensor *factorvae_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                                        struct gw_terms *t) {
    struct factorvae *f = (struct factorvae *)m;
    const struct factorvae_options *o = m->options;
    struct tn_tensor *mu, *logvar;
    gw_vae_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
    struct tn_tensor *rec = ag_mean_all(gw_vae_recon_per_image(&f->base, x, z));
    struct tn_tensor *kl = ag_mean_all(gw_kl_normal_per_image(mu, logvar));
    struct tn_tensor *lp = log_probs(f, z);
    struct tn_tensor *tc = ag_mean_all(ag_sub(column(lp, 0), column(lp, 1)));
    struct tn_tensor *loss = ag_add(ag_add(rec, kl), ag_mul_scalar(tc, o->gamma));
    tn_release(f->z_last);
    f->z_last = tn_keep(ag_detach(z));
    gw_terms_put(t, T_LOSS, loss);
    gw_terms_put(t, T_REC, rec);
    gw_terms_put(t, T_KL, kl);
    gw_terms_put(t, T_TC, tc);
    return loss;
}

/* one step: -mean(log D_1(perm z) + log D_0(z)) on the main step's codes */
static void discriminator_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                               struct gw_terms *t) {
    (void)x;
    struct factorvae *f = (struct factorvae *)m;
    struct tn_tensor *z = f->z_last;
    struct tn_tensor *fake = log_probs(f, z), *real = log_probs(f, gw_permute_dims(z, rng));
    struct tn_tensor *loss = ag_neg(ag_mean_all(ag_add(column(real, 1), column(fake, 0))));
    gw_terms_put(t, T_DISC, loss);
    gw_model_group_step(m, 1, loss);
}

static const struct gw_model_ops factorvae_ops = {
    .loss = factorvae_loss, .adversary = discriminator_step, .encode = gw_vae_encode,
    .decode = gw_vae_decode, .ood_score = gw_vae_ood_neg_elbo,
};

static void factorvae_free(struct nn_module *base) {
    tn_release(((struct factorvae *)base)->z_last);
}

extern const struct gw_model_entry gw_model_factorvae;

static enum tn_status make(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out) {
    const struct factorvae_options *o = options;
    struct gw_vae_base *v;
    enum tn_status st = gw_vae_model_new(sizeof(struct factorvae), &gw_model_factorvae,
                                         &factorvae_ops, common, options, true, o->reconstruction,
                                         prior_options, rng, false, &v);
    if (st != TN_OK) return st;
    struct factorvae *f = (struct factorvae *)v;
    f->base.base.base.free_impl = factorvae_free;
    f->disc = nn_sequential_new("discriminator");
    int64_t in = common->latent;
    for (int i = 0; i < 5; i++) {
        nn_sequential_add(f->disc, &nn_linear_new("", in, 1000, true, rng)->base);
        nn_sequential_add(f->disc, &nn_leaky_relu_new("", 0.2f)->base);
        in = 1000;
    }
    nn_sequential_add(f->disc, &nn_linear_new("", in, 2, true, rng)->base);
    nn_module_add_child(&f->base.base.base, &f->disc->base);
    gw_vae_base_main_group(&f->base);
    struct nn_module *disc = &f->disc->base;
    struct nn_entry_list list = {0};
    gw_model_collect(&disc, 1, &list);
    struct nn_optim_opts adam = nn_optim_defaults(NN_OPTIM_ADAM, o->lr_disc);
    adam.beta1 = 0.5;
    adam.beta2 = 0.9;
    gw_model_add_group(&f->base.base, "discriminator", disc, &adam, list.n, list.items);
    nn_entry_list_free(&list);
    *out = &f->base.base;
    return TN_OK;
}

#define O(field) GW_FIELD(struct factorvae_options, field)

static const struct gw_option option_rows[] = {
    GW_RECONSTRUCTION_OPTION(struct factorvae_options, reconstruction, "Model factorvae"),
    {"gamma", GW_OPT_FLOAT, O(gamma), 0, 1e6, NULL, GW_OPT_FIXED, "Model factorvae", "X",
     "weight of the discriminator's total-correlation term",
     "official 0.1: settings/factorvae.yaml gamma"},
    {"lr-disc", GW_OPT_DOUBLE, O(lr_disc), 1e-12, 10, NULL, GW_OPT_FIXED, "Model factorvae", "X",
     "Adam learning rate of the discriminator (betas 0.5, 0.9)",
     "official 1e-3: settings/factorvae.yaml lr_disc"},
};

const struct gw_model_entry gw_model_factorvae = {
    .name = "factorvae",
    .summary = "FactorVAE: VAE + gamma TC estimated by a discriminator on permuted codes",
    .options = option_rows,
    .n_options = 3,
    .options_size = sizeof(struct factorvae_options),
    .defaults = factorvae_defaults,
    .priors = gw_vae_priors,
    .ood_scores = gw_vae_ood_elbo,
    .terms = terms,
    .n_terms = N_TERMS,
    .make = make,
};
