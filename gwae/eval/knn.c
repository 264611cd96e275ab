/* knn.c - k-nearest-neighbour classification accuracy of latent codes (metrics.h), the
 * Symmetric WAE paper's headline measurement (its utils/evaluation.py: scikit-learn's
 * KNeighborsClassifier fitted on the training codes, scored on the test codes).
 *
 * Brute force in double: every query against every training code, keeping the kmax nearest
 * in (distance, index) order by insertion; queries run in parallel (OpenMP). The vote follows
 * scikit-learn's uniform weights: the most frequent label among the k nearest, ties to the
 * smallest label (scipy's mode). Equal distances are ordered by training index here, where
 * scikit-learn's partition leaves them unordered: only exact ties can differ.
 */
#include <math.h>
#include <stdlib.h>

#include "metrics.h"
#include "tensor/tn_error.h"

#define KNN_K_MAX 64

/* the majority label of the first k of labels[], ties to the smallest */
static long vote(const long *labels, int k) {
    long best = 0;
    int best_count = 0;
    for (int i = 0; i < k; i++) {
        int count = 0;
        for (int j = 0; j < k; j++) count += labels[j] == labels[i];
        if (count > best_count || (count == best_count && labels[i] < best)) {
            best = labels[i];
            best_count = count;
        }
    }
    return best;
}

void gw_knn_accuracy(const float *train, const float *train_labels, int64_t n_train,
                     const float *test, const float *test_labels, int64_t n_test, int64_t dim,
                     const int *ks, int n_k, double *acc) {
    TN_CHECK(train && test && n_train > 0 && n_test > 0 && dim > 0 && n_k > 0, "gw_knn_accuracy",
             "%lld training and %lld test codes of %lld values", (long long)n_train,
             (long long)n_test, (long long)dim);
    int kmax = 0;
    for (int i = 0; i < n_k; i++) {
        TN_CHECK(ks[i] >= 1 && ks[i] <= KNN_K_MAX, "gw_knn_accuracy", "k = %d", ks[i]);
        if (ks[i] > kmax) kmax = ks[i];
    }
    if (kmax > n_train) kmax = (int)n_train;
    int64_t *correct = calloc((size_t)n_k, sizeof *correct);
    TN_CHECK(correct, "gw_knn_accuracy", "out of host memory");
#pragma omp parallel
    {
        int64_t mine[KNN_K_MAX] = {0};
        double dist[KNN_K_MAX];
        int64_t idx[KNN_K_MAX];
        long labels[KNN_K_MAX];
#pragma omp for schedule(static)
        for (int64_t q = 0; q < n_test; q++) {
            const float *x = test + q * dim;
            int found = 0;
            for (int64_t t = 0; t < n_train; t++) {
                const float *y = train + t * dim;
                double d = 0;
                for (int64_t j = 0; j < dim; j++) {
                    double e = (double)x[j] - (double)y[j];
                    d += e * e;
                }
                if (found == kmax && !(d < dist[kmax - 1])) continue;
                int at = found < kmax ? found++ : kmax - 1;
                while (at > 0 && dist[at - 1] > d) { /* equal distances keep index order */
                    dist[at] = dist[at - 1];
                    idx[at] = idx[at - 1];
                    at--;
                }
                dist[at] = d;
                idx[at] = t;
            }
            for (int i = 0; i < found; i++) labels[i] = lrintf(train_labels[idx[i]]);
            long truth = lrintf(test_labels[q]);
            for (int i = 0; i < n_k; i++)
                mine[i] += vote(labels, ks[i] < found ? ks[i] : found) == truth;
        }
#pragma omp critical
        for (int i = 0; i < n_k; i++) correct[i] += mine[i];
    }
    for (int i = 0; i < n_k; i++) acc[i] = (double)correct[i] / (double)n_test;
    free(correct);
}
