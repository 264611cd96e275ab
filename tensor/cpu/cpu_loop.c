/* cpu_loop.c - the strided loop plan every elementwise CPU kernel runs on, and strided copy.
 *
 * Merging dims matters for speed: a contiguous [64, 32, 32, 32] add becomes one row of 2M
 * elements that the compiler vectorises, and a bias broadcast over [N, C, H*W] becomes rows
 * of H*W with the bias stride 0.
 */
#include <string.h>

#include "cpu_internal.h"

void cpu_loop_init(struct cpu_loop *loop, struct tn_tensor *out, int n,
                   struct tn_tensor *const *in) {
    TN_CHECK(n + 1 <= CPU_MAX_OPERANDS, "cpu_loop", "too many operands");
    int ndim = out->ndim;
    int64_t strides[CPU_MAX_OPERANDS][TN_MAX_DIMS];
    for (int d = 0; d < ndim; d++) strides[0][d] = out->strides[d];
    loop->base[0] = tn_data(out);
    for (int i = 0; i < n; i++) {
        const struct tn_tensor *t = in[i];
        for (int d = 0; d < ndim; d++) {
            int dt = d - (ndim - t->ndim);
            strides[i + 1][d] = (dt < 0 || t->shape[dt] == 1) ? 0 : t->strides[dt];
        }
        loop->base[i + 1] = tn_data(t);
    }
    loop->n_operands = n + 1;
    /* Drop size-1 dims, then merge dim d into d+1 when every operand allows it. */
    int k = 0;
    for (int d = 0; d < ndim; d++) {
        if (out->shape[d] == 1) continue;
        if (k > 0) {
            bool mergeable = true;
            for (int i = 0; i < loop->n_operands; i++)
                if (loop->strides[i][k - 1] != strides[i][d] * out->shape[d]) mergeable = false;
            if (mergeable) {
                loop->shape[k - 1] *= out->shape[d];
                for (int i = 0; i < loop->n_operands; i++)
                    loop->strides[i][k - 1] = strides[i][d];
                continue;
            }
        }
        loop->shape[k] = out->shape[d];
        for (int i = 0; i < loop->n_operands; i++) loop->strides[i][k] = strides[i][d];
        k++;
    }
    if (k == 0) { /* a single element */
        loop->shape[0] = 1;
        for (int i = 0; i < loop->n_operands; i++) loop->strides[i][0] = 0;
        k = 1;
    }
    loop->ndim = k;
}

int64_t cpu_loop_row_length(const struct cpu_loop *loop) { return loop->shape[loop->ndim - 1]; }

int64_t cpu_loop_rows(const struct cpu_loop *loop) {
    int64_t rows = 1;
    for (int d = 0; d < loop->ndim - 1; d++) rows *= loop->shape[d];
    return rows;
}

void cpu_loop_row_offsets(const struct cpu_loop *loop, int64_t row, int64_t *offsets) {
    for (int i = 0; i < loop->n_operands; i++) offsets[i] = 0;
    for (int d = loop->ndim - 2; d >= 0; d--) {
        int64_t idx = row % loop->shape[d];
        row /= loop->shape[d];
        for (int i = 0; i < loop->n_operands; i++) offsets[i] += idx * loop->strides[i][d];
    }
}

void cpu_in_team(int nt, void (*fn)(void *), void *ctx) {
    if (nt <= 1) {
        fn(ctx);
        return;
    }
#pragma omp parallel num_threads(nt)
    fn(ctx);
}

struct tn_tensor *cpu_dense(struct tn_tensor *t) {
    if (tn_is_contiguous(t)) return t;
    struct tn_tensor *dense = tn_empty(t->storage->device, t->ndim, t->shape);
    if (dense->numel > 0) cpu_copy_strided(dense, t);
    return dense;
}

void cpu_copy_strided(struct tn_tensor *dst, const struct tn_tensor *src) {
    struct tn_tensor *in[1] = {(struct tn_tensor *)src};
    struct cpu_loop loop;
    cpu_loop_init(&loop, dst, 1, in);
    int64_t rows = cpu_loop_rows(&loop), len = cpu_loop_row_length(&loop);
    int64_t so = loop.strides[0][loop.ndim - 1], si = loop.strides[1][loop.ndim - 1];
    CPU_PARALLEL_FOR(rows * len >= CPU_PARALLEL_MIN && rows > 1, r, rows,
        int64_t off[CPU_MAX_OPERANDS];
        cpu_loop_row_offsets(&loop, r, off);
        float *o = loop.base[0] + off[0];
        const float *x = loop.base[1] + off[1];
        if (so == 1 && si == 1)
            memcpy(o, x, (size_t)len * sizeof(float));
        else
            for (int64_t j = 0; j < len; j++) o[j * so] = x[j * si];);
}

void cpu_kernel_contiguous(const struct tn_kernel_args *a) { cpu_copy_strided(a->out, a->in[0]); }
