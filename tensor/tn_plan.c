/* tn_plan.c - the reduction and GEMM layout plans of tn_plan.h (index arithmetic only). */
#include "tn_plan.h"

void tn_reduce_plan_init(struct tn_reduce_plan *pl, const struct tn_tensor *x, uint32_t axes) {
    pl->n_kept = pl->n_red = 0;
    pl->red_count = 1;
    for (int d = 0; d < x->ndim; d++) {
        if ((axes >> d) & 1) {
            pl->red_count *= x->shape[d];
            if (x->shape[d] == 1) continue;
            int k = pl->n_red;
            if (k > 0 && pl->red_stride[k - 1] == x->strides[d] * x->shape[d]) {
                pl->red_shape[k - 1] *= x->shape[d];
                pl->red_stride[k - 1] = x->strides[d];
            } else {
                pl->red_shape[k] = x->shape[d];
                pl->red_stride[k] = x->strides[d];
                pl->n_red++;
            }
        } else {
            pl->kept_shape[pl->n_kept] = x->shape[d];
            pl->kept_stride[pl->n_kept++] = x->strides[d];
        }
    }
    if (pl->n_red == 0) { /* reducing size-1 dims only: one element per output */
        pl->red_shape[0] = 1;
        pl->red_stride[0] = 0;
        pl->n_red = 1;
    }
}

bool tn_gemm_layout(const struct tn_tensor *t, bool *transposed, int64_t *ld) {
    int64_t rows = t->shape[t->ndim - 2], cols = t->shape[t->ndim - 1];
    int64_t rs = t->strides[t->ndim - 2], cs = t->strides[t->ndim - 1];
    if (cs == 1 || cols == 1) {
        *transposed = false;
        *ld = rows == 1 ? (cols > 1 ? cols : 1) : rs;
        return *ld >= cols;
    }
    if (rs == 1 || rows == 1) {
        *transposed = true;
        *ld = cols == 1 ? (rows > 1 ? rows : 1) : cs;
        return *ld >= rows;
    }
    return false;
}

int64_t tn_gemm_batch_offset(const struct tn_tensor *t, const struct tn_tensor *out, int64_t b) {
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
