/* cuda_blas.c - CUDA kernel of MATMUL through cuBLAS, batched with broadcast batch dims.
 *
 * cuBLAS is column-major; a row-major C [m, n] = A [m, k] B [k, n] is the column-major
 * C^T = B^T A^T, so the operands go in swapped (n, m, k; B first) and no data moves. As on
 * the CPU (cpu_matmul.c), a matrix whose last dim has stride 1 is read as is and one whose
 * second-to-last dim has stride 1 (a transposed view) is read transposed; anything else is
 * copied dense first. Batches whose offsets are i * stride for every operand (including
 * stride 0, a broadcast) go to one cublasSgemmStridedBatched; other broadcast patterns loop.
 * Math mode is CUBLAS_DEFAULT_MATH (no TF32) unless tn_cuda_set_tf32(true). One handle per
 * device, made on first use and bound to the device's stream.
 *
 * libcublas is loaded with dlopen at the first MATMUL on a device, not linked: it and
 * libcublasLt are over half a gigabyte whose relocations cost every process about 90 ms at
 * start, which made each Criterion test process (and every program of a CUDA build) pay for
 * cuBLAS whether or not it multiplied a matrix on a GPU.
 */
#include <cublas_v2.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "../tn_plan.h"
#include "cuda_internal.h"

/* The cuBLAS entry points used, by their exported (v2) names. */
static struct {
    bool loaded;
    cublasStatus_t (*create)(cublasHandle_t *);
    cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
    cublasStatus_t (*set_math_mode)(cublasHandle_t, cublasMath_t);
    cublasStatus_t (*sgemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const float *, const float *, int, const float *, int, const float *,
                            float *, int);
    cublasStatus_t (*sgemm_strided_batched)(cublasHandle_t, cublasOperation_t, cublasOperation_t,
                                            int, int, int, const float *, const float *, int,
                                            long long, const float *, int, long long,
                                            const float *, float *, int, long long, int);
    const char *(*status_string)(cublasStatus_t);
} blas;

static cublasHandle_t handles[CUDA_MAX_DEVICES];

/* Stores symbol name of lib into *fn (POSIX lets a dlsym result become a function pointer). */
static void bind(void *lib, const char *name, void *fn, size_t size) {
    void *p = dlsym(lib, name);
    TN_CHECK(p != NULL && size == sizeof p, "MATMUL", "cuBLAS lacks %s", name);
    memcpy(fn, &p, sizeof p);
}

static void blas_load(void) {
    if (blas.loaded) return;
    /* compile-time checks that the members match cuBLAS's prototypes (sizeof evaluates
     * nothing, so no symbol is referenced) */
    (void)sizeof(blas.create = cublasCreate_v2);
    (void)sizeof(blas.set_stream = cublasSetStream_v2);
    (void)sizeof(blas.set_math_mode = cublasSetMathMode);
    (void)sizeof(blas.sgemm = cublasSgemm_v2);
    (void)sizeof(blas.sgemm_strided_batched = cublasSgemmStridedBatched);
    (void)sizeof(blas.status_string = cublasGetStatusString);
    char soname[64];
    snprintf(soname, sizeof soname, "libcublas.so.%d", CUBLAS_VER_MAJOR);
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
#ifdef GWAE_CUBLAS_PATH
    if (!lib) lib = dlopen(GWAE_CUBLAS_PATH, RTLD_NOW | RTLD_LOCAL);
#endif
    if (!lib) {
        const char *why = dlerror();
        TN_FATAL("MATMUL", "cannot load cuBLAS (%s): %s", soname, why ? why : "?");
    }
    bind(lib, "cublasCreate_v2", &blas.create, sizeof blas.create);
    bind(lib, "cublasSetStream_v2", &blas.set_stream, sizeof blas.set_stream);
    bind(lib, "cublasSetMathMode", &blas.set_math_mode, sizeof blas.set_math_mode);
    bind(lib, "cublasSgemm_v2", &blas.sgemm, sizeof blas.sgemm);
    bind(lib, "cublasSgemmStridedBatched", &blas.sgemm_strided_batched,
         sizeof blas.sgemm_strided_batched);
    bind(lib, "cublasGetStatusString", &blas.status_string, sizeof blas.status_string);
    blas.loaded = true;
}

/* Aborts naming MATMUL with cuBLAS's own status text and the call's file:line. */
#define CUBLAS_CHECK(call)                                                                  \
    do {                                                                                    \
        cublasStatus_t s_ = (call);                                                         \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                  \
            tn_error(TN_ERR_DEVICE, "%s:%d: %s: %s (cuBLAS status %d)", __FILE__, __LINE__,  \
                     #call, blas.status_string(s_), (int)s_);                              \
            cuda_fatal("MATMUL", __FILE__, __LINE__);                                       \
        }                                                                                   \
    } while (0)

static cublasHandle_t handle_of(struct cuda_ctx *c) {
    blas_load();
    if (!handles[c->index]) {
        CUBLAS_CHECK(blas.create(&handles[c->index]));
        CUBLAS_CHECK(blas.set_stream(handles[c->index], c->stream));
    }
    return handles[c->index];
}

/* How cuBLAS reads the last two dims of a row-major matrix t (tn_gemm_layout as an op).
 * Row-major [rows, cols] is column-major [cols, rows] not transposed; a transposed view is
 * column-major [rows, cols] transposed. */
static bool gemm_layout(const struct tn_tensor *t, cublasOperation_t *op, int64_t *ld) {
    bool transposed = false;
    bool ok = tn_gemm_layout(t, &transposed, ld);
    *op = transposed ? CUBLAS_OP_T : CUBLAS_OP_N;
    return ok;
}

static struct tn_tensor *usable(struct tn_tensor *t, cublasOperation_t *op, int64_t *ld) {
    if (gemm_layout(t, op, ld)) return t;
    struct tn_tensor *dense = cuda_dense(t);
    gemm_layout(dense, op, ld);
    return dense;
}

/* True when batch b of t starts at b * stride for every b (stride found from b = 1). */
static bool uniform_batches(const struct tn_tensor *t, const struct tn_tensor *out,
                            int64_t batches, int64_t *stride) {
    *stride = batches > 1 ? tn_gemm_batch_offset(t, out, 1) : 0;
    for (int64_t b = 2; b < batches; b++)
        if (tn_gemm_batch_offset(t, out, b) != b * *stride) return false;
    return true;
}

static bool fits_int(int64_t v) { return v >= 0 && v <= 2147483647; }

void cuda_kernel_matmul(const struct tn_kernel_args *args) {
    struct cuda_ctx *c = cuda_ctx_of(args);
    cublasHandle_t h = handle_of(c);
    CUBLAS_CHECK(blas.set_math_mode(h, tn_cuda_tf32() ? CUBLAS_TF32_TENSOR_OP_MATH
                                                     : CUBLAS_DEFAULT_MATH));
    tn_scope_begin();
    cublasOperation_t op_a = CUBLAS_OP_N, op_b = CUBLAS_OP_N;
    int64_t lda = 0, ldb = 0;
    struct tn_tensor *a = usable(args->in[0], &op_a, &lda);
    struct tn_tensor *b = usable(args->in[1], &op_b, &ldb);
    struct tn_tensor *out = args->out;
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    int64_t batches = out->numel / (m * n);
    TN_CHECK(fits_int(m) && fits_int(n) && fits_int(k) && fits_int(lda) && fits_int(ldb),
             "MATMUL", "a size or leading dimension beyond 2^31 (cuBLAS takes int)");
    const float *pa = tn_data(a), *pb = tn_data(b);
    float *po = tn_data(out);
    const float one = 1.0f, zero = 0.0f;
    int64_t sa, sb;
    if (k == 0) {
        CUDA_CHECK("MATMUL", cuda_launch_fill(po, 0.0f, out->numel, c->stream));
    } else if (batches == 1) {
        CUBLAS_CHECK(blas.sgemm(h, op_b, op_a, (int)n, (int)m, (int)k, &one, pb, (int)ldb, pa,
                                 (int)lda, &zero, po, (int)n));
    } else if (batches <= 2147483647 && uniform_batches(a, out, batches, &sa) &&
               uniform_batches(b, out, batches, &sb)) {
        CUBLAS_CHECK(blas.sgemm_strided_batched(h, op_b, op_a, (int)n, (int)m, (int)k, &one, pb,
                                               (int)ldb, (long long)sb, pa, (int)lda,
                                               (long long)sa, &zero, po, (int)n,
                                               (long long)(m * n), (int)batches));
    } else {
        for (int64_t i = 0; i < batches; i++)
            CUBLAS_CHECK(blas.sgemm(h, op_b, op_a, (int)n, (int)m, (int)k, &one,
                                     pb + tn_gemm_batch_offset(b, out, i), (int)ldb,
                                     pa + tn_gemm_batch_offset(a, out, i), (int)lda, &zero,
                                     po + i * m * n, (int)n));
    }
    tn_scope_end();
}
