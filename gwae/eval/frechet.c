/* frechet.c - the Frechet distance between two feature sets (FID when the features
 * are Inception pool features): mean and covariance, and a cyclic Jacobi eigensolver for the
 * symmetric matrix square roots it needs.
 *
 * The features themselves (a network) are the tool's. The official code takes scipy's sqrtm
 * of the non-symmetric product c1 c2; here the same trace comes from the symmetric matrix
 * c1^1/2 c2 c1^1/2, which has the same eigenvalues, so no complex parts appear.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "tensor/tn_error.h"

void gw_mean_cov(const float *feat, int64_t n, int64_t dim, double *mean, double *cov) {
    TN_CHECK(feat && mean && cov && n >= 2 && dim > 0, "gw_mean_cov",
             "need n >= 2 rows of dim > 0 (n = %lld, dim = %lld)", (long long)n,
             (long long)dim);
    for (int64_t j = 0; j < dim; j++) mean[j] = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < dim; j++) mean[j] += feat[i * dim + j];
    for (int64_t j = 0; j < dim; j++) mean[j] /= (double)n;
    for (int64_t k = 0; k < dim * dim; k++) cov[k] = 0.0;
    double *row = malloc((size_t)dim * sizeof *row);
    TN_CHECK(row, "gw_mean_cov", "out of memory");
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < dim; j++) row[j] = feat[i * dim + j] - mean[j];
        for (int64_t j = 0; j < dim; j++)
            for (int64_t k = j; k < dim; k++) cov[j * dim + k] += row[j] * row[k];
    }
    free(row);
    for (int64_t j = 0; j < dim; j++)
        for (int64_t k = j; k < dim; k++) {
            cov[j * dim + k] /= (double)(n - 1);
            cov[k * dim + j] = cov[j * dim + k];
        }
}

/* Rotates columns p and q of the rows x rows matrix m by (c, s): m <- m J. */
static void rotate_columns(double *m, int64_t rows, int64_t p, int64_t q, double c, double s) {
    for (int64_t k = 0; k < rows; k++) {
        double x = m[k * rows + p], y = m[k * rows + q];
        m[k * rows + p] = c * x - s * y;
        m[k * rows + q] = s * x + c * y;
    }
}

/* An eigenvalue and the column it came from, for sorting eigenpairs. */
struct eigen_slot {
    double value;
    int64_t column;
};

static int by_value(const void *pa, const void *pb) {
    double a = ((const struct eigen_slot *)pa)->value, b = ((const struct eigen_slot *)pb)->value;
    return (a > b) - (a < b);
}

void gw_symmetric_eigen(const double *a, int64_t dim, double *values, double *vectors) {
    TN_CHECK(a && values && dim > 0, "gw_symmetric_eigen", "NULL matrix or dim < 1");
    size_t bytes = (size_t)(dim * dim) * sizeof(double);
    double *w = malloc(bytes), *v = vectors ? malloc(bytes) : NULL;
    TN_CHECK(w && (v || !vectors), "gw_symmetric_eigen", "out of memory (dim %lld)",
             (long long)dim);
    memcpy(w, a, bytes);
    if (v)
        for (int64_t k = 0; k < dim * dim; k++) v[k] = k % (dim + 1) == 0 ? 1.0 : 0.0;

    double total = 0.0;
    for (int64_t k = 0; k < dim * dim; k++) total += w[k] * w[k];
    /* Each sweep zeroes every off-diagonal pair once (O(dim^3)); convergence is quadratic, so
     * a handful of sweeps bring the off-diagonal mass to round-off. */
    for (int sweep = 0; sweep < 64; sweep++) {
        double off = 0.0;
        for (int64_t p = 0; p < dim; p++)
            for (int64_t q = p + 1; q < dim; q++) off += 2.0 * w[p * dim + q] * w[p * dim + q];
        if (off <= 1e-30 * total || off == 0.0) break;
        for (int64_t p = 0; p < dim; p++)
            for (int64_t q = p + 1; q < dim; q++) {
                double apq = w[p * dim + q];
                if (apq == 0.0) continue;
                double theta = (w[q * dim + q] - w[p * dim + p]) / (2.0 * apq);
                /* the smaller root of t^2 + 2 t theta - 1 = 0: the rotation by at most pi/4 */
                double t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                double c = 1.0 / sqrt(t * t + 1.0), s = t * c;
                rotate_columns(w, dim, p, q, c, s);
                for (int64_t k = 0; k < dim; k++) { /* rows: w <- J^T w */
                    double x = w[p * dim + k], y = w[q * dim + k];
                    w[p * dim + k] = c * x - s * y;
                    w[q * dim + k] = s * x + c * y;
                }
                w[p * dim + q] = w[q * dim + p] = 0.0;
                if (v) rotate_columns(v, dim, p, q, c, s);
            }
    }

    struct eigen_slot *order = malloc((size_t)dim * sizeof *order);
    TN_CHECK(order, "gw_symmetric_eigen", "out of memory");
    for (int64_t k = 0; k < dim; k++) order[k] = (struct eigen_slot){w[k * dim + k], k};
    qsort(order, (size_t)dim, sizeof *order, by_value);
    for (int64_t k = 0; k < dim; k++) values[k] = order[k].value;
    if (v)
        for (int64_t i = 0; i < dim; i++)
            for (int64_t k = 0; k < dim; k++) vectors[i * dim + k] = v[i * dim + order[k].column];
    free(order);
    free(w);
    free(v);
}

/* The symmetric square root of the PSD matrix c (negative round-off eigenvalues as 0). */
static void psd_sqrt(const double *c, int64_t dim, double *out) {
    double *vals = malloc((size_t)dim * sizeof *vals);
    double *vecs = malloc((size_t)(dim * dim) * sizeof *vecs);
    TN_CHECK(vals && vecs, "gw_frechet", "out of memory (dim %lld)", (long long)dim);
    gw_symmetric_eigen(c, dim, vals, vecs);
    for (int64_t k = 0; k < dim; k++) vals[k] = sqrt(vals[k] > 0.0 ? vals[k] : 0.0);
    for (int64_t i = 0; i < dim; i++)
        for (int64_t j = i; j < dim; j++) {
            double sum = 0.0;
            for (int64_t k = 0; k < dim; k++) sum += vecs[i * dim + k] * vals[k] * vecs[j * dim + k];
            out[i * dim + j] = out[j * dim + i] = sum;
        }
    free(vals);
    free(vecs);
}

double gw_frechet(const double *m1, const double *c1, const double *m2, const double *c2,
                  int64_t dim) {
    TN_CHECK(m1 && c1 && m2 && c2 && dim > 0, "gw_frechet", "NULL input or dim < 1");
    size_t bytes = (size_t)(dim * dim) * sizeof(double);
    double *s1 = malloc(bytes), *tmp = malloc(bytes), *mid = malloc(bytes);
    double *vals = malloc((size_t)dim * sizeof *vals);
    TN_CHECK(s1 && tmp && mid && vals, "gw_frechet", "out of memory (dim %lld)", (long long)dim);
    psd_sqrt(c1, dim, s1);
    /* mid = s1 c2 s1, symmetric by construction; averaging its halves removes round-off */
    for (int64_t i = 0; i < dim * dim; i++) tmp[i] = 0.0;
    for (int64_t i = 0; i < dim; i++)
        for (int64_t k = 0; k < dim; k++) {
            double sik = s1[i * dim + k];
            for (int64_t j = 0; j < dim; j++) tmp[i * dim + j] += sik * c2[k * dim + j];
        }
    for (int64_t i = 0; i < dim * dim; i++) mid[i] = 0.0;
    for (int64_t i = 0; i < dim; i++)
        for (int64_t k = 0; k < dim; k++) {
            double tik = tmp[i * dim + k];
            for (int64_t j = 0; j < dim; j++) mid[i * dim + j] += tik * s1[k * dim + j];
        }
    for (int64_t i = 0; i < dim; i++)
        for (int64_t j = i + 1; j < dim; j++)
            mid[i * dim + j] = mid[j * dim + i] = 0.5 * (mid[i * dim + j] + mid[j * dim + i]);
    gw_symmetric_eigen(mid, dim, vals, NULL);

    double dist = 0.0;
    for (int64_t k = 0; k < dim; k++) {
        double d = m1[k] - m2[k];
        dist += d * d + c1[k * dim + k] + c2[k * dim + k];
        dist -= 2.0 * sqrt(vals[k] > 0.0 ? vals[k] : 0.0);
    }
    free(s1);
    free(tmp);
    free(mid);
    free(vals);
    return dist;
}
