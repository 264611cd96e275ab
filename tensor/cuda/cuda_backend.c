/* cuda_backend.c - the CUDA backend: devices, options, raw memory, host copies, fill, and the
 * table of CUDA kernels.
 *
 * Memory is plain cudaMalloc/cudaFree (never managed memory) behind the caching allocator,
 * registered for TN_DEVICE_CUDA before main() so that the first tn_empty on a device finds
 * it; registering starts nothing, and neither does reading the table, so both work on a
 * machine without a GPU. A device's context (stream, error struct) is made on its first use.
 * Host copies are synchronous with respect to the host, as the backend interface requires;
 * device copies and fused optimizer updates are queued on the stream like kernels.
 * Every table entry runs its kernel and then checks for a launch error, and in sync mode
 * (GWAE_CUDA_SYNC=1) waits for the device, so an asynchronous error names its op.
 * Not thread-safe, like the allocator: one thread drives the devices.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

/* ---- options ---- */

static bool opt_tf32, opt_deterministic, opt_sync, opt_read;

static bool env_flag(const char *name) {
    const char *v = getenv(name);
    return v && v[0] == '1' && v[1] == '\0';
}

static void options_read(void) {
    if (opt_read) return;
    opt_tf32 = env_flag("GWAE_CUDA_TF32");
    opt_deterministic = env_flag("GWAE_CUDA_DETERMINISTIC");
    opt_sync = env_flag("GWAE_CUDA_SYNC");
    opt_read = true;
}

void tn_cuda_set_tf32(bool enabled) { options_read(); opt_tf32 = enabled; }
bool tn_cuda_tf32(void) { options_read(); return opt_tf32; }
void tn_cuda_set_deterministic(bool enabled) { options_read(); opt_deterministic = enabled; }
bool tn_cuda_deterministic(void) { options_read(); return opt_deterministic; }
void tn_cuda_set_sync(bool enabled) { options_read(); opt_sync = enabled; }
bool tn_cuda_sync(void) { options_read(); return opt_sync; }

/* ---- devices ---- */

static int device_count = -1;
static char unavailable[256];
static struct cuda_ctx contexts[CUDA_MAX_DEVICES];

int tn_cuda_device_count(void) {
    if (device_count < 0) {
        int n = 0;
        cudaError_t e = cudaGetDeviceCount(&n);
        if (e != cudaSuccess) {
            snprintf(unavailable, sizeof unavailable, "cudaGetDeviceCount: %s: %s",
                     cudaGetErrorName(e), cudaGetErrorString(e));
            cudaGetLastError(); /* not sticky; clear it so later calls do not see it */
            n = 0;
        } else if (n == 0) {
            snprintf(unavailable, sizeof unavailable, "the CUDA runtime reports 0 devices");
        }
        device_count = n < CUDA_MAX_DEVICES ? n : CUDA_MAX_DEVICES;
    }
    return device_count;
}

bool tn_cuda_available(void) { return tn_cuda_device_count() > 0; }

const char *tn_cuda_unavailable_reason(void) {
    tn_cuda_device_count();
    return unavailable;
}

struct cuda_ctx *cuda_ctx(int index, const char *what) {
    TN_CHECK(index >= 0 && index < CUDA_MAX_DEVICES, what, "CUDA device index %d out of range",
             index);
    struct cuda_ctx *c = &contexts[index];
    if (c->ready) {
        CUDA_CHECK(what, cudaSetDevice(index));
        return c;
    }
    options_read();
    int count = tn_cuda_device_count();
    TN_CHECK(index < count, what, "no CUDA device %d (%d usable%s%s); check tn_cuda_available()",
             index, count, count ? "" : ": ", count ? "" : unavailable);
    CUDA_CHECK(what, cudaSetDevice(index));
    CUDA_CHECK(what, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
    CUDA_CHECK(what, cudaHostAlloc((void **)&c->index_error, sizeof *c->index_error,
                                   cudaHostAllocMapped));
    memset(c->index_error, 0, sizeof *c->index_error);
    CUDA_CHECK(what, cudaHostGetDevicePointer((void **)&c->index_error_dev, c->index_error, 0));
    c->index = index;
    c->ready = true;
    return c;
}

struct cuda_ctx *cuda_ctx_of(const struct tn_kernel_args *a) {
    return cuda_ctx(a->out->storage->device.index, tn_op_name(a->op));
}

void cuda_check_index_error(struct cuda_ctx *ctx) {
    volatile struct cuda_index_error *err = ctx->index_error;
    if (err->code == 0) return;
    int code = err->code;
    float value = err->value;
    long long bound = (long long)err->bound;
    err->code = 0;
    TN_FATAL(code - 1 == CUDA_IDX_GATHER ? "GATHER" : "SCATTER_ADD",
             "index %g out of range [0, %lld) on cuda:%d%s", (double)value, bound, ctx->index,
             opt_sync ? "" : " (found at a later synchronisation; GWAE_CUDA_SYNC=1 stops at the op)");
}

enum tn_status tn_cuda_synchronize(int index) {
    if (index < 0 || index >= tn_cuda_device_count())
        return tn_error(TN_ERR_NO_DEVICE, "no CUDA device %d", index);
    struct cuda_ctx *c = cuda_ctx(index, "tn_cuda_synchronize");
    CUDA_TRY(cudaStreamSynchronize(c->stream));
    cuda_check_index_error(c);
    return TN_OK;
}

enum tn_status tn_cuda_mem_info(int index, size_t *free_bytes, size_t *total_bytes) {
    *free_bytes = *total_bytes = 0;
    if (index < 0 || index >= tn_cuda_device_count())
        return tn_error(TN_ERR_NO_DEVICE, "no CUDA device %d", index);
    cuda_ctx(index, "tn_cuda_mem_info");
    CUDA_TRY(cudaMemGetInfo(free_bytes, total_bytes));
    return TN_OK;
}

/* ---- raw memory for the caching allocator ---- */

static char alloc_failure[256];

const char *tn_cuda_last_alloc_failure(void) { return alloc_failure; }

static void *cuda_raw_alloc(int index, size_t bytes) {
    cuda_ctx(index, "tn_alloc");
    void *ptr = NULL;
    cudaError_t e = cudaMalloc(&ptr, bytes);
    if (e == cudaSuccess) return ptr;
    cudaGetLastError(); /* an allocation failure is not sticky: clear it */
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    snprintf(alloc_failure, sizeof alloc_failure,
             "cudaMalloc of %zu bytes on cuda:%d: %s (device: %zu of %zu bytes free)", bytes,
             index, cudaGetErrorString(e), free_b, total_b);
    return NULL;
}

static void cuda_raw_free(int index, void *ptr) {
    cuda_ctx(index, "tn_alloc_empty_cache");
    cudaError_t e = cudaFree(ptr);
    if (e != cudaSuccess && e != cudaErrorCudartUnloading) {
        cuda_error(e, "cudaFree", __FILE__, __LINE__);
        cuda_fatal("tn_alloc_empty_cache", __FILE__, __LINE__);
    }
}

/* Registers the raw functions before main(): tn_alloc needs them before any CUDA call. */
__attribute__((constructor)) static void cuda_register_memory(void) {
    tn_alloc_register(TN_DEVICE_CUDA, &(struct tn_raw_memory){cuda_raw_alloc, cuda_raw_free});
}

/* ---- host copies and fill ---- */

static void cuda_copy_from_host(int index, void *dst, const void *src, size_t bytes) {
    if (bytes == 0) return;
    struct cuda_ctx *c = cuda_ctx(index, "copy_from_host");
    CUDA_CHECK("copy_from_host",
               cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, c->stream));
    CUDA_CHECK("copy_from_host", cudaStreamSynchronize(c->stream)); /* src may go next */
}

static void cuda_copy_to_host(int index, void *dst, const void *src, size_t bytes) {
    struct cuda_ctx *c = cuda_ctx(index, "copy_to_host");
    if (bytes > 0)
        CUDA_CHECK("copy_to_host",
                   cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, c->stream));
    CUDA_CHECK("copy_to_host", cudaStreamSynchronize(c->stream));
    cuda_check_index_error(c);
}

static void cuda_fill(int index, float *dst, float value, int64_t n) {
    struct cuda_ctx *c = cuda_ctx(index, "fill");
    CUDA_CHECK("fill", cuda_launch_fill(dst, value, n, c->stream));
    if (opt_sync) CUDA_CHECK("fill", cudaStreamSynchronize(c->stream));
}

/* ---- device copies and fused updates ---- */

/* After queued work outside the op table: a launch error, or in sync mode any error, aborts
 * naming what. */
static void after_work(struct cuda_ctx *c, const char *what) {
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess && opt_sync) e = cudaStreamSynchronize(c->stream);
    if (e != cudaSuccess) {
        cuda_error(e, "kernel", __FILE__, __LINE__);
        cuda_fatal(what, __FILE__, __LINE__);
    }
}

static void cuda_copy(struct tn_tensor *dst, const struct tn_tensor *src) {
    cuda_copy_strided(dst, src, "tn_copy_into");
    after_work(cuda_ctx(dst->storage->device.index, "tn_copy_into"), "tn_copy_into");
}

static void cuda_update(int index, const struct tn_update *u, int64_t n, float *p,
                        const float *g, float *s0, float *s1) {
    struct cuda_ctx *c = cuda_ctx(index, "tn_update_apply");
    CUDA_CHECK("tn_update_apply", cuda_launch_update(u, n, p, g, s0, s1, c->stream));
    after_work(c, "tn_update_apply");
}

/* ---- the kernel table ---- */

/* After a kernel: as after_work, naming the op; in sync mode also the index-error check. */
static void after_kernel(const struct tn_kernel_args *a) {
    struct cuda_ctx *c = cuda_ctx_of(a);
    after_work(c, tn_op_name(a->op));
    if (opt_sync) cuda_check_index_error(c);
}

#define CHECKED(kernel)                                                        \
    static void kernel##_checked(const struct tn_kernel_args *a) {             \
        kernel(a);                                                             \
        after_kernel(a);                                                       \
    }

CHECKED(cuda_kernel_elementwise)
CHECKED(cuda_kernel_reduce)
CHECKED(cuda_kernel_argmax)
CHECKED(cuda_kernel_matmul)
CHECKED(cuda_kernel_unslice)
CHECKED(cuda_kernel_contiguous)
CHECKED(cuda_kernel_concat)
CHECKED(cuda_kernel_pad)
CHECKED(cuda_kernel_pad_adjoint)
CHECKED(cuda_kernel_conv2d)
CHECKED(cuda_kernel_conv2d_grad_input)
CHECKED(cuda_kernel_conv2d_grad_weight)
CHECKED(cuda_kernel_gather)
CHECKED(cuda_kernel_scatter_add)
CHECKED(cuda_kernel_argsort)
CHECKED(cuda_kernel_pdist)

static const struct tn_backend cuda_backend = {
    .name = "cuda",
    .type = TN_DEVICE_CUDA,
    .copy_from_host = cuda_copy_from_host,
    .copy_to_host = cuda_copy_to_host,
    .fill = cuda_fill,
    .copy = cuda_copy,
    .update = cuda_update,
    .kernels =
        {
#define ELEMENTWISE(name, n, flags, formula)                                                \
    [TN_OP_##name] = cuda_kernel_elementwise_checked,
            TN_OP_LIST_ELEMENTWISE(ELEMENTWISE)
#undef ELEMENTWISE
            [TN_OP_SUM] = cuda_kernel_reduce_checked,
            [TN_OP_AMAX] = cuda_kernel_reduce_checked,
            [TN_OP_ARGMAX] = cuda_kernel_argmax_checked,
            [TN_OP_MATMUL] = cuda_kernel_matmul_checked,
            [TN_OP_UNSLICE] = cuda_kernel_unslice_checked,
            [TN_OP_CONTIGUOUS] = cuda_kernel_contiguous_checked,
            [TN_OP_TO_DEVICE] = tn_kernel_to_device,
            [TN_OP_CONCAT] = cuda_kernel_concat_checked,
            [TN_OP_PAD] = cuda_kernel_pad_checked,
            [TN_OP_PAD_ADJOINT] = cuda_kernel_pad_adjoint_checked,
            [TN_OP_CONV2D] = cuda_kernel_conv2d_checked,
            [TN_OP_CONV2D_GRAD_INPUT] = cuda_kernel_conv2d_grad_input_checked,
            [TN_OP_CONV2D_GRAD_WEIGHT] = cuda_kernel_conv2d_grad_weight_checked,
            [TN_OP_GATHER] = cuda_kernel_gather_checked,
            [TN_OP_SCATTER_ADD] = cuda_kernel_scatter_add_checked,
            [TN_OP_ARGSORT] = cuda_kernel_argsort_checked,
            [TN_OP_PDIST] = cuda_kernel_pdist_checked,
        },
};

const struct tn_backend *tn_cuda_backend(void) { return &cuda_backend; }
