/* cuda_dnn.c - CUDA kernels of CONV2D, CONV2D_GRAD_INPUT and CONV2D_GRAD_WEIGHT by cuDNN 9.
 *
 * The three ops are cudnnConvolutionForward, cudnnConvolutionBackwardData and
 * cudnnConvolutionBackwardFilter of the legacy API, which cuDNN 9 still ships but marks
 * deprecated: this is the only file that calls it, and the only one built with
 * -Wno-deprecated-declarations (cmake/cuda.cmake turns the warnings on everywhere else).
 * Geometry: NCHW float32, weight [K, C/groups, kh, kw], cross-correlation (the CPU's
 * convention), zero padding, stride, dilation, groups via cudnnSetConvolutionGroupCount.
 *
 * Per geometry (op, shapes, stride, padding, dilation, groups, options, device) a plan holds
 * the descriptors, the algorithm and its workspace size; plans are cached (least recently
 * used out first), so a training loop queries cuDNN once per layer. The algorithm is the
 * first of cudnnGet*Algorithm_v7's ranked list that succeeds, fits the workspace limit, and,
 * in deterministic mode, is reported CUDNN_DETERMINISTIC. Without TF32 the math type is
 * CUDNN_FMA_MATH (CUDNN_DEFAULT_MATH would allow TF32 on Ampere and later) and tensor-op
 * entries are skipped. Workspaces come from the caching allocator. Strided inputs are copied
 * dense first (the descriptors describe dense NCHW).
 */
#include <cudnn.h>
#include <string.h>

#include "cuda_internal.h"

#define PLAN_CACHE 64
#define WORKSPACE_LIMIT ((size_t)1 << 30) /* algorithms needing more are passed over */
#define MAX_ALGOS 16

struct conv_key {
    int device;
    enum tn_op op;
    int64_t x[4], w[4], y[4];
    struct tn_conv_geom geom;
    bool tf32, deterministic;
};

struct conv_plan {
    bool used;
    struct conv_key key;
    uint64_t last_use;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    int algo;
    size_t workspace;
};

static struct conv_plan plans[PLAN_CACHE];
static uint64_t plan_clock;
static cudnnHandle_t handles[CUDA_MAX_DEVICES];

/* Aborts naming what with cuDNN's status text, its last detailed message and file:line. */
#define CUDNN_CHECK(what, call)                                                             \
    do {                                                                                    \
        cudnnStatus_t s_ = (call);                                                          \
        if (s_ != CUDNN_STATUS_SUCCESS) {                                                   \
            cudnn_error(s_, #call, __FILE__, __LINE__);                                     \
            cuda_fatal((what), __FILE__, __LINE__);                                         \
        }                                                                                   \
    } while (0)

static enum tn_status cudnn_error(cudnnStatus_t s, const char *call, const char *file,
                                  int line) {
    char detail[256] = "";
    cudnnGetLastErrorString(detail, sizeof detail);
    return tn_error(TN_ERR_DEVICE, "%s:%d: %s: %s%s%s", file, line, call,
                    cudnnGetErrorString(s), detail[0] ? ": " : "", detail);
}

static cudnnHandle_t handle_of(struct cuda_ctx *c, const char *what) {
    if (!handles[c->index]) {
        CUDNN_CHECK(what, cudnnCreate(&handles[c->index]));
        CUDNN_CHECK(what, cudnnSetStream(handles[c->index], c->stream));
    }
    return handles[c->index];
}

static int as_int(int64_t v, const char *what) {
    TN_CHECK(v >= 0 && v <= 2147483647, what, "size %lld beyond cuDNN's int", (long long)v);
    return (int)v;
}

static void plan_destroy(struct conv_plan *p) {
    if (!p->used) return;
    cudnnDestroyTensorDescriptor(p->xd);
    cudnnDestroyTensorDescriptor(p->yd);
    cudnnDestroyFilterDescriptor(p->wd);
    cudnnDestroyConvolutionDescriptor(p->cd);
    p->used = false;
}

/* The fields the three perf structs share. */
struct perf {
    int algo;
    cudnnStatus_t status;
    cudnnDeterminism_t determinism;
    cudnnMathType_t math;
};

#define COPY_PERF(dst, src, n)                                                              \
    for (int i_ = 0; i_ < (n); i_++)                                                        \
    (dst)[i_] = (struct perf){(int)(src)[i_].algo, (src)[i_].status, (src)[i_].determinism,  \
                              (src)[i_].mathType}

/* cuDNN's ranked algorithms for the plan's op (heuristics; nothing runs). */
static int query(struct conv_plan *p, cudnnHandle_t h, const char *what, struct perf *out) {
    int got = 0;
    switch (p->key.op) {
    case TN_OP_CONV2D: {
        cudnnConvolutionFwdAlgoPerf_t r[MAX_ALGOS];
        CUDNN_CHECK(what, cudnnGetConvolutionForwardAlgorithm_v7(h, p->xd, p->wd, p->cd, p->yd,
                                                                 MAX_ALGOS, &got, r));
        COPY_PERF(out, r, got);
        break;
    }
    case TN_OP_CONV2D_GRAD_INPUT: {
        cudnnConvolutionBwdDataAlgoPerf_t r[MAX_ALGOS];
        CUDNN_CHECK(what, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                              h, p->wd, p->yd, p->cd, p->xd, MAX_ALGOS, &got, r));
        COPY_PERF(out, r, got);
        break;
    }
    default: {
        cudnnConvolutionBwdFilterAlgoPerf_t r[MAX_ALGOS];
        CUDNN_CHECK(what, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                              h, p->xd, p->yd, p->cd, p->wd, MAX_ALGOS, &got, r));
        COPY_PERF(out, r, got);
        break;
    }
    }
    return got;
}

static cudnnStatus_t workspace_size(struct conv_plan *p, cudnnHandle_t h, int algo,
                                    size_t *bytes) {
    switch (p->key.op) {
    case TN_OP_CONV2D:
        return cudnnGetConvolutionForwardWorkspaceSize(h, p->xd, p->wd, p->cd, p->yd,
                                                       (cudnnConvolutionFwdAlgo_t)algo, bytes);
    case TN_OP_CONV2D_GRAD_INPUT:
        return cudnnGetConvolutionBackwardDataWorkspaceSize(
            h, p->wd, p->yd, p->cd, p->xd, (cudnnConvolutionBwdDataAlgo_t)algo, bytes);
    default:
        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
            h, p->xd, p->yd, p->cd, p->wd, (cudnnConvolutionBwdFilterAlgo_t)algo, bytes);
    }
}

/* Picks the plan's algorithm and math type (see the file comment). */
static void choose(struct conv_plan *p, cudnnHandle_t h, const char *what) {
    bool tf32 = p->key.tf32, det = p->key.deterministic;
    CUDNN_CHECK(what, cudnnSetConvolutionMathType(p->cd, tf32 ? CUDNN_DEFAULT_MATH
                                                              : CUDNN_FMA_MATH));
    struct perf perf[MAX_ALGOS];
    int got = query(p, h, what, perf);
    for (int i = 0; i < got; i++) {
        if (perf[i].status != CUDNN_STATUS_SUCCESS) continue;
        if (det && perf[i].determinism != CUDNN_DETERMINISTIC) continue;
        bool tensor_op = perf[i].math == CUDNN_TENSOR_OP_MATH ||
                         perf[i].math == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
        if (!tf32 && tensor_op) continue;
        CUDNN_CHECK(what, cudnnSetConvolutionMathType(p->cd, tf32 ? perf[i].math
                                                                  : CUDNN_FMA_MATH));
        size_t bytes = 0;
        if (workspace_size(p, h, perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS) continue;
        if (bytes > WORKSPACE_LIMIT) continue;
        p->algo = perf[i].algo;
        p->workspace = bytes;
        return;
    }
    TN_FATAL(what, "cuDNN offers no %salgorithm for this convolution (%d candidates%s)",
             det ? "deterministic " : "", got, tf32 ? "" : ", TF32 off");
}

static bool key_equal(const struct conv_key *a, const struct conv_key *b) {
    if (a->device != b->device || a->op != b->op || a->tf32 != b->tf32 ||
        a->deterministic != b->deterministic || a->geom.groups != b->geom.groups)
        return false;
    for (int i = 0; i < 4; i++)
        if (a->x[i] != b->x[i] || a->w[i] != b->w[i] || a->y[i] != b->y[i]) return false;
    for (int i = 0; i < 2; i++)
        if (a->geom.stride[i] != b->geom.stride[i] || a->geom.padding[i] != b->geom.padding[i] ||
            a->geom.dilation[i] != b->geom.dilation[i])
            return false;
    return true;
}

/* The cached plan for key, made (descriptors, algorithm) on a miss; a miss with a full cache
 * replaces the least recently used plan. */
static struct conv_plan *plan_for(const struct conv_key *key, cudnnHandle_t h,
                                  const char *what) {
    struct conv_plan *victim = NULL;
    for (int i = 0; i < PLAN_CACHE; i++) {
        struct conv_plan *p = &plans[i];
        if (p->used && key_equal(&p->key, key)) {
            p->last_use = ++plan_clock;
            return p;
        }
        if (!victim || (victim->used && (!p->used || p->last_use < victim->last_use)))
            victim = p;
    }
    struct conv_plan *p = victim;
    plan_destroy(p);
    memset(p, 0, sizeof *p);
    p->key = *key;
    CUDNN_CHECK(what, cudnnCreateTensorDescriptor(&p->xd));
    CUDNN_CHECK(what, cudnnCreateTensorDescriptor(&p->yd));
    CUDNN_CHECK(what, cudnnCreateFilterDescriptor(&p->wd));
    CUDNN_CHECK(what, cudnnCreateConvolutionDescriptor(&p->cd));
    p->used = true;
    const int64_t *x = key->x, *w = key->w, *y = key->y;
    CUDNN_CHECK(what, cudnnSetTensor4dDescriptor(p->xd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                 as_int(x[0], what), as_int(x[1], what),
                                                 as_int(x[2], what), as_int(x[3], what)));
    CUDNN_CHECK(what, cudnnSetTensor4dDescriptor(p->yd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                 as_int(y[0], what), as_int(y[1], what),
                                                 as_int(y[2], what), as_int(y[3], what)));
    CUDNN_CHECK(what, cudnnSetFilter4dDescriptor(p->wd, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                 as_int(w[0], what), as_int(w[1], what),
                                                 as_int(w[2], what), as_int(w[3], what)));
    const struct tn_conv_geom *g = &key->geom;
    CUDNN_CHECK(what, cudnnSetConvolution2dDescriptor(p->cd, g->padding[0], g->padding[1],
                                                      g->stride[0], g->stride[1],
                                                      g->dilation[0], g->dilation[1],
                                                      CUDNN_CROSS_CORRELATION,
                                                      CUDNN_DATA_FLOAT));
    CUDNN_CHECK(what, cudnnSetConvolutionGroupCount(p->cd, g->groups));
    choose(p, h, what);
    p->last_use = ++plan_clock;
    return p;
}

/* Runs op with x [N,C,H,W], w [K,C/g,kh,kw], y [N,K,Ho,Wo]: two of them are inputs and the
 * third (the op's output) is written. */
static void run(const struct tn_kernel_args *a, struct tn_tensor *x, struct tn_tensor *w,
                struct tn_tensor *y) {
    const char *what = tn_op_name(a->op);
    struct cuda_ctx *c = cuda_ctx_of(a);
    cudnnHandle_t h = handle_of(c, what);
    struct conv_key key;
    key.device = c->index;
    key.op = a->op;
    memcpy(key.x, x->shape, sizeof key.x);
    memcpy(key.w, w->shape, sizeof key.w);
    memcpy(key.y, y->shape, sizeof key.y);
    key.geom = a->params->conv;
    key.tf32 = tn_cuda_tf32();
    key.deterministic = tn_cuda_deterministic();
    TN_CHECK(x->numel < ((int64_t)1 << 31) && y->numel < ((int64_t)1 << 31), what,
             "tensors of 2^31 elements or more: cuDNN's legacy API cannot address them");
    struct conv_plan *p = plan_for(&key, h, what);
    struct cuda_workspace ws = cuda_workspace_get(a->out->storage->device, p->workspace, what);
    const float one = 1.0f, zero = 0.0f;
    switch (a->op) {
    case TN_OP_CONV2D:
        CUDNN_CHECK(what, cudnnConvolutionForward(h, &one, p->xd, tn_data(x), p->wd, tn_data(w),
                                                  p->cd, (cudnnConvolutionFwdAlgo_t)p->algo,
                                                  ws.ptr, p->workspace, &zero, p->yd,
                                                  tn_data(y)));
        break;
    case TN_OP_CONV2D_GRAD_INPUT:
        CUDNN_CHECK(what, cudnnConvolutionBackwardData(
                              h, &one, p->wd, tn_data(w), p->yd, tn_data(y), p->cd,
                              (cudnnConvolutionBwdDataAlgo_t)p->algo, ws.ptr, p->workspace,
                              &zero, p->xd, tn_data(x)));
        break;
    default:
        CUDNN_CHECK(what, cudnnConvolutionBackwardFilter(
                              h, &one, p->xd, tn_data(x), p->yd, tn_data(y), p->cd,
                              (cudnnConvolutionBwdFilterAlgo_t)p->algo, ws.ptr, p->workspace,
                              &zero, p->wd, tn_data(w)));
        break;
    }
    cuda_workspace_release(&ws);
    if (a->n_inputs == 3) { /* the optional bias on the output's channels */
        struct tn_tensor *out = a->op == TN_OP_CONV2D ? y : x, *bias = cuda_dense(a->in[2]);
        cudnnTensorDescriptor_t bd;
        CUDNN_CHECK(what, cudnnCreateTensorDescriptor(&bd));
        CUDNN_CHECK(what, cudnnSetTensor4dDescriptor(bd, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                                     as_int(out->shape[1], what), 1, 1));
        cudnnStatus_t s = cudnnAddTensor(h, &one, bd, tn_data(bias), &one,
                                         a->op == TN_OP_CONV2D ? p->yd : p->xd, tn_data(out));
        cudnnDestroyTensorDescriptor(bd);
        CUDNN_CHECK(what, s);
    }
}

void cuda_kernel_conv2d(const struct tn_kernel_args *a) {
    tn_scope_begin();
    run(a, cuda_dense(a->in[0]), cuda_dense(a->in[1]), a->out);
    tn_scope_end();
}

/* (gy, w) -> dx */
void cuda_kernel_conv2d_grad_input(const struct tn_kernel_args *a) {
    tn_scope_begin();
    run(a, a->out, cuda_dense(a->in[1]), cuda_dense(a->in[0]));
    tn_scope_end();
}

/* (x, gy) -> dw */
void cuda_kernel_conv2d_grad_weight(const struct tn_kernel_args *a) {
    tn_scope_begin();
    run(a, cuda_dense(a->in[0]), a->out, cuda_dense(a->in[1]));
    tn_scope_end();
}
