/* tn_plan.h - layout plans that every backend's kernels share: how a reduction splits a
 * tensor into kept and reduced dims, and how a GEMM library reads a matrix view.
 *
 * Pure index arithmetic on shapes and strides, no memory and no device: the CPU kernels
 * (cpu_reduce.c, cpu_matmul.c) and the CUDA ones (cuda_ops.c, cuda_blas.c) plan the same way
 * from here, so their layouts cannot drift apart. The loops that use a plan stay with each
 * backend.
 */
#ifndef TN_PLAN_H
#define TN_PLAN_H

#include <stdbool.h>

#include "tn_tensor.h"

/* The kept and reduced dims of x. Kept dims are in order (outputs are row-major over them);
 * reduced dims of size 1 are dropped and adjacent ones merged where their strides allow.
 * At least one reduced dim is listed: reducing only size-1 dims gives [1] with stride 0. */
struct tn_reduce_plan {
    int n_kept, n_red;
    int64_t kept_shape[TN_MAX_DIMS], kept_stride[TN_MAX_DIMS];
    int64_t red_shape[TN_MAX_DIMS], red_stride[TN_MAX_DIMS];
    int64_t red_count; /* elements reduced into each output (0 for an empty axis) */
};

/* The plan of reducing x over the dims whose bits are set in axes. */
void tn_reduce_plan_init(struct tn_reduce_plan *plan, const struct tn_tensor *x, uint32_t axes);

/* How a row-major GEMM reads the last two dims of t: *transposed is false when the last dim
 * has stride 1 (read as is), true when the second-to-last has (a transposed view); *ld is the
 * leading dimension. Returns false when neither works (the caller copies t dense). */
bool tn_gemm_layout(const struct tn_tensor *t, bool *transposed, int64_t *ld);

/* Element offset of batch entry b of t in a batched matmul whose output is out: t's batch
 * dims (all but the last two) right-aligned to out's, broadcast where t's size is 1. */
int64_t tn_gemm_batch_offset(const struct tn_tensor *t, const struct tn_tensor *out, int64_t b);

#endif
