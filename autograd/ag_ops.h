/* ag_ops.h - the differentiable ops: what models are written with.
 *
 * Each function runs one op (or a short composition) through ag_apply, which records a node
 * when gradients are wanted. Results follow the ownership rule of tn_tensor.h (they belong to
 * the innermost open scope). Axes are bitmasks: AG_AXIS(0) | AG_AXIS(2) names dims 0 and 2.
 * Shapes: NCHW for images; conv weights [Cout, Cin/groups, kh, kw]; transposed-conv weights
 * [Cin, Cout/groups, kh, kw] as PyTorch stores them.
 */
#ifndef AG_OPS_H
#define AG_OPS_H

#include "../tensor/tn_op.h"

#define AG_AXIS(d) (1u << (d))

/* Runs op and records a node when grad mode is on and a differentiable input wants grads. */
struct tn_tensor *ag_apply(enum tn_op op, int n, struct tn_tensor *const *in,
                           const struct tn_op_params *p);

/* A tensor sharing x's memory, cut from the graph (no grad_fn, no requires_grad). */
struct tn_tensor *ag_detach(struct tn_tensor *x);

/* ---- elementwise, broadcasting ---- */
struct tn_tensor *ag_add(struct tn_tensor *a, struct tn_tensor *b);          /* a + b */
struct tn_tensor *ag_sub(struct tn_tensor *a, struct tn_tensor *b);          /* a - b */
struct tn_tensor *ag_mul(struct tn_tensor *a, struct tn_tensor *b);          /* a * b */
struct tn_tensor *ag_div(struct tn_tensor *a, struct tn_tensor *b);          /* a / b */
struct tn_tensor *ag_where(struct tn_tensor *cond, struct tn_tensor *a,
                           struct tn_tensor *b);                             /* cond ? a : b */
struct tn_tensor *ag_gt(struct tn_tensor *a, struct tn_tensor *b);           /* a > b, 0/1 */
struct tn_tensor *ag_ge(struct tn_tensor *a, struct tn_tensor *b);           /* a >= b */
struct tn_tensor *ag_lt(struct tn_tensor *a, struct tn_tensor *b);           /* a < b */
struct tn_tensor *ag_le(struct tn_tensor *a, struct tn_tensor *b);           /* a <= b */
struct tn_tensor *ag_eq(struct tn_tensor *a, struct tn_tensor *b);           /* a == b */
struct tn_tensor *ag_ne(struct tn_tensor *a, struct tn_tensor *b);           /* a != b */
struct tn_tensor *ag_gt_scalar(struct tn_tensor *x, float s);                /* x > s, 0/1 */
struct tn_tensor *ag_neg(struct tn_tensor *x);                               /* -x */
struct tn_tensor *ag_add_scalar(struct tn_tensor *x, float s);               /* x + s */
struct tn_tensor *ag_sub_scalar(struct tn_tensor *x, float s);               /* x - s */
struct tn_tensor *ag_rsub_scalar(float s, struct tn_tensor *x);              /* s - x */
struct tn_tensor *ag_mul_scalar(struct tn_tensor *x, float s);               /* x * s */
struct tn_tensor *ag_div_scalar(struct tn_tensor *x, float s);               /* x / s */
struct tn_tensor *ag_rdiv_scalar(float s, struct tn_tensor *x);              /* s / x */
struct tn_tensor *ag_pow_scalar(struct tn_tensor *x, float p);               /* x ^ p */
struct tn_tensor *ag_square(struct tn_tensor *x);                            /* x * x */
struct tn_tensor *ag_exp(struct tn_tensor *x);                               /* e^x */
struct tn_tensor *ag_log(struct tn_tensor *x);                               /* ln x */
struct tn_tensor *ag_sqrt(struct tn_tensor *x);                              /* sqrt x */
struct tn_tensor *ag_abs(struct tn_tensor *x);                               /* |x|, grad sign(x) */
struct tn_tensor *ag_sign(struct tn_tensor *x);                              /* sign, sign(0) = 0 */
struct tn_tensor *ag_clamp(struct tn_tensor *x, float lo, float hi);         /* min(max(x,lo),hi) */
struct tn_tensor *ag_sigmoid(struct tn_tensor *x);                           /* 1/(1+e^-x) */
struct tn_tensor *ag_tanh(struct tn_tensor *x);                              /* tanh x */
struct tn_tensor *ag_silu(struct tn_tensor *x);                              /* x sigmoid(x) */
struct tn_tensor *ag_relu(struct tn_tensor *x);                              /* max(x, 0) */
struct tn_tensor *ag_leaky_relu(struct tn_tensor *x, float slope);           /* x>0 ? x : slope x */
/* the activations' backward in one pass (their rules use them): g * f'(x) */
struct tn_tensor *ag_silu_grad(struct tn_tensor *x, struct tn_tensor *g);    /* g silu'(x) */
struct tn_tensor *ag_leaky_relu_grad(struct tn_tensor *x, struct tn_tensor *g, float slope); /* g (x>0 ? 1 : slope); no grad to x */

/* ---- reductions ---- */
struct tn_tensor *ag_sum(struct tn_tensor *x, uint32_t axes, bool keepdim);  /* sum over axes */
struct tn_tensor *ag_sum_all(struct tn_tensor *x);                           /* sum, 0-dim */
struct tn_tensor *ag_mean(struct tn_tensor *x, uint32_t axes, bool keepdim); /* mean over axes */
struct tn_tensor *ag_mean_all(struct tn_tensor *x);                          /* mean, 0-dim */
struct tn_tensor *ag_amax(struct tn_tensor *x, uint32_t axes, bool keepdim); /* max over axes */
struct tn_tensor *ag_argmax(struct tn_tensor *x, int axis, bool keepdim);    /* first max index */
struct tn_tensor *ag_logsumexp(struct tn_tensor *x, uint32_t axes, bool keepdim);
/* unbiased variance (divisor n - 1) and its square root, over axes */
struct tn_tensor *ag_var(struct tn_tensor *x, uint32_t axes, bool keepdim);
struct tn_tensor *ag_std(struct tn_tensor *x, uint32_t axes, bool keepdim);
/* sums g over broadcast dims so that it has shape (undoes broadcasting) */
struct tn_tensor *ag_sum_to(struct tn_tensor *g, int ndim, const int64_t *shape);

/* ---- linear algebra ---- */
struct tn_tensor *ag_matmul(struct tn_tensor *a, struct tn_tensor *b); /* [..,m,k]x[..,k,n] */

/* ---- views and copies ---- */
struct tn_tensor *ag_reshape(struct tn_tensor *x, int ndim, const int64_t *shape);
struct tn_tensor *ag_permute(struct tn_tensor *x, const int *perm);         /* out d = in perm[d] */
struct tn_tensor *ag_transpose(struct tn_tensor *x, int d0, int d1);        /* swap two dims */
struct tn_tensor *ag_expand(struct tn_tensor *x, int ndim, const int64_t *shape);
struct tn_tensor *ag_slice(struct tn_tensor *x, int axis, int64_t start, int64_t length);
/* zeros of shape with x written at [start, start + x.shape[axis]) along axis */
struct tn_tensor *ag_unslice(struct tn_tensor *x, int axis, int64_t start, int ndim,
                             const int64_t *shape);
struct tn_tensor *ag_squeeze(struct tn_tensor *x, int axis);                /* drop a size-1 dim */
struct tn_tensor *ag_unsqueeze(struct tn_tensor *x, int axis);              /* insert a size-1 dim */
struct tn_tensor *ag_flatten(struct tn_tensor *x, int start_axis);          /* merge dims >= start */
struct tn_tensor *ag_contiguous(struct tn_tensor *x);                       /* dense copy if needed */
struct tn_tensor *ag_to_device(struct tn_tensor *x, struct tn_device device); /* copy on device; grad goes back */
struct tn_tensor *ag_concat(int n, struct tn_tensor *const *xs, int axis);
/* cuts x along axis into n pieces of the given sizes (views) */
void ag_split(struct tn_tensor *x, int axis, int n, const int64_t *sizes, struct tn_tensor **out);

/* ---- padding (last two dims) ---- */
struct tn_tensor *ag_pad2d(struct tn_tensor *x, enum tn_pad_mode mode, int64_t top,
                           int64_t bottom, int64_t left, int64_t right);
/* the transpose of ag_pad2d: crops, adding replicated border copies back for REPLICATE */
struct tn_tensor *ag_pad2d_adjoint(struct tn_tensor *g, enum tn_pad_mode mode, int64_t top,
                                   int64_t bottom, int64_t left, int64_t right);

/* ---- convolution ---- */
/* geometry with stride s, padding p, dilation 1, one group */
struct tn_conv_geom ag_conv_geom(int stride, int padding);
/* x [N,Cin,H,W], w [Cout,Cin/g,kh,kw], bias [Cout] or NULL -> [N,Cout,Ho,Wo] */
struct tn_tensor *ag_conv2d(struct tn_tensor *x, struct tn_tensor *w, struct tn_tensor *bias,
                            struct tn_conv_geom geom);
/* gradient of conv2d w.r.t. its input: gy [N,Cout,Ho,Wo], w -> [N,Cin,H,W] (x_shape) */
struct tn_tensor *ag_conv2d_grad_input(struct tn_tensor *gy, struct tn_tensor *w,
                                       const int64_t *x_shape, struct tn_conv_geom geom);
/* gradient of conv2d w.r.t. its weight: x, gy -> [Cout,Cin/g,kh,kw] (w_shape) */
struct tn_tensor *ag_conv2d_grad_weight(struct tn_tensor *x, struct tn_tensor *gy,
                                        const int64_t *w_shape, struct tn_conv_geom geom);
/* transposed conv: x [N,Cin,H,W], w [Cin,Cout/g,kh,kw] -> [N,Cout,Ho,Wo] with
 * Ho = (H-1)*stride - 2*padding + dilation*(kh-1) + output_padding + 1 */
struct tn_tensor *ag_conv_transpose2d(struct tn_tensor *x, struct tn_tensor *w,
                                      struct tn_tensor *bias, struct tn_conv_geom geom,
                                      int output_padding);
/* 1-D conv through the 2-D ops: x [N,Cin,L], w [Cout,Cin/g,k] -> [N,Cout,Lo] */
struct tn_tensor *ag_conv1d(struct tn_tensor *x, struct tn_tensor *w, struct tn_tensor *bias,
                            int stride, int padding, int dilation, int groups);

/* ---- indexing (indices are float32 tensors holding exact integers) ---- */
/* out[.., i, ..] = x[.., idx[.., i, ..], ..] along axis; out has idx's shape */
struct tn_tensor *ag_gather(struct tn_tensor *x, int axis, struct tn_tensor *idx);
/* zeros of shape, then out[.., idx[..i..], ..] += src[..i..] along axis */
struct tn_tensor *ag_scatter_add(struct tn_tensor *idx, struct tn_tensor *src, int axis,
                                 int ndim, const int64_t *shape);
/* rows (or slices along axis) of x picked by a 1-D index */
struct tn_tensor *ag_index_select(struct tn_tensor *x, int axis, struct tn_tensor *idx);
/* the permutation that sorts x along axis (stable; not differentiable) */
struct tn_tensor *ag_argsort(struct tn_tensor *x, int axis, bool descending);
/* sorted values (differentiable) and the permutation, along axis */
void ag_sort(struct tn_tensor *x, int axis, bool descending, struct tn_tensor **values,
             struct tn_tensor **perm);

/* ---- distances ---- */
/* all pairwise Euclidean distances of the rows of x [B, D] -> [B, B]; gradient 0 at distance 0 */
struct tn_tensor *ag_pdist(struct tn_tensor *x);

#endif
