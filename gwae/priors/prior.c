/* prior.c - the prior registry and the shared parts of every prior. */
#include "prior.h"

#include <stdio.h>
#include <string.h>

const struct gw_prior_entry gw_priors[] = {
    {"gaussian", gw_prior_gaussian_new, "fixed standard normal N(0, I), nothing trained"},
    {"np", gw_prior_np_new, "neural prior: MLP L->4L->4L->4L->L, LeakySiLU(0.2), batch norm"},
    {"fnp", gw_prior_fnp_new, "factorized neural prior: one 1->4->4->4->1 MLP per latent dim"},
    {"gmp", gw_prior_gmp_new, "Gaussian mixture prior with K components (--components)"},
    {NULL, NULL, NULL},
};

enum tn_status gw_prior_new(const char *name, const struct gw_prior_options *opts,
                            struct tn_rng *rng, struct gw_prior **out) {
    char known[256] = "";
    for (const struct gw_prior_entry *e = gw_priors; e->name; e++) {
        if (strcmp(e->name, name) == 0) {
            if (opts->latent < 1) return tn_error(TN_ERR_INVALID, "latent size must be at least 1");
            *out = e->make(opts, rng);
            return *out ? TN_OK : TN_ERR_INVALID; /* a constructor sets the message */
        }
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", e->name);
    }
    return tn_error(TN_ERR_INVALID, "unknown prior '%s' (known: %s)", name, known);
}

struct tn_tensor *gw_prior_sample(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    struct tn_tensor *z = prior->ops->sample(prior, n, rng);
    TN_CHECK(z->ndim == 2 && z->shape[0] == n && z->shape[1] == prior->latent, "gw_prior_sample",
             "prior %s returned a tensor of the wrong shape", prior->kind);
    return z;
}

enum tn_status gw_prior_to_device(struct gw_prior *prior, struct tn_device device) {
    enum tn_status st = nn_module_to_device(&prior->base, device);
    if (st == TN_OK) prior->device = device;
    return st;
}

void gw_prior_init(struct gw_prior *prior, const char *kind, const struct gw_prior_ops *ops,
                   int64_t latent) {
    nn_module_init(&prior->base, "prior", NULL, NULL);
    prior->device = TN_CPU;
    prior->ops = ops;
    prior->kind = kind;
    prior->latent = latent;
}
