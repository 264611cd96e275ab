/* cpu_matmul.c - CPU kernel of MATMUL through OpenBLAS sgemm, batched with broadcast batch dims.
 *
 * Transposed views (a stride-1 second-to-last dim) go to sgemm as transposed operands, so
 * the x^T and w^T of backward rules cost no copy. Several batch entries run in parallel on
 * OpenMP threads (OpenBLAS's OpenMP build then runs each sgemm on one thread); a single
 * product lets OpenBLAS use every thread itself.
 */
#include <cblas.h>

#include "cpu_internal.h"

/* How sgemm should read the last two dims of t: transposed or not, and the leading dim.
 * Returns false when neither dim has stride 1 (the caller then copies). */
static bool gemm_layout(const struct tn_tensor *t, CBLAS_TRANSPOSE *trans, int64_t *ld) {
    int64_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
    int64_t rs = t->strides[t->ndim - 2], cs = t->strides[t->ndim - 1];
    if (cs == 1 || cols == 1) {
        *trans = CblasNoTrans;
        *ld = rows == 1 ? (cols > 1 ? cols : 1) : rs;
        return *ld >= cols;
    }
    if (rs == 1 || rows == 1) {
        *trans = CblasTrans;
        *ld = cols == 1 ? (rows > 1 ? rows : 1) : cs;
        return *ld >= rows;
    }
    return false;
}

static struct tn_tensor *dense_if_needed(struct tn_tensor *t, CBLAS_TRANSPOSE *trans,
                                         int64_t *ld) {
    if (gemm_layout(t, trans, ld)) return t;
    struct tn_op_params none = {0};
    struct tn_tensor *dense = tn_op_run(TN_OP_CONTIGUOUS, 1, &t, &none);
    gemm_layout(dense, trans, ld);
    return dense;
}

/* Offset of batch entry `b` of t, with t's batch dims right-aligned to the output's. */
static int64_t batch_offset(const struct tn_tensor *t, const struct tn_tensor *out, int64_t b) {
    int out_batch = out->ndim - 2, t_batch = t->ndim - 2;
    int64_t off = 0;
    for (int d = out_batch - 1; d >= 0; d--) {
        int64_t idx = b % out->shape[d];
        b /= out->shape[d];
        int dt = d - (out_batch - t_batch);
        if (dt >= 0 && t->shape[dt] != 1) off += idx * t->strides[dt];
    }
    return off;
}

void cpu_kernel_matmul(const struct tn_kernel_args *args) {
    tn_scope_begin();
    CBLAS_TRANSPOSE ta, tb;
    int64_t lda, ldb;
    struct tn_tensor *a = dense_if_needed(args->in[0], &ta, &lda);
    struct tn_tensor *b = dense_if_needed(args->in[1], &tb, &ldb);
    struct tn_tensor *out = args->out;
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    int64_t batches = out->numel / (m * n);
    const float *pa = tn_data(a), *pb = tn_data(b);
    float *po = tn_data(out);
    if (k == 0) {
        for (int64_t i = 0; i < out->numel; i++) po[i] = 0.0f;
    } else if (batches == 1) {
        cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f, pa, (int)lda, pb,
                    (int)ldb, 0.0f, po, (int)n);
    } else {
        CPU_PARALLEL_FOR(batches * m * n * k >= 65536, i, batches,
            cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f,
                        pa + batch_offset(a, out, i), (int)lda, pb + batch_offset(b, out, i),
                        (int)ldb, 0.0f, po + i * m * n, (int)n););
    }
    tn_scope_end();
}
