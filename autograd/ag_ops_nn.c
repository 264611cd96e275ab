/* ag_ops_nn.c - the differentiable convolution, padding, indexing, sorting and distance ops, and the
 * composites built on them (conv with bias, transposed conv, conv1d, index_select, sort).
 */
#include <string.h>

#include "ag.h"

static struct tn_op_params with_shape(struct tn_op_params p, int ndim, const int64_t *shape) {
    p.ndim = ndim;
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return p;
}

/* ---- padding ---- */

struct tn_tensor *ag_pad2d(struct tn_tensor *x, enum tn_pad_mode mode, int64_t top,
                           int64_t bottom, int64_t left, int64_t right) {
    struct tn_op_params p = {.pad_mode = mode, .pads = {top, bottom, left, right}};
    return ag_apply(TN_OP_PAD, 1, &x, &p);
}

struct tn_tensor *ag_pad2d_adjoint(struct tn_tensor *g, enum tn_pad_mode mode, int64_t top,
                                   int64_t bottom, int64_t left, int64_t right) {
    struct tn_op_params p = {.pad_mode = mode, .pads = {top, bottom, left, right}};
    return ag_apply(TN_OP_PAD_ADJOINT, 1, &g, &p);
}

/* ---- convolution ---- */

struct tn_conv_geom ag_conv_geom(int stride, int padding) {
    return (struct tn_conv_geom){
        .stride = {stride, stride}, .padding = {padding, padding}, .dilation = {1, 1}, .groups = 1};
}

/* y + bias broadcast over [N, C, spatial...] */
static struct tn_tensor *add_channel_bias(struct tn_tensor *y, struct tn_tensor *bias) {
    if (!bias) return y;
    TN_CHECK(bias->ndim == 1 && bias->shape[0] == y->shape[1], "conv bias",
             "bias has %lld elements for %lld channels", (long long)bias->numel,
             (long long)y->shape[1]);
    int64_t shape[TN_MAX_DIMS] = {1, bias->shape[0]};
    for (int d = 2; d < y->ndim; d++) shape[d] = 1;
    return ag_add(y, ag_reshape(bias, y->ndim, shape));
}

/* The bias goes into the conv ops as their third input: added while each image is written. */
struct tn_tensor *ag_conv2d(struct tn_tensor *x, struct tn_tensor *w, struct tn_tensor *bias,
                            struct tn_conv_geom geom) {
    struct tn_tensor *in[3] = {x, w, bias};
    struct tn_op_params p = {.conv = geom};
    return ag_apply(TN_OP_CONV2D, bias ? 3 : 2, in, &p);
}

/* CONV2D_GRAD_INPUT with an optional bias on dx's channels (a transposed conv's bias) */
static struct tn_tensor *grad_input_op(struct tn_tensor *gy, struct tn_tensor *w,
                                       struct tn_tensor *bias, const int64_t *x_shape,
                                       struct tn_conv_geom geom) {
    struct tn_tensor *in[3] = {gy, w, bias};
    struct tn_op_params p = with_shape((struct tn_op_params){.conv = geom}, 4, x_shape);
    return ag_apply(TN_OP_CONV2D_GRAD_INPUT, bias ? 3 : 2, in, &p);
}

struct tn_tensor *ag_conv2d_grad_input(struct tn_tensor *gy, struct tn_tensor *w,
                                       const int64_t *x_shape, struct tn_conv_geom geom) {
    return grad_input_op(gy, w, NULL, x_shape, geom);
}

struct tn_tensor *ag_conv2d_grad_weight(struct tn_tensor *x, struct tn_tensor *gy,
                                        const int64_t *w_shape, struct tn_conv_geom geom) {
    struct tn_tensor *in[2] = {x, gy};
    struct tn_op_params p = with_shape((struct tn_op_params){.conv = geom}, 4, w_shape);
    return ag_apply(TN_OP_CONV2D_GRAD_WEIGHT, 2, in, &p);
}

/* A transposed conv is the input gradient of the conv that maps its output back to x. */
struct tn_tensor *ag_conv_transpose2d(struct tn_tensor *x, struct tn_tensor *w,
                                      struct tn_tensor *bias, struct tn_conv_geom geom,
                                      int output_padding) {
    TN_CHECK(x->ndim == 4 && w->ndim == 4 && w->shape[0] == x->shape[1], "ag_conv_transpose2d",
             "x [N,Cin,H,W] and w [Cin,Cout/groups,kh,kw] do not match");
    /* PyTorch also allows output_padding < dilation; those extra rows get no input and are
     * not produced by a conv input gradient, so they are refused here */
    TN_CHECK(output_padding >= 0 && output_padding < geom.stride[0] && output_padding < geom.stride[1],
             "ag_conv_transpose2d", "output_padding must be in [0, stride)");
    int64_t out_shape[4] = {x->shape[0], w->shape[1] * geom.groups, 0, 0};
    for (int i = 0; i < 2; i++)
        out_shape[2 + i] = (x->shape[2 + i] - 1) * geom.stride[i] - 2 * geom.padding[i] +
                           (int64_t)geom.dilation[i] * (w->shape[2 + i] - 1) + output_padding + 1;
    return grad_input_op(x, w, bias, out_shape, geom);
}

struct tn_tensor *ag_conv1d(struct tn_tensor *x, struct tn_tensor *w, struct tn_tensor *bias,
                            int stride, int padding, int dilation, int groups) {
    TN_CHECK(x->ndim == 3 && w->ndim == 3, "ag_conv1d", "x [N,Cin,L] and w [Cout,Cin/g,k]");
    int64_t x4[4] = {x->shape[0], x->shape[1], 1, x->shape[2]};
    int64_t w4[4] = {w->shape[0], w->shape[1], 1, w->shape[2]};
    struct tn_conv_geom geom = {.stride = {1, stride}, .padding = {0, padding},
                                .dilation = {1, dilation}, .groups = groups};
    struct tn_tensor *y = ag_conv2d(ag_reshape(x, 4, x4), ag_reshape(w, 4, w4), NULL, geom);
    int64_t y3[3] = {y->shape[0], y->shape[1], y->shape[3]};
    return add_channel_bias(ag_reshape(y, 3, y3), bias);
}

/* ---- indexing and sorting ---- */

struct tn_tensor *ag_gather(struct tn_tensor *x, int axis, struct tn_tensor *idx) {
    struct tn_tensor *in[2] = {x, idx};
    struct tn_op_params p = {.axis = axis};
    return ag_apply(TN_OP_GATHER, 2, in, &p);
}

struct tn_tensor *ag_scatter_add(struct tn_tensor *idx, struct tn_tensor *src, int axis,
                                 int ndim, const int64_t *shape) {
    struct tn_tensor *in[2] = {idx, src};
    struct tn_op_params p = with_shape((struct tn_op_params){.axis = axis}, ndim, shape);
    return ag_apply(TN_OP_SCATTER_ADD, 2, in, &p);
}

/* x's slices along axis picked by idx [K]: the index broadcast over the other dims */
struct tn_tensor *ag_index_select(struct tn_tensor *x, int axis, struct tn_tensor *idx) {
    TN_CHECK(idx->ndim == 1, "ag_index_select", "index must be 1-D");
    TN_CHECK(axis >= 0 && axis < x->ndim, "ag_index_select", "bad axis %d", axis);
    int64_t view[TN_MAX_DIMS], full[TN_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        view[d] = d == axis ? idx->shape[0] : 1;
        full[d] = d == axis ? idx->shape[0] : x->shape[d];
    }
    struct tn_tensor *spread = ag_expand(ag_reshape(idx, x->ndim, view), x->ndim, full);
    return ag_gather(x, axis, spread);
}

struct tn_tensor *ag_argsort(struct tn_tensor *x, int axis, bool descending) {
    struct tn_op_params p = {.axis = axis, .descending = descending};
    return ag_apply(TN_OP_ARGSORT, 1, &x, &p);
}

struct tn_tensor *ag_pdist(struct tn_tensor *x) {
    struct tn_op_params p = {0};
    return ag_apply(TN_OP_PDIST, 1, &x, &p);
}

void ag_sort(struct tn_tensor *x, int axis, bool descending, struct tn_tensor **values,
             struct tn_tensor **perm) {
    struct tn_tensor *order = ag_argsort(x, axis, descending);
    *values = ag_gather(x, axis, order);
    if (perm) *perm = order;
}
