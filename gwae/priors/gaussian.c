/* gaussian.c - the fixed standard normal prior N(0, I): the ablation without a
 * trainable prior. It has no parameters and no batch norm. */
#include <stdlib.h>

#include "prior.h"

/* z ~ N(0, I), [n, L] */
static struct tn_tensor *sample_gaussian(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    int64_t shape[2] = {n, prior->latent};
    return tn_randn(prior->device, 2, shape, rng);
}

static const struct gw_prior_ops gaussian_ops = {sample_gaussian};

static struct gw_prior *make_gaussian(int64_t latent, const void *options, struct tn_rng *rng) {
    (void)options;
    (void)rng;
    struct gw_prior *prior = calloc(1, sizeof *prior);
    TN_CHECK(prior, "gw_prior_gaussian_new", "out of host memory");
    gw_prior_init(prior, "gaussian", &gaussian_ops, latent);
    return prior;
}

const struct gw_prior_entry gw_prior_gaussian = {
    .name = "gaussian",
    .summary = "fixed standard normal N(0, I), nothing trained",
    .make = make_gaussian,
};
