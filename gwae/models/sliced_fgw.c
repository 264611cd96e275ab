/* sliced_fgw.c - the sliced fused GW distance and the direction search of sliced_fgw.h,
 * composed of the engine's ops (sort through argsort + gather, whose backward scatters), so
 * that it runs on any device and is differentiable twice like the rest.
 *
 * The ascent's Adam (PyTorch's defaults, betas 0.9 and 0.999, eps 1e-8, as the DSW code's
 * torch.optim.Adam([theta])) is written here with ops on the locations rather than as an
 * nn_optim group: the locations are drawn again for every batch (or warm-started by the
 * model), their optimiser state lives for the T steps of one search only, and the search is
 * part of computing the main loss, not a step of the model's parameters.
 */
#include "sliced_fgw.h"

#include <math.h>
#include <stdlib.h>

bool gw_slicing_searches(enum gw_slicing_kind kind) {
    return kind == GW_SLICE_VMF || kind == GW_SLICE_POWER || kind == GW_SLICE_MAX;
}

/* |x|^p, as x^2 when p = 2 (the RAE code's (.)**p equals it for even p) */
static struct tn_tensor *pow_abs(struct tn_tensor *x, double p) {
    if (p == 2.0) return ag_square(x);
    if (p == 1.0) return ag_abs(x);
    return ag_pow_scalar(ag_abs(x), (float)p);
}

/* |v_i - v_j|^p for each row of v [L, n]: [L, n, n] */
static struct tn_tensor *pair_costs(struct tn_tensor *v, double p) {
    return pow_abs(ag_sub(ag_unsqueeze(v, 2), ag_unsqueeze(v, 1)), p);
}

/* mean_ij ((a_i - a_j)^2 - (b_i - b_j)^2)^2 for each row of a, b [L, n], in O(n): with
 * c = a - b and s = a + b, each term is (c_i - c_j)^2 (s_i - s_j)^2, unchanged by centring c
 * and s, and for centred c, s the double sum expands to
 *   2 mean(c^2 s^2) + 2 mean(c^2) mean(s^2) + 4 mean(c s)^2,
 * a sum of non-negative terms (no cancellation; exactly 0 when c = 0). [L] */
static struct tn_tensor *gw_square(struct tn_tensor *a, struct tn_tensor *b) {
    struct tn_tensor *c = ag_sub(a, b), *s = ag_add(a, b);
    c = ag_sub(c, ag_mean(c, AG_AXIS(1), true));
    s = ag_sub(s, ag_mean(s, AG_AXIS(1), true));
    struct tn_tensor *c2 = ag_square(c), *s2 = ag_square(s);
    struct tn_tensor *cross = ag_mean(ag_mul(c2, s2), AG_AXIS(1), false);
    struct tn_tensor *apart =
        ag_mul(ag_mean(c2, AG_AXIS(1), false), ag_mean(s2, AG_AXIS(1), false));
    struct tn_tensor *corr = ag_square(ag_mean(ag_mul(c, s), AG_AXIS(1), false));
    return ag_add(ag_mul_scalar(ag_add(cross, apart), 2.0f), ag_mul_scalar(corr, 4.0f));
}

/* (1 - beta) sum_i |a_i - b_i|^p + beta mean_ij |pair_a - pair(b)|^p for each row of a, b
 * [L, n] (pair_a: a's pair costs, NULL when p = 2): [L] */
static struct tn_tensor *fused(struct tn_tensor *a, struct tn_tensor *pair_a, struct tn_tensor *b,
                               double p, double beta) {
    struct tn_tensor *w = ag_sum(pow_abs(ag_sub(a, b), p), AG_AXIS(1), false);
    struct tn_tensor *gw = pair_a ? ag_mean(pow_abs(ag_sub(pair_a, pair_costs(b, p)), p),
                                            AG_AXIS(1) | AG_AXIS(2), false)
                                  : gw_square(a, b);
    return ag_add(ag_mul_scalar(w, (float)(1.0 - beta)), ag_mul_scalar(gw, (float)beta));
}

struct tn_tensor *gw_sliced_fgw(struct tn_tensor *z, struct tn_tensor *y, struct tn_tensor *theta,
                                double p, double beta) {
    TN_CHECK(z->ndim == 2 && y->ndim == 2 && theta->ndim == 2 && tn_same_shape(z, y) &&
                 theta->shape[1] == z->shape[1],
             "gw_sliced_fgw", "z, y [n, d] and theta [L, d]");
    /* projections [L, n]: one slice per row, so sorts and sums run along contiguous memory */
    struct tn_tensor *a, *b;
    ag_sort(ag_matmul(theta, ag_transpose(z, 0, 1)), 1, false, &a, NULL);
    ag_sort(ag_matmul(theta, ag_transpose(y, 0, 1)), 1, false, &b, NULL);
    int64_t n = z->shape[0];
    float *rev = malloc((size_t)n * sizeof *rev);
    TN_CHECK(rev, "gw_sliced_fgw", "out of host memory");
    for (int64_t i = 0; i < n; i++) rev[i] = (float)(n - 1 - i);
    struct tn_tensor *reverse = tn_from_host(z->storage->device, 1, &n, rev);
    free(rev);
    struct tn_tensor *b_desc = ag_index_select(b, 1, reverse);
    struct tn_tensor *pair_a = p == 2.0 ? NULL : pair_costs(a, p);
    struct tn_tensor *up = fused(a, pair_a, b, p, beta), *down = fused(a, pair_a, b_desc, p, beta);
    return ag_sum_all(ag_where(ag_le(up, down), up, down));
}

struct tn_tensor *gw_slicing_directions(const struct gw_slicing *s, struct tn_tensor *eps,
                                        struct tn_tensor *y) {
    TN_CHECK(gw_slicing_searches(s->kind), "gw_slicing_directions", "a kind without locations");
    return s->kind == GW_SLICE_MAX ? eps : gw_sphere_place(eps, y);
}

struct tn_tensor *gw_slicing_objective(const struct gw_slicing *s, struct tn_tensor *z,
                                       struct tn_tensor *y, struct tn_tensor *eps,
                                       struct tn_tensor *base) {
    return gw_sliced_fgw(z, y, gw_slicing_directions(s, eps, base), s->p, s->beta);
}

/* x / |x| for each row of x [k, d] */
static struct tn_tensor *unit_rows(struct tn_tensor *x) {
    return ag_div(x, ag_sqrt(ag_clamp(ag_sum(ag_square(x), AG_AXIS(1), true), 1e-30f, 1e30f)));
}

/* *slot = value, with a kept reference (the previous one dropped) */
static void replace(struct tn_tensor **slot, struct tn_tensor *value) {
    tn_keep(value);
    tn_release(*slot);
    *slot = value;
}

struct tn_tensor *gw_slicing_ascent(const struct gw_slicing *s, struct tn_tensor *z,
                                    struct tn_tensor *y, struct tn_tensor *eps0,
                                    struct tn_tensor *base) {
    const double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *zd = ag_detach(z), *yd = ag_detach(y);
    struct tn_tensor *eps = tn_keep(unit_rows(ag_detach(eps0))); /* a copy: never eps0's memory */
    struct tn_tensor *m = tn_keep(tn_zeros(eps0->storage->device, eps0->ndim, eps0->shape));
    struct tn_tensor *v = tn_keep(tn_zeros(eps0->storage->device, eps0->ndim, eps0->shape));
    for (int t = 1; t <= s->steps; t++) {
        tn_scope_begin();
        struct tn_tensor *leaf = tn_set_requires_grad(ag_detach(eps), true), *grad;
        struct tn_tensor *draws = base ? ag_squeeze(ag_slice(base, 0, t - 1, 1), 0) : NULL;
        ag_set_grad_enabled(true);
        struct tn_tensor *f = gw_slicing_objective(s, zd, yd, leaf, draws);
        ag_grad(1, &f, NULL, 1, &leaf, &grad, 0);
        ag_set_grad_enabled(false);
        replace(&m,
                ag_add(ag_mul_scalar(m, (float)beta1), ag_mul_scalar(grad, (float)(1 - beta1))));
        replace(&v, ag_add(ag_mul_scalar(v, (float)beta2),
                           ag_mul_scalar(ag_square(grad), (float)(1 - beta2))));
        double c1 = 1 - pow(beta1, t), c2 = sqrt(1 - pow(beta2, t));
        struct tn_tensor *denom =
            ag_add_scalar(ag_div_scalar(ag_sqrt(v), (float)c2), (float)adam_eps);
        struct tn_tensor *step = ag_mul_scalar(ag_div(m, denom), (float)(s->lr / c1));
        replace(&eps, unit_rows(ag_add(ag_detach(eps), step)));
        tn_scope_end();
    }
    tn_release(m);
    tn_release(v);
    ag_set_grad_enabled(mode);
    return tn_scope_adopt(eps);
}

struct tn_tensor *gw_sliced_discrepancy(const struct gw_slicing *s, struct tn_tensor *z,
                                        struct tn_tensor *y, struct tn_tensor *eps0,
                                        struct tn_rng *rng, struct tn_tensor **found) {
    struct tn_device device = z->storage->device;
    int64_t d = z->shape[1], l = s->projections, shape[2] = {l, d};
    struct tn_tensor *theta;
    if (s->kind == GW_SLICE_GAUSSIAN) {
        theta = tn_randn(device, 2, shape, rng);
    } else if (s->kind == GW_SLICE_UNIFORM) {
        theta = gw_sphere_uniform(device, l, d, rng);
    } else {
        int k = s->kind == GW_SLICE_MAX ? 1 : s->components;
        if (!eps0) eps0 = gw_sphere_uniform(device, k, d, rng);
        TN_CHECK(eps0->ndim == 2 && eps0->shape[0] == k && eps0->shape[1] == d,
                 "gw_sliced_discrepancy", "locations [%d, %lld]", k, (long long)d);
        struct tn_tensor *base = NULL, *ascent_base = NULL, *last = NULL;
        if (s->kind != GW_SLICE_MAX) {
            enum gw_sphere_law law = s->kind == GW_SLICE_VMF ? GW_SPHERE_VMF : GW_SPHERE_POWER;
            base = gw_sphere_base(law, device, (s->steps + 1) * l, d, s->kappa, rng, NULL);
            int64_t steps_shape[3] = {s->steps, l, d};
            if (s->steps > 0)
                ascent_base = ag_reshape(ag_slice(base, 0, 0, s->steps * l), 3, steps_shape);
            last = ag_slice(base, 0, s->steps * l, l);
        }
        struct tn_tensor *eps = gw_slicing_ascent(s, z, y, eps0, ascent_base);
        bool mode = ag_set_grad_enabled(false);
        theta = gw_slicing_directions(s, eps, last);
        ag_set_grad_enabled(mode);
        if (found) *found = eps;
    }
    return gw_sliced_fgw(z, y, theta, s->p, s->beta);
}
