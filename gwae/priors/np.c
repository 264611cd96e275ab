/* np.c - the neural prior (NP) of the official code: noise eps ~ N(0, I_L) through
 * Linear L->H, LeakySiLU(0.2), Linear H->H, LeakySiLU, Linear H->H, LeakySiLU, Linear H->L
 * with H = 4L, then BatchNorm1d(L, affine=False, momentum=0.5). */
#include <stdlib.h>

#include "prior.h"

struct np_prior {
    struct gw_prior base;
    struct nn_sequential *net; /* child "net" */
    struct nn_batchnorm *bn;   /* child "bn" */
};

/* z = BN(MLP(eps)), [n, L] */
static struct tn_tensor *sample_np(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    struct np_prior *np = (struct np_prior *)prior;
    int64_t shape[2] = {n, prior->latent};
    struct tn_tensor *eps = tn_randn(prior->device, 2, shape, rng);
    return nn_batchnorm_forward(np->bn, nn_sequential_forward(np->net, eps));
}

static const struct gw_prior_ops np_ops = {sample_np};

static struct gw_prior *make_np(int64_t latent, const void *options, struct tn_rng *rng) {
    (void)options;
    struct np_prior *np = calloc(1, sizeof *np);
    TN_CHECK(np, "np prior", "out of host memory");
    int64_t l = latent, h = 4 * latent;
    gw_prior_init(&np->base, "np", &np_ops, l);
    np->net = nn_sequential_new("net");
    nn_sequential_add(np->net, &nn_linear_new("", l, h, true, rng)->base);
    nn_sequential_add(np->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(np->net, &nn_linear_new("", h, h, true, rng)->base);
    nn_sequential_add(np->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(np->net, &nn_linear_new("", h, h, true, rng)->base);
    nn_sequential_add(np->net, &nn_leaky_silu_new("", 0.2f)->base);
    nn_sequential_add(np->net, &nn_linear_new("", h, l, true, rng)->base);
    np->bn = nn_batchnorm1d_new("bn", l, NN_BN_EPS, 0.5f, false);
    nn_module_add_child(&np->base.base, &np->net->base);
    nn_module_add_child(&np->base.base, &np->bn->base);
    return &np->base;
}

const struct gw_prior_entry gw_prior_np = {
    .name = "np",
    .summary = "neural prior: MLP L->4L->4L->4L->L, LeakySiLU(0.2), batch norm",
    .make = make_np,
};
