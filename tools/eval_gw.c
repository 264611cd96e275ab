/* eval_gw.c - L_GW against the empirical GW solver, and the isometry distances of generated
 * pairs (eval_gw.h says which points and distances).
 *
 * The model runs in evaluation mode one batch at a time in a scope of its own; distances and
 * the solver work in double on host copies. The solver is POT's conditional gradient
 * (gw_gw_defaults) with the loss chosen per value.
 */
#include "eval_gw.h"

#include <math.h>
#include <stdlib.h>

#include "evaluate.h"
#include "gwae/eval/metrics.h"

/* mean over the L dims of the unbiased std over the n rows of z[n, l], at least 1e-8 (as
 * gw_loss_gw computes s) */
static double latent_scale(const float *z, int64_t n, int64_t l) {
    double total = 0;
    for (int64_t k = 0; k < l; k++) {
        double mean = 0, sq = 0;
        for (int64_t i = 0; i < n; i++) mean += z[i * l + k];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) sq += (z[i * l + k] - mean) * (z[i * l + k] - mean);
        total += sqrt(sq / (double)(n - 1));
    }
    double s = total / (double)l;
    return s > 1e-8 ? s : 1e-8;
}

static double solve(const double *c1, const double *c2, int64_t n, enum gw_gw_loss loss) {
    struct gw_gw_options o = gw_gw_defaults();
    o.loss = loss;
    return gw_gromov_wasserstein(c1, n, c2, n, &o, NULL);
}

/* the model's scale C into *c; false for a model without one */
static bool model_scale(struct gw_model *m, double *c) {
    if (!m->ops->latent_scale) return false;
    tn_scope_begin();
    *c = (double)tn_item(m->ops->latent_scale(m));
    tn_scope_end();
    return true;
}

/* mean of the off-diagonal entries of the n x n matrix d */
static double mean_off_diagonal(const double *d, int64_t n) {
    double sum = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++)
            if (i != j) sum += d[i * n + j];
    return sum / (double)(n * (n - 1));
}

void eval_gw_batch(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                   struct eval_gw_point *out) {
    int64_t b = x->shape[0], l = m->common.latent, v = tn_numel_of(x->ndim, x->shape) / b;
    TN_CHECK(b >= 2, "eval_gw_batch", "a GW value needs 2 points, got %lld", (long long)b);
    float *xh = malloc((size_t)(b * v) * sizeof *xh), *xs = malloc((size_t)(b * v) * sizeof *xs);
    float *zs = malloc((size_t)(2 * b * l) * sizeof *zs), *zq = zs + b * l;
    double *dx = malloc((size_t)(4 * b * b) * sizeof *dx), *dxs = dx + b * b, *dz = dxs + b * b;
    double *dq = dz + b * b;
    TN_CHECK(xh && xs && zs && dx, "eval_gw_batch", "out of host memory");
    bool grad = eval_begin(m);
    double c;
    bool has_c = model_scale(m, &c);
    tn_scope_begin();
    struct tn_tensor *z = gw_model_sample(m, b, rng);
    tn_to_host(x, xh);
    tn_to_host(gw_model_decode(m, z), xs);
    tn_to_host(z, zs);
    tn_to_host(gw_model_code(m, x, rng), zq);
    tn_scope_end();
    eval_end(m, grad);
    gw_distance_matrix(xh, b, v, dx);
    gw_distance_matrix(xs, b, v, dxs);
    gw_distance_matrix(zs, b, l, dz);
    gw_distance_matrix(zq, b, l, dq);
    double mean_dz = mean_off_diagonal(dz, b);
    double scale = has_c ? c / latent_scale(zs, b, l)
                         : mean_dz > 0 ? mean_off_diagonal(dx, b) / mean_dz : 1.0;
    double estimate = 0;
    for (int64_t i = 0; i < b * b; i++) {
        dz[i] *= scale;
        dq[i] *= scale;
        estimate += fabs(dz[i] - dxs[i]);
    }
    out->estimate = estimate / (double)(b * b);
    out->solver = solve(dx, dz, b, GW_GW_ABS);
    out->solver_sq = solve(dx, dz, b, GW_GW_SQUARE);
    out->solver_gen = solve(dxs, dz, b, GW_GW_ABS);
    out->solver_enc = solve(dx, dq, b, GW_GW_ABS);
    free(xh);
    free(xs);
    free(zs);
    free(dx);
}

int64_t eval_gw_split(struct gw_model *m, const struct gw_dataset *d, int64_t batches,
                      struct tn_rng *rng, struct eval_gw_point *mean, struct eval_gw_point *se) {
    int64_t b = m->common.batch, n = d->count / b;
    if (batches > 0 && batches < n) n = batches;
    enum { K = 5 };
    double *v = malloc((size_t)(K * (n ? n : 1)) * sizeof *v);
    TN_CHECK(v, "eval_gw_split", "out of host memory");
    for (int64_t i = 0; i < n; i++) {
        struct eval_gw_point p;
        tn_scope_begin();
        eval_gw_batch(m, eval_batch_at(m, d, i * b, b), rng, &p);
        tn_scope_end();
        v[i] = p.estimate;
        v[n + i] = p.solver;
        v[2 * n + i] = p.solver_sq;
        v[3 * n + i] = p.solver_gen;
        v[4 * n + i] = p.solver_enc;
    }
    double *mp[K] = {&mean->estimate, &mean->solver, &mean->solver_sq, &mean->solver_gen,
                     &mean->solver_enc};
    double *sp[K] = {&se->estimate, &se->solver, &se->solver_sq, &se->solver_gen, &se->solver_enc};
    for (int k = 0; k < K; k++) {
        if (n > 0) gw_mean_stderr(v + k * n, n, mp[k], sp[k]);
        else *mp[k] = *sp[k] = NAN;
    }
    free(v);
    return n;
}

void eval_isometry(struct gw_model *m, int64_t n, bool squared, struct tn_rng *rng, double *dz,
                   double *dx) {
    int64_t l = m->common.latent, b = m->common.batch < 2 ? 2 : m->common.batch & ~(int64_t)1;
    int64_t v = (int64_t)m->common.channels * m->common.image_size * m->common.image_size;
    float *z = malloc((size_t)(2 * n * l) * sizeof *z), *x = malloc((size_t)(b * v) * sizeof *x);
    TN_CHECK(z && x, "eval_isometry", "out of host memory");
    bool grad = eval_begin(m);
    double c;
    bool has_c = model_scale(m, &c);
    for (int64_t first = 0; first < 2 * n; first += b) {
        int64_t k = 2 * n - first < b ? 2 * n - first : b;
        tn_scope_begin();
        struct tn_tensor *zb = gw_model_sample(m, k, rng);
        tn_to_host(zb, z + first * l);
        tn_to_host(gw_model_decode(m, zb), x);
        tn_scope_end();
        for (int64_t p = 0; p < k; p += 2) {
            double sq = 0;
            for (int64_t j = 0; j < v; j++) {
                double e = (double)x[p * v + j] - (double)x[(p + 1) * v + j];
                sq += e * e;
            }
            dx[(first + p) / 2] = squared ? sq : sqrt(sq);
        }
    }
    eval_end(m, grad);
    double sum_dz = 0, sum_dx = 0;
    for (int64_t p = 0; p < n; p++) {
        double sq = 0;
        for (int64_t j = 0; j < l; j++) {
            double e = (double)z[2 * p * l + j] - (double)z[(2 * p + 1) * l + j];
            sq += e * e;
        }
        dz[p] = squared ? sq : sqrt(sq);
        sum_dz += dz[p];
        sum_dx += dx[p];
    }
    double scale = squared ? 1.0
                   : has_c ? c / latent_scale(z, 2 * n, l)
                   : sum_dz > 0 ? sum_dx / sum_dz : 1.0;
    for (int64_t p = 0; p < n; p++) dz[p] *= scale;
    free(z);
    free(x);
}
