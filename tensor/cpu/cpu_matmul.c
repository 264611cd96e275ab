/* cpu_matmul.c - CPU kernel of MATMUL through OpenBLAS sgemm, batched with broadcast batch dims.
 *
 * Transposed views (a stride-1 second-to-last dim) go to sgemm as transposed operands, so
 * the x^T and w^T of backward rules cost no copy. Several batch entries run in parallel on
 * OpenMP threads (OpenBLAS's OpenMP build then runs each sgemm on one thread). A single
 * product goes through cpu_sgemm, which splits it over our threads itself: OpenBLAS 0.3.21
 * threading a product of tens of MFLOP spends much of its time in sched_yield here (a
 * [64, 256] x [256, 4096] linear layer ran at 63 GFLOP/s on two threads).
 */
#include <cblas.h>
#include <omp.h>

#include "cpu_internal.h"
#include "../tn_plan.h"

/* How sgemm should read the last two dims of t (tn_gemm_layout as a CBLAS_TRANSPOSE). */
static bool gemm_layout(const struct tn_tensor *t, CBLAS_TRANSPOSE *trans, int64_t *ld) {
    bool transposed = false;
    bool ok = tn_gemm_layout(t, &transposed, ld);
    *trans = transposed ? CblasTrans : CblasNoTrans;
    return ok;
}

static struct tn_tensor *dense_if_needed(struct tn_tensor *t, CBLAS_TRANSPOSE *trans,
                                         int64_t *ld) {
    if (gemm_layout(t, trans, ld)) return t;
    struct tn_tensor *dense = cpu_dense(t);
    gemm_layout(dense, trans, ld);
    return dense;
}

void cpu_sgemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a, int64_t lda,
               const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    CBLAS_TRANSPOSE ca = ta ? CblasTrans : CblasNoTrans, cb = tb ? CblasTrans : CblasNoTrans;
    int parts = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (parts < 2 || (double)m * (double)n * (double)k < CPU_SGEMM_SPLIT_MIN) {
        cblas_sgemm(CblasRowMajor, ca, cb, (int)m, (int)n, (int)k, 1.0f, a, (int)lda, b,
                    (int)ldb, beta, c, (int)ldc);
        return;
    }
    /* rows of C when there are enough of them, else columns; row i of op(A) starts at
     * a + i lda (or a + i when A is read transposed), column j of op(B) at b + j (or b + j ldb) */
    bool by_rows = m >= n || m >= 64 * parts;
    int64_t span = by_rows ? m : n;
    CPU_PARALLEL_FOR(true, part, parts,
        int64_t lo = span * part / parts, hi = span * (part + 1) / parts;
        if (hi > lo) {
            if (by_rows)
                cblas_sgemm(CblasRowMajor, ca, cb, (int)(hi - lo), (int)n, (int)k, 1.0f,
                            a + lo * (ta ? 1 : lda), (int)lda, b, (int)ldb, beta, c + lo * ldc,
                            (int)ldc);
            else
                cblas_sgemm(CblasRowMajor, ca, cb, (int)m, (int)(hi - lo), (int)k, 1.0f, a,
                            (int)lda, b + lo * (tb ? ldb : 1), (int)ldb, beta, c + lo, (int)ldc);
        });
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
        cpu_sgemm(ta == CblasTrans, tb == CblasTrans, m, n, k, pa, lda, pb, ldb, 0.0f, po, n);
    } else {
        CPU_PARALLEL_FOR(batches * m * n * k >= 65536, i, batches,
            cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, 1.0f,
                        pa + tn_gemm_batch_offset(a, out, i), (int)lda,
                        pb + tn_gemm_batch_offset(b, out, i), (int)ldb, 0.0f, po + i * m * n,
                        (int)n););
    }
    tn_scope_end();
}
