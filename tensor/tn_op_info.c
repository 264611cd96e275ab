/* tn_op_info.c - the metadata table built from the op list (tn_op_list.h): names, arity,
 * flags and the shape inference functions the list names.
 *
 * Shape inference is the single place where an op's arguments are validated, so every
 * backend gets the same checks and the same messages.
 */
#include <stdio.h>
#include <string.h>

#include "tn_op.h"

#define SHAPE_STR(t, buf) tn_shape_str((t)->ndim, (t)->shape, (buf), sizeof(buf))

void tn_broadcast_shape(const char *op, int ndim_a, const int64_t *shape_a, int ndim_b,
                        const int64_t *shape_b, int *ndim, int64_t *shape) {
    int n = ndim_a > ndim_b ? ndim_a : ndim_b;
    for (int i = 0; i < n; i++) {
        int da = ndim_a - n + i, db = ndim_b - n + i;
        int64_t sa = da >= 0 ? shape_a[da] : 1, sb = db >= 0 ? shape_b[db] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            char ba[96], bb[96];
            TN_FATAL(op, "shapes %s and %s do not broadcast (dim %d: %lld vs %lld)",
                     tn_shape_str(ndim_a, shape_a, ba, sizeof ba),
                     tn_shape_str(ndim_b, shape_b, bb, sizeof bb), i, (long long)sa,
                     (long long)sb);
        }
        shape[i] = sa == 1 ? sb : sa;
    }
    *ndim = n;
}

int64_t tn_conv_out_size(int64_t in, int kernel, int stride, int padding, int dilation) {
    return (in + 2 * padding - (int64_t)dilation * (kernel - 1) - 1) / stride + 1;
}

static void copy_shape(const struct tn_tensor *t, int *ndim, int64_t *shape) {
    *ndim = t->ndim;
    memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
}

static int check_axis(const char *op, int axis, int ndim) {
    TN_CHECK(axis >= 0 && axis < ndim, op, "axis %d out of range for %d dims", axis, ndim);
    return axis;
}

static void infer_elementwise(enum tn_op op, int n, struct tn_tensor *const *in,
                              const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)p;
    copy_shape(in[0], ndim, shape);
    for (int i = 1; i < n; i++) {
        int64_t prev[TN_MAX_DIMS];
        int prev_ndim = *ndim;
        memcpy(prev, shape, sizeof prev);
        tn_broadcast_shape(tn_op_name(op), prev_ndim, prev, in[i]->ndim, in[i]->shape, ndim,
                           shape);
    }
}

static void infer_reduce(enum tn_op op, int n, struct tn_tensor *const *in,
                         const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const struct tn_tensor *x = in[0];
    TN_CHECK((p->axes >> x->ndim) == 0, tn_op_name(op), "axes mask 0x%x names dims beyond %d",
             p->axes, x->ndim);
    int k = 0;
    for (int d = 0; d < x->ndim; d++) {
        bool reduced = (p->axes >> d) & 1;
        if (!reduced) shape[k++] = x->shape[d];
        else if (p->keepdim) shape[k++] = 1;
    }
    *ndim = k;
}

static void infer_argmax(enum tn_op op, int n, struct tn_tensor *const *in,
                         const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    int axis = check_axis(tn_op_name(op), p->axis, in[0]->ndim);
    TN_CHECK(in[0]->shape[axis] > 0, tn_op_name(op), "empty axis");
    struct tn_op_params q = *p;
    q.axes = 1u << axis;
    infer_reduce(op, 1, in, &q, ndim, shape);
}

static void infer_matmul(enum tn_op op, int n, struct tn_tensor *const *in,
                         const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    (void)p;
    const struct tn_tensor *a = in[0], *b = in[1];
    char ba[96], bb[96];
    TN_CHECK(a->ndim >= 2 && b->ndim >= 2, tn_op_name(op), "needs 2+ dims, got %s and %s",
             SHAPE_STR(a, ba), SHAPE_STR(b, bb));
    TN_CHECK(a->shape[a->ndim - 1] == b->shape[b->ndim - 2], tn_op_name(op),
             "inner sizes differ: %s x %s", SHAPE_STR(a, ba), SHAPE_STR(b, bb));
    tn_broadcast_shape(tn_op_name(op), a->ndim - 2, a->shape, b->ndim - 2, b->shape, ndim,
                       shape);
    shape[(*ndim)++] = a->shape[a->ndim - 2];
    shape[(*ndim)++] = b->shape[b->ndim - 1];
}

static void infer_target_shape(enum tn_op op, int n, struct tn_tensor *const *in,
                               const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const struct tn_tensor *x = in[0];
    char bx[96], bt[96];
    TN_CHECK(p->ndim >= 0 && p->ndim <= TN_MAX_DIMS, tn_op_name(op), "bad target ndim %d",
             p->ndim);
    if (op == TN_OP_RESHAPE) {
        TN_CHECK(tn_numel_of(p->ndim, p->shape) == x->numel, tn_op_name(op),
                 "cannot reshape %s to %s", SHAPE_STR(x, bx),
                 tn_shape_str(p->ndim, p->shape, bt, sizeof bt));
    } else { /* EXPAND: NumPy broadcasting of x to the target */
        TN_CHECK(p->ndim >= x->ndim, tn_op_name(op), "cannot expand %s to %s",
                 SHAPE_STR(x, bx), tn_shape_str(p->ndim, p->shape, bt, sizeof bt));
        for (int d = 0; d < x->ndim; d++) {
            int64_t s = x->shape[d], t = p->shape[p->ndim - x->ndim + d];
            TN_CHECK(s == t || s == 1, tn_op_name(op), "cannot expand %s to %s",
                     SHAPE_STR(x, bx), tn_shape_str(p->ndim, p->shape, bt, sizeof bt));
        }
    }
    *ndim = p->ndim;
    memcpy(shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
}

static void infer_permute(enum tn_op op, int n, struct tn_tensor *const *in,
                          const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const struct tn_tensor *x = in[0];
    unsigned seen = 0;
    for (int d = 0; d < x->ndim; d++) {
        int s = check_axis(tn_op_name(op), p->perm[d], x->ndim);
        TN_CHECK(!((seen >> s) & 1), tn_op_name(op), "dim %d appears twice in the permutation", s);
        seen |= 1u << s;
        shape[d] = x->shape[s];
    }
    *ndim = x->ndim;
}

static void infer_slice(enum tn_op op, int n, struct tn_tensor *const *in,
                        const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const struct tn_tensor *x = in[0];
    int axis = check_axis(tn_op_name(op), p->axis, x->ndim);
    copy_shape(x, ndim, shape);
    if (op == TN_OP_SLICE) {
        TN_CHECK(p->start >= 0 && p->length >= 0 && p->start + p->length <= x->shape[axis],
                 tn_op_name(op), "range [%lld, %lld) outside dim %d of size %lld",
                 (long long)p->start, (long long)(p->start + p->length), axis,
                 (long long)x->shape[axis]);
        shape[axis] = p->length;
    } else { /* UNSLICE: x is the slice, params.shape the full tensor */
        TN_CHECK(p->ndim == x->ndim && p->start >= 0 &&
                     p->start + x->shape[axis] <= p->shape[axis],
                 tn_op_name(op), "slice does not fit the target");
        for (int d = 0; d < x->ndim; d++)
            TN_CHECK(d == axis || p->shape[d] == x->shape[d], tn_op_name(op),
                     "target differs from the slice outside the axis (dim %d)", d);
        shape[axis] = p->shape[axis];
    }
}

static void infer_same(enum tn_op op, int n, struct tn_tensor *const *in,
                       const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)op;
    (void)n;
    (void)p;
    copy_shape(in[0], ndim, shape);
}

static void infer_concat(enum tn_op op, int n, struct tn_tensor *const *in,
                         const struct tn_op_params *p, int *ndim, int64_t *shape) {
    int axis = check_axis(tn_op_name(op), p->axis, in[0]->ndim);
    copy_shape(in[0], ndim, shape);
    for (int i = 1; i < n; i++) {
        TN_CHECK(in[i]->ndim == in[0]->ndim, tn_op_name(op), "input %d has %d dims, not %d", i,
                 in[i]->ndim, in[0]->ndim);
        for (int d = 0; d < in[0]->ndim; d++)
            TN_CHECK(d == axis || in[i]->shape[d] == in[0]->shape[d], tn_op_name(op),
                     "input %d differs in dim %d", i, d);
        shape[axis] += in[i]->shape[axis];
    }
}

static void infer_pad(enum tn_op op, int n, struct tn_tensor *const *in,
                      const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const struct tn_tensor *x = in[0];
    TN_CHECK(x->ndim >= 2, tn_op_name(op), "needs 2+ dims");
    for (int i = 0; i < 4; i++)
        TN_CHECK(p->pads[i] >= 0, tn_op_name(op), "negative padding");
    copy_shape(x, ndim, shape);
    int64_t sign = op == TN_OP_PAD ? 1 : -1;
    shape[x->ndim - 2] += sign * (p->pads[0] + p->pads[1]);
    shape[x->ndim - 1] += sign * (p->pads[2] + p->pads[3]);
    TN_CHECK(shape[x->ndim - 2] >= 1 && shape[x->ndim - 1] >= 1, tn_op_name(op),
             "nothing left after cropping");
    if (p->pad_mode == TN_PAD_REPLICATE) {
        int64_t h = op == TN_OP_PAD ? x->shape[x->ndim - 2] : shape[x->ndim - 2];
        int64_t w = op == TN_OP_PAD ? x->shape[x->ndim - 1] : shape[x->ndim - 1];
        TN_CHECK(h >= 1 && w >= 1, tn_op_name(op), "replicate padding of an empty image");
    }
}

/* Checks conv geometry against x [N,Cin,H,W] and w [Cout,Cin/g,kh,kw]; writes y's shape. */
static void conv_shapes(const char *op, const int64_t *x, const int64_t *w,
                        const struct tn_conv_geom *g, int64_t *y) {
    TN_CHECK(g->groups >= 1 && g->stride[0] >= 1 && g->stride[1] >= 1 && g->dilation[0] >= 1 &&
                 g->dilation[1] >= 1 && g->padding[0] >= 0 && g->padding[1] >= 0,
             op, "bad geometry (stride, dilation and groups at least 1, padding at least 0)");
    TN_CHECK(w[0] % g->groups == 0 && x[1] % g->groups == 0, op,
             "channels (%lld in, %lld out) not divisible by %d groups", (long long)x[1],
             (long long)w[0], g->groups);
    TN_CHECK(w[1] * g->groups == x[1], op,
             "weight expects %lld input channels per group, input has %lld channels in %d groups",
             (long long)w[1], (long long)x[1], g->groups);
    y[0] = x[0];
    y[1] = w[0];
    for (int i = 0; i < 2; i++) {
        y[2 + i] = tn_conv_out_size(x[2 + i], (int)w[2 + i], g->stride[i], g->padding[i],
                                    g->dilation[i]);
        TN_CHECK(y[2 + i] >= 1, op, "kernel larger than the padded input");
    }
}

static void infer_conv(enum tn_op op, int n, struct tn_tensor *const *in,
                       const struct tn_op_params *p, int *ndim, int64_t *shape) {
    const char *name = tn_op_name(op);
    TN_CHECK(n == 2 || (n == 3 && op != TN_OP_CONV2D_GRAD_WEIGHT), name,
             "takes two inputs%s, got %d", op == TN_OP_CONV2D_GRAD_WEIGHT ? "" : " and a bias", n);
    TN_CHECK(in[0]->ndim == 4 && in[1]->ndim == 4, name, "inputs must be 4-D");
    int64_t y[4];
    *ndim = 4;
    if (op == TN_OP_CONV2D) {
        conv_shapes(name, in[0]->shape, in[1]->shape, &p->conv, y);
        memcpy(shape, y, sizeof y);
    } else if (op == TN_OP_CONV2D_GRAD_INPUT) { /* (gy, w), params.shape = x's shape */
        TN_CHECK(p->ndim == 4, name, "params.shape must hold the input's shape");
        conv_shapes(name, p->shape, in[1]->shape, &p->conv, y);
        for (int d = 0; d < 4; d++)
            TN_CHECK(in[0]->shape[d] == y[d], name, "gradient shape does not match the output");
        memcpy(shape, p->shape, sizeof y);
    } else { /* CONV2D_GRAD_WEIGHT: (x, gy), params.shape = w's shape */
        TN_CHECK(p->ndim == 4, name, "params.shape must hold the weight's shape");
        conv_shapes(name, in[0]->shape, p->shape, &p->conv, y);
        for (int d = 0; d < 4; d++)
            TN_CHECK(in[1]->shape[d] == y[d], name, "gradient shape does not match the output");
        memcpy(shape, p->shape, sizeof y);
    }
    if (n == 3)
        TN_CHECK(in[2]->ndim == 1 && in[2]->shape[0] == shape[1], name,
                 "bias must be 1-D with one value per output channel (%lld)",
                 (long long)shape[1]);
}

static void infer_gather(enum tn_op op, int n, struct tn_tensor *const *in,
                         const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    const char *name = tn_op_name(op);
    /* GATHER (x, idx): out has idx's shape. SCATTER_ADD (idx, src): out has params.shape. */
    const struct tn_tensor *idx = in[op == TN_OP_GATHER ? 1 : 0];
    const struct tn_tensor *other = in[op == TN_OP_GATHER ? 0 : 1];
    int axis = check_axis(name, p->axis, idx->ndim);
    TN_CHECK(idx->ndim == other->ndim, name, "index has %d dims, data %d", idx->ndim,
             other->ndim);
    if (op == TN_OP_GATHER) {
        for (int d = 0; d < idx->ndim; d++)
            TN_CHECK(d == axis || idx->shape[d] == other->shape[d], name,
                     "index and input differ in dim %d", d);
        copy_shape(idx, ndim, shape);
    } else {
        TN_CHECK(p->ndim == idx->ndim && tn_same_shape(idx, other), name,
                 "index and source must have one shape and the target their ndim");
        for (int d = 0; d < idx->ndim; d++)
            TN_CHECK(d == axis || idx->shape[d] == p->shape[d], name,
                     "target differs from the index in dim %d", d);
        *ndim = p->ndim;
        memcpy(shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
    }
    (void)axis;
}

static void infer_argsort(enum tn_op op, int n, struct tn_tensor *const *in,
                          const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    check_axis(tn_op_name(op), p->axis, in[0]->ndim);
    TN_CHECK(in[0]->shape[p->axis] <= (1 << 24), tn_op_name(op),
             "axis longer than 2^24: indices would not be exact in float32");
    copy_shape(in[0], ndim, shape);
}

static void infer_pdist(enum tn_op op, int n, struct tn_tensor *const *in,
                        const struct tn_op_params *p, int *ndim, int64_t *shape) {
    (void)n;
    (void)p;
    TN_CHECK(in[0]->ndim == 2, tn_op_name(op), "input must be [B, D], got %d dims", in[0]->ndim);
    *ndim = 2;
    shape[0] = shape[1] = in[0]->shape[0];
}

/* The table, from the list: elementwise ops share one inference, the others name theirs. */
static const struct tn_op_info op_infos[TN_OP_COUNT] = {
#define INFO_ELEMENTWISE(name, n, flags, formula) \
    [TN_OP_##name] = {#name, n, (flags) | TN_OPF_ELEMENTWISE, infer_elementwise},
#define INFO(name, n, flags, infer) [TN_OP_##name] = {#name, n, flags, infer},
    TN_OP_LIST_ELEMENTWISE(INFO_ELEMENTWISE)
    TN_OP_LIST_OTHER(INFO)
#undef INFO
#undef INFO_ELEMENTWISE
};

const struct tn_op_info *tn_op_info(enum tn_op op) {
    TN_CHECK(op >= 0 && op < TN_OP_COUNT, "tn_op_info", "no op %d", (int)op);
    return &op_infos[op];
}

const char *tn_op_name(enum tn_op op) { return tn_op_info(op)->name; }

bool tn_op_input_differentiable(enum tn_op op, int i) {
    TN_CHECK(i >= 0 && i < TN_MAX_INPUTS, tn_op_name(op), "no input slot %d", i);
    unsigned flags = tn_op_info(op)->flags;
    return !(flags & TN_OPF_NONDIFF) && !(flags & (unsigned)TN_OPF_NOGRAD(i));
}
