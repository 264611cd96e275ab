/* sphere.c - the samplers of sphere.h, composed of the engine's ops and tn_randn /
 * tn_rand_uniform on the caller's device, so CPU and CUDA run the same code and draw the same
 * numbers (the generator is counter-based and fills on the host). No op of its own.
 *
 * Beta draws: G_a / (G_a + G_b) with Gamma draws by Marsaglia and Tsang (2000). It is exact,
 * accepts at least 95% of candidates for shape >= 1 (the boost Gamma(a + 1) U^(1/a) covers
 * a < 1, which occurs at d = 2), and costs O(1) per draw whatever the dimension. The exact
 * alternatives cost O(d) per draw: Wood's Beta((d-1)/2, (d-1)/2) is (1 + g_1 / |g|) / 2 for
 * g ~ N(0, I_d), or a ratio of chi-squares with d - 1 degrees of freedom, and neither exists
 * for the power spherical's Beta((d-1)/2 + kappa, (d-1)/2) with a real kappa. It is also
 * what PyTorch's Beta does (torch._standard_gamma), so the samplers time like for like
 * against bench/torch_rae.py.
 *
 * Wood's test, as relatives-sources.md section 1.4 writes it (Ulrich's form, identical to
 * Wood's original kappa w + (d-1) ln(1 - x0 w) - c >= ln u): with m = d,
 *   b = (m-1) / (2 kappa + sqrt(4 kappa^2 + (m-1)^2)), a = (m - 1 + 2 kappa + sqrt(...)) / 4,
 *   e ~ Beta((m-1)/2, (m-1)/2), w = (1 - (1+b) e) / (1 - (1-b) e), t = 2ab / (1 - (1-b) e),
 *   accept when (m-1) ln t - t + 4ab/(1+b) - (m-1) ln(m-1) >= ln u.
 * It is evaluated as (m-1) (ln x - x + 1) + (4ab/(1+b) - (m-1)) with x = t / (m-1), so that
 * no float holds a term of size m ln m that cancels (b, a and the constants in double).
 *
 * A rejection round: every lane still waiting draws a block of GW_REJECT_BLOCK candidates;
 * argmax over the block's 0/1 acceptances picks the first accepted one; the lanes without one
 * (found by a stable argsort of the 0/1 "got one" flags) go to the next round. One device
 * read per round (how many are left), two with stats.
 */
#include "sphere.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define GW_REJECT_BLOCK 2 /* candidates per waiting lane and round */
#define GW_REJECT_ROUNDS 10000 /* a sampler that needs more has a bug: abort */

/* one round of a rejection sampler: candidates [r, m] and their 0/1 acceptances [r, m] */
typedef void (*propose_fn)(const void *ctx, struct tn_device device, int64_t r, int64_t m,
                           struct tn_rng *rng, struct tn_tensor **cand, struct tn_tensor **accept);

/* 0, 1, ..., n - 1 as a float tensor on device */
static struct tn_tensor *arange(struct tn_device device, int64_t n) {
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    TN_CHECK(v, "sphere", "out of host memory");
    for (int64_t i = 0; i < n; i++) v[i] = (float)i;
    struct tn_tensor *t = tn_from_host(device, 1, &n, v);
    free(v);
    return t;
}

/* n accepted draws [n] of the sampler `propose` (see the file comment) */
static struct tn_tensor *rejection(struct tn_device device, int64_t n, propose_fn propose,
                                   const void *ctx, struct tn_rng *rng,
                                   struct gw_sphere_stats *stats) {
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *out = tn_zeros(device, 1, &n), *lanes = arange(device, n);
    int64_t r = n;
    for (int round = 0; r > 0; round++) {
        TN_CHECK(round < GW_REJECT_ROUNDS, "sphere", "rejection sampler made no progress");
        struct tn_tensor *cand, *accept;
        propose(ctx, device, r, GW_REJECT_BLOCK, rng, &cand, &accept);
        struct tn_tensor *first = ag_argmax(accept, 1, true);           /* [r, 1] */
        struct tn_tensor *got = ag_amax(accept, AG_AXIS(1), false);     /* [r] */
        struct tn_tensor *value = ag_squeeze(ag_gather(cand, 1, first), 1);
        value = ag_where(got, value, tn_zeros(device, 1, &r));
        out = ag_add(out, ag_scatter_add(lanes, value, 0, 1, &n));
        int64_t done = (int64_t)lrint((double)tn_item(ag_sum_all(got)));
        if (stats) {
            stats->candidates += r * GW_REJECT_BLOCK;
            stats->accepted += (int64_t)lrint((double)tn_item(ag_sum_all(accept)));
            stats->rounds++;
        }
        if (done == r) break;
        struct tn_tensor *waiting = ag_slice(ag_argsort(got, 0, false), 0, 0, r - done);
        lanes = ag_gather(lanes, 0, waiting);
        r -= done;
    }
    ag_set_grad_enabled(mode);
    return out;
}

/* ---- Gamma and Beta ---- */

struct gamma_ctx {
    double d, c; /* Marsaglia-Tsang: d = shape - 1/3, c = 1 / sqrt(9 d) */
};

/* x ~ N(0, 1), v = (1 + c x)^3, accept when v > 0 and ln u < x^2/2 + d - d v + d ln v */
static void gamma_propose(const void *ctx, struct tn_device device, int64_t r, int64_t m,
                          struct tn_rng *rng, struct tn_tensor **cand, struct tn_tensor **accept) {
    const struct gamma_ctx *g = ctx;
    int64_t shape[2] = {r, m};
    struct tn_tensor *x = tn_randn(device, 2, shape, rng);
    struct tn_tensor *u = tn_rand_uniform(device, 2, shape, rng, 0.0f, 1.0f);
    struct tn_tensor *t = ag_add_scalar(ag_mul_scalar(x, (float)g->c), 1.0f);
    struct tn_tensor *v = ag_mul(ag_square(t), t);
    struct tn_tensor *positive = ag_gt_scalar(v, 0.0f);
    struct tn_tensor *log_v = ag_log(ag_clamp(v, FLT_MIN, FLT_MAX));
    float d = (float)g->d;
    struct tn_tensor *bound = ag_add(ag_mul_scalar(ag_square(x), 0.5f),
                                     ag_mul_scalar(ag_add(ag_rsub_scalar(1.0f, v), log_v), d));
    *accept = ag_mul(positive, ag_lt(ag_log(u), bound));
    *cand = ag_mul_scalar(v, d);
}

struct tn_tensor *gw_gamma(struct tn_device device, int64_t n, double shape, struct tn_rng *rng,
                           struct gw_sphere_stats *stats) {
    TN_CHECK(shape > 0 && n >= 0, "gw_gamma", "shape %g, n %lld", shape, (long long)n);
    bool boost = shape < 1.0;
    struct gamma_ctx g;
    g.d = (boost ? shape + 1.0 : shape) - 1.0 / 3.0;
    g.c = 1.0 / sqrt(9.0 * g.d);
    struct tn_tensor *x = rejection(device, n, gamma_propose, &g, rng, stats);
    if (!boost) return x;
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *u = tn_rand_uniform(device, 1, &n, rng, 0.0f, 1.0f);
    x = ag_mul(x, ag_pow_scalar(u, (float)(1.0 / shape)));
    ag_set_grad_enabled(mode);
    return x;
}

struct tn_tensor *gw_beta(struct tn_device device, int64_t n, double a, double b,
                          struct tn_rng *rng) {
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *ga, *gb;
    if (a == b) { /* one sampler call for both halves */
        struct tn_tensor *both = gw_gamma(device, 2 * n, a, rng, NULL);
        ga = ag_slice(both, 0, 0, n);
        gb = ag_slice(both, 0, n, n);
    } else {
        ga = gw_gamma(device, n, a, rng, NULL);
        gb = gw_gamma(device, n, b, rng, NULL);
    }
    struct tn_tensor *s = ag_div(ga, ag_add(ga, gb));
    ag_set_grad_enabled(mode);
    return s;
}

/* ---- the sphere ---- */

struct tn_tensor *gw_sphere_uniform(struct tn_device device, int64_t n, int64_t d,
                                    struct tn_rng *rng) {
    bool mode = ag_set_grad_enabled(false);
    int64_t shape[2] = {n, d};
    struct tn_tensor *g = tn_randn(device, 2, shape, rng);
    struct tn_tensor *norm2 = ag_clamp(ag_sum(ag_square(g), AG_AXIS(1), true), 1e-30f, FLT_MAX);
    struct tn_tensor *x = ag_div(g, ag_sqrt(norm2));
    ag_set_grad_enabled(mode);
    return x;
}

struct wood_ctx {
    int64_t d;
    float b, scale, shift; /* b; x = scale / (1 - (1-b) e); the test's constant */
};

static void wood_propose(const void *ctx, struct tn_device device, int64_t r, int64_t m,
                         struct tn_rng *rng, struct tn_tensor **cand, struct tn_tensor **accept) {
    const struct wood_ctx *w = ctx;
    int64_t shape[2] = {r, m};
    double half = 0.5 * (double)(w->d - 1);
    struct tn_tensor *e = ag_reshape(gw_beta(device, r * m, half, half, rng), 2, shape);
    struct tn_tensor *u = tn_rand_uniform(device, 2, shape, rng, 0.0f, 1.0f);
    struct tn_tensor *den = ag_rsub_scalar(1.0f, ag_mul_scalar(e, 1.0f - w->b));
    *cand = ag_div(ag_rsub_scalar(1.0f, ag_mul_scalar(e, 1.0f + w->b)), den);
    struct tn_tensor *x = ag_rdiv_scalar(w->scale, den);
    struct tn_tensor *lhs =
        ag_mul_scalar(ag_add_scalar(ag_sub(ag_log(x), x), 1.0f), (float)(w->d - 1));
    *accept = ag_ge(ag_add_scalar(lhs, w->shift), ag_log(u));
}

struct tn_tensor *gw_vmf_marginal(struct tn_device device, int64_t n, int64_t d, double kappa,
                                  struct tn_rng *rng, struct gw_sphere_stats *stats) {
    TN_CHECK(d >= 2 && kappa >= 0, "gw_vmf_marginal", "d %lld, kappa %g", (long long)d, kappa);
    double m1 = (double)(d - 1), root = sqrt(4.0 * kappa * kappa + m1 * m1);
    double b = m1 / (2.0 * kappa + root), a = (m1 + 2.0 * kappa + root) / 4.0;
    struct wood_ctx w = {.d = d, .b = (float)b, .scale = (float)(2.0 * a * b / m1),
                         .shift = (float)(4.0 * a * b / (1.0 + b) - m1)};
    return rejection(device, n, wood_propose, &w, rng, stats);
}

struct tn_tensor *gw_power_marginal(struct tn_device device, int64_t n, int64_t d, double kappa,
                                    struct tn_rng *rng) {
    TN_CHECK(d >= 2 && kappa >= 0, "gw_power_marginal", "d %lld, kappa %g", (long long)d, kappa);
    double beta = 0.5 * (double)(d - 1);
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *t =
        ag_sub_scalar(ag_mul_scalar(gw_beta(device, n, beta + kappa, beta, rng), 2.0f), 1.0f);
    ag_set_grad_enabled(mode);
    return t;
}

struct tn_tensor *gw_sphere_base(enum gw_sphere_law law, struct tn_device device, int64_t n,
                                 int64_t d, double kappa, struct tn_rng *rng,
                                 struct gw_sphere_stats *stats) {
    if (law == GW_SPHERE_UNIFORM) return gw_sphere_uniform(device, n, d, rng);
    struct tn_tensor *w = law == GW_SPHERE_VMF ? gw_vmf_marginal(device, n, d, kappa, rng, stats)
                                               : gw_power_marginal(device, n, d, kappa, rng);
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *v = gw_sphere_uniform(device, n, d - 1, rng);
    int64_t col[2] = {n, 1};
    struct tn_tensor *w2 = ag_reshape(w, 2, col);
    struct tn_tensor *radius = ag_sqrt(ag_clamp(ag_rsub_scalar(1.0f, ag_square(w2)), 0.0f, 1.0f));
    struct tn_tensor *parts[2] = {w2, ag_mul(v, radius)};
    struct tn_tensor *y = ag_concat(2, parts, 1);
    ag_set_grad_enabled(mode);
    return y;
}

struct tn_tensor *gw_householder(struct tn_tensor *mu, struct tn_tensor *y) {
    TN_CHECK(mu->ndim == 2 && y->ndim == 2 && mu->shape[1] == y->shape[1] &&
                 (mu->shape[0] == y->shape[0] || mu->shape[0] == 1),
             "gw_householder", "mu [n or 1, d] and y [n, d]");
    int64_t d = mu->shape[1], row[2] = {1, d};
    float *unit = calloc((size_t)d, sizeof *unit);
    TN_CHECK(unit, "gw_householder", "out of host memory");
    unit[0] = 1.0f;
    struct tn_tensor *e1 = tn_from_host(mu->storage->device, 2, row, unit);
    free(unit);
    struct tn_tensor *diff = ag_sub(e1, mu);
    struct tn_tensor *norm =
        ag_sqrt(ag_add_scalar(ag_sum(ag_square(diff), AG_AXIS(1), true), 1e-14f));
    struct tn_tensor *u = ag_div(diff, norm);
    struct tn_tensor *dot = ag_sum(ag_mul(y, u), AG_AXIS(1), true); /* [n, 1] */
    return ag_sub(y, ag_mul(ag_mul_scalar(dot, 2.0f), u));
}

struct tn_tensor *gw_sphere_place(struct tn_tensor *mu, struct tn_tensor *y) {
    int64_t n = y->shape[0], k = mu->shape[0];
    if (k == 1) return gw_householder(mu, y);
    float *idx = malloc((size_t)n * sizeof *idx);
    TN_CHECK(idx, "gw_sphere_place", "out of host memory");
    for (int64_t i = 0; i < n; i++) idx[i] = (float)(i % k);
    struct tn_tensor *comp = tn_from_host(mu->storage->device, 1, &n, idx);
    free(idx);
    return gw_householder(ag_index_select(mu, 0, comp), y);
}

struct tn_tensor *gw_sphere_sample(enum gw_sphere_law law, struct tn_tensor *mu, int64_t n,
                                   double kappa, struct tn_rng *rng,
                                   struct gw_sphere_stats *stats) {
    struct tn_device device = mu->storage->device;
    struct tn_tensor *y = gw_sphere_base(law, device, n, mu->shape[1], kappa, rng, stats);
    return law == GW_SPHERE_UNIFORM ? y : gw_sphere_place(mu, y);
}
