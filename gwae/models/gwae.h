/* gwae.h - the GWAE model's options and the loss terms its file builds it from, for the
 * tests and for readers who want each formula by itself (gwae.c has the model; docs/gwae.md
 * says what each term computes and where it follows the official code or the paper).
 */
#ifndef GW_MODELS_GWAE_H
#define GW_MODELS_GWAE_H

#include "gwae/model.h"

/* GWAE's own settings (the official values: gw_model_gwae.defaults). */
struct gwae_options {
    bool latent_bn;          /* the encoder-output batch norm of the paper's eq. 53 */
    float c_init;            /* initial C (2.5) */
    float lambda_w, lambda_d, lambda_h; /* weights of L_W, L_D, R_H */
    float lambda_gp;         /* gradient penalty weight (10) */
    float drift;             /* weight of the drift terms E[f^2] inside the penalty (1e-4) */
    double lr_critic;        /* RMSprop learning rate of the critic (1e-4) */
    int n_critic;            /* critic steps per main step (5) */
    int sn_iterations;       /* spectral-norm power iterations per critic forward (1) */
};

extern const struct gw_model_entry gw_model_gwae;

/* L_GW = mean_ij |(C/s) ||zs_i - zs_j|| - ||xs_i - xs_j|||, s = max(mean_l std_b zs, 1e-8),
 * C = exp(log_c); zs [B, L], xs [B, ...]; all B^2 ordered pairs, the diagonal included. */
struct tn_tensor *gwae_loss_gw(struct tn_tensor *zs, struct tn_tensor *xs, struct tn_tensor *log_c);

/* L_W = mean_b 0.5 sum_pixels (x - xh)^2. */
struct tn_tensor *gwae_loss_w(struct tn_tensor *x, struct tn_tensor *xh);

/* R_H = -mean_b sum_l logvar (the official entropy term: no 0.5, no constants). */
struct tn_tensor *gwae_loss_h(struct tn_tensor *logvar);

/* GP = mean_b (||(g_x,b, g_z,b)|| - 1)^2 over the joint input gradient of the critic. */
struct tn_tensor *gwae_loss_penalty(struct tn_tensor *g_x, struct tn_tensor *g_z);

/* The critic f(x, z) of a GWAE model: [B, 1]. */
struct tn_tensor *gwae_critic(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *z);

/* One critic loss on batch x with fresh latent draws: logits + lambda_gp (GP + drift), the
 * penalty a double backward through the critic; mu, logvar: the encoder's output. */
struct tn_tensor *gwae_critic_loss(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *mu,
                                   struct tn_tensor *logvar, struct tn_rng *rng,
                                   struct gw_terms *t);

#endif
