/* prior.h - the prior interface: a trainable sampler of latent points.
 *
 * A prior is a module (its parameters and buffers are trained and saved with the model)
 * plus one function, sample(n): n latent points [n, L] drawn with the given generator and
 * differentiable with respect to the prior's parameters. Every GWAE prior that trains ends
 * with the non-affine batch norm of the official code (momentum 0.5), so its output is batch-
 * standardised per dimension; the relational autoencoders' rae-gmm has none, as the RAE code.
 * Noise is drawn on the prior's device (the CPU until
 * gw_prior_to_device), from the same host stream of numbers on every device. To add a
 * prior: write one file with a constructor that fills a struct gw_prior and an entry (with its
 * options, if any), and add one line to the table in priors/prior.c (docs/priors.md walks
 * through it).
 */
#ifndef GW_PRIOR_H
#define GW_PRIOR_H

#include "gwae/option.h"
#include "nn/nn_layers.h"

struct gw_prior;

struct gw_prior_ops {
    /* n latent points [n, L]; gradients reach the prior's parameters */
    struct tn_tensor *(*sample)(struct gw_prior *prior, int64_t n, struct tn_rng *rng);
};

struct gw_prior {
    struct nn_module base; /* first: a prior is a module (nn_module_free frees it) */
    const struct gw_prior_ops *ops;
    const char *kind;      /* registry name: "gaussian", "np", ... */
    int64_t latent;        /* L */
    struct tn_device device; /* where sample() draws its noise: set by gw_prior_to_device */
};

/* One line of the prior registry. */
struct gw_prior_entry {
    const char *name;                 /* --prior NAME */
    const char *summary;              /* one line for `gwae models` */
    const struct gw_option *options;  /* its own options, offsets into its options struct */
    int n_options;
    size_t options_size;              /* bytes of its options struct */
    void (*defaults)(void *options);  /* the official values of its options (NULL: none) */
    /* builds the prior of latent size L (on the CPU, initial values drawn from rng), or NULL
     * with the reason set by tn_error */
    struct gw_prior *(*make)(int64_t latent, const void *options, struct tn_rng *rng);
};

/* The registry: every prior, NULL-terminated. */
extern const struct gw_prior_entry *const gw_priors[];

/* The entry called name, or NULL. */
const struct gw_prior_entry *gw_prior_find(const char *name);

/* Builds the prior called name with options (NULL: its defaults), or returns TN_ERR_INVALID
 * naming the known ones. */
enum tn_status gw_prior_new(const char *name, int64_t latent, const void *options,
                            struct tn_rng *rng, struct gw_prior **out);

/* n samples from prior (see struct gw_prior_ops). */
struct tn_tensor *gw_prior_sample(struct gw_prior *prior, int64_t n, struct tn_rng *rng);

/* Moves the prior's parameters and buffers to device and draws its later noise there. */
enum tn_status gw_prior_to_device(struct gw_prior *prior, struct tn_device device);

/* Sets up the module part of a prior (name "prior", training mode). */
void gw_prior_init(struct gw_prior *prior, const char *kind, const struct gw_prior_ops *ops,
                   int64_t latent);

/* The built-in priors, one file each. */
extern const struct gw_prior_entry gw_prior_gaussian, gw_prior_np, gw_prior_fnp, gw_prior_gmp,
    gw_prior_rae_gmm;

/* The Symmetric WAE's prior: a name only, built by the swae model (gwae/models/swae.c). */
extern const struct gw_prior_entry gw_prior_pseudo_inputs;

#endif
