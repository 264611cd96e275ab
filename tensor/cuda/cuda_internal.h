/* cuda_internal.h - what the C files of the CUDA backend share: per-device contexts, error
 * checks, workspaces and the kernel declarations that cuda_backend.c puts in its table.
 * Not a public header (that is tensor/tn_cuda.h); never included by .cu files, which see
 * only cuda_launch.h.
 */
#ifndef CUDA_INTERNAL_H
#define CUDA_INTERNAL_H

#include <cuda_runtime_api.h>

#include "../tn_backend.h"
#include "../tn_cuda.h"
#include "cuda_launch.h"

#define CUDA_MAX_DEVICES 8 /* the allocator's limit per device type */

/* One device's state, made on first use: its stream (every kernel, copy and library call of
 * the device goes on it, in order, so the caching allocator can reuse a block as soon as it
 * is released) and the mapped host struct where index kernels report a bad index. */
struct cuda_ctx {
    bool ready;
    int index;
    cudaStream_t stream;
    struct cuda_index_error *index_error;     /* host address */
    struct cuda_index_error *index_error_dev; /* device address of the same memory */
};

/* The context of device index, made current; aborts naming `what` when the device cannot
 * be used (there is no silent fallback to the CPU). */
struct cuda_ctx *cuda_ctx(int index, const char *what);

/* The context of the device a kernel runs on (its output's). */
struct cuda_ctx *cuda_ctx_of(const struct tn_kernel_args *a);

/* Aborts naming the op when an index kernel reported a bad index (call after a sync). */
void cuda_check_index_error(struct cuda_ctx *ctx);

/* ---- errors (cuda_error.c) ---- */

/* Sets the thread's last error to "file:line: call: name: message" and returns
 * TN_ERR_DEVICE. The cuBLAS and cuDNN versions live beside their only callers. */
enum tn_status cuda_error(cudaError_t e, const char *call, const char *file, int line);

/* Aborts naming what with the last error set by cuda_error (kernels return no status). */
noreturn void cuda_fatal(const char *what, const char *file, int line);

/* Runs a CUDA runtime call; on failure sets the error and returns TN_ERR_DEVICE. */
#define CUDA_TRY(call)                                                       \
    do {                                                                     \
        cudaError_t e_ = (call);                                             \
        if (e_ != cudaSuccess) return cuda_error(e_, #call, __FILE__, __LINE__); \
    } while (0)

/* Runs a CUDA runtime call (or launcher); on failure aborts naming what (an op name). */
#define CUDA_CHECK(what, call)                                               \
    do {                                                                     \
        cudaError_t e_ = (call);                                             \
        if (e_ != cudaSuccess) {                                             \
            cuda_error(e_, #call, __FILE__, __LINE__);                       \
            cuda_fatal((what), __FILE__, __LINE__);                          \
        }                                                                    \
    } while (0)

/* ---- workspaces from the caching allocator (cuda_ops.c) ---- */

struct cuda_workspace {
    struct tn_device device;
    void *ptr;
    size_t bytes; /* the block's size */
};

/* At least bytes of device memory for a kernel's scratch; aborts naming what on OOM. The
 * block may be released as soon as the work using it is queued (one stream per device). */
struct cuda_workspace cuda_workspace_get(struct tn_device device, size_t bytes, const char *what);
void cuda_workspace_release(struct cuda_workspace *w);

/* Copies src (any strides) into dst (any strides) of the same shape on dst's stream. */
void cuda_copy_strided(struct tn_tensor *dst, const struct tn_tensor *src, const char *what);

/* A dense copy of t in the current scope, or t itself when it is already contiguous. */
struct tn_tensor *cuda_dense(struct tn_tensor *t);

/* ---- kernels, one per op family file ---- */

/* cuda_ops.c: elementwise, reductions, placement, indexing, sorting, distances */
/* every op of TN_OP_LIST_ELEMENTWISE */
void cuda_kernel_elementwise(const struct tn_kernel_args *a);
void cuda_kernel_reduce(const struct tn_kernel_args *a);
void cuda_kernel_argmax(const struct tn_kernel_args *a);
void cuda_kernel_contiguous(const struct tn_kernel_args *a);
void cuda_kernel_unslice(const struct tn_kernel_args *a);
void cuda_kernel_concat(const struct tn_kernel_args *a);
void cuda_kernel_pad(const struct tn_kernel_args *a);
void cuda_kernel_pad_adjoint(const struct tn_kernel_args *a);
void cuda_kernel_gather(const struct tn_kernel_args *a);
void cuda_kernel_scatter_add(const struct tn_kernel_args *a);
void cuda_kernel_argsort(const struct tn_kernel_args *a);
void cuda_kernel_pdist(const struct tn_kernel_args *a);

/* cuda_blas.c */
void cuda_kernel_matmul(const struct tn_kernel_args *a);

/* cuda_dnn.c */
void cuda_kernel_conv2d(const struct tn_kernel_args *a);
void cuda_kernel_conv2d_grad_input(const struct tn_kernel_args *a);
void cuda_kernel_conv2d_grad_weight(const struct tn_kernel_args *a);

#endif
