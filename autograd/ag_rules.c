/* ag_rules.c - the backward rule of every differentiable op: this project's derivatives table.
 *
 * Each rule gets the node (its op, parameters and inputs), the gradient g of the node's
 * output, and fills grad_in[i] for the inputs that want one. Rules are written only with the
 * differentiable ops of ag_ops.h, never with raw kernels, so when the engine records the
 * backward pass (AG_CREATE_GRAPH) the gradients it returns are differentiable again. Masks
 * (comparisons, sign) are NONDIFF ops: their derivative is zero, which is exactly right for
 * the piecewise-linear functions they come from.
 *
 * Notation: y = f(x) is the op, g = dL/dy, and sum_to(v, shape) undoes broadcasting.
 */
#include <stdio.h>

#include "ag.h"
#include "ag_node.h"

#define IN(i) (node->inputs[i])
#define P (node->params)
#define SUM_TO(v, t) ag_sum_to((v), (t)->ndim, (t)->shape)

static struct tn_tensor *scalar_like(const struct tn_tensor *t, float value) {
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *s = tn_scalar(t->storage->device, value);
    ag_set_grad_enabled(mode);
    return s;
}

/* ---- elementwise, binary ---- */

/* y = a + b:  da = sum_to(g), db = sum_to(g) */
static void rule_add(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = SUM_TO(g, IN(0));
    if (want[1]) grad_in[1] = SUM_TO(g, IN(1));
}

/* y = a - b:  da = sum_to(g), db = -sum_to(g) */
static void rule_sub(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = SUM_TO(g, IN(0));
    if (want[1]) grad_in[1] = ag_neg(SUM_TO(g, IN(1)));
}

/* y = a * b:  da = sum_to(g b), db = sum_to(g a) */
static void rule_mul(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = SUM_TO(ag_mul(g, IN(1)), IN(0));
    if (want[1]) grad_in[1] = SUM_TO(ag_mul(g, IN(0)), IN(1));
}

/* y = a / b:  da = sum_to(g / b), db = -sum_to(g a / b^2) */
static void rule_div(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = SUM_TO(ag_div(g, IN(1)), IN(0));
    if (want[1])
        grad_in[1] = ag_neg(SUM_TO(ag_div(ag_mul(g, IN(0)), ag_square(IN(1))), IN(1)));
}

/* y = c ? a : b:  da = sum_to(c ? g : 0), db = sum_to(c ? 0 : g); c gets none */
static void rule_where(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                       struct tn_tensor **grad_in) {
    struct tn_tensor *zero = scalar_like(g, 0.0f);
    if (want[1]) grad_in[1] = SUM_TO(ag_where(IN(0), g, zero), IN(1));
    if (want[2]) grad_in[2] = SUM_TO(ag_where(IN(0), zero, g), IN(2));
}

/* ---- elementwise, unary ---- */

/* y = -x:  dx = -g */
static void rule_neg(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    (void)node;
    if (want[0]) grad_in[0] = ag_neg(g);
}

/* y = x + s:  dx = g */
static void rule_add_scalar(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                            struct tn_tensor **grad_in) {
    (void)node;
    if (want[0]) grad_in[0] = g;
}

/* y = s x:  dx = s g */
static void rule_mul_scalar(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                            struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_mul_scalar(g, P.scalar[0]);
}

/* y = x^p:  dx = g p x^(p-1) */
static void rule_pow_scalar(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                            struct tn_tensor **grad_in) {
    float p = P.scalar[0];
    if (!want[0]) return;
    struct tn_tensor *slope = p == 2.0f ? ag_mul_scalar(IN(0), 2.0f)
                                        : ag_mul_scalar(ag_pow_scalar(IN(0), p - 1.0f), p);
    grad_in[0] = ag_mul(g, slope);
}

/* y = e^x:  dx = g e^x (recomputed from x: rules keep inputs only) */
static void rule_exp(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_mul(g, ag_exp(IN(0)));
}

/* y = ln x:  dx = g / x */
static void rule_log(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_div(g, IN(0));
}

/* y = sqrt x:  dx = g / (2 sqrt x) */
static void rule_sqrt(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                      struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_div(ag_mul_scalar(g, 0.5f), ag_sqrt(IN(0)));
}

/* y = |x|:  dx = g sign(x), with sign(0) = 0 */
static void rule_abs(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_mul(g, ag_sign(IN(0)));
}

/* y = clamp(x, lo, hi):  dx = g [lo <= x <= hi] */
static void rule_clamp(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                       struct tn_tensor **grad_in) {
    if (!want[0]) return;
    struct tn_tensor *inside = ag_mul(ag_ge(IN(0), scalar_like(g, P.scalar[0])),
                                      ag_le(IN(0), scalar_like(g, P.scalar[1])));
    grad_in[0] = ag_mul(g, inside);
}

/* y = s(x) = 1/(1+e^-x):  dx = g s (1 - s) */
static void rule_sigmoid(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                         struct tn_tensor **grad_in) {
    if (!want[0]) return;
    struct tn_tensor *s = ag_sigmoid(IN(0));
    grad_in[0] = ag_mul(g, ag_mul(s, ag_rsub_scalar(1.0f, s)));
}

/* y = tanh x:  dx = g (1 - tanh^2 x) */
static void rule_tanh(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                      struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_mul(g, ag_rsub_scalar(1.0f, ag_square(ag_tanh(IN(0)))));
}

/* y = x s(x):  dx = g s (1 + x (1 - s)), one SILU_GRAD op */
static void rule_silu(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                      struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_silu_grad(IN(0), g);
}

/* y = u silu'(x):  du = g silu'(x);  dx = g u silu''(x), silu'' = s (1 - s) (2 + x (1 - 2 s)) */
static void rule_silu_grad(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                           struct tn_tensor **grad_in) {
    if (want[0]) {
        struct tn_tensor *x = IN(0), *s = ag_sigmoid(x);
        struct tn_tensor *ds = ag_mul(s, ag_rsub_scalar(1.0f, s));
        struct tn_tensor *curve = ag_add_scalar(ag_mul(x, ag_rsub_scalar(1.0f, ag_mul_scalar(s, 2.0f))), 2.0f);
        grad_in[0] = SUM_TO(ag_mul(ag_mul(g, IN(1)), ag_mul(ds, curve)), x);
    }
    if (want[1]) grad_in[1] = SUM_TO(ag_silu_grad(IN(0), g), IN(1));
}

/* y = max(x, 0):  dx = g [x > 0] */
static void rule_relu(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                      struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_mul(g, ag_gt_scalar(IN(0), 0.0f));
}

/* y = x > 0 ? x : a x:  dx = g (x > 0 ? 1 : a), one LEAKY_RELU_GRAD op */
static void rule_leaky_relu(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                            struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_leaky_relu_grad(IN(0), g, P.scalar[0]);
}

/* y = u (x > 0 ? 1 : a):  du = g (x > 0 ? 1 : a); x gets none (the slope is a step) */
static void rule_leaky_relu_grad(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                                 struct tn_tensor **grad_in) {
    if (want[1]) grad_in[1] = SUM_TO(ag_leaky_relu_grad(IN(0), g, P.scalar[0]), IN(1));
}

/* ---- reductions ---- */

/* g with the reduced dims put back as size 1 (a no-op when keepdim was set) */
static struct tn_tensor *unreduce(const struct ag_node *node, struct tn_tensor *g) {
    const struct tn_tensor *x = IN(0);
    int64_t shape[TN_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = ((P.axes >> d) & 1) ? 1 : x->shape[d];
    return ag_reshape(g, x->ndim, shape);
}

/* y = sum_axes x:  dx = expand(g) */
static void rule_sum(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_expand(unreduce(node, g), IN(0)->ndim, IN(0)->shape);
}

/* y = max_axes x:  dx = expand(g) [x == y] / (number of ties) */
static void rule_amax(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                      struct tn_tensor **grad_in) {
    if (!want[0]) return;
    struct tn_tensor *x = IN(0);
    bool mode = ag_set_grad_enabled(false); /* the mask is a constant */
    struct tn_tensor *m = ag_amax(x, P.axes, true);
    struct tn_tensor *mask = ag_eq(x, m);
    struct tn_tensor *ties = ag_sum(mask, P.axes, true);
    ag_set_grad_enabled(mode);
    grad_in[0] = ag_mul(ag_div(unreduce(node, g), ties), mask);
}

/* ---- linear algebra ---- */

/* y = a b:  da = sum_to(g b^T), db = sum_to(a^T g) */
static void rule_matmul(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                        struct tn_tensor **grad_in) {
    struct tn_tensor *a = IN(0), *b = IN(1);
    if (want[0]) grad_in[0] = SUM_TO(ag_matmul(g, ag_transpose(b, b->ndim - 2, b->ndim - 1)), a);
    if (want[1]) grad_in[1] = SUM_TO(ag_matmul(ag_transpose(a, a->ndim - 2, a->ndim - 1), g), b);
}

/* ---- views and copies ---- */

/* y = reshape(x):  dx = reshape(g, x.shape) */
static void rule_reshape(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                         struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_reshape(g, IN(0)->ndim, IN(0)->shape);
}

/* y = permute(x, p):  dx = permute(g, p^-1) */
static void rule_permute(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                         struct tn_tensor **grad_in) {
    if (!want[0]) return;
    int inverse[TN_MAX_DIMS];
    for (int d = 0; d < IN(0)->ndim; d++) inverse[P.perm[d]] = d;
    grad_in[0] = ag_permute(g, inverse);
}

/* y = expand(x):  dx = sum_to(g, x.shape) */
static void rule_expand(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                        struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = SUM_TO(g, IN(0));
}

/* y = x[start : start + len]:  dx = unslice(g) (zeros elsewhere) */
static void rule_slice(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                       struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_unslice(g, P.axis, P.start, IN(0)->ndim, IN(0)->shape);
}

/* y = unslice(x):  dx = slice(g) */
static void rule_unslice(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                         struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_slice(g, P.axis, P.start, IN(0)->shape[P.axis]);
}

/* y = contiguous(x):  dx = g */
static void rule_contiguous(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                            struct tn_tensor **grad_in) {
    (void)node;
    if (want[0]) grad_in[0] = g;
}

/* y = concat(x_0, x_1, ...):  dx_i = the slice of g where x_i sits */
static void rule_concat(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                        struct tn_tensor **grad_in) {
    int64_t start = 0;
    for (int i = 0; i < node->n_inputs; i++) {
        int64_t len = IN(i)->shape[P.axis];
        if (want[i]) grad_in[i] = ag_slice(g, P.axis, start, len);
        start += len;
    }
}

/* ---- padding ---- */

/* y = pad(x):  dx = pad_adjoint(g) */
static void rule_pad(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                     struct tn_tensor **grad_in) {
    if (want[0])
        grad_in[0] = ag_pad2d_adjoint(g, P.pad_mode, P.pads[0], P.pads[1], P.pads[2], P.pads[3]);
}

/* y = pad_adjoint(x):  dx = pad(g)  (the two are each other's transpose) */
static void rule_pad_adjoint(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                             struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_pad2d(g, P.pad_mode, P.pads[0], P.pads[1], P.pads[2], P.pads[3]);
}

/* ---- convolution: the three ops are bilinear and close under differentiation ---- */

/* the gradient of a per-channel bias of y [N,C,H,W]: g summed over N, H and W */
static struct tn_tensor *bias_grad(struct tn_tensor *g) {
    return ag_sum(g, AG_AXIS(0) | AG_AXIS(2) | AG_AXIS(3), false);
}

/* y = conv(x, w) + b:  dx = conv_grad_input(g, w), dw = conv_grad_weight(x, g), db = sum g */
static void rule_conv2d(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                        struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_conv2d_grad_input(g, IN(1), IN(0)->shape, P.conv);
    if (want[1]) grad_in[1] = ag_conv2d_grad_weight(IN(0), g, IN(1)->shape, P.conv);
    if (node->n_inputs == 3 && want[2]) grad_in[2] = bias_grad(g);
}

/* y = conv_grad_input(gy, w) + b, linear in each:  dgy = conv(g, w),
 * dw = conv_grad_weight(g, gy), db = sum g */
static void rule_conv2d_grad_input(const struct ag_node *node, struct tn_tensor *g,
                                   const bool *want, struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_conv2d(g, IN(1), NULL, P.conv);
    if (want[1]) grad_in[1] = ag_conv2d_grad_weight(g, IN(0), IN(1)->shape, P.conv);
    if (node->n_inputs == 3 && want[2]) grad_in[2] = bias_grad(g);
}

/* y = conv_grad_weight(x, gy):  dx = conv_grad_input(gy, g), dgy = conv(x, g) */
static void rule_conv2d_grad_weight(const struct ag_node *node, struct tn_tensor *g,
                                    const bool *want, struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_conv2d_grad_input(IN(1), g, IN(0)->shape, P.conv);
    if (want[1]) grad_in[1] = ag_conv2d(IN(0), g, NULL, P.conv);
}

/* ---- indexing ---- */

/* y = gather(x, idx):  dx = scatter_add(idx, g) */
static void rule_gather(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                        struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_scatter_add(IN(1), g, P.axis, IN(0)->ndim, IN(0)->shape);
}

/* y = scatter_add(idx, src):  dsrc = gather(g, idx) */
static void rule_scatter_add(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                             struct tn_tensor **grad_in) {
    if (want[1]) grad_in[1] = ag_gather(g, P.axis, IN(0));
}

/* ---- distances ---- */

/* y_ij = ||x_i - x_j||:  with S = (g + g^T) masked to y > 0 and divided by y,
 * dx = x * rowsum(S) - S x. Pairs at distance 0 (the diagonal) give 0, as PyTorch's norm. */
static void rule_pdist(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                       struct tn_tensor **grad_in) {
    if (!want[0]) return;
    struct tn_tensor *x = IN(0);
    struct tn_tensor *d = ag_pdist(x); /* recomputed from the input: rules keep inputs only */
    struct tn_tensor *positive = ag_gt_scalar(d, 0.0f); /* a constant mask */
    struct tn_tensor *safe = ag_add(d, ag_rsub_scalar(1.0f, positive)); /* d, or 1 where d = 0 */
    struct tn_tensor *s = ag_mul(ag_div(ag_add(g, ag_transpose(g, 0, 1)), safe), positive);
    grad_in[0] = ag_sub(ag_mul(x, ag_sum(s, AG_AXIS(1), true)), ag_matmul(s, x));
}

/* y = x copied to another device:  dx = g copied back to x's device */
static void rule_to_device(const struct ag_node *node, struct tn_tensor *g, const bool *want,
                           struct tn_tensor **grad_in) {
    if (want[0]) grad_in[0] = ag_to_device(g, IN(0)->storage->device);
}

static const ag_rule_fn rules[TN_OP_COUNT] = {
    [TN_OP_ADD] = rule_add,
    [TN_OP_SUB] = rule_sub,
    [TN_OP_MUL] = rule_mul,
    [TN_OP_DIV] = rule_div,
    [TN_OP_WHERE] = rule_where,
    [TN_OP_NEG] = rule_neg,
    [TN_OP_ADD_SCALAR] = rule_add_scalar,
    [TN_OP_MUL_SCALAR] = rule_mul_scalar,
    [TN_OP_POW_SCALAR] = rule_pow_scalar,
    [TN_OP_EXP] = rule_exp,
    [TN_OP_LOG] = rule_log,
    [TN_OP_SQRT] = rule_sqrt,
    [TN_OP_ABS] = rule_abs,
    [TN_OP_CLAMP] = rule_clamp,
    [TN_OP_SIGMOID] = rule_sigmoid,
    [TN_OP_TANH] = rule_tanh,
    [TN_OP_SILU] = rule_silu,
    [TN_OP_RELU] = rule_relu,
    [TN_OP_LEAKY_RELU] = rule_leaky_relu,
    [TN_OP_SILU_GRAD] = rule_silu_grad,
    [TN_OP_LEAKY_RELU_GRAD] = rule_leaky_relu_grad,
    [TN_OP_SUM] = rule_sum,
    [TN_OP_AMAX] = rule_amax,
    [TN_OP_MATMUL] = rule_matmul,
    [TN_OP_RESHAPE] = rule_reshape,
    [TN_OP_PERMUTE] = rule_permute,
    [TN_OP_EXPAND] = rule_expand,
    [TN_OP_SLICE] = rule_slice,
    [TN_OP_UNSLICE] = rule_unslice,
    [TN_OP_CONTIGUOUS] = rule_contiguous,
    [TN_OP_TO_DEVICE] = rule_to_device,
    [TN_OP_CONCAT] = rule_concat,
    [TN_OP_PAD] = rule_pad,
    [TN_OP_PAD_ADJOINT] = rule_pad_adjoint,
    [TN_OP_CONV2D] = rule_conv2d,
    [TN_OP_CONV2D_GRAD_INPUT] = rule_conv2d_grad_input,
    [TN_OP_CONV2D_GRAD_WEIGHT] = rule_conv2d_grad_weight,
    [TN_OP_GATHER] = rule_gather,
    [TN_OP_SCATTER_ADD] = rule_scatter_add,
    [TN_OP_PDIST] = rule_pdist,
};

/* Aborts, naming every op at fault, unless rules[] holds a rule for exactly the ops that the
 * op list calls differentiable (those without TN_OPF_NONDIFF). */
static void check_rules(void) {
    char faults[512] = "";
    size_t used = 0;
    for (int op = 0; op < TN_OP_COUNT; op++) {
        bool differentiable = !(tn_op_info(op)->flags & TN_OPF_NONDIFF);
        if (differentiable != (rules[op] != NULL) && used < sizeof faults)
            used += (size_t)snprintf(faults + used, sizeof faults - used, " %s (%s)", tn_op_name(op),
                                     differentiable ? "no rule" : "NONDIFF, has a rule");
    }
    TN_CHECK(used == 0, "ag_rule_of", "the rules do not match the op list:%s", faults);
}

ag_rule_fn ag_rule_of(enum tn_op op) {
    static bool checked;
    if (!checked) {
        check_rules();
        checked = true;
    }
    TN_CHECK(rules[op] != NULL, tn_op_name(op), "has no backward rule (it is not differentiable)");
    return rules[op];
}
