/* cuda_ops.c - the C side of the CUDA kernels that are not library calls: elementwise ops,
 * reductions, placement (CONTIGUOUS, UNSLICE, CONCAT), padding, GATHER, SCATTER_ADD,
 * ARGSORT and PDIST.
 *
 * Each kernel turns tensors into the plain plans of cuda_launch.h (broadcast strides, merged
 * dims, axis lines) and calls a launcher on the device's stream; the arithmetic is in the .cu
 * files. Temporaries (dense copies, workspaces) come from the caching allocator and go back
 * before the kernel returns, which is safe because all of a device's work is on one stream.
 * The semantics are cpu_*.c's, op for op; where a result may differ in the last bits (sums in
 * another order) the file comment of the .cu says so.
 */
#include <string.h>

#include "../tn_plan.h"
#include "cuda_internal.h"

_Static_assert(TN_MAX_DIMS <= CUDA_MAX_DIMS, "CUDA plans hold TN_MAX_DIMS dims");
_Static_assert(TN_MAX_INPUTS >= 3, "WHERE has three inputs");

/* SCATTER_ADD scans a line of indices per output element (deterministic) when the line is at
 * most this long or the whole scan is small; beyond both it adds with atomics. */
#define SCATTER_SCAN_MAX_LEN 1024
#define SCATTER_SCAN_MAX_WORK ((int64_t)1 << 28)

/* ---- shared helpers ---- */

struct cuda_workspace cuda_workspace_get(struct tn_device device, size_t bytes,
                                         const char *what) {
    struct cuda_workspace w = {device, NULL, 0};
    if (bytes == 0) return w;
    if (tn_alloc(device, bytes, &w.ptr, &w.bytes) != TN_OK)
        TN_FATAL(what, "workspace of %zu bytes: %s", bytes, tn_last_error());
    return w;
}

void cuda_workspace_release(struct cuda_workspace *w) {
    if (w->ptr) tn_alloc_release(w->device, w->ptr, w->bytes);
    w->ptr = NULL;
}

struct tn_tensor *cuda_dense(struct tn_tensor *t) {
    if (tn_is_contiguous(t)) return t;
    struct tn_tensor *dense = tn_empty(t->storage->device, t->ndim, t->shape);
    if (dense->numel > 0) cuda_copy_strided(dense, t, "cuda_dense");
    return dense;
}

static cudaStream_t stream_of(const struct tn_kernel_args *a) { return cuda_ctx_of(a)->stream; }

/* The loop of out and n inputs broadcast to out's shape: size-1 dims dropped, dim d merged
 * into the previous kept dim when every operand allows (as cpu_loop.c does). */
static void loop_init(struct cuda_loop *L, const struct tn_tensor *out, int n,
                      const struct tn_tensor *const *in) {
    TN_CHECK(n + 1 <= CUDA_MAX_OPERANDS, "cuda_loop", "too many operands");
    int ndim = out->ndim;
    int64_t strides[CUDA_MAX_OPERANDS][TN_MAX_DIMS];
    for (int d = 0; d < ndim; d++) strides[0][d] = out->strides[d];
    for (int i = 0; i < n; i++)
        for (int d = 0; d < ndim; d++) {
            int dt = d - (ndim - in[i]->ndim);
            strides[i + 1][d] = (dt < 0 || in[i]->shape[dt] == 1) ? 0 : in[i]->strides[dt];
        }
    memset(L, 0, sizeof *L);
    L->n_operands = n + 1;
    L->numel = out->numel;
    int k = 0;
    for (int d = 0; d < ndim; d++) {
        if (out->shape[d] == 1) continue;
        if (k > 0) {
            bool mergeable = true;
            for (int i = 0; i < L->n_operands; i++)
                if (L->strides[i][k - 1] != strides[i][d] * out->shape[d]) mergeable = false;
            if (mergeable) {
                L->shape[k - 1] *= out->shape[d];
                for (int i = 0; i < L->n_operands; i++) L->strides[i][k - 1] = strides[i][d];
                continue;
            }
        }
        L->shape[k] = out->shape[d];
        for (int i = 0; i < L->n_operands; i++) L->strides[i][k] = strides[i][d];
        k++;
    }
    if (k == 0) { /* one element */
        L->shape[0] = 1;
        k = 1;
    }
    L->ndim = k;
}

/* Lines along axis over shape_of's other dims, with each operand's strides. */
static void lines_init(struct cuda_lines *L, const struct tn_tensor *shape_of, int axis, int n,
                       const struct tn_tensor *const *ops) {
    memset(L, 0, sizeof *L);
    L->lines = 1;
    for (int d = 0; d < shape_of->ndim; d++) {
        if (d == axis) continue;
        L->rest_shape[L->n_rest] = shape_of->shape[d];
        for (int i = 0; i < n; i++) L->rest_stride[i][L->n_rest] = ops[i]->strides[d];
        L->lines *= shape_of->shape[d];
        L->n_rest++;
    }
    L->len = shape_of->shape[axis];
    for (int i = 0; i < n; i++) L->axis_stride[i] = ops[i]->strides[axis];
}

void cuda_copy_strided(struct tn_tensor *dst, const struct tn_tensor *src, const char *what) {
    struct cuda_loop L;
    loop_init(&L, dst, 1, &src);
    struct cuda_ctx *c = cuda_ctx(dst->storage->device.index, what);
    CUDA_CHECK(what, cuda_launch_elementwise(TN_OP_CONTIGUOUS, &L, tn_data(dst), tn_data(src), NULL,
                                             NULL, 0.0f, 0.0f, c->stream));
}

/* ---- elementwise ---- */

void cuda_kernel_elementwise(const struct tn_kernel_args *a) {
    struct cuda_loop L;
    loop_init(&L, a->out, a->n_inputs, (const struct tn_tensor *const *)a->in);
    const float *in[3] = {NULL, NULL, NULL};
    for (int i = 0; i < a->n_inputs; i++) in[i] = tn_data(a->in[i]);
    CUDA_CHECK(tn_op_name(a->op),
               cuda_launch_elementwise(a->op, &L, tn_data(a->out), in[0], in[1], in[2],
                                       a->params->scalar[0], a->params->scalar[1],
                                       stream_of(a)));
}

/* ---- reductions ---- */

/* The shared plan (tn_plan.h) in the by-value form the .cu launcher takes. */
static void reduce_plan(struct cuda_reduce_plan *pl, const struct tn_tensor *x, uint32_t axes,
                        int64_t n_out) {
    struct tn_reduce_plan tp;
    tn_reduce_plan_init(&tp, x, axes);
    memset(pl, 0, sizeof *pl);
    pl->n_kept = tp.n_kept;
    pl->n_red = tp.n_red;
    memcpy(pl->kept_shape, tp.kept_shape, sizeof tp.kept_shape);
    memcpy(pl->kept_stride, tp.kept_stride, sizeof tp.kept_stride);
    memcpy(pl->red_shape, tp.red_shape, sizeof tp.red_shape);
    memcpy(pl->red_stride, tp.red_stride, sizeof tp.red_stride);
    pl->red_count = tp.red_count;
    pl->n_out = n_out;
}

void cuda_kernel_reduce(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0];
    cudaStream_t stream = stream_of(a); /* first: the split count reads the current device */
    struct cuda_reduce_plan pl;
    reduce_plan(&pl, x, a->params->axes, a->out->numel);
    bool is_sum = a->op == TN_OP_SUM;
    TN_CHECK(is_sum || pl.red_count > 0, "AMAX", "max over an empty axis");
    int64_t partials = cuda_reduce_workspace(&pl);
    struct cuda_workspace w = cuda_workspace_get(a->out->storage->device,
                                                 (size_t)partials * sizeof(double),
                                                 tn_op_name(a->op));
    CUDA_CHECK(tn_op_name(a->op), cuda_launch_reduce(is_sum, &pl, tn_data(x), tn_data(a->out),
                                                     (double *)w.ptr, stream));
    cuda_workspace_release(&w);
}

void cuda_kernel_argmax(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0];
    struct cuda_lines L;
    lines_init(&L, x, a->params->axis, 1, &x);
    CUDA_CHECK("ARGMAX", cuda_launch_argmax(&L, tn_data(x), tn_data(a->out), stream_of(a)));
}

/* ---- placement ---- */

void cuda_kernel_contiguous(const struct tn_kernel_args *a) {
    cuda_copy_strided(a->out, a->in[0], "CONTIGUOUS");
}

/* A view of out covering [start, start + length) along axis. */
static struct tn_tensor *band(struct tn_tensor *out, int axis, int64_t start, int64_t length) {
    int64_t shape[TN_MAX_DIMS];
    memcpy(shape, out->shape, sizeof shape);
    shape[axis] = length;
    return tn_view(out, out->ndim, shape, out->strides, out->offset + start * out->strides[axis]);
}

void cuda_kernel_unslice(const struct tn_kernel_args *a) {
    CUDA_CHECK("UNSLICE", cuda_launch_fill(tn_data(a->out), 0.0f, a->out->numel, stream_of(a)));
    if (a->in[0]->numel == 0) return;
    tn_scope_begin();
    cuda_copy_strided(band(a->out, a->params->axis, a->params->start,
                           a->in[0]->shape[a->params->axis]),
                      a->in[0], "UNSLICE");
    tn_scope_end();
}

void cuda_kernel_concat(const struct tn_kernel_args *a) {
    int axis = a->params->axis;
    int64_t start = 0;
    tn_scope_begin();
    for (int i = 0; i < a->n_inputs; i++) {
        int64_t len = a->in[i]->shape[axis];
        if (len > 0 && a->in[i]->numel > 0)
            cuda_copy_strided(band(a->out, axis, start, len), a->in[i], "CONCAT");
        start += len;
    }
    tn_scope_end();
}

/* ---- padding ---- */

/* src: the strided input (x of PAD, g of PAD_ADJOINT); out dense. */
static void pad_plan(struct cuda_pad *P, const struct tn_tensor *src, const struct tn_tensor *out,
                     const struct tn_op_params *p) {
    memset(P, 0, sizeof *P);
    int nd = src->ndim;
    P->n_lead = nd - 2;
    for (int d = 0; d < nd - 2; d++) {
        P->lead_shape[d] = src->shape[d];
        P->lead_stride[d] = src->strides[d];
    }
    P->in_h = src->shape[nd - 2];
    P->in_w = src->shape[nd - 1];
    P->in_sh = src->strides[nd - 2];
    P->in_sw = src->strides[nd - 1];
    P->out_h = out->shape[nd - 2];
    P->out_w = out->shape[nd - 1];
    P->top = p->pads[0];
    P->left = p->pads[2];
    P->replicate = p->pad_mode == TN_PAD_REPLICATE;
    P->numel = out->numel;
}

void cuda_kernel_pad(const struct tn_kernel_args *a) {
    struct cuda_pad P;
    pad_plan(&P, a->in[0], a->out, a->params);
    CUDA_CHECK("PAD", cuda_launch_pad(&P, tn_data(a->in[0]), tn_data(a->out), stream_of(a)));
}

void cuda_kernel_pad_adjoint(const struct tn_kernel_args *a) {
    struct cuda_pad P;
    pad_plan(&P, a->in[0], a->out, a->params);
    CUDA_CHECK("PAD_ADJOINT",
               cuda_launch_pad_adjoint(&P, tn_data(a->in[0]), tn_data(a->out), stream_of(a)));
}

/* ---- indexing ---- */

void cuda_kernel_gather(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0], *idx = a->in[1];
    const struct tn_tensor *ops[3] = {a->out, x, idx};
    int axis = a->params->axis;
    struct cuda_lines L;
    lines_init(&L, idx, axis, 3, ops);
    struct cuda_ctx *c = cuda_ctx_of(a);
    CUDA_CHECK("GATHER", cuda_launch_gather(&L, x->shape[axis], tn_data(a->out), tn_data(x),
                                            tn_data(idx), c->index_error_dev, c->stream));
}

void cuda_kernel_scatter_add(const struct tn_kernel_args *a) {
    const struct tn_tensor *idx = a->in[0], *src = a->in[1];
    const struct tn_tensor *ops[3] = {a->out, idx, src};
    int axis = a->params->axis;
    struct cuda_lines L;
    lines_init(&L, idx, axis, 3, ops);
    int64_t out_len = a->out->shape[axis];
    bool scan = tn_cuda_deterministic() || L.len <= SCATTER_SCAN_MAX_LEN ||
                L.lines * out_len * L.len <= SCATTER_SCAN_MAX_WORK;
    struct cuda_ctx *c = cuda_ctx_of(a);
    CUDA_CHECK("SCATTER_ADD",
               cuda_launch_scatter_add(&L, out_len, tn_data(a->out), tn_data(idx), tn_data(src),
                                       scan, c->index_error_dev, c->stream));
}

void cuda_kernel_argsort(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0];
    const struct tn_tensor *ops[2] = {x, a->out};
    struct cuda_lines L;
    lines_init(&L, x, a->params->axis, 2, ops);
    TN_CHECK(L.lines <= ((int64_t)1 << 32), "ARGSORT", "more than 2^32 lines to sort");
    size_t bytes = 0;
    CUDA_CHECK("ARGSORT", cuda_argsort_workspace(&L, &bytes));
    struct cuda_workspace w = cuda_workspace_get(a->out->storage->device, bytes, "ARGSORT");
    CUDA_CHECK("ARGSORT", cuda_launch_argsort(&L, tn_data(x), tn_data(a->out),
                                              a->params->descending, w.ptr, w.bytes,
                                              stream_of(a)));
    cuda_workspace_release(&w);
}

/* ---- distances ---- */

void cuda_kernel_pdist(const struct tn_kernel_args *a) {
    tn_scope_begin();
    struct tn_tensor *x = cuda_dense(a->in[0]);
    int64_t rows = x->shape[0], dim = x->shape[1];
    TN_CHECK(rows <= (int64_t)65535 * 16, "PDIST", "%lld rows: at most %d on CUDA",
             (long long)rows, 65535 * 16);
    CUDA_CHECK("PDIST", cuda_launch_pdist(tn_data(x), rows, dim, tn_data(a->out), stream_of(a)));
    tn_scope_end();
}
