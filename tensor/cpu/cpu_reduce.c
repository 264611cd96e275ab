/* cpu_reduce.c - CPU kernels of the reductions: SUM and AMAX over an axes mask, ARGMAX.
 *
 * One output element per loop iteration (parallel over outputs), each walking the reduced
 * dims of its input block with merged dims and a strided inner loop. Dense runs are summed in
 * float over blocks of SUM_BLOCK values (a vectorised reduction) and the block sums in double,
 * so a sum over a million floats stays within about SUM_BLOCK * 2^-24 relative error.
 */
#include <float.h>
#include <math.h>

#include "cpu_internal.h"
#include "../tn_plan.h"

#define SUM_BLOCK 256

/* sum of p[0..n) */
static double dense_sum(const float *p, int64_t n) {
    double acc = 0.0;
    for (int64_t start = 0; start < n; start += SUM_BLOCK) {
        int64_t end = start + SUM_BLOCK < n ? start + SUM_BLOCK : n;
        float lanes[8] = {0}; /* eight partial sums: the compiler vectorises them as they are */
        int64_t j = start;
        for (; j + 8 <= end; j += 8)
            for (int l = 0; l < 8; l++) lanes[l] += p[j + l];
        for (; j < end; j++) lanes[0] += p[j];
        for (int l = 0; l < 8; l++) acc += lanes[l];
    }
    return acc;
}

/* Offset in x of the first element of output o (outputs in row-major kept order). */
static int64_t kept_offset(const struct tn_reduce_plan *pl, int64_t o) {
    int64_t off = 0;
    for (int d = pl->n_kept - 1; d >= 0; d--) {
        off += (o % pl->kept_shape[d]) * pl->kept_stride[d];
        o /= pl->kept_shape[d];
    }
    return off;
}

static double block_sum(const struct tn_reduce_plan *pl, const float *x) {
    int last = pl->n_red - 1;
    int64_t outer = 1, len = pl->red_shape[last], st = pl->red_stride[last];
    for (int d = 0; d < last; d++) outer *= pl->red_shape[d];
    double total = 0.0;
    for (int64_t r = 0; r < outer; r++) {
        int64_t off = 0, rem = r;
        for (int d = last - 1; d >= 0; d--) {
            off += (rem % pl->red_shape[d]) * pl->red_stride[d];
            rem /= pl->red_shape[d];
        }
        const float *p = x + off;
        double acc = 0.0;
        if (st == 1)
            acc = dense_sum(p, len);
        else
            for (int64_t j = 0; j < len; j++) acc += p[j * st];
        total += acc;
    }
    return total;
}

static float block_max(const struct tn_reduce_plan *pl, const float *x) {
    int last = pl->n_red - 1;
    int64_t outer = 1, len = pl->red_shape[last], st = pl->red_stride[last];
    for (int d = 0; d < last; d++) outer *= pl->red_shape[d];
    float best = -INFINITY;
    for (int64_t r = 0; r < outer; r++) {
        int64_t off = 0, rem = r;
        for (int d = last - 1; d >= 0; d--) {
            off += (rem % pl->red_shape[d]) * pl->red_stride[d];
            rem /= pl->red_shape[d];
        }
        for (int64_t j = 0; j < len; j++) {
            float v = x[off + j * st];
            if (v > best || isnan(v)) best = v;
            if (isnan(best)) return best;
        }
    }
    return best;
}

void cpu_kernel_reduce(const struct tn_kernel_args *args) {
    const struct tn_tensor *x = args->in[0];
    struct tn_reduce_plan pl;
    tn_reduce_plan_init(&pl, x, args->params->axes);
    float *out = tn_data(args->out);
    const float *base = tn_data(x);
    int64_t n_out = args->out->numel;
    bool is_sum = args->op == TN_OP_SUM;
    TN_CHECK(is_sum || pl.red_count > 0, "AMAX", "max over an empty axis");
    CPU_PARALLEL_FOR(x->numel >= CPU_PARALLEL_MIN && n_out > 1, o, n_out,
        const float *block = base + kept_offset(&pl, o);
        out[o] = is_sum ? (float)block_sum(&pl, block) : block_max(&pl, block););
}

void cpu_kernel_argmax(const struct tn_kernel_args *args) {
    const struct tn_tensor *x = args->in[0];
    int axis = args->params->axis;
    struct tn_reduce_plan pl;
    tn_reduce_plan_init(&pl, x, 1u << axis);
    int64_t len = x->shape[axis], st = x->strides[axis];
    float *out = tn_data(args->out);
    const float *base = tn_data(x);
    int64_t n_out = args->out->numel;
    CPU_PARALLEL_FOR(x->numel >= CPU_PARALLEL_MIN && n_out > 1, o, n_out,
        const float *p = base + kept_offset(&pl, o);
        int64_t best = 0;
        for (int64_t j = 1; j < len; j++)
            if (p[j * st] > p[best * st] || (isnan(p[j * st]) && !isnan(p[best * st]))) best = j;
        out[o] = (float)best;);
}
