/* fnp.c - the factorized neural prior (FNP): one scalar MLP 1->4->4->4->1 per latent
 * dimension, run as grouped 1x1 conv1d with groups = L on eps reshaped to [n, L, 1]; LeakySiLU
 * (0.2) between layers; then BatchNorm1d(L, affine=False, momentum=0.5). Every latent
 * coordinate is transformed independently, so the prior factorises over dimensions. */
#include <stdlib.h>

#include "prior.h"

struct fnp_prior {
    struct gw_prior base;
    struct nn_sequential *net; /* child "net": grouped conv1d layers */
    struct nn_batchnorm *bn;   /* child "bn" */
};

/* z = BN(groupwise MLP(eps)), [n, L] */
static struct tn_tensor *sample_fnp(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    struct fnp_prior *fnp = (struct fnp_prior *)prior;
    int64_t shape[3] = {n, prior->latent, 1};
    struct tn_tensor *eps = tn_randn(prior->device, 3, shape, rng);
    struct tn_tensor *z = nn_batchnorm_forward(fnp->bn, nn_sequential_forward(fnp->net, eps));
    return ag_reshape(z, 2, shape);
}

static const struct gw_prior_ops fnp_ops = {sample_fnp};

static struct gw_prior *make_fnp(int64_t latent, const void *options, struct tn_rng *rng) {
    (void)options;
    struct fnp_prior *fnp = calloc(1, sizeof *fnp);
    TN_CHECK(fnp, "fnp prior", "out of host memory");
    int64_t l = latent;
    gw_prior_init(&fnp->base, "fnp", &fnp_ops, l);
    fnp->net = nn_sequential_new("net");
    nn_sequential_add(fnp->net, &nn_conv1d_new("", l, 4 * l, 1, 1, 0, (int)l, true, rng)->base);
    nn_sequential_add(fnp->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(fnp->net, &nn_conv1d_new("", 4 * l, 4 * l, 1, 1, 0, (int)l, true, rng)->base);
    nn_sequential_add(fnp->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(fnp->net, &nn_conv1d_new("", 4 * l, 4 * l, 1, 1, 0, (int)l, true, rng)->base);
    nn_sequential_add(fnp->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(fnp->net, &nn_conv1d_new("", 4 * l, l, 1, 1, 0, (int)l, true, rng)->base);
    fnp->bn = nn_batchnorm1d_new("bn", l, NN_BN_EPS, 0.5f, false);
    nn_module_add_child(&fnp->base.base, &fnp->net->base);
    nn_module_add_child(&fnp->base.base, &fnp->bn->base);
    return &fnp->base;
}

const struct gw_prior_entry gw_prior_fnp = {
    .name = "fnp",
    .summary = "factorized neural prior: one 1->4->4->4->1 MLP per latent dimension",
    .make = make_fnp,
};
