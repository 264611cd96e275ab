/* model.h - the model interface: what every autoencoder of the family (GWAE, the VAE family,
 * WAE, ...) gives the training loop, the evaluation and the tool, and the model registry.
 *
 * A model is a module tree (its networks, its prior and any extra parameters) plus:
 *   - parameter groups, each with its own optimizer and learning rate: groups[0] ("main") is
 *     trained by the main loss; any further group belongs to an adversary (GWAE's critic,
 *     FactorVAE's discriminator), whose module gets no gradient from the main loss;
 *   - ops: the main loss with its named terms, the adversary's steps (optional), encode
 *     (mean and log variance of q(z|x); no log variance for a deterministic encoder), decode,
 *     draws from its prior, an out-of-distribution score where it has one, and initial values
 *     taken from the training images where it wants them (SWAE's pseudo-inputs).
 * The main step, the learning-rate warm-up, validation and every measurement are written once
 * here and in the tool against these ops, never per model. Shapes: images x [B, C, S, S] in
 * [0, 1], codes [B, L]. To add a model: one file in gwae/models/ that fills a struct
 * gw_model_entry, and one line in the table of gwae/models/registry.c (docs/models.md).
 */
#ifndef GW_MODEL_H
#define GW_MODEL_H

#include "gwae/option.h"
#include "gwae/priors/prior.h"
#include "gwae/terms.h"
#include "nn/nn_optim.h"

/* The settings every model shares: the data shape, the networks' size and the main
 * optimisation. Models keep their other settings in structs of their own. */
struct gw_common {
    char model[32];     /* registry name: gwae, vae, ... */
    char prior[32];     /* prior registry name (the models that draw from N(0, I) take "gaussian") */
    int image_size;     /* S: 64 (four conv stages, as the official code) or 32 (three) */
    int channels;       /* C: 3 */
    int64_t latent;     /* L */
    float width;        /* multiplies every hidden width (1 = the official networks) */
    bool zero_padding;  /* encoder convs pad with zeros instead of replicating borders */
    int batch;          /* B */
    double lr;          /* learning rate of the main group */
    int warmup_steps;   /* learning rates rise linearly over this many iterations (0: none) */
    int64_t train_size; /* training images, for estimators that need it (0: unknown); set by
                           the tool from the data, not an option */
};

/* The official shared settings: 64x64x3, L 16, width 1, batch 64, lr 1e-4, no warm-up. */
struct gw_common gw_common_defaults(void);

/* Checks the shared settings; TN_ERR_INVALID with the reason. */
enum tn_status gw_common_check(const struct gw_common *c);

/* The shared options (latent, width, zero-padding, batch, lr, warmup-steps) with offsets into
 * struct gw_common; *n gets their count. The image size is a data option of the tool. */
const struct gw_option *gw_common_options(int *n);

#define GW_GROUPS_MAX 4

/* A set of parameters trained by one optimizer. */
struct gw_dataset; /* gwae/data/dataset.h */

struct gw_group {
    const char *name;          /* "main", "critic", ...: checkpoints name its state optim.<name> */
    struct nn_module *module;  /* an adversary's module (frozen during the main step); NULL for main */
    struct nn_optim *optim;
    double lr;                 /* the base learning rate that the warm-up scales */
};

struct gw_model;

struct gw_model_ops {
    /* The main loss on x [B, C, S, S] with its graph recorded; puts its terms. */
    struct tn_tensor *(*loss)(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                              struct gw_terms *terms);
    /* The adversary's steps after each main step, on the same batch (NULL: none). */
    void (*adversary)(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                      struct gw_terms *terms);
    /* q(z|x): *mu [B, L] and *logvar [B, L], or *logvar = NULL for a deterministic encoder. */
    void (*encode)(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                   struct tn_tensor **logvar);
    /* Images [B, C, S, S] in (0, 1) from codes z [B, L]. */
    struct tn_tensor *(*decode)(struct gw_model *m, struct tn_tensor *z);
    /* n draws [n, L] from the model's prior; NULL: gw_prior_sample of m->prior. */
    struct tn_tensor *(*sample)(struct gw_model *m, int64_t n, struct tn_rng *rng);
    /* Out-of-distribution score of each image [B], higher meaning more out of distribution;
     * kind indexes the entry's ood_scores (NULL: the model has none). */
    struct tn_tensor *(*ood_score)(struct gw_model *m, struct tn_tensor *x, int kind,
                                   struct tn_rng *rng);
    /* The scale C of the latent distances in L_GW (NULL: the model has none). */
    struct tn_tensor *(*latent_scale)(struct gw_model *m);
    /* Overwrites initial values with ones taken from the training images (SWAE's pseudo-inputs
     * are the first K images plus noise), drawing from rng. The trainer calls it once for a new
     * run, after make and the move to the run's device and before the step-0 checkpoint; never
     * on resume (the checkpoint holds the values). NULL: the model has none. */
    void (*init_from_data)(struct gw_model *m, const struct gw_dataset *train, struct tn_rng *rng);
};

/* A setting of the small default that differs from the official one, as option text. */
struct gw_setting {
    const char *name, *value;
};

/* One line of the registry. */
struct gw_model_entry {
    const char *name;                  /* --model NAME */
    const char *summary;               /* one line for `gwae models` */
    const struct gw_option *options;   /* its own options, offsets into its options struct */
    int n_options;
    size_t options_size;               /* bytes of its options struct (<= GW_OPTIONS_MAX) */
    void (*defaults)(void *options);   /* the official values of its options */
    const struct gw_setting *small;    /* the small default's changes (NULL-terminated), or NULL */
    const char *const *priors;         /* the priors it takes, its default first (NULL-terminated) */
    const char *const *ood_scores;     /* names of its OOD scores, the default first, or NULL */
    const struct gw_term_info *terms;  /* its terms in log order */
    int n_terms;
    /* builds the model with its prior (on the CPU, every initial value drawn from rng); it may
     * resolve an option that depends on the data in its copy m->options (SWAE caps its
     * pseudo-inputs at common.train_size), which the trainer then saves as the run's */
    enum tn_status (*make)(const struct gw_common *common, const void *options,
                           const void *prior_options, struct tn_rng *rng, struct gw_model **out);
};

#define GW_OPTIONS_MAX 256 /* bytes of the largest options struct of a model or prior */

/* The registry (gwae/models/registry.c): every model, NULL-terminated. */
extern const struct gw_model_entry *const gw_models[];

/* The entry called name, or NULL. */
const struct gw_model_entry *gw_model_find(const char *name);

struct gw_model {
    struct nn_module base;     /* first: the root of the model's modules (named after the model) */
    const struct gw_model_ops *ops;
    const struct gw_model_entry *entry;
    struct gw_common common;
    void *options;             /* a copy of the model's options (entry->options_size bytes) */
    struct gw_prior *prior;    /* a child module, or NULL when ops->sample draws itself */
    struct gw_group groups[GW_GROUPS_MAX]; /* [0] is "main" */
    int n_groups;
    struct tn_device device;   /* where the model lives (the CPU until gw_model_to_device) */
};

/* Builds the model common->model names with options and its prior common->prior with
 * prior_options (NULL: the official defaults) after checking the shared settings and that the
 * model takes that prior; TN_ERR_INVALID names the problem. The model is built on the CPU with
 * every initial value drawn from rng. */
enum tn_status gw_model_new(const struct gw_common *common, const void *options,
                            const void *prior_options, struct tn_rng *rng, struct gw_model **out);

/* gw_model_new for an entry that need not be in the registry (common->model is ignored). */
enum tn_status gw_model_new_entry(const struct gw_model_entry *entry, const struct gw_common *common,
                                  const void *options, const void *prior_options,
                                  struct tn_rng *rng, struct gw_model **out);

/* Builds the prior common.prior names with prior_options, as the child "prior" and m->prior
 * (a model's make calls it where the prior's draws belong in its order of construction). */
enum tn_status gw_model_add_prior(struct gw_model *m, const void *prior_options,
                                  struct tn_rng *rng);

/* Sets up the shared part of a model being made (name, ops, settings, a copy of options). */
void gw_model_init(struct gw_model *m, const struct gw_model_entry *entry,
                   const struct gw_model_ops *ops, const struct gw_common *common,
                   const void *options, void (*free_impl)(struct nn_module *m));

/* Adds a parameter group: its optimizer over the given entries (kept by the optimizer). */
void gw_model_add_group(struct gw_model *m, const char *name, struct nn_module *module,
                        const struct nn_optim_opts *opts, int n, const struct nn_entry *entries);

/* The parameters of modules[0..n) (buffers skipped), each named from its module's name,
 * appended to list in that order. */
void gw_model_collect(struct nn_module *const *modules, int n, struct nn_entry_list *list);

/* Moves every parameter, buffer and optimizer state to device, in place, and makes later draws
 * happen there. TN_ERR_OOM when the device has no room (move it back or free it). */
enum tn_status gw_model_to_device(struct gw_model *m, struct tn_device device);

/* Frees the model, its optimizers and modules. NULL is fine. */
void gw_model_free(struct gw_model *m);

/* ---- what the loop and the tool call ---- */

/* Terms slots for m's table on m's device (free with gw_terms_free). */
void gw_model_terms(const struct gw_model *m, struct gw_terms *terms);

/* The main step: the main loss on x, backward, one step of the main group's optimizer (the
 * adversaries' modules get no gradient). */
void gw_model_main_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                        struct gw_terms *terms);

/* The adversary's steps on x (nothing for a model without one). */
void gw_model_adversary_steps(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                              struct gw_terms *terms);

/* One training iteration: the main step, then the adversary's steps. */
void gw_model_train_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                         struct gw_terms *terms);

/* The main loss in evaluation mode without gradients (validation): puts its terms. */
void gw_model_eval_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                        struct gw_terms *terms);

/* Sets every group's learning rate for training iteration step (1-based): its base rate times
 * min(1, step / warmup_steps), or the base rate without warm-up. */
void gw_model_set_iteration_lr(struct gw_model *m, int64_t step);

/* One optimizer step of group g on loss: zero every gradient, backward, step. */
void gw_model_group_step(struct gw_model *m, int g, struct tn_tensor *loss);

/* q(z|x) (see gw_model_ops.encode). */
void gw_model_encode(struct gw_model *m, struct tn_tensor *x, struct tn_tensor **mu,
                     struct tn_tensor **logvar);

/* A code of each image: mu + exp(logvar / 2) eps drawn from rng, or mu when the encoder is
 * deterministic or rng is NULL. */
struct tn_tensor *gw_model_code(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng);

/* Images [B, C, S, S] from codes [B, L]. */
struct tn_tensor *gw_model_decode(struct gw_model *m, struct tn_tensor *z);

/* n draws [n, L] from the model's prior. */
struct tn_tensor *gw_model_sample(struct gw_model *m, int64_t n, struct tn_rng *rng);

/* The model's init_from_data on the training images train with grad mode off (nothing for a
 * model without one); the trainer calls it for a new run only. */
void gw_model_init_from_data(struct gw_model *m, const struct gw_dataset *train,
                             struct tn_rng *rng);

/* An out-of-distribution score any model has: 0.5 sum_pixels (x - Dec(mu))^2 per image [B],
 * the reconstruction error from the mean code (the name "recon-error"; kind and rng unused). */
struct tn_tensor *gw_model_recon_error(struct gw_model *m, struct tn_tensor *x, int kind,
                                       struct tn_rng *rng);

/* A reparameterised draw z = mu + exp(logvar / 2) * eps, eps ~ N(0, I) on mu's device. */
struct tn_tensor *gw_reparameterize(struct tn_tensor *mu, struct tn_tensor *logvar,
                                    struct tn_rng *rng);

#endif
