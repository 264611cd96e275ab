/* cuda_launch.h - the boundary between the C side of the CUDA backend and its .cu kernels.
 *
 * Plain C: fixed-size structs passed to kernels by value, and extern "C" launchers that
 * enqueue work on a stream and return the launch status. The .cu files include this header
 * inside extern "C" after their C++ headers; of the engine's headers they see only the op list
 * and tn_update.h, which are plain enough for C++ (the others use C11's <stdnoreturn.h>).
 * Shapes are outermost first, strides in elements, stride 0 broadcasts. Nothing here
 * allocates: callers hand in workspaces.
 */
#ifndef CUDA_LAUNCH_H
#define CUDA_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#include "../tn_op_list.h"
#include "../tn_update.h"

#define CUDA_MAX_DIMS 8
#define CUDA_MAX_OPERANDS 4 /* output + up to three inputs (WHERE) */

/* An elementwise loop: operand 0 is the output, the others its inputs broadcast to its shape
 * (size-1 dims dropped, mergeable dims merged, so a dense op has ndim 1). */
struct cuda_loop {
    int ndim;
    int n_operands;
    int64_t numel;
    int64_t shape[CUDA_MAX_DIMS];
    int64_t strides[CUDA_MAX_OPERANDS][CUDA_MAX_DIMS];
};

/* Where an index kernel records the first bad index it meets (mapped host memory: the host
 * reads it after synchronising). code 0 means no error. */
struct cuda_index_error {
    int code;     /* 0, or 1 + the kernel's op code (CUDA_IDX_*) */
    float value;  /* the offending index value */
    int64_t bound; /* the axis length it had to be below */
};

enum cuda_idx { CUDA_IDX_GATHER = 0, CUDA_IDX_SCATTER_ADD = 1 };

/* A tensor of up to 8 dims split into one axis and the rest, for index, sort and argmax
 * kernels: element (line l, position j) sits at sum(rest coords * rest strides) + j * stride. */
struct cuda_lines {
    int n_rest;
    int64_t rest_shape[CUDA_MAX_DIMS];
    int64_t rest_stride[CUDA_MAX_OPERANDS][CUDA_MAX_DIMS]; /* per operand */
    int64_t len;                                           /* axis length */
    int64_t axis_stride[CUDA_MAX_OPERANDS];
    int64_t lines;                                         /* product of rest_shape */
};

/* A reduction: kept dims (row-major order of the outputs) and reduced dims (merged). */
struct cuda_reduce_plan {
    int n_kept, n_red;
    int64_t kept_shape[CUDA_MAX_DIMS], kept_stride[CUDA_MAX_DIMS];
    int64_t red_shape[CUDA_MAX_DIMS], red_stride[CUDA_MAX_DIMS];
    int64_t n_out, red_count;
};

/* Geometry of PAD / PAD_ADJOINT: planes of the leading dims, images [h, w] in and out. */
struct cuda_pad {
    int n_lead;
    int64_t lead_shape[CUDA_MAX_DIMS], lead_stride[CUDA_MAX_DIMS]; /* of the strided input */
    int64_t in_h, in_w, in_sh, in_sw; /* input image and its strides */
    int64_t out_h, out_w;             /* output image (dense) */
    int64_t top, left;
    bool replicate;
    int64_t numel; /* output elements */
};

/* ---- cuda_elementwise.cu ---- */

/* out = the formula of op (an op of TN_OP_LIST_ELEMENTWISE, or TN_OP_CONTIGUOUS for the
 * strided copy) over the loop; a, b, c are the inputs' first elements. */
cudaError_t cuda_launch_elementwise(enum tn_op op, const struct cuda_loop *loop,
                                    float *out, const float *a, const float *b, const float *c,
                                    float s0, float s1, cudaStream_t stream);

/* n floats of dst set to value. */
cudaError_t cuda_launch_fill(float *dst, float value, int64_t n, cudaStream_t stream);

/* ---- cuda_reduce.cu ---- */

/* Workspace doubles needed by a reduction (0 when it runs in one pass). */
int64_t cuda_reduce_workspace(const struct cuda_reduce_plan *plan);

/* SUM (is_sum) or AMAX over the plan into out[n_out]; partial has cuda_reduce_workspace()
 * doubles. Sums accumulate in double; AMAX propagates NaN. */
cudaError_t cuda_launch_reduce(bool is_sum, const struct cuda_reduce_plan *plan, const float *x,
                               float *out, double *partial, cudaStream_t stream);

/* ARGMAX: out[l] = index of the first maximum of line l (the first NaN if any). Operand 0 of
 * lines is x; out is dense over the lines. */
cudaError_t cuda_launch_argmax(const struct cuda_lines *lines, const float *x, float *out,
                               cudaStream_t stream);

/* ---- cuda_index.cu ---- */

cudaError_t cuda_launch_pad(const struct cuda_pad *pad, const float *x, float *out,
                            cudaStream_t stream);
cudaError_t cuda_launch_pad_adjoint(const struct cuda_pad *pad, const float *g, float *out,
                                    cudaStream_t stream);

/* GATHER: operands of lines are 0 out (dense, idx's shape), 1 x, 2 idx; x_len is x's axis
 * length. Bad indices write 0 and are reported through err. */
cudaError_t cuda_launch_gather(const struct cuda_lines *lines, int64_t x_len, float *out,
                               const float *x, const float *idx,
                               struct cuda_index_error *err, cudaStream_t stream);

/* SCATTER_ADD into a zero-filled out: operands 0 out (dense, length out_len on the axis),
 * 1 idx, 2 src (lines.len is idx's axis length). deterministic: each output element adds its
 * sources in index order, as the CPU does; otherwise atomics. */
cudaError_t cuda_launch_scatter_add(const struct cuda_lines *lines, int64_t out_len, float *out,
                                    const float *idx, const float *src, bool deterministic,
                                    struct cuda_index_error *err, cudaStream_t stream);

/* PDIST: x dense [rows, dim] -> out dense [rows, rows], differences accumulated in double. */
cudaError_t cuda_launch_pdist(const float *x, int64_t rows, int64_t dim, float *out,
                              cudaStream_t stream);

/* ---- cuda_sort.cu ---- */

/* Bytes of workspace ARGSORT needs for lines.lines lines of lines.len elements. */
cudaError_t cuda_argsort_workspace(const struct cuda_lines *lines, size_t *bytes);

/* ARGSORT, stable, NaN last in both orders: operand 0 of lines is x, operand 1 out. */
cudaError_t cuda_launch_argsort(const struct cuda_lines *lines, const float *x, float *out,
                                bool descending, void *workspace, size_t workspace_bytes,
                                cudaStream_t stream);

/* ---- cuda_update.cu ---- */

/* The fused optimizer step u over n dense elements (tn_update.h for the formulas). */
cudaError_t cuda_launch_update(const struct tn_update *u, int64_t n, float *p, const float *g,
                               float *s0, float *s1, cudaStream_t stream);

#endif
