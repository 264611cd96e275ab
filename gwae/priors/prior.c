/* prior.c - the prior registry and the shared parts of every prior. */
#include "prior.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

const struct gw_prior_entry *const gw_priors[] = {
    &gw_prior_gaussian, &gw_prior_np, &gw_prior_fnp, &gw_prior_gmp, &gw_prior_rae_gmm,
    &gw_prior_pseudo_inputs, NULL,
};

const struct gw_prior_entry *gw_prior_find(const char *name) {
    for (const struct gw_prior_entry *const *e = gw_priors; *e; e++)
        if (strcmp((*e)->name, name) == 0) return *e;
    return NULL;
}

enum tn_status gw_prior_new(const char *name, int64_t latent, const void *options,
                            struct tn_rng *rng, struct gw_prior **out) {
    *out = NULL;
    const struct gw_prior_entry *e = gw_prior_find(name);
    if (!e) {
        char known[256] = "";
        for (const struct gw_prior_entry *const *p = gw_priors; *p; p++) {
            size_t used = strlen(known);
            snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", (*p)->name);
        }
        return tn_error(TN_ERR_INVALID, "unknown prior '%s' (known: %s)", name, known);
    }
    if (latent < 1) return tn_error(TN_ERR_INVALID, "latent size must be at least 1");
    _Alignas(max_align_t) unsigned char defaults[256];
    TN_CHECK(e->options_size <= sizeof defaults, "gw_prior_new", "%s: options of %zu bytes",
             e->name, e->options_size);
    if (!options) {
        memset(defaults, 0, sizeof defaults);
        if (e->defaults) e->defaults(defaults);
        options = defaults;
    }
    *out = e->make(latent, options, rng);
    return *out ? TN_OK : TN_ERR_INVALID; /* a constructor sets the message */
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
