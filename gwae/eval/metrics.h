/* metrics.h - the paper's measurements as plain numerical routines on host arrays
 * (gwae-spec.md section 7): PSNR, an empirical Gromov-Wasserstein solver, the isometry
 * histogram and correlation, a random-forest regressor and the DCI scores, ROC/AUC, the
 * Frechet distance between two feature sets, and k-nearest-neighbour classification accuracy.
 *
 * Nothing here knows about models, tensors or files: inputs are row-major arrays in memory,
 * results are numbers or caller-sized arrays, and every routine is deterministic given its
 * seed. The tool (tools/eval_*.c) feeds them with encodings, decodings and critic values.
 * Arithmetic is in double. Errors of the caller's making (n < 2, NULL) abort via TN_CHECK, and
 * so does running out of memory, except in gw_forest_fit, which returns NULL.
 * Formulas, algorithms, costs and the comparison with POT / scikit-learn: docs/metrics.md.
 */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdbool.h>
#include <stdint.h>

/* ---- reconstruction (eval/psnr.c) ---- */

/* PSNR of one image with MAX = 1: -10 log10(mean (a - b)^2) over n values; +inf when equal. */
double gw_psnr(const float *a, const float *b, int64_t n);

/* Mean and standard error (sample sd / sqrt(n)) of v[n]; stderr 0 when n < 2. */
void gw_mean_stderr(const double *v, int64_t n, double *mean, double *stderr_);

/* ---- empirical Gromov-Wasserstein (eval/gromov_wasserstein.c) ---- */

/* Pairwise Euclidean distances of points[n, dim] into d[n, n] (d[i*n+j]). */
void gw_distance_matrix(const float *points, int64_t n, int64_t dim, double *d);

/* Loss between two distances inside the GW objective. */
enum gw_gw_loss {
    GW_GW_SQUARE, /* (a - b)^2, POT's square_loss */
    GW_GW_ABS,    /* |a - b|, the rho = 1 of GWAE's L_GW */
};

struct gw_gw_options {
    enum gw_gw_loss loss;
    double epsilon;  /* > 0: entropic GW (POT's entropic_gromov_wasserstein, Sinkhorn inner
                        loop); 0: conditional gradient (POT's gromov_wasserstein) */
    int max_iter;    /* outer iterations (1000; POT 0.8 stops CG at 200, entropic at 1000) */
    double tol;      /* CG: stop when the objective changes by less than tol relatively or
                        absolutely (1e-9); entropic: when the plan moves less than tol */
};

/* Defaults: square loss, conditional gradient, 1000 iterations, tol 1e-9 (as POT but for the
 * iteration cap). */
struct gw_gw_options gw_gw_defaults(void);

/* GW discrepancy between metric spaces (c1[n, n], uniform weights) and (c2[m, m], uniform):
 * min over couplings T of sum_{i,j,k,l} loss(c1[i,k], c2[j,l]) T[i,j] T[k,l], started from
 * the product coupling (a local optimum: the problem is not convex). c1 and c2 must be
 * symmetric (distance matrices). plan (may be NULL) receives T[n, m]. opts NULL: defaults.
 * Returns the objective at T (without the entropy term when epsilon > 0, as POT). */
double gw_gromov_wasserstein(const double *c1, int64_t n, const double *c2, int64_t m,
                             const struct gw_gw_options *opts, double *plan);

/* The same objective at a given coupling (e.g. the identity coupling a decoder defines). */
double gw_gw_objective(const double *c1, int64_t n, const double *c2, int64_t m,
                       enum gw_gw_loss loss, const double *plan);

/* Exact optimal transport (eval/transport.c) between uniform weights on n and m points
 * for cost[n, m]: plan[n, m] gets rows summing to 1/n and columns to 1/m (a permutation / n
 * when n == m). Returns sum cost * plan. */
double gw_emd_uniform(const double *cost, int64_t n, int64_t m, double *plan);

/* ---- isometry (eval/isometry.c) ---- */

/* Pearson correlation of a[n] and b[n] (0 when either is constant). */
double gw_correlation(const double *a, const double *b, int64_t n);

/* 2-D histogram of the pairs (a[i], b[i]) over [a_lo, a_hi) x [b_lo, b_hi) into
 * counts[bins_b, bins_a] (row = b bin from low to high); values outside are dropped.
 * Returns the number of pairs counted. */
int64_t gw_histogram2d(const double *a, const double *b, int64_t n, double a_lo, double a_hi,
                       double b_lo, double b_hi, int bins_a, int bins_b, int64_t *counts);

/* ---- random forest and DCI (eval/forest.c, eval/dci.c) ---- */

struct gw_forest_options {
    int n_trees;        /* 10 */
    int max_depth;      /* > 0; the DCI picks it by cross-validation */
    int min_leaf;       /* smallest leaf (1, as scikit-learn's default) */
    uint64_t seed;      /* bootstrap samples and feature draws */
};

/* A trained forest of regression trees (variance reduction, bootstrap samples, all features
 * considered at each split as scikit-learn's RandomForestRegressor default). */
struct gw_forest;

/* Fits y[n] on x[n, dim]; NULL on out of memory. */
struct gw_forest *gw_forest_fit(const float *x, const double *y, int64_t n, int64_t dim,
                                const struct gw_forest_options *opts);

/* Predictions of the forest (mean over trees) for x[n, dim] into out[n]. */
void gw_forest_predict(const struct gw_forest *f, const float *x, int64_t n, double *out);

/* Impurity-decrease importances of the dim features, normalised to sum 1 (out[dim]). */
void gw_forest_importances(const struct gw_forest *f, double *out);

/* Frees a forest. */
void gw_forest_free(struct gw_forest *f);

struct gw_dci {
    double disentanglement, completeness, informativeness;
    int max_depth;            /* the depth cross-validation picked */
    double *importance;       /* R[dim, n_factors] (malloc'ed; free with gw_dci_free) */
};

/* DCI of codes[n, dim] against factors[n, n_factors] (each factor scaled to [0, 1] first) as
 * the official evaluation: 67/33 split, depth from {2, 4, 8, 12} by 5-fold CV MSE, 10 trees,
 * D and C from the importances, I = mean_k max(0, 1 - 6 MSE_k) on the held-out third. */
struct gw_dci gw_dci_score(const float *codes, int64_t n, int64_t dim, const float *factors,
                           int n_factors, uint64_t seed);

/* Frees what gw_dci_score allocated. */
void gw_dci_free(struct gw_dci *d);

/* ---- out-of-distribution detection (eval/roc.c) ---- */

/* ROC of the scores of negatives neg[n_neg] and positives pos[n_pos], a higher score meaning
 * "positive": fpr and tpr (each of n_neg + n_pos + 1 points, may be NULL) from (0, 0) to
 * (1, 1), ties taken together. Returns the AUC (the probability a positive outscores a
 * negative, ties counting one half). *n_points receives the points written. */
double gw_roc(const double *neg, int64_t n_neg, const double *pos, int64_t n_pos, double *fpr,
              double *tpr, int64_t *n_points);

/* ---- Frechet distance (eval/frechet.c) ---- */

/* Mean and unbiased covariance of feat[n, dim] into mean[dim] and cov[dim, dim]. */
void gw_mean_cov(const float *feat, int64_t n, int64_t dim, double *mean, double *cov);

/* Eigendecomposition of the symmetric a[dim, dim] by cyclic Jacobi rotations (O(dim^3) per
 * sweep): values[dim] ascending, vectors[dim, dim] (may be NULL) with eigenvector k in column k,
 * so a = vectors diag(values) vectors^T. */
void gw_symmetric_eigen(const double *a, int64_t dim, double *values, double *vectors);

/* Frechet distance between the Gaussians (m1, c1) and (m2, c2) of dimension dim:
 * |m1 - m2|^2 + tr(c1 + c2 - 2 (c1^1/2 c2 c1^1/2)^1/2), through symmetric eigendecompositions
 * (no complex parts, negative eigenvalues of round-off clipped to 0). */
double gw_frechet(const double *m1, const double *c1, const double *m2, const double *c2,
                  int64_t dim);

/* ---- k-nearest-neighbour classification (eval/knn.c) ---- */

/* Accuracy on the queries test[n_test, dim] (labels test_labels[n_test]) of the k-NN
 * classifier whose memory is train[n_train, dim] (labels train_labels[n_train]; labels are
 * integers held in floats), for each k of ks[0..n_k) (1 <= k <= 64) into acc[n_k]: Euclidean
 * distance, a majority vote with ties to the smallest label, as scikit-learn's
 * KNeighborsClassifier with uniform weights; k above n_train votes over all of them. */
void gw_knn_accuracy(const float *train, const float *train_labels, int64_t n_train,
                     const float *test, const float *test_labels, int64_t n_test, int64_t dim,
                     const int *ks, int n_k, double *acc);

#endif
