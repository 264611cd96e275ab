/* gromov_wasserstein.c - the empirical Gromov-Wasserstein discrepancy between two finite metric
 * spaces with uniform weights (paper Fig. 1a): the objective at a coupling, the conditional
 * gradient solver (POT's gromov_wasserstein) and the entropic solver (POT's
 * entropic_gromov_wasserstein), for the square loss and for GWAE's |a - b| (rho = 1).
 *
 * Everything rests on the linear map tens(X)[i, j] = sum_{k,l} loss(c1[i,k], c2[j,l]) X[k,l],
 * for which objective(T) = <tens(T), T> and the gradient is 2 tens(T) (c1, c2 symmetric).
 *  - square loss: (a - b)^2 = a^2 + b^2 - 2ab splits tens(X) into two matrix-vector products
 *    and c1 X c2 (Peyre, Cuturi and Solomon 2016): O(n^2 m + n m^2);
 *  - |a - b| does not split. For a sparse X (a transport vertex, nnz <= n + m - 1) tens(X)
 *    is the direct sum over its non-zero entries, O(nm nnz(X)). For a dense X, for each
 *    (k, j) the map a -> sum_l X[k,l] |a - c2[j,l]| is piecewise linear with kinks at the
 *    sorted row c2[j, :]; prefix sums of X[k, l] and X[k, l] c2[j, l] in that order evaluate
 *    it at all n values c1[:, k] (sorted) in one merge: O(nm (n + m)) instead of O(n^2 m^2).
 * The exact transport inside conditional gradient is eval/transport.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tensor/tn_error.h"

struct gw_gw_options gw_gw_defaults(void) {
    return (struct gw_gw_options){.loss = GW_GW_SQUARE, .epsilon = 0.0, .max_iter = 1000,
                                  .tol = 1e-9};
}

void gw_distance_matrix(const float *points, int64_t n, int64_t dim, double *d) {
    TN_CHECK(points && d && n > 0 && dim > 0, "gw_distance_matrix", "NULL array or empty shape");
    for (int64_t i = 0; i < n; i++) {
        d[i * n + i] = 0.0;
        for (int64_t j = i + 1; j < n; j++) {
            double sum = 0.0;
            for (int64_t k = 0; k < dim; k++) {
                double t = (double)points[i * dim + k] - (double)points[j * dim + k];
                sum += t * t;
            }
            d[i * n + j] = d[j * n + i] = sqrt(sum);
        }
    }
}

/* The two spaces and the loss between them; for |a - b| also every row of c1 and c2 sorted
 * (values and the columns they came from). */
struct gw_pair {
    const double *c1, *c2; /* [n, n], [m, m], symmetric */
    int64_t n, m;
    enum gw_gw_loss loss;
    double *v1, *v2;  /* [n, n], [m, m] sorted rows */
    int64_t *i1, *i2; /* their columns */
};

/* A value and its column, for sorting the rows. */
struct slot {
    double v;
    int64_t col;
};

static int by_slot_value(const void *pa, const void *pb) {
    double a = ((const struct slot *)pa)->v, b = ((const struct slot *)pb)->v;
    return (a > b) - (a < b);
}

/* Sorts each row of c[k, k] into values v and columns idx (both [k, k], malloc'ed). */
static void sort_rows(const double *c, int64_t k, double **v, int64_t **idx) {
    struct slot *row = malloc((size_t)k * sizeof *row);
    *v = malloc((size_t)(k * k) * sizeof **v);
    *idx = malloc((size_t)(k * k) * sizeof **idx);
    TN_CHECK(row && *v && *idx, "gw_gromov_wasserstein", "out of memory");
    for (int64_t r = 0; r < k; r++) {
        for (int64_t t = 0; t < k; t++) row[t] = (struct slot){c[r * k + t], t};
        qsort(row, (size_t)k, sizeof *row, by_slot_value);
        for (int64_t t = 0; t < k; t++) {
            (*v)[r * k + t] = row[t].v;
            (*idx)[r * k + t] = row[t].col;
        }
    }
    free(row);
}

/* Aborts unless c is a symmetric k x k matrix (both tens formulas rely on it). */
static void check_symmetric(const double *c, int64_t k, const char *name) {
    double scale = 0.0;
    for (int64_t i = 0; i < k * k; i++) scale = fmax(scale, fabs(c[i]));
    for (int64_t i = 0; i < k; i++)
        for (int64_t j = i + 1; j < k; j++)
            TN_CHECK(fabs(c[i * k + j] - c[j * k + i]) <= 1e-9 * scale, "gw_gromov_wasserstein",
                     "%s is not symmetric at (%lld, %lld)", name, (long long)i, (long long)j);
}

static struct gw_pair make_pair(const double *c1, int64_t n, const double *c2, int64_t m,
                                enum gw_gw_loss loss) {
    TN_CHECK(c1 && c2 && n > 0 && m > 0, "gw_gromov_wasserstein", "NULL matrix or empty side");
    TN_CHECK(loss == GW_GW_SQUARE || loss == GW_GW_ABS, "gw_gromov_wasserstein",
             "unknown loss %d", (int)loss);
    check_symmetric(c1, n, "c1");
    check_symmetric(c2, m, "c2");
    struct gw_pair p = {.c1 = c1, .c2 = c2, .n = n, .m = m, .loss = loss};
    if (loss == GW_GW_ABS) {
        sort_rows(c1, n, &p.v1, &p.i1);
        sort_rows(c2, m, &p.v2, &p.i2);
    }
    return p;
}

static void free_pair(struct gw_pair *p) {
    free(p->v1);
    free(p->v2);
    free(p->i1);
    free(p->i2);
}

/* out = tens(x) for the square loss: row and column sums of x carry the a^2 and b^2 parts,
 * -2 c1 x c2 the cross term. */
static void tens_square(const struct gw_pair *p, const double *x, double *out) {
    int64_t n = p->n, m = p->m;
    double *rows = calloc((size_t)n, sizeof *rows), *cols = calloc((size_t)m, sizeof *cols);
    double *a = calloc((size_t)n, sizeof *a), *b = calloc((size_t)m, sizeof *b);
    double *xc2 = calloc((size_t)(n * m), sizeof *xc2);
    TN_CHECK(rows && cols && a && b && xc2, "gw_gromov_wasserstein", "out of memory");
    for (int64_t k = 0; k < n; k++)
        for (int64_t l = 0; l < m; l++) {
            rows[k] += x[k * m + l];
            cols[l] += x[k * m + l];
        }
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < n; k++) a[i] += p->c1[i * n + k] * p->c1[i * n + k] * rows[k];
    for (int64_t j = 0; j < m; j++)
        for (int64_t l = 0; l < m; l++) b[j] += p->c2[j * m + l] * p->c2[j * m + l] * cols[l];
    for (int64_t k = 0; k < n; k++) /* xc2 = x c2 */
        for (int64_t l = 0; l < m; l++) {
            double v = x[k * m + l];
            if (v == 0.0) continue;
            const double *row = p->c2 + l * m;
            for (int64_t j = 0; j < m; j++) xc2[k * m + j] += v * row[j];
        }
    for (int64_t i = 0; i < n; i++) {
        double *o = out + i * m;
        for (int64_t j = 0; j < m; j++) o[j] = a[i] + b[j];
        for (int64_t k = 0; k < n; k++) {
            double w = -2.0 * p->c1[i * n + k];
            const double *row = xc2 + k * m;
            for (int64_t j = 0; j < m; j++) o[j] += w * row[j];
        }
    }
    free(rows);
    free(cols);
    free(a);
    free(b);
    free(xc2);
}

/* out = tens(x) for |a - b| and a dense x: the sorted merge of the file's comment. */
static void tens_abs_dense(const struct gw_pair *p, const double *x, double *out) {
    int64_t n = p->n, m = p->m;
    double *w = malloc((size_t)(m + 1) * sizeof *w), *wc = malloc((size_t)(m + 1) * sizeof *wc);
    TN_CHECK(w && wc, "gw_gromov_wasserstein", "out of memory");
    memset(out, 0, (size_t)(n * m) * sizeof *out);
    for (int64_t k = 0; k < n; k++) {
        const double *a = p->v1 + k * n, *xk = x + k * m; /* c1[:, k] = c1[k, :], sorted */
        const int64_t *rows = p->i1 + k * n;
        for (int64_t j = 0; j < m; j++) {
            const double *b = p->v2 + j * m;
            const int64_t *cols = p->i2 + j * m;
            w[0] = wc[0] = 0.0; /* prefix sums of x[k, l] and x[k, l] c2[j, l], b ascending */
            for (int64_t t = 0; t < m; t++) {
                double v = xk[cols[t]];
                w[t + 1] = w[t] + v;
                wc[t + 1] = wc[t] + v * b[t];
            }
            if (w[m] == 0.0) continue;
            int64_t t = 0; /* b[0..t) <= a[q] */
            for (int64_t q = 0; q < n; q++) {
                while (t < m && b[t] <= a[q]) t++;
                out[rows[q] * m + j] +=
                    a[q] * w[t] - wc[t] + (wc[m] - wc[t]) - a[q] * (w[m] - w[t]);
            }
        }
    }
    free(w);
    free(wc);
}

/* out = tens(x) for |a - b|, one pass over the non-zero entries x[k, l] (c1, c2 symmetric, so
 * c1[i, k] = c1[k, i] and c2[j, l] = c2[l, j] are read along rows); the dense version when x
 * has more non-zeros than the merge costs. */
static void tens_abs(const struct gw_pair *p, const double *x, double *out) {
    int64_t n = p->n, m = p->m, nnz = 0;
    for (int64_t k = 0; k < n * m; k++) nnz += x[k] != 0.0;
    if (nnz > n + 3 * m) {
        tens_abs_dense(p, x, out);
        return;
    }
    memset(out, 0, (size_t)(n * m) * sizeof *out);
    for (int64_t k = 0; k < n; k++)
        for (int64_t l = 0; l < m; l++) {
            double w = x[k * m + l];
            if (w == 0.0) continue;
            const double *r1 = p->c1 + k * n, *r2 = p->c2 + l * m;
            for (int64_t i = 0; i < n; i++) {
                double a = r1[i], *o = out + i * m;
                for (int64_t j = 0; j < m; j++) o[j] += w * fabs(a - r2[j]);
            }
        }
}

static void tens(const struct gw_pair *p, const double *x, double *out) {
    if (p->loss == GW_GW_SQUARE)
        tens_square(p, x, out);
    else
        tens_abs(p, x, out);
}

static double dot(const double *a, const double *b, int64_t k) {
    double s = 0.0;
    for (int64_t i = 0; i < k; i++) s += a[i] * b[i];
    return s;
}

static double *new_array(int64_t k) {
    double *a = malloc((size_t)k * sizeof *a);
    TN_CHECK(a, "gw_gromov_wasserstein", "out of memory for %lld values", (long long)k);
    return a;
}

double gw_gw_objective(const double *c1, int64_t n, const double *c2, int64_t m,
                       enum gw_gw_loss loss, const double *plan) {
    TN_CHECK(plan, "gw_gw_objective", "NULL plan");
    struct gw_pair p = make_pair(c1, n, c2, m, loss);
    double *t = new_array(n * m);
    tens(&p, plan, t);
    double f = dot(t, plan, n * m);
    free(t);
    free_pair(&p);
    return f;
}

/* The step in [0, 1] minimising the quadratic f(g + s d) = f(g) + b s + a s^2 exactly. */
static double line_search(double a, double b) {
    if (a > 0.0) return fmin(1.0, fmax(0.0, -b / (2.0 * a)));
    return a + b < 0.0 ? 1.0 : 0.0;
}

/* Conditional gradient (Frank-Wolfe) from g = the product coupling: the linearised problem
 * min <grad, x> over couplings is an exact transport, then the exact line search. tens(g) is
 * carried along by linearity instead of recomputed. */
static void solve_cg(const struct gw_pair *p, const struct gw_gw_options *o, double *g) {
    int64_t nm = p->n * p->m;
    double *tg = new_array(nm), *vert = new_array(nm), *tv = new_array(nm);
    tens(p, g, tg);
    double f = dot(tg, g, nm);
    for (int it = 0; it < o->max_iter; it++) {
        gw_emd_uniform(tg, p->n, p->m, vert); /* grad = 2 tg: same minimiser */
        tens(p, vert, tv);
        /* with d = vert - g: a = <tens(d), d>, b = 2 <tens(g), d> (tens is self-adjoint) */
        double a = 0.0, b = 0.0;
        for (int64_t k = 0; k < nm; k++) {
            double d = vert[k] - g[k];
            a += (tv[k] - tg[k]) * d;
            b += 2.0 * tg[k] * d;
        }
        double s = line_search(a, b);
        for (int64_t k = 0; k < nm; k++) {
            g[k] += s * (vert[k] - g[k]);
            tg[k] += s * (tv[k] - tg[k]);
        }
        double f_new = f + b * s + a * s * s, change = fabs(f_new - f);
        f = f_new;
        if (change <= o->tol * fabs(f) || change <= o->tol) break;
    }
    free(tg);
    free(vert);
    free(tv);
}

/* Sinkhorn in the log domain (potentials f, g): slower (exp per entry and iteration) but
 * immune to the underflow of exp(-cost / eps) for small eps. Same fixed point. */
static void sinkhorn_log(const double *cost, int64_t n, int64_t m, double eps, double *plan) {
    double *f = calloc((size_t)n, sizeof *f), *g = calloc((size_t)m, sizeof *g);
    TN_CHECK(f && g, "gw_gromov_wasserstein", "out of memory");
    double la = -log((double)n), lb = -log((double)m);
    for (int it = 0; it < 1000; it++) {
        for (int64_t j = 0; j < m; j++) { /* g_j = eps (log b_j - LSE_i (f_i - c_ij) / eps) */
            double top = -INFINITY, sum = 0.0;
            for (int64_t i = 0; i < n; i++) top = fmax(top, (f[i] - cost[i * m + j]) / eps);
            for (int64_t i = 0; i < n; i++) sum += exp((f[i] - cost[i * m + j]) / eps - top);
            g[j] = eps * (lb - top - log(sum));
        }
        double err = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double top = -INFINITY, sum = 0.0;
            const double *row = cost + i * m;
            for (int64_t j = 0; j < m; j++) top = fmax(top, (g[j] - row[j]) / eps);
            for (int64_t j = 0; j < m; j++) sum += exp((g[j] - row[j]) / eps - top);
            double f_new = eps * (la - top - log(sum));
            err = fmax(err, fabs(f_new - f[i]));
            f[i] = f_new;
        }
        if (err < 1e-12 * eps) break;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < m; j++) plan[i * m + j] = exp((f[i] + g[j] - cost[i * m + j]) / eps);
    free(f);
    free(g);
}

/* POT's sinkhorn (Sinkhorn-Knopp on K = exp(-cost / eps), 1000 iterations, stop when the
 * column marginal is within 1e-9 in 2-norm, checked every 10 iterations). The cost is shifted
 * by its minimum first, which changes only the scaling vectors; if the kernel still
 * underflows the log-domain version takes over. */
static void sinkhorn(const double *cost, int64_t n, int64_t m, double eps, double *plan) {
    int64_t nm = n * m;
    double lo = INFINITY;
    for (int64_t k = 0; k < nm; k++) lo = fmin(lo, cost[k]);
    double *kern = new_array(nm), *u = new_array(n), *v = new_array(m);
    double *ktu = new_array(m), *kv = new_array(n);
    for (int64_t k = 0; k < nm; k++) kern[k] = exp(-(cost[k] - lo) / eps);
    for (int64_t i = 0; i < n; i++) u[i] = 1.0 / (double)n;
    for (int64_t j = 0; j < m; j++) v[j] = 1.0 / (double)m;
    bool broken = false;
    for (int it = 0; it < 1000 && !broken; it++) {
        for (int64_t j = 0; j < m; j++) ktu[j] = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) ktu[j] += kern[i * m + j] * u[i];
        for (int64_t j = 0; j < m; j++) {
            v[j] = (1.0 / (double)m) / ktu[j];
            if (!isfinite(v[j]) || ktu[j] == 0.0) broken = true;
        }
        for (int64_t i = 0; i < n; i++) {
            kv[i] = dot(kern + i * m, v, m);
            u[i] = (1.0 / (double)n) / kv[i];
            if (!isfinite(u[i]) || kv[i] == 0.0) broken = true;
        }
        if (broken || it % 10 != 0) continue;
        double err = 0.0; /* column marginal of diag(u) K diag(v) against 1/m */
        for (int64_t j = 0; j < m; j++) ktu[j] = 0.0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) ktu[j] += kern[i * m + j] * u[i];
        for (int64_t j = 0; j < m; j++) {
            double e = v[j] * ktu[j] - 1.0 / (double)m;
            err += e * e;
        }
        if (sqrt(err) < 1e-9) break;
    }
    if (broken)
        sinkhorn_log(cost, n, m, eps, plan);
    else
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < m; j++) plan[i * m + j] = u[i] * kern[i * m + j] * v[j];
    free(kern);
    free(u);
    free(v);
    free(ktu);
    free(kv);
}

/* Entropic GW as POT's projected gradient: t <- sinkhorn(2 tens(t), eps) from the product
 * coupling, stopping when the plan moves less than tol (Frobenius), checked every 10th step. */
static void solve_entropic(const struct gw_pair *p, const struct gw_gw_options *o, double *t) {
    int64_t nm = p->n * p->m;
    double *grad = new_array(nm), *next = new_array(nm);
    for (int it = 0; it < o->max_iter; it++) {
        tens(p, t, grad);
        for (int64_t k = 0; k < nm; k++) grad[k] *= 2.0;
        sinkhorn(grad, p->n, p->m, o->epsilon, next);
        double moved = 0.0;
        for (int64_t k = 0; k < nm; k++) moved += (next[k] - t[k]) * (next[k] - t[k]);
        memcpy(t, next, (size_t)nm * sizeof *t);
        if (it % 10 == 0 && sqrt(moved) < o->tol) break;
    }
    free(grad);
    free(next);
}

double gw_gromov_wasserstein(const double *c1, int64_t n, const double *c2, int64_t m,
                             const struct gw_gw_options *opts, double *plan) {
    struct gw_gw_options o = opts ? *opts : gw_gw_defaults();
    TN_CHECK(o.epsilon >= 0.0 && o.max_iter >= 0 && o.tol >= 0.0, "gw_gromov_wasserstein",
             "bad options (epsilon %g, max_iter %d, tol %g)", o.epsilon, o.max_iter, o.tol);
    struct gw_pair p = make_pair(c1, n, c2, m, o.loss);
    double *t = new_array(n * m);
    for (int64_t k = 0; k < n * m; k++) t[k] = 1.0 / ((double)n * (double)m);
    if (o.epsilon > 0.0)
        solve_entropic(&p, &o, t);
    else
        solve_cg(&p, &o, t);
    double f = gw_gw_objective(c1, n, c2, m, o.loss, t);
    if (plan) memcpy(plan, t, (size_t)(n * m) * sizeof *t);
    free(t);
    free_pair(&p);
    return f;
}
