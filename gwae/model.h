/* model.h - the GWAE model: encoder, decoder, critic, prior and the scale C; its losses
 * and the alternating main/critic optimisation of the official code (docs/gwae.md).
 *
 * Shapes: images x [B, 3, S, S] in [0, 1] with S = 64 (four conv stages, as the official
 * code) or 32 (three); latents [B, L]. Everything here is written with the engine's ops;
 * the only hand-written gradient in the model is none.
 */
#ifndef GW_MODEL_H
#define GW_MODEL_H

#include "gwae/priors/prior.h"
#include "nn/nn_optim.h"

/* Every setting of a model and of its training; gw_config_defaults gives the official ones. */
struct gw_config {
    int image_size;          /* S: 64 or 32 */
    int channels;            /* image channels: 3 */
    int64_t latent;          /* L */
    float width;             /* multiplies every hidden width (1 = the official networks) */
    char prior[32];          /* registry name: gaussian, np, fnp, gmp */
    int components;          /* GMP: K */
    bool gmp_paper;          /* GMP: the paper's variant (trainable weights, full covariances) */
    bool latent_bn;          /* the encoder-output batch norm of the paper's eq. 53 */
    bool zero_padding;       /* encoder convs pad with zeros instead of replicating borders */
    float lambda_w, lambda_d, lambda_h; /* weights of L_W, L_D, R_H */
    float lambda_gp;         /* gradient penalty weight (10) */
    float drift;             /* weight of the drift terms E[f^2] inside the penalty (1e-4) */
    float c_init;            /* initial C (2.5) */
    double lr, lr_critic;    /* RMSprop learning rates (1e-4 each, the official settings) */
    int n_critic;            /* critic steps per main step (5) */
    int sn_iterations;       /* spectral-norm power iterations per critic forward (1) */
    int warmup_steps;        /* learning rates rise linearly over this many iterations (0) */
    int batch;               /* B (64) */
};

/* The official settings (settings/gwae.yaml with L = 16) at image size 64. */
struct gw_config gw_config_defaults(void);

/* Checks the settings a user can get wrong; TN_ERR_INVALID with the reason. */
enum tn_status gw_config_check(const struct gw_config *cfg);

struct gw_model {
    struct nn_module base;        /* children "encoder", "decoder", "critic", "prior"; param "log_c" */
    struct gw_config cfg;
    struct nn_module *encoder;    /* children "trunk", "fc", "fc_logvar" */
    struct nn_module *encoder_trunk; /* convs + linear + SiLU, [B,3,S,S] -> [B,H] */
    struct nn_linear *head_mu, *head_logvar; /* [B,H] -> [B,L] */
    struct nn_module *decoder;    /* [B,L] -> [B,3,S,S] in (0,1) */
    struct nn_module *critic_x;   /* [B,3,S,S] -> [B,64] (children of critic) */
    struct nn_module *critic_z;   /* [B,L] -> [B,64] */
    struct nn_module *critic_stem; /* [B,128] -> [B,1] */
    struct nn_module *critic;     /* the parent of the three critic parts */
    struct gw_prior *prior;
    struct tn_tensor *log_c;      /* 0-dim, log C */
    struct tn_tensor *latent_bn_mean, *latent_bn_logvar; /* eq. 53 running statistics [L] */
    struct nn_optim *opt_main, *opt_critic;
};

/* Builds the model of cfg with its optimizers, drawing every initial value from rng. */
enum tn_status gw_model_new(const struct gw_config *cfg, struct tn_rng *rng, struct gw_model **out);

/* Moves every parameter, buffer and optimizer state of the model to device, in place, and
 * makes later draws (reparameterisation, prior and penalty noise) happen there. Build on the
 * CPU and move: the initial values are then the same on every device. TN_ERR_OOM when the
 * device has no room (the model may then be split between devices: move it back or free it). */
enum tn_status gw_model_to_device(struct gw_model *m, struct tn_device device);

/* The device the model lives on (the CPU until gw_model_to_device). */
struct tn_device gw_model_device(const struct gw_model *m);

/* Frees the model, its optimizers and modules. */
void gw_model_free(struct gw_model *m);

/* Encoder: mu and log variance [B, L] of q(z|x) for images x in [0, 1]. */
void gw_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
               struct tn_tensor **logvar);

/* A reparameterised sample z = mu + exp(logvar / 2) * eps. */
struct tn_tensor *gw_reparameterize(struct tn_tensor *mu, struct tn_tensor *logvar,
                                    struct tn_rng *rng);

/* Decoder: images [B, 3, S, S] in (0, 1). */
struct tn_tensor *gw_decode(struct gw_model *m, struct tn_tensor *z);

/* Critic f(x, z): [B, 1]. */
struct tn_tensor *gw_critic(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *z);

/* L_GW = mean_ij |(C/s) ||zs_i - zs_j|| - ||xs_i - xs_j|||, s = max(mean_l std_b zs, 1e-8),
 * C = exp(log_c); zs [B, L], xs [B, ...]; all B^2 ordered pairs, the diagonal included. */
struct tn_tensor *gw_loss_gw(struct tn_tensor *zs, struct tn_tensor *xs, struct tn_tensor *log_c);

/* L_W = mean_b 0.5 sum_pixels (x - xh)^2. */
struct tn_tensor *gw_loss_w(struct tn_tensor *x, struct tn_tensor *xh);

/* R_H = -mean_b sum_l logvar (the official entropy term: no 0.5, no constants). */
struct tn_tensor *gw_loss_h(struct tn_tensor *logvar);

/* GP = mean_b (||(g_x,b, g_z,b)|| - 1)^2 over the joint input gradient of the critic. */
struct tn_tensor *gw_loss_penalty(struct tn_tensor *g_x, struct tn_tensor *g_z);

/* The terms one step logs (as the official step_batch names them). */
struct gw_losses {
    double loss;           /* L_GW + lw L_W + lh R_H + ld L_D */
    double loss_gw, loss_w, loss_d, loss_h;
    double loss_disc, loss_logits, loss_gp; /* last critic step */
    double c;              /* exp(log C) */
    double f_q, f_p;       /* mean critic values of the inference and generative pairs */
};

/* The main loss on batch x (all terms, graph recorded); writes the term values. */
struct tn_tensor *gw_main_loss(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                               struct gw_losses *terms);

/* One critic loss on batch x with fresh latent draws: logits + lambda_gp (GP + drift).
 * The penalty is a double backward through the critic. mu, logvar: the encoder's output. */
struct tn_tensor *gw_critic_loss(struct gw_model *m, struct tn_tensor *x, struct tn_tensor *mu,
                                 struct tn_tensor *logvar, struct tn_rng *rng,
                                 struct gw_losses *terms);

/* The main step: the main loss on batch x, backward, one RMSprop step of the encoder, decoder,
 * prior and log C (the critic's weights get no gradient). */
void gw_main_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng, struct gw_losses *terms);

/* n_critic critic steps on batch x, each with fresh latent draws. */
void gw_critic_steps(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                     struct gw_losses *terms);

/* Sets both optimizers' learning rates for training iteration `step` (1-based): cfg.lr and
 * cfg.lr_critic times min(1, step / cfg.warmup_steps), or the plain rates without warm-up. */
void gw_set_iteration_lr(struct gw_model *m, int64_t step);

/* One training iteration: gw_main_step, then gw_critic_steps (the official order). */
void gw_train_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                   struct gw_losses *terms);

/* The main loss in evaluation mode (no parameter changes) on batch x, for validation. */
void gw_eval_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                  struct gw_losses *terms);

#endif
