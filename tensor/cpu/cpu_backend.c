/* cpu_backend.c - the CPU backend: host memory copies and the table of CPU kernels (every
 * elementwise op's entry comes from the op list), and tn_backend_of, which hands out the
 * backend of a device type after checking its table once. */
#include <string.h>

#include "cpu_internal.h"
#ifdef GWAE_HAVE_CUDA
#include "../tn_cuda.h"
#endif

static void cpu_copy(int index, void *dst, const void *src, size_t bytes) {
    (void)index;
    memcpy(dst, src, bytes);
}

static void cpu_fill(int index, float *dst, float value, int64_t n) {
    (void)index;
    CPU_PARALLEL_FOR(n >= 4 * CPU_PARALLEL_MIN, i, n, dst[i] = value;);
}

static const struct tn_backend cpu_backend = {
    .name = "cpu",
    .type = TN_DEVICE_CPU,
    .copy_from_host = cpu_copy,
    .copy_to_host = cpu_copy,
    .fill = cpu_fill,
    .copy = cpu_copy_strided,
    .kernels =
        {
#define ELEMENTWISE(name, n, flags, formula) [TN_OP_##name] = cpu_kernel_elementwise,
            TN_OP_LIST_ELEMENTWISE(ELEMENTWISE)
#undef ELEMENTWISE
            [TN_OP_SUM] = cpu_kernel_reduce,
            [TN_OP_AMAX] = cpu_kernel_reduce,
            [TN_OP_ARGMAX] = cpu_kernel_argmax,
            [TN_OP_MATMUL] = cpu_kernel_matmul,
            [TN_OP_UNSLICE] = cpu_kernel_unslice,
            [TN_OP_CONTIGUOUS] = cpu_kernel_contiguous,
            [TN_OP_TO_DEVICE] = tn_kernel_to_device,
            [TN_OP_CONCAT] = cpu_kernel_concat,
            [TN_OP_PAD] = cpu_kernel_pad,
            [TN_OP_PAD_ADJOINT] = cpu_kernel_pad_adjoint,
            [TN_OP_CONV2D] = cpu_kernel_conv2d,
            [TN_OP_CONV2D_GRAD_INPUT] = cpu_kernel_conv2d_grad_input,
            [TN_OP_CONV2D_GRAD_WEIGHT] = cpu_kernel_conv2d_grad_weight,
            [TN_OP_GATHER] = cpu_kernel_gather,
            [TN_OP_SCATTER_ADD] = cpu_kernel_scatter_add,
            [TN_OP_ARGSORT] = cpu_kernel_argsort,
            [TN_OP_PDIST] = cpu_kernel_pdist,
        },
};

const struct tn_backend *tn_cpu_backend(void) { return &cpu_backend; }

const struct tn_backend *tn_backend_of(enum tn_device_type type) {
    static bool checked[TN_DEVICE_TYPE_COUNT];
    const struct tn_backend *backend = NULL;
    switch (type) {
    case TN_DEVICE_CPU: backend = &cpu_backend; break;
#ifdef GWAE_HAVE_CUDA
    case TN_DEVICE_CUDA: backend = tn_cuda_backend(); break;
#endif
    default: TN_FATAL("tn_backend_of", "device type %d has no backend in this build", (int)type);
    }
    if (!checked[type]) {
        tn_backend_check(backend);
        checked[type] = true;
    }
    return backend;
}
