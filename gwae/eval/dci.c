/* dci.c - the DCI scores (Eastwood and Williams 2018) as the official evaluation
 * computes them (gwae-spec.md section 7, vaetc dci/classifier.py): factors scaled to [0, 1],
 * a seeded 67/33 split, the forest depth from {2, 4, 8, 12} by 5-fold cross-validated MSE
 * (averaged over factors), one 10-tree forest per factor on the training part, its
 * importances as the column R[:, k], and
 *   D = sum_i rho_i (1 - H_K(R_i. / sum_k R_ik)),  rho_i = sum_k R_ik / sum R,
 *   C = mean_k (1 - H_L(R_.k / sum_i R_ik)),
 *   I = mean_k max(0, 1 - 6 MSE_k) on the held-out third (paper eq. 58),
 * with H_K the entropy in base K = number of factors and L = code dimension.
 *
 * The forest is eval/forest.c's; where the codes come from is the tool's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/data/dataset.h"
#include "metrics.h"
#include "tensor/tn_error.h"
#include "tensor/tn_random.h"

static const int depth_grid[] = {2, 4, 8, 12};
#define N_DEPTHS ((int)(sizeof depth_grid / sizeof depth_grid[0]))
#define N_FOLDS 5
#define N_TREES 10

/* Rows of one part of the data: codes and scaled factors, gathered contiguously. */
struct part {
    int64_t n;
    float *x;  /* [n, dim] */
    double *y; /* [n_factors, n]: factor-major so that one factor is one array */
};

static void part_alloc(struct part *p, int64_t n, int64_t dim, int n_factors) {
    p->n = n;
    p->x = malloc((size_t)(n * dim) * sizeof *p->x);
    p->y = malloc((size_t)(n * n_factors) * sizeof *p->y);
    TN_CHECK(p->x && p->y, "gw_dci_score", "out of memory for %lld rows", (long long)n);
}

static void part_free(struct part *p) {
    free(p->x);
    free(p->y);
}

/* Copies rows rows[0..count) of src into dst starting at row at. */
static void part_copy_rows(struct part *dst, int64_t at, const struct part *src, int64_t from,
                           int64_t count, int64_t dim, int n_factors) {
    memcpy(dst->x + at * dim, src->x + from * dim, (size_t)(count * dim) * sizeof *dst->x);
    for (int k = 0; k < n_factors; k++)
        memcpy(dst->y + k * dst->n + at, src->y + k * src->n + from,
               (size_t)count * sizeof *dst->y);
}

/* Fits one forest of the given depth on train's factor k; returns the MSE on test (and the
 * importances into importance[dim] when not NULL). */
static double fit_factor(const struct part *train, const struct part *test, int64_t dim, int k,
                         int depth, uint64_t seed, double *importance) {
    struct gw_forest_options o = {.n_trees = N_TREES, .max_depth = depth, .min_leaf = 1,
                                  .seed = seed};
    struct gw_forest *f = gw_forest_fit(train->x, train->y + k * train->n, train->n, dim, &o);
    TN_CHECK(f, "gw_dci_score", "out of memory fitting a forest");
    double *pred = malloc((size_t)test->n * sizeof *pred);
    TN_CHECK(pred, "gw_dci_score", "out of memory");
    gw_forest_predict(f, test->x, test->n, pred);
    double mse = 0.0;
    const double *y = test->y + k * test->n;
    for (int64_t r = 0; r < test->n; r++) mse += (pred[r] - y[r]) * (pred[r] - y[r]);
    if (importance) gw_forest_importances(f, importance);
    free(pred);
    gw_forest_free(f);
    return mse / (double)test->n;
}

/* 5-fold cross-validated MSE of depth on train (contiguous folds as scikit-learn's unshuffled
 * KFold, the first n % 5 folds one row longer), averaged over folds and factors. */
static double cv_mse(const struct part *train, int64_t dim, int n_factors, int depth,
                     uint64_t seed) {
    int64_t n = train->n, start = 0;
    double total = 0.0;
    for (int fold = 0; fold < N_FOLDS; fold++) {
        int64_t size = n / N_FOLDS + (fold < n % N_FOLDS ? 1 : 0);
        struct part fit, held;
        part_alloc(&fit, n - size, dim, n_factors);
        part_alloc(&held, size, dim, n_factors);
        part_copy_rows(&fit, 0, train, 0, start, dim, n_factors);
        part_copy_rows(&held, 0, train, start, size, dim, n_factors);
        part_copy_rows(&fit, start, train, start + size, n - start - size, dim, n_factors);
        for (int k = 0; k < n_factors; k++)
            total += fit_factor(&fit, &held, dim, k, depth,
                                seed + 1000u * (uint64_t)(fold + 1) + (uint64_t)k, NULL);
        part_free(&fit);
        part_free(&held);
        start += size;
    }
    return total / (N_FOLDS * n_factors);
}

/* 1 - the entropy of p[count] (stride apart, normalised here) in base count; 0 for an all-zero
 * vector (nothing is explained, so nothing is concentrated) and 1 when count == 1. */
static double one_minus_entropy(const double *p, int64_t count, int64_t stride) {
    if (count == 1) return 1.0;
    double sum = 0.0, h = 0.0;
    for (int64_t i = 0; i < count; i++) sum += p[i * stride];
    if (sum <= 0.0) return 0.0;
    for (int64_t i = 0; i < count; i++) {
        double q = p[i * stride] / sum;
        if (q > 0.0) h -= q * log(q);
    }
    return 1.0 - h / log((double)count);
}

struct gw_dci gw_dci_score(const float *codes, int64_t n, int64_t dim, const float *factors,
                           int n_factors, uint64_t seed) {
    TN_CHECK(codes && factors && dim >= 1 && n_factors >= 1, "gw_dci_score",
             "NULL input or empty code / factors");
    int64_t n_test = (int64_t)ceil(0.33 * (double)n), n_train = n - n_test;
    TN_CHECK(n_train >= 2 * N_FOLDS && n_test >= 1, "gw_dci_score",
             "need at least %d samples (n = %lld)", 3 * N_FOLDS, (long long)n);

    /* factors scaled to [0, 1] (a constant factor becomes 0) */
    double *lo = malloc((size_t)n_factors * sizeof *lo), *hi = malloc((size_t)n_factors * sizeof *hi);
    TN_CHECK(lo && hi, "gw_dci_score", "out of memory");
    for (int k = 0; k < n_factors; k++) {
        lo[k] = INFINITY;
        hi[k] = -INFINITY;
        for (int64_t r = 0; r < n; r++) {
            lo[k] = fmin(lo[k], factors[r * n_factors + k]);
            hi[k] = fmax(hi[k], factors[r * n_factors + k]);
        }
    }
    /* a seeded shuffle: the first n_test rows of it are the test part */
    struct tn_rng rng = tn_rng_new(seed);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    TN_CHECK(perm, "gw_dci_score", "out of memory");
    gw_permutation(&rng, n, perm);
    struct part train, test;
    part_alloc(&train, n_train, dim, n_factors);
    part_alloc(&test, n_test, dim, n_factors);
    for (int64_t r = 0; r < n; r++) {
        struct part *p = r < n_test ? &test : &train;
        int64_t at = r < n_test ? r : r - n_test, src = perm[r];
        memcpy(p->x + at * dim, codes + src * dim, (size_t)dim * sizeof *p->x);
        for (int k = 0; k < n_factors; k++) {
            double range = hi[k] - lo[k];
            p->y[k * p->n + at] = range > 0.0 ? (factors[src * n_factors + k] - lo[k]) / range : 0.0;
        }
    }
    free(perm);
    free(lo);
    free(hi);

    struct gw_dci d = {.max_depth = depth_grid[0]};
    double best = INFINITY;
    for (int q = 0; q < N_DEPTHS; q++) {
        double mse = cv_mse(&train, dim, n_factors, depth_grid[q], seed + 1);
        if (mse < best) {
            best = mse;
            d.max_depth = depth_grid[q];
        }
    }

    d.importance = malloc((size_t)(dim * n_factors) * sizeof *d.importance);
    double *column = malloc((size_t)dim * sizeof *column);
    TN_CHECK(d.importance && column, "gw_dci_score", "out of memory");
    double info = 0.0;
    for (int k = 0; k < n_factors; k++) {
        double mse = fit_factor(&train, &test, dim, k, d.max_depth, seed + 2 + (uint64_t)k, column);
        info += fmax(0.0, 1.0 - 6.0 * mse);
        for (int64_t i = 0; i < dim; i++) d.importance[i * n_factors + k] = column[i];
    }
    free(column);
    part_free(&train);
    part_free(&test);
    d.informativeness = info / n_factors;

    double total = 0.0;
    for (int64_t i = 0; i < dim * n_factors; i++) total += d.importance[i];
    for (int64_t i = 0; i < dim && total > 0.0; i++) {
        double row = 0.0;
        for (int k = 0; k < n_factors; k++) row += d.importance[i * n_factors + k];
        d.disentanglement += row / total * one_minus_entropy(d.importance + i * n_factors, n_factors, 1);
    }
    for (int k = 0; k < n_factors; k++)
        d.completeness += one_minus_entropy(d.importance + k, dim, n_factors) / n_factors;
    return d;
}

void gw_dci_free(struct gw_dci *d) {
    if (!d) return;
    free(d->importance);
    d->importance = NULL;
}
