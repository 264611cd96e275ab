/* vae_family.h - what the autoencoder baselines share (AE, VAE, beta-VAE, beta-TCVAE,
 * FactorVAE, WAE-MMD): the shared encoder and decoder with the fixed prior N(0, I), the
 * reconstruction term (Gaussian or Bernoulli), the KL term, their per-image forms for the
 * out-of-distribution scores, and the ops every baseline uses unchanged.
 *
 * The terms follow the official framework (vaetc, relatives-sources.md section 4.2):
 * Gaussian reconstruction 0.5 sum_pixels (x - x')^2 per image, KL(N(mu, sigma^2) || N(0, I)) =
 * 0.5 sum_l (mu^2 + sigma^2 - log sigma^2 - 1) per image, each averaged over the batch.
 * Bernoulli reconstruction: the binary cross-entropy sum_pixels softplus(l) - x l of the
 * decoder's logits l (its output before the sigmoid), averaged over the batch.
 */
#ifndef GW_MODELS_VAE_FAMILY_H
#define GW_MODELS_VAE_FAMILY_H

#include "gwae/model.h"
#include "gwae/nets.h"

#define GW_RECON_NAME_MAX 16

/* The reconstruction likelihoods a baseline can use ("gaussian", "bernoulli"). */
extern const char *const gw_reconstructions[];

/* The --reconstruction row of a baseline whose options struct `type` has char field[16]. */
#define GW_RECONSTRUCTION_OPTION(type, field, group)                                          \
    {"reconstruction", GW_OPT_STRING, GW_FIELD(type, field), 1, 0, gw_reconstructions,        \
     GW_OPT_FIXED, group, "NAME",                                                             \
     "gaussian: 0.5 sum (x - x')^2; bernoulli: cross-entropy of the decoder's logits",        \
     "official gaussian: vaetc neglogpxz_gaussian"}

/* A baseline: the shared networks and the fixed prior. Models embed it first. */
struct gw_vae_base {
    struct gw_model base;
    struct gw_encoder *encoder;    /* child "encoder" */
    struct nn_sequential *decoder; /* child "decoder" */
    bool bernoulli;                /* Bernoulli reconstruction instead of Gaussian */
};

/* Makes a baseline of size bytes (a struct that starts with struct gw_vae_base): the shared
 * part (gw_model_init), the encoder (gaussian: with its logvar head), the decoder and the
 * prior, and, with main_group, the main group (gw_vae_base_main_group). *out is the new model,
 * or NULL with the status of what failed (a bad reconstruction name, a prior). */
enum tn_status gw_vae_model_new(size_t size, const struct gw_model_entry *entry,
                                const struct gw_model_ops *ops, const struct gw_common *common,
                                const void *options, bool gaussian, const char *reconstruction,
                                const void *prior_options, struct tn_rng *rng, bool main_group,
                                struct gw_vae_base **out);

/* Builds the encoder (gaussian: with its logvar head), the decoder and the prior of v, in
 * that order of draws; reconstruction is the option's text. TN_ERR_INVALID on a bad name. */
enum tn_status gw_vae_base_build(struct gw_vae_base *v, bool gaussian, const char *reconstruction,
                                 const void *prior_options, struct tn_rng *rng);

/* Adds the main group: Adam (PyTorch's default betas, as vaetc) at common.lr over the
 * encoder and decoder. */
void gw_vae_base_main_group(struct gw_vae_base *v);

/* The shared ops: encode and decode through the shared networks. */
void gw_vae_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                   struct tn_tensor **logvar);
struct tn_tensor *gw_vae_decode(struct gw_model *m, struct tn_tensor *z);

/* Negative log-likelihood of x [B, C, S, S] under the decoding of z [B, L], per image [B]
 * (Gaussian: 0.5 sum (x - Dec(z))^2; Bernoulli: sum softplus(l) - x l, l the logits). */
struct tn_tensor *gw_vae_recon_per_image(struct gw_vae_base *v, struct tn_tensor *x,
                                         struct tn_tensor *z);

/* KL(N(mu, exp(logvar)) || N(0, I)) per image [B] for mu, logvar [B, L]. */
struct tn_tensor *gw_kl_normal_per_image(struct tn_tensor *mu, struct tn_tensor *logvar);

/* 0.5 sum (x - y)^2 per image [B] for x, y [B, ...]. */
struct tn_tensor *gw_gaussian_nll_per_image(struct tn_tensor *x, struct tn_tensor *y);

/* sum softplus(l) - x l per image [B] for targets x and logits l [B, ...]. */
struct tn_tensor *gw_bernoulli_nll_per_image(struct tn_tensor *x, struct tn_tensor *logits);

/* The names of the baselines' out-of-distribution scores. */
extern const char *const gw_vae_ood_elbo[];  /* {"neg-elbo"}: reconstruction + KL, z ~ q */
extern const char *const gw_vae_ood_recon[]; /* {"recon-error"}: reconstruction from mu */

/* The negative ELBO of each image with one draw z ~ q(z|x) (kind 0 of gw_vae_ood_elbo). */
struct tn_tensor *gw_vae_ood_neg_elbo(struct gw_model *m, struct tn_tensor *x, int kind,
                                      struct tn_rng *rng);

/* The reconstruction term of each image decoded from the mean code (gw_vae_ood_recon). */
struct tn_tensor *gw_vae_ood_recon_error(struct gw_model *m, struct tn_tensor *x, int kind,
                                         struct tn_rng *rng);

/* ---- terms defined in their model's file ---- */

/* beta_tcvae.c: the total correlation TC = mean_i [log q(z_i) - sum_k log q(z_ik)] of codes
 * z [B, L] drawn from q(z|x_j) = N(mu_j, exp(logvar_j)), with log q(z) estimated by
 * logsumexp_j log q(z | x_j) - log_norm (and each marginal likewise): log_norm = log(B N)
 * is minibatch-weighted sampling over a dataset of N, log B the plain full-batch estimate. */
struct tn_tensor *gw_total_correlation(struct tn_tensor *z, struct tn_tensor *mu,
                                       struct tn_tensor *logvar, double log_norm);

/* wae_mmd.c: the kernels of the MMD. */
enum gw_mmd_kernel {
    GW_MMD_RBF, /* exp(-||a - b||^2 / L^2): vaetc's exp(-mean_d (a - b)^2 / L) */
    GW_MMD_IMQ, /* C / (C + ||a - b||^2), C = 2L (Tolstikhin et al. for a unit prior) */
};

/* wae_mmd.c: the biased MMD^2 = mean k(x, x') + mean k(y, y') - 2 mean k(x, y) between two
 * sets of codes [B, L], the diagonals included (as vaetc). */
struct tn_tensor *gw_mmd(struct tn_tensor *x, struct tn_tensor *y, enum gw_mmd_kernel kernel);

/* factorvae.c: z [B, L] with each column permuted across the batch independently (one uniform
 * draw per element from rng, sorted along the batch), as vaetc's permute_dims. */
struct tn_tensor *gw_permute_dims(struct tn_tensor *z, struct tn_rng *rng);

/* The priors the baselines take: {"gaussian"}. */
extern const char *const gw_vae_priors[];

#endif
