/* rae_gmm.c - the prior of the relational autoencoders (the RAE code's drae.Prior and
 * sampling_gmm; seed-systems.md section 1.1): K diagonal Gaussian components with trainable
 * means mu [K, L] ("mu") and log-variances [K, L] ("logvar"), both initialised N(0, 1), equal
 * weights that are not learned, and a round-robin choice: draw i comes from component i mod K
 * (so each component gets n / K draws, as the RAE code's concatenated blocks of K rows), then
 * z = mu_k + exp(logvar_k / 2) eps, eps ~ N(0, I), reparameterised so that gradients reach mu
 * and logvar. No batch norm (the GWAE priors end with one; the RAE code's prior does not).
 * Not here: the models that take it (gwae/models/rae.c).
 */
#include <stdlib.h>

#include "prior.h"

/* the options of the RAE prior */
struct rae_gmm_options {
    int components; /* K */
};

struct rae_gmm {
    struct gw_prior base;
    int components;
    struct tn_tensor *mu, *logvar; /* [K, L] each */
};

/* i mod K for i < n: [n] on device */
static struct tn_tensor *round_robin(struct tn_device device, int64_t n, int k) {
    float *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    TN_CHECK(idx, "rae-gmm prior", "out of host memory");
    for (int64_t i = 0; i < n; i++) idx[i] = (float)(i % k);
    struct tn_tensor *t = tn_from_host(device, 1, &n, idx);
    free(idx);
    return t;
}

static struct tn_tensor *sample_rae_gmm(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    struct rae_gmm *g = (struct rae_gmm *)prior;
    struct tn_tensor *k = round_robin(prior->device, n, g->components);
    int64_t shape[2] = {n, prior->latent};
    struct tn_tensor *eps = tn_randn(prior->device, 2, shape, rng);
    struct tn_tensor *std = ag_exp(ag_mul_scalar(ag_index_select(g->logvar, 0, k), 0.5f));
    return ag_add(ag_index_select(g->mu, 0, k), ag_mul(eps, std));
}

static const struct gw_prior_ops rae_gmm_ops = {sample_rae_gmm};

static struct gw_prior *make_rae_gmm(int64_t latent, const void *options, struct tn_rng *rng) {
    const struct rae_gmm_options *o = options;
    if (o->components < 1) {
        tn_error(TN_ERR_INVALID, "the rae-gmm prior needs at least 1 component, got %d",
                 o->components);
        return NULL;
    }
    struct rae_gmm *g = calloc(1, sizeof *g);
    TN_CHECK(g, "rae-gmm prior", "out of host memory");
    gw_prior_init(&g->base, "rae-gmm", &rae_gmm_ops, latent);
    g->components = o->components;
    int64_t shape[2] = {o->components, latent};
    g->mu = nn_module_add_param(&g->base.base, "mu", tn_randn(TN_CPU, 2, shape, rng));
    g->logvar = nn_module_add_param(&g->base.base, "logvar", tn_randn(TN_CPU, 2, shape, rng));
    return &g->base;
}

static void rae_gmm_defaults(void *options) {
    ((struct rae_gmm_options *)options)->components = 10;
}

static const struct gw_option rae_gmm_rows[] = {
    {"rae-components", GW_OPT_INT, GW_FIELD(struct rae_gmm_options, components), 1, 4096, NULL,
     GW_OPT_FIXED, "Prior rae-gmm", "K", "Gaussian components, drawn round-robin",
     "RAE code test_rae.py --K 10 [C]"},
};

const struct gw_prior_entry gw_prior_rae_gmm = {
    .name = "rae-gmm",
    .summary = "RAE's mixture of K diagonal Gaussians (--rae-components), trainable, round-robin",
    .options = rae_gmm_rows,
    .n_options = 1,
    .options_size = sizeof(struct rae_gmm_options),
    .defaults = rae_gmm_defaults,
    .make = make_rae_gmm,
};
