/* gw_entropic.c - the entropic Gromov-Wasserstein solver of gw_entropic.h and the GW value at
 * a plan.
 *
 * Sinkhorn runs in units of eps: with K = C / eps and potentials u [n, 1], v [1, m],
 *   u = log a - LSE_j (v_j - K_ij),   v = log b - LSE_i (u_i - K_ij),   P = exp(u + v - K),
 * so after each v update the columns' marginal is exact and the rows' one is
 * r_i = exp(u_i + LSE_j (v_j - K_ij)): the LSE that the next u update needs anyway, so a check
 * costs one small reduction and one device-to-host read of a scalar, every check_every
 * iterations. The outer loop reads E at the current plan once per linearisation (from the
 * A P B product the linearisation needs) and stops when it settles. Each iteration runs in a
 * scope of its own; the potentials and the plan are the only tensors carried across.
 */
#include "gw_entropic.h"

#include <math.h>

#include "autograd/ag.h"

struct gw_entropic_options gw_entropic_defaults(void) {
    return (struct gw_entropic_options){
        .epsilon = 0.01, .relative = true, .outer_min = 5, .outer_max = 50, .outer_tol = 1e-4,
        .inner_max = 2000, .inner_tol = 1e-3, .check_every = 10, .warm_start = true,
    };
}

/* *slot (a reference of ours) becomes t, which outlives the current scope */
static void hold(struct tn_tensor **slot, struct tn_tensor *t) {
    struct tn_tensor *kept = tn_keep(t);
    tn_release(*slot);
    *slot = kept;
}

/* log sum exp of x along axes (kept): the composite of ag_logsumexp without its guard for
 * all -inf slices, which finite costs never make; four fewer ops per Sinkhorn half-step */
static struct tn_tensor *lse(struct tn_tensor *x, uint32_t axes) {
    struct tn_tensor *m = ag_amax(x, axes, true);
    return ag_add(ag_log(ag_sum(ag_exp(ag_sub(x, m)), axes, true)), m);
}

/* Sinkhorn on K = C / eps [n, m] from the potentials *u, *v (updated in place); returns the
 * iterations run and the last rows' marginal error in *err */
static int sinkhorn(struct tn_tensor *K, struct tn_tensor **u, struct tn_tensor **v,
                    const struct gw_entropic_options *o, double *err) {
    int64_t n = K->shape[0], m = K->shape[1];
    float log_a = -logf((float)n), log_b = -logf((float)m);
    int it = 0;
    *err = INFINITY;
    while (it < o->inner_max) {
        tn_scope_begin();
        struct tn_tensor *row = lse(ag_sub(*v, K), AG_AXIS(1)); /* [n, 1] */
        bool check = it > 0 && it % o->check_every == 0;
        if (check) {
            struct tn_tensor *r = ag_exp(ag_add(*u, row));
            *err = (double)tn_item(ag_sum_all(ag_abs(ag_sub_scalar(r, expf(log_a)))));
        }
        bool done = check && *err <= o->inner_tol;
        if (!done) {
            hold(u, ag_rsub_scalar(log_a, row));
            hold(v, ag_rsub_scalar(log_b, lse(ag_sub(*u, K), AG_AXIS(0))));
            it++;
        }
        tn_scope_end();
        if (done) break;
    }
    return it;
}

/* E(P) from the product A P B (B symmetric), the half squared row means alpha [n, 1] and
 * beta [1, m], and P: the objective's three terms with the marginals of P */
static struct tn_tensor *cost_at(struct tn_tensor *apb, struct tn_tensor *alpha,
                                 struct tn_tensor *beta, struct tn_tensor *P) {
    struct tn_tensor *r = ag_sum(P, AG_AXIS(1), true), *c = ag_sum(P, AG_AXIS(0), true);
    return ag_sub(ag_add(ag_sum_all(ag_mul(alpha, r)), ag_sum_all(ag_mul(beta, c))),
                  ag_sum_all(ag_mul(apb, P)));
}

void gw_entropic_solve(struct tn_tensor *A, struct tn_tensor *B,
                       const struct gw_entropic_options *opts, struct gw_entropic_plan *out) {
    struct gw_entropic_options o = opts ? *opts : gw_entropic_defaults();
    TN_CHECK(A->ndim == 2 && B->ndim == 2 && A->shape[0] == A->shape[1] &&
                 B->shape[0] == B->shape[1], "gw_entropic_solve", "cost matrices must be square");
    TN_CHECK(o.epsilon > 0 && o.check_every > 0 && o.outer_max >= 1 && o.inner_max >= 1,
             "gw_entropic_solve", "eps %g, check_every %d, outer_max %d, inner_max %d", o.epsilon,
             o.check_every, o.outer_max, o.inner_max);
    bool grad = ag_set_grad_enabled(false);
    struct tn_device dev = A->storage->device;
    int64_t n = A->shape[0], m = B->shape[0];
    *out = (struct gw_entropic_plan){0};
    tn_scope_begin();
    struct tn_tensor *a = ag_detach(A), *b = ag_detach(B);
    /* the scale of E: eps's unit (relative eps) and the outer tolerance's */
    float scales[2];
    struct tn_tensor *means[2] = {ag_mean_all(ag_abs(a)), ag_mean_all(ag_abs(b))};
    tn_to_host(ag_concat(2, (struct tn_tensor *[]){ag_reshape(means[0], 1, (int64_t[]){1}),
                                                   ag_reshape(means[1], 1, (int64_t[]){1})}, 0),
               scales);
    double scale = (double)scales[0] * (double)scales[1];
    double eps = o.relative ? o.epsilon * scale : o.epsilon;
    if (!(eps > 1e-20)) eps = 1e-20; /* a collapsed map: every cost 0, any plan is optimal */
    struct tn_tensor *alpha = ag_mul_scalar(ag_mean(ag_square(a), AG_AXIS(1), true), 0.5f);
    struct tn_tensor *beta = ag_reshape(
        ag_mul_scalar(ag_mean(ag_square(b), AG_AXIS(1), false), 0.5f), 2, (int64_t[]){1, m});
    struct tn_tensor *P = tn_keep(tn_full(dev, 2, (int64_t[]){n, m}, 1.0f / (float)(n * m)));
    struct tn_tensor *u = tn_keep(tn_zeros(dev, 2, (int64_t[]){n, 1}));
    struct tn_tensor *v = tn_keep(tn_zeros(dev, 2, (int64_t[]){1, m}));
    double previous = NAN;
    while (true) {
        tn_scope_begin();
        struct tn_tensor *apb = ag_matmul(ag_matmul(a, P), b);
        out->cost = (double)tn_item(cost_at(apb, alpha, beta, P));
        bool settled = out->outer >= o.outer_min &&
                       fabs(out->cost - previous) <= o.outer_tol * (scale > 0 ? scale : 1.0);
        out->converged = settled;
        if (settled || out->outer == o.outer_max) {
            tn_scope_end();
            break;
        }
        previous = out->cost;
        struct tn_tensor *K = ag_mul_scalar(apb, (float)(-2.0 / eps));
        if (!o.warm_start) {
            hold(&u, tn_zeros(dev, 2, (int64_t[]){n, 1}));
            hold(&v, tn_zeros(dev, 2, (int64_t[]){1, m}));
        }
        out->inner += sinkhorn(K, &u, &v, &o, &out->marginal_error);
        hold(&P, ag_exp(ag_sub(ag_add(u, v), K)));
        out->outer++;
        if (out->outer == o.outer_max) {
            /* the value of the last plan, for the caller's report */
            out->cost = (double)tn_item(cost_at(ag_matmul(ag_matmul(a, P), b), alpha, beta, P));
            out->converged = false;
            tn_scope_end();
            break;
        }
        tn_scope_end();
    }
    /* KL(P || a b^T) = sum P (log P + log n + log m); log P from the potentials would need K
     * again, and P > 0 wherever it carries mass */
    struct tn_tensor *logp = ag_log(ag_clamp(P, 1e-38f, 1.0f));
    float log_nm = logf((float)n) + logf((float)m);
    struct tn_tensor *kl = ag_sum_all(ag_mul(P, ag_add_scalar(logp, log_nm)));
    out->kl = tn_keep(kl);
    out->plan = P;
    tn_release(u);
    tn_release(v);
    tn_scope_end();
    tn_scope_adopt(out->plan);
    tn_scope_adopt(out->kl);
    out->epsilon = eps;
    ag_set_grad_enabled(grad);
}

struct tn_tensor *gw_quadratic_cost(struct tn_tensor *A, struct tn_tensor *B,
                                    struct tn_tensor *P) {
    int64_t n = A->shape[0], m = B->shape[0];
    TN_CHECK(P->ndim == 2 && P->shape[0] == n && P->shape[1] == m, "gw_quadratic_cost",
             "plan [%lld, %lld] for costs of %lld and %lld points", (long long)P->shape[0],
             (long long)P->shape[1], (long long)n, (long long)m);
    struct tn_tensor *p = ag_detach(P);
    struct tn_tensor *r = ag_sum(p, AG_AXIS(1), true), *c = ag_sum(p, AG_AXIS(0), true);
    /* 1/2 r^T (A o A) r and 1/2 c (B o B) c^T, each [1, 1] */
    struct tn_tensor *ta = ag_matmul(ag_transpose(r, 0, 1), ag_matmul(ag_square(A), r));
    struct tn_tensor *tb = ag_matmul(c, ag_matmul(ag_square(B), ag_transpose(c, 0, 1)));
    struct tn_tensor *apb = ag_matmul(ag_matmul(A, p), ag_transpose(B, 0, 1));
    struct tn_tensor *cross = ag_sum_all(ag_mul(apb, p));
    return ag_sub(ag_mul_scalar(ag_sum_all(ag_add(ta, tb)), 0.5f), cross);
}

struct tn_tensor *gw_entropic_value(struct tn_tensor *A, struct tn_tensor *B,
                                    const struct gw_entropic_plan *plan, bool regularised) {
    struct tn_tensor *e = gw_quadratic_cost(A, B, plan->plan);
    if (!regularised) return e;
    return ag_add(e, ag_mul_scalar(ag_detach(plan->kl), (float)plan->epsilon));
}
