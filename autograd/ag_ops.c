/* ag_ops.c - the differentiable elementwise, reduction, matmul and view ops: thin wrappers
 * over ag_apply, and the composites built from them (mean, logsumexp, var, std, sum_to...).
 * Convolution, padding and indexing are in ag_ops_nn.c.
 */
#include <math.h>
#include <string.h>

#include "ag.h"

static struct tn_tensor *apply1(enum tn_op op, struct tn_tensor *x, struct tn_op_params p) {
    return ag_apply(op, 1, &x, &p);
}

static struct tn_tensor *apply2(enum tn_op op, struct tn_tensor *a, struct tn_tensor *b) {
    struct tn_tensor *in[2] = {a, b};
    struct tn_op_params p = {0};
    return ag_apply(op, 2, in, &p);
}

static struct tn_tensor *apply_scalar(enum tn_op op, struct tn_tensor *x, float s0, float s1) {
    return apply1(op, x, (struct tn_op_params){.scalar = {s0, s1}});
}

/* a constant 0-dim tensor on x's device */
static struct tn_tensor *constant(const struct tn_tensor *x, float value) {
    return tn_scalar(x->storage->device, value);
}

struct tn_tensor *ag_add(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_ADD, a, b); }
struct tn_tensor *ag_sub(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_SUB, a, b); }
struct tn_tensor *ag_mul(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_MUL, a, b); }
struct tn_tensor *ag_div(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_DIV, a, b); }
struct tn_tensor *ag_gt(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_GT, a, b); }
struct tn_tensor *ag_ge(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_GE, a, b); }
struct tn_tensor *ag_lt(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_LT, a, b); }
struct tn_tensor *ag_le(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_LE, a, b); }
struct tn_tensor *ag_eq(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_EQ, a, b); }
struct tn_tensor *ag_ne(struct tn_tensor *a, struct tn_tensor *b) { return apply2(TN_OP_NE, a, b); }

struct tn_tensor *ag_where(struct tn_tensor *cond, struct tn_tensor *a, struct tn_tensor *b) {
    struct tn_tensor *in[3] = {cond, a, b};
    struct tn_op_params p = {0};
    return ag_apply(TN_OP_WHERE, 3, in, &p);
}

struct tn_tensor *ag_gt_scalar(struct tn_tensor *x, float s) { return ag_gt(x, constant(x, s)); }

struct tn_tensor *ag_neg(struct tn_tensor *x) { return apply_scalar(TN_OP_NEG, x, 0, 0); }
struct tn_tensor *ag_add_scalar(struct tn_tensor *x, float s) { return apply_scalar(TN_OP_ADD_SCALAR, x, s, 0); }
struct tn_tensor *ag_sub_scalar(struct tn_tensor *x, float s) { return ag_add_scalar(x, -s); }
struct tn_tensor *ag_rsub_scalar(float s, struct tn_tensor *x) { return ag_add_scalar(ag_neg(x), s); }
struct tn_tensor *ag_mul_scalar(struct tn_tensor *x, float s) { return apply_scalar(TN_OP_MUL_SCALAR, x, s, 0); }
struct tn_tensor *ag_div_scalar(struct tn_tensor *x, float s) { return ag_mul_scalar(x, 1.0f / s); }
struct tn_tensor *ag_rdiv_scalar(float s, struct tn_tensor *x) { return ag_mul_scalar(ag_pow_scalar(x, -1.0f), s); }
struct tn_tensor *ag_pow_scalar(struct tn_tensor *x, float p) { return apply_scalar(TN_OP_POW_SCALAR, x, p, 0); }
struct tn_tensor *ag_square(struct tn_tensor *x) { return ag_pow_scalar(x, 2.0f); }
struct tn_tensor *ag_exp(struct tn_tensor *x) { return apply_scalar(TN_OP_EXP, x, 0, 0); }
struct tn_tensor *ag_log(struct tn_tensor *x) { return apply_scalar(TN_OP_LOG, x, 0, 0); }
struct tn_tensor *ag_sqrt(struct tn_tensor *x) { return apply_scalar(TN_OP_SQRT, x, 0, 0); }
struct tn_tensor *ag_abs(struct tn_tensor *x) { return apply_scalar(TN_OP_ABS, x, 0, 0); }
struct tn_tensor *ag_sign(struct tn_tensor *x) { return apply_scalar(TN_OP_SIGN, x, 0, 0); }
struct tn_tensor *ag_sigmoid(struct tn_tensor *x) { return apply_scalar(TN_OP_SIGMOID, x, 0, 0); }
struct tn_tensor *ag_tanh(struct tn_tensor *x) { return apply_scalar(TN_OP_TANH, x, 0, 0); }
struct tn_tensor *ag_silu(struct tn_tensor *x) { return apply_scalar(TN_OP_SILU, x, 0, 0); }
struct tn_tensor *ag_relu(struct tn_tensor *x) { return apply_scalar(TN_OP_RELU, x, 0, 0); }
struct tn_tensor *ag_leaky_relu(struct tn_tensor *x, float slope) { return apply_scalar(TN_OP_LEAKY_RELU, x, slope, 0); }
struct tn_tensor *ag_silu_grad(struct tn_tensor *x, struct tn_tensor *g) { return apply2(TN_OP_SILU_GRAD, x, g); }

struct tn_tensor *ag_leaky_relu_grad(struct tn_tensor *x, struct tn_tensor *g, float slope) {
    struct tn_tensor *in[2] = {x, g};
    struct tn_op_params p = {.scalar = {slope, 0}};
    return ag_apply(TN_OP_LEAKY_RELU_GRAD, 2, in, &p);
}

struct tn_tensor *ag_clamp(struct tn_tensor *x, float lo, float hi) {
    TN_CHECK(lo <= hi, "ag_clamp", "lower bound %g above upper bound %g", lo, hi);
    return apply_scalar(TN_OP_CLAMP, x, lo, hi);
}

/* ---- reductions ---- */

static uint32_t all_axes(const struct tn_tensor *x) { return (uint32_t)((1u << x->ndim) - 1); }

static int64_t reduced_count(const struct tn_tensor *x, uint32_t axes) {
    int64_t n = 1;
    for (int d = 0; d < x->ndim; d++)
        if ((axes >> d) & 1) n *= x->shape[d];
    return n;
}

struct tn_tensor *ag_sum(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    return apply1(TN_OP_SUM, x, (struct tn_op_params){.axes = axes, .keepdim = keepdim});
}

struct tn_tensor *ag_sum_all(struct tn_tensor *x) { return ag_sum(x, all_axes(x), false); }

struct tn_tensor *ag_mean(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    int64_t n = reduced_count(x, axes);
    TN_CHECK(n > 0, "ag_mean", "mean over no elements");
    return ag_mul_scalar(ag_sum(x, axes, keepdim), (float)(1.0 / (double)n));
}

struct tn_tensor *ag_mean_all(struct tn_tensor *x) { return ag_mean(x, all_axes(x), false); }

struct tn_tensor *ag_amax(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    return apply1(TN_OP_AMAX, x, (struct tn_op_params){.axes = axes, .keepdim = keepdim});
}

struct tn_tensor *ag_argmax(struct tn_tensor *x, int axis, bool keepdim) {
    return apply1(TN_OP_ARGMAX, x, (struct tn_op_params){.axis = axis, .keepdim = keepdim});
}

/* log sum exp x = m + log sum exp(x - m), m = max x held constant (it cancels exactly) */
struct tn_tensor *ag_logsumexp(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *m = ag_amax(x, axes, true);
    /* an all -inf slice would give -inf - -inf = nan; shift by 0 there */
    m = ag_where(ag_eq(m, constant(x, -INFINITY)), constant(x, 0.0f), m);
    ag_set_grad_enabled(mode);
    struct tn_tensor *lse = ag_add(ag_log(ag_sum(ag_exp(ag_sub(x, m)), axes, true)), m);
    if (keepdim) return lse;
    struct tn_op_params p = {.axes = axes};
    int ndim;
    int64_t shape[TN_MAX_DIMS];
    tn_op_info(TN_OP_SUM)->infer(TN_OP_SUM, 1, &x, &p, &ndim, shape);
    return ag_reshape(lse, ndim, shape);
}

/* var x = sum (x - mean x)^2 / (n - 1) */
struct tn_tensor *ag_var(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    int64_t n = reduced_count(x, axes);
    TN_CHECK(n > 1, "ag_var", "unbiased variance needs at least 2 elements, got %lld",
             (long long)n);
    struct tn_tensor *centred = ag_sub(x, ag_mean(x, axes, true));
    return ag_mul_scalar(ag_sum(ag_square(centred), axes, keepdim), (float)(1.0 / (double)(n - 1)));
}

struct tn_tensor *ag_std(struct tn_tensor *x, uint32_t axes, bool keepdim) {
    return ag_sqrt(ag_var(x, axes, keepdim));
}

struct tn_tensor *ag_sum_to(struct tn_tensor *g, int ndim, const int64_t *shape) {
    TN_CHECK(ndim <= g->ndim, "ag_sum_to", "target has more dims than the gradient");
    int lead = g->ndim - ndim;
    uint32_t axes = 0;
    for (int d = 0; d < g->ndim; d++) {
        if (d < lead) axes |= 1u << d;
        else if (shape[d - lead] == 1 && g->shape[d] != 1) axes |= 1u << d;
        else
            TN_CHECK(shape[d - lead] == g->shape[d], "ag_sum_to",
                     "dim %d: %lld cannot be summed to %lld", d, (long long)g->shape[d],
                     (long long)shape[d - lead]);
    }
    return ag_reshape(axes ? ag_sum(g, axes, true) : g, ndim, shape);
}

/* ---- linear algebra ---- */

struct tn_tensor *ag_matmul(struct tn_tensor *a, struct tn_tensor *b) {
    return apply2(TN_OP_MATMUL, a, b);
}

/* ---- views and copies ---- */

struct tn_tensor *ag_reshape(struct tn_tensor *x, int ndim, const int64_t *shape) {
    struct tn_op_params p = {.ndim = ndim};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return apply1(TN_OP_RESHAPE, x, p);
}

struct tn_tensor *ag_permute(struct tn_tensor *x, const int *perm) {
    struct tn_op_params p = {0};
    memcpy(p.perm, perm, sizeof(int) * (size_t)x->ndim);
    return apply1(TN_OP_PERMUTE, x, p);
}

struct tn_tensor *ag_transpose(struct tn_tensor *x, int d0, int d1) {
    TN_CHECK(d0 >= 0 && d0 < x->ndim && d1 >= 0 && d1 < x->ndim, "ag_transpose",
             "dims %d, %d out of range for %d dims", d0, d1, x->ndim);
    int perm[TN_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) perm[d] = d;
    perm[d0] = d1;
    perm[d1] = d0;
    return ag_permute(x, perm);
}

struct tn_tensor *ag_expand(struct tn_tensor *x, int ndim, const int64_t *shape) {
    struct tn_op_params p = {.ndim = ndim};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return apply1(TN_OP_EXPAND, x, p);
}

struct tn_tensor *ag_slice(struct tn_tensor *x, int axis, int64_t start, int64_t length) {
    return apply1(TN_OP_SLICE, x, (struct tn_op_params){.axis = axis, .start = start, .length = length});
}

struct tn_tensor *ag_unslice(struct tn_tensor *x, int axis, int64_t start, int ndim,
                             const int64_t *shape) {
    struct tn_op_params p = {.axis = axis, .start = start, .ndim = ndim};
    memcpy(p.shape, shape, sizeof(int64_t) * (size_t)ndim);
    return apply1(TN_OP_UNSLICE, x, p);
}

struct tn_tensor *ag_squeeze(struct tn_tensor *x, int axis) {
    TN_CHECK(axis >= 0 && axis < x->ndim && x->shape[axis] == 1, "ag_squeeze",
             "dim %d is not of size 1", axis);
    int64_t shape[TN_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < x->ndim; d++)
        if (d != axis) shape[k++] = x->shape[d];
    return ag_reshape(x, k, shape);
}

struct tn_tensor *ag_unsqueeze(struct tn_tensor *x, int axis) {
    TN_CHECK(axis >= 0 && axis <= x->ndim && x->ndim < TN_MAX_DIMS, "ag_unsqueeze",
             "cannot insert dim %d into %d dims", axis, x->ndim);
    int64_t shape[TN_MAX_DIMS];
    for (int d = 0, k = 0; d <= x->ndim; d++) shape[d] = d == axis ? 1 : x->shape[k++];
    return ag_reshape(x, x->ndim + 1, shape);
}

struct tn_tensor *ag_flatten(struct tn_tensor *x, int start_axis) {
    TN_CHECK(start_axis >= 0 && start_axis < x->ndim, "ag_flatten", "bad start dim %d", start_axis);
    int64_t shape[TN_MAX_DIMS];
    for (int d = 0; d < start_axis; d++) shape[d] = x->shape[d];
    shape[start_axis] = tn_numel_of(x->ndim - start_axis, x->shape + start_axis);
    return ag_reshape(x, start_axis + 1, shape);
}

/* A differentiable move: the output lives on device, and its gradient comes back to x's. */
struct tn_tensor *ag_to_device(struct tn_tensor *x, struct tn_device device) {
    return apply1(TN_OP_TO_DEVICE, x, (struct tn_op_params){.device = device});
}

struct tn_tensor *ag_contiguous(struct tn_tensor *x) {
    if (tn_is_contiguous(x)) return ag_reshape(x, x->ndim, x->shape); /* a new handle */
    return apply1(TN_OP_CONTIGUOUS, x, (struct tn_op_params){0});
}

struct tn_tensor *ag_concat(int n, struct tn_tensor *const *xs, int axis) {
    return ag_apply(TN_OP_CONCAT, n, xs, &(struct tn_op_params){.axis = axis});
}

void ag_split(struct tn_tensor *x, int axis, int n, const int64_t *sizes, struct tn_tensor **out) {
    int64_t start = 0;
    for (int i = 0; i < n; i++) {
        out[i] = ag_slice(x, axis, start, sizes[i]);
        start += sizes[i];
    }
    TN_CHECK(start == x->shape[axis], "ag_split", "sizes add up to %lld, dim %d has %lld",
             (long long)start, axis, (long long)x->shape[axis]);
}
