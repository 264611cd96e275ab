/* cpu_distance.c - CPU kernel of PDIST: all pairwise Euclidean distances of the rows of x.
 *
 * Differences are taken directly (no |a|^2 + |b|^2 - 2ab identity), so near-equal rows get
 * small distances rather than rounding noise, and the diagonal is exactly zero. Squares are
 * summed in float over blocks of BLOCK values (a vectorised reduction) and the block sums in
 * double, which keeps the relative error near BLOCK * 2^-24 at most. Only the upper triangle
 * is computed; nothing of size B x B x D is made.
 */
#include <math.h>

#include "cpu_internal.h"

#define BLOCK 256

/* sum_k (a[k] - b[k])^2 over n values */
static double squared_distance(const float *a, const float *b, int64_t n) {
    double acc = 0.0;
    for (int64_t start = 0; start < n; start += BLOCK) {
        int64_t end = start + BLOCK < n ? start + BLOCK : n;
        float lanes[8] = {0}; /* eight partial sums: the compiler vectorises them as they are */
        int64_t k = start;
        for (; k + 8 <= end; k += 8)
            for (int l = 0; l < 8; l++) {
                float diff = a[k + l] - b[k + l];
                lanes[l] += diff * diff;
            }
        for (; k < end; k++) {
            float diff = a[k] - b[k];
            lanes[0] += diff * diff;
        }
        for (int l = 0; l < 8; l++) acc += lanes[l];
    }
    return acc;
}

void cpu_kernel_pdist(const struct tn_kernel_args *a) {
    tn_scope_begin();
    struct tn_tensor *x = cpu_dense(a->in[0]);
    int64_t rows = x->shape[0], dim = x->shape[1];
    const float *xd = tn_data(x);
    float *out = tn_data(a->out);
#pragma omp parallel for schedule(dynamic, 1) if (rows * rows * dim >= 4 * CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < rows; i++) {
        const float *xi = xd + i * dim;
        out[i * rows + i] = 0.0f;
        for (int64_t j = i + 1; j < rows; j++) {
            float d = (float)sqrt(squared_distance(xi, xd + j * dim, dim));
            out[i * rows + j] = d;
            out[j * rows + i] = d;
        }
    }
    tn_scope_end();
}
