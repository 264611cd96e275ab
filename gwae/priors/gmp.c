/* gmp.c - the Gaussian mixture prior (GMP) with K components, in two variants.
 *
 * Official (default): parameters m [K, L] ~ N(0, 1), S [K, L, L] = I + 0.01 N(0, 1) and
 * logits a [K] ~ N(0, 1). Each sample picks its component k by Gumbel-max on log softmax(a),
 * a hard choice, so the logits never receive a gradient (they keep their initial values).
 * The sample is z = m_k + eps * colsum(S_k): S acts through its column sums only, so each
 * component has the diagonal covariance diag(colsum(S_k)^2). Then BatchNorm1d(affine=False,
 * momentum 0.5).
 *
 * Paper variant (--gmp-paper): z = m_k + S_k eps with the full square-root
 * covariance, and the choice is a straight-through Gumbel-softmax: the forward value is the
 * same one-hot choice, but its gradient is that of softmax(log softmax(a) + gumbel), so the
 * mixture weights are trained (docs/gwae.md). Batch norm as in the official variant.
 */
#include <math.h>
#include <stdlib.h>

#include "prior.h"

/* the options of the GMP prior */
struct gmp_options {
    int components;     /* K, at least 2 */
    bool paper_variant; /* trainable weights and full square-root covariances */
};

struct gmp_prior {
    struct gw_prior base;
    int components;          /* K */
    bool paper_variant;
    struct tn_tensor *mean;  /* [K, L], param "component_mean" */
    struct tn_tensor *sqrt_cov; /* [K, L, L], param "component_sqrtprecision" (official name) */
    struct tn_tensor *logits;   /* [K], param "logits_unnormalized" */
    struct nn_batchnorm *bn;    /* child "bn" */
};

/* Gumbel-perturbed log weights g [n, K] = log softmax(a) - log(-log U), U ~ U[0, 1) */
static struct tn_tensor *perturbed_log_weights(struct gmp_prior *gmp, int64_t n, struct tn_rng *rng) {
    int64_t shape[2] = {n, gmp->components};
    struct tn_tensor *u = tn_rand_uniform(gmp->base.device, 2, shape, rng, 0.0f, 1.0f);
    /* U = 0 would give -log(-log 0) = -inf: a never-chosen component, as in the official code */
    struct tn_tensor *gumbel = ag_neg(ag_log(ag_neg(ag_log(u))));
    struct tn_tensor *log_w = ag_sub(gmp->logits, ag_logsumexp(gmp->logits, AG_AXIS(0), true));
    return ag_add(log_w, gumbel);
}

/* official: z = m_k + eps * colsum(S_k), hard k */
static struct tn_tensor *sample_official(struct gmp_prior *gmp, struct tn_tensor *g,
                                         struct tn_tensor *eps) {
    struct tn_tensor *k = ag_argmax(ag_detach(g), 1, false); /* [n] component indices */
    struct tn_tensor *colsum = ag_sum(gmp->sqrt_cov, AG_AXIS(1), false); /* [K, L] */
    return ag_add(ag_index_select(gmp->mean, 0, k), ag_mul(eps, ag_index_select(colsum, 0, k)));
}

/* paper: z = sum_k w_k (m_k + S_k eps), w = straight-through Gumbel-softmax one-hot */
static struct tn_tensor *sample_paper(struct gmp_prior *gmp, int64_t n, struct tn_tensor *g,
                                      struct tn_tensor *eps) {
    struct tn_tensor *soft = ag_exp(ag_sub(g, ag_logsumexp(g, AG_AXIS(1), true))); /* [n, K] */
    struct tn_tensor *hard = ag_eq(g, ag_amax(g, AG_AXIS(1), true));             /* one-hot */
    struct tn_tensor *w = ag_add(hard, ag_sub(soft, ag_detach(soft)));          /* = hard */
    int64_t l = gmp->base.latent, k = gmp->components;
    /* S_k eps_b for every k and b: [K, L, L] x [L, n] -> [K, L, n] -> [n, K, L] */
    struct tn_tensor *s_eps = ag_matmul(gmp->sqrt_cov, ag_transpose(eps, 0, 1));
    int perm[3] = {2, 0, 1};
    int64_t m_shape[3] = {1, k, l}, w_shape[3] = {n, k, 1};
    struct tn_tensor *comps = ag_add(ag_permute(s_eps, perm), ag_reshape(gmp->mean, 3, m_shape));
    return ag_sum(ag_mul(comps, ag_reshape(w, 3, w_shape)), AG_AXIS(1), false);
}

static struct tn_tensor *sample_gmp(struct gw_prior *prior, int64_t n, struct tn_rng *rng) {
    struct gmp_prior *gmp = (struct gmp_prior *)prior;
    struct tn_tensor *g = perturbed_log_weights(gmp, n, rng);
    int64_t shape[2] = {n, prior->latent};
    struct tn_tensor *eps = tn_randn(prior->device, 2, shape, rng);
    struct tn_tensor *z = gmp->paper_variant ? sample_paper(gmp, n, g, eps)
                                             : sample_official(gmp, g, eps);
    return nn_batchnorm_forward(gmp->bn, z);
}

static const struct gw_prior_ops gmp_ops = {sample_gmp};

static struct gw_prior *make_gmp(int64_t latent, const void *options, struct tn_rng *rng) {
    const struct gmp_options *opts = options;
    if (opts->components < 2) {
        tn_error(TN_ERR_INVALID, "the GMP prior needs at least 2 components, got %d",
                 opts->components);
        return NULL;
    }
    struct gmp_prior *gmp = calloc(1, sizeof *gmp);
    TN_CHECK(gmp, "gmp prior", "out of host memory");
    int64_t l = latent, k = opts->components;
    gw_prior_init(&gmp->base, "gmp", &gmp_ops, l);
    gmp->components = opts->components;
    gmp->paper_variant = opts->paper_variant;
    int64_t m_shape[2] = {k, l}, s_shape[3] = {k, l, l}, a_shape[1] = {k};
    gmp->mean = nn_module_add_param(&gmp->base.base, "component_mean", tn_randn(TN_CPU, 2, m_shape, rng));
    struct tn_tensor *s = tn_randn(TN_CPU, 3, s_shape, rng);
    float *values = malloc((size_t)s->numel * sizeof(float));
    TN_CHECK(values, "gmp prior", "out of host memory");
    tn_to_host(s, values);
    for (int64_t c = 0; c < k; c++)
        for (int64_t i = 0; i < l; i++)
            for (int64_t j = 0; j < l; j++)
                values[(c * l + i) * l + j] = (i == j ? 1.0f : 0.0f) + 0.01f * values[(c * l + i) * l + j];
    tn_write_host(s, values);
    free(values);
    gmp->sqrt_cov = nn_module_add_param(&gmp->base.base, "component_sqrtprecision", s);
    gmp->logits = nn_module_add_param(&gmp->base.base, "logits_unnormalized", tn_randn(TN_CPU, 1, a_shape, rng));
    gmp->bn = nn_batchnorm1d_new("bn", l, NN_BN_EPS, 0.5f, false);
    nn_module_add_child(&gmp->base.base, &gmp->bn->base);
    return &gmp->base;
}

static void gmp_defaults(void *options) {
    struct gmp_options *o = options;
    o->components = 10;
    o->paper_variant = false;
}

#define G(field) GW_FIELD(struct gmp_options, field)

static const struct gw_option gmp_option_rows[] = {
    {"components", GW_OPT_INT, G(components), 2, 1024, NULL, GW_OPT_FIXED, "Prior gmp", "K",
     "mixture components", "project 10: the official code requires num_components, no yaml sets it"},
    {"gmp-paper", GW_OPT_BOOL, G(paper_variant), 0, 0, NULL, GW_OPT_FIXED, "Prior gmp", NULL,
     "the paper's variant (trainable weights, full covariances)", "official off: models/gwae.py"},
};

const struct gw_prior_entry gw_prior_gmp = {
    .name = "gmp",
    .summary = "Gaussian mixture prior with K components (--components), batch norm",
    .options = gmp_option_rows,
    .n_options = (int)(sizeof gmp_option_rows / sizeof gmp_option_rows[0]),
    .options_size = sizeof(struct gmp_options),
    .defaults = gmp_defaults,
    .make = make_gmp,
};
