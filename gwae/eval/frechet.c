/* frechet.c - the Frechet distance between two feature sets (FID when the features
 * are Inception pool features): mean and covariance, and the symmetric eigendecompositions
 * (LAPACK's dsyevd, from OpenBLAS) that its matrix square roots need.
 *
 * The features themselves (a network) are the tool's. The official code takes scipy's sqrtm
 * of the non-symmetric product c1 c2; here the same trace comes from the symmetric matrix
 * c1^1/2 c2 c1^1/2, which has the same eigenvalues, so no complex parts appear.
 */
#include <limits.h>
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

/* LAPACK's symmetric eigensolver (divide and conquer), exported by OpenBLAS, which ships no
 * prototype for it: the Fortran interface, every argument by address, and the hidden lengths
 * of the two one-character strings at the end, as gfortran passes them. */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda,
             double *w, double *work, const int *lwork, int *iwork, const int *liwork,
             int *info, size_t jobz_len, size_t uplo_len);

void gw_symmetric_eigen(const double *a, int64_t dim, double *values, double *vectors) {
    TN_CHECK(a && values && dim > 0 && dim <= INT_MAX, "gw_symmetric_eigen",
             "NULL matrix or dim outside [1, INT_MAX]");
    size_t bytes = (size_t)(dim * dim) * sizeof(double);
    double *w = malloc(bytes);
    TN_CHECK(w, "gw_symmetric_eigen", "out of memory (dim %lld)", (long long)dim);
    memcpy(w, a, bytes); /* symmetric: its row-major and column-major forms are the same */
    const char jobz = vectors ? 'V' : 'N', uplo = 'U';
    int n = (int)dim, lwork = -1, liwork = -1, iwork_size = 0, info = 0;
    double work_size = 0.0;
    dsyevd_(&jobz, &uplo, &n, w, &n, values, &work_size, &lwork, &iwork_size, &liwork, &info,
            1, 1); /* a query: the workspace sizes */
    TN_CHECK(info == 0, "gw_symmetric_eigen", "dsyevd workspace query failed (info %d)", info);
    lwork = (int)work_size;
    liwork = iwork_size;
    double *work = malloc((size_t)lwork * sizeof *work);
    int *iwork = malloc((size_t)liwork * sizeof *iwork);
    TN_CHECK(work && iwork, "gw_symmetric_eigen", "out of memory (dim %lld)", (long long)dim);
    dsyevd_(&jobz, &uplo, &n, w, &n, values, work, &lwork, iwork, &liwork, &info, 1, 1);
    TN_CHECK(info == 0, "gw_symmetric_eigen", "dsyevd did not converge (info %d)", info);
    /* w holds eigenvector k in its column-major column k, i.e. in row k of the row-major
     * array; values come back ascending */
    if (vectors)
        for (int64_t i = 0; i < dim; i++)
            for (int64_t k = 0; k < dim; k++) vectors[i * dim + k] = w[k * dim + i];
    free(work);
    free(iwork);
    free(w);
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
