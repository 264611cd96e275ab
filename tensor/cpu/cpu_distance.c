/* cpu_distance.c - CPU kernel of PDIST: all pairwise Euclidean distances of the rows of x.
 *
 * Differences are taken directly (no |a|^2 + |b|^2 - 2ab identity), accumulated in double,
 * so near-equal rows get small distances rather than rounding noise, and the diagonal is
 * exactly zero. Only the upper triangle is computed; nothing of size B x B x D is made.
 */
#include <math.h>

#include "cpu_internal.h"

void cpu_kernel_pdist(const struct tn_kernel_args *a) {
    tn_scope_begin();
    struct tn_tensor *x = a->in[0];
    if (!tn_is_contiguous(x)) {
        struct tn_op_params none = {0};
        x = tn_op_run(TN_OP_CONTIGUOUS, 1, &x, &none);
    }
    int64_t rows = x->shape[0], dim = x->shape[1];
    const float *xd = tn_data(x);
    float *out = tn_data(a->out);
#pragma omp parallel for schedule(dynamic, 1) if (rows * rows * dim >= 4 * CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < rows; i++) {
        const float *xi = xd + i * dim;
        out[i * rows + i] = 0.0f;
        for (int64_t j = i + 1; j < rows; j++) {
            const float *xj = xd + j * dim;
            double acc = 0.0;
            for (int64_t k = 0; k < dim; k++) {
                double diff = (double)xi[k] - (double)xj[k];
                acc += diff * diff;
            }
            float d = (float)sqrt(acc);
            out[i * rows + j] = d;
            out[j * rows + i] = d;
        }
    }
    tn_scope_end();
}
