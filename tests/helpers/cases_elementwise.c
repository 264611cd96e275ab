/* cases_elementwise.c - test cases of the elementwise ops: contiguous, broadcast and strided
 * (transposed) inputs, references written as plain loops in double.
 */
#include <math.h>

#include "op_cases.h"

/* expected[e] = f(a[e], b[e]) over the broadcast output shape */
static void binary_ref(const struct op_case *c, float *const *in, float *out,
                       double (*f)(double, double)) {
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        double a = broadcast_at(in[0], c->in[0].ndim, c->in[0].shape, c->out_ndim, c->out_shape, e);
        double b = broadcast_at(in[1], c->in[1].ndim, c->in[1].shape, c->out_ndim, c->out_shape, e);
        out[e] = (float)f(a, b);
    }
}

static void unary_ref(const struct op_case *c, float *const *in, float *out,
                      double (*f)(double)) {
    for (int64_t e = 0; e < op_case_out_numel(c); e++) out[e] = (float)f(in[0][e]);
}

#define BINARY(name, call, formula)                                                         \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return call(in[0], in[1]);                                                          \
    }                                                                                       \
    static double f_##name(double a, double b) { return (formula); }                        \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        binary_ref(c, in, out, f_##name);                                                   \
    }

#define UNARY(name, call, formula)                                                          \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return call;                                                                        \
    }                                                                                       \
    static double f_##name(double x) { return (formula); }                                  \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        unary_ref(c, in, out, f_##name);                                                    \
    }

BINARY(add, ag_add, a + b)
BINARY(sub, ag_sub, a - b)
BINARY(mul, ag_mul, a * b)
BINARY(div, ag_div, a / b)
BINARY(gt, ag_gt, a > b)
BINARY(ge, ag_ge, a >= b)
BINARY(lt, ag_lt, a < b)
BINARY(le, ag_le, a <= b)
BINARY(eq, ag_eq, a == b)
BINARY(ne, ag_ne, a != b)

static double silu_slope(double x) {
    double s = 1.0 / (1.0 + exp(-x));
    return s * (1.0 + x * (1.0 - s));
}

static struct tn_tensor *apply_leaky_relu_grad(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_leaky_relu_grad(in[0], in[1], 0.2f);
}

static double f_leaky_relu_grad(double x, double g) { return x > 0 ? g : 0.2 * g; }

static void ref_leaky_relu_grad(const struct op_case *c, float *const *in, float *out) {
    binary_ref(c, in, out, f_leaky_relu_grad);
}

BINARY(silu_grad, ag_silu_grad, b * silu_slope(a))

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }
static double sign(double x) { return x > 0 ? 1.0 : (x < 0 ? -1.0 : 0.0); }

UNARY(neg, ag_neg(in[0]), -x)
UNARY(add_scalar, ag_add_scalar(in[0], 1.5f), x + 1.5)
UNARY(mul_scalar, ag_mul_scalar(in[0], -2.5f), x * -2.5)
UNARY(pow3, ag_pow_scalar(in[0], 3.0f), x * x * x)
UNARY(pow_half, ag_pow_scalar(in[0], 0.5f), sqrt(x))
UNARY(square, ag_square(in[0]), x * x)
UNARY(exp, ag_exp(in[0]), exp(x))
UNARY(log, ag_log(in[0]), log(x))
UNARY(sqrt, ag_sqrt(in[0]), sqrt(x))
UNARY(abs, ag_abs(in[0]), fabs(x))
UNARY(sign, ag_sign(in[0]), sign(x))
UNARY(clamp, ag_clamp(in[0], -1.0f, 0.5f), x < -1 ? -1 : (x > 0.5 ? 0.5 : x))
UNARY(sigmoid, ag_sigmoid(in[0]), sigmoid(x))
UNARY(tanh, ag_tanh(in[0]), tanh(x))
UNARY(silu, ag_silu(in[0]), x * sigmoid(x))
UNARY(relu, ag_relu(in[0]), x > 0 ? x : 0)
UNARY(leaky_relu, ag_leaky_relu(in[0], 0.2f), x > 0 ? x : 0.2 * x)
/* composites tested with the ops they are made of */
UNARY(sub_scalar, ag_sub_scalar(in[0], 0.75f), x - 0.75)
UNARY(rsub_scalar, ag_rsub_scalar(2.0f, in[0]), 2.0 - x)
UNARY(div_scalar, ag_div_scalar(in[0], 4.0f), x / 4.0)
UNARY(rdiv_scalar, ag_rdiv_scalar(3.0f, in[0]), 3.0 / x)

static struct tn_tensor *apply_where(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_where(in[0], in[1], in[2]);
}

static void ref_where(const struct op_case *c, float *const *in, float *out) {
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        float cond = broadcast_at(in[0], c->in[0].ndim, c->in[0].shape, c->out_ndim, c->out_shape, e);
        float a = broadcast_at(in[1], c->in[1].ndim, c->in[1].shape, c->out_ndim, c->out_shape, e);
        float b = broadcast_at(in[2], c->in[2].ndim, c->in[2].shape, c->out_ndim, c->out_shape, e);
        out[e] = cond != 0 ? a : b;
    }
}

#define M34 {2, {3, 4}}
#define R(lo, hi) IN_RANDOM, lo, hi
#define T(lo, hi) IN_TRANSPOSED, lo, hi

/* binary case: a [3,4] op b [3,4]; broadcast [2,3,4] op [4]; strided [3,4]^T-layout op [1,4] */
#define BINARY_CASES(OP, name, blo, bhi)                                                   \
    {TN_OP_##OP, #name " same shape", CHECK_ALL, 2,                                        \
     {{2, {3, 4}, R(-2, 2), true}, {2, {3, 4}, R(blo, bhi), true}},                        \
     apply_##name, ref_##name, 2, {3, 4}, 0, 0, {0}},                                      \
    {TN_OP_##OP, #name " broadcast", CHECK_ALL, 2,                                         \
     {{3, {2, 3, 4}, R(-2, 2), true}, {1, {4}, R(blo, bhi), true}},                        \
     apply_##name, ref_##name, 3, {2, 3, 4}, 0, 0, {0}},                                   \
    {TN_OP_##OP, #name " strided", CHECK_ALL, 2,                                           \
     {{2, {3, 4}, T(-2, 2), true}, {2, {1, 4}, R(blo, bhi), true}},                        \
     apply_##name, ref_##name, 2, {3, 4}, 0, 0, {0}}

#define COMPARE_CASES(OP, name)                                                            \
    {TN_OP_##OP, #name " ties", CHECK_FORWARD, 2,                                          \
     {{2, {3, 4}, IN_INDEX, 0, 3, false}, {2, {1, 4}, IN_INDEX, 0, 3, false}},             \
     apply_##name, ref_##name, 2, {3, 4}, 0, 0, {0}},                                      \
    {TN_OP_##OP, #name " strided", CHECK_FORWARD, 2,                                       \
     {{2, {3, 4}, T(-1, 1), false}, {2, {3, 4}, R(-1, 1), false}},                         \
     apply_##name, ref_##name, 2, {3, 4}, 0, 0, {0}}

#define UNARY_CASE(OP, name, kind, lo, hi, checks)                                         \
    {TN_OP_##OP, #name, checks, 1, {{2, {3, 5}, kind, lo, hi, checks != CHECK_FORWARD}},   \
     apply_##name, ref_##name, 2, {3, 5}, 0, 1e-5, {0}},                                   \
    {TN_OP_##OP, #name " strided", checks, 1,                                              \
     {{3, {2, 3, 4}, kind == IN_RANDOM ? IN_TRANSPOSED : kind, lo, hi,                      \
       checks != CHECK_FORWARD}},                                                          \
     apply_##name, ref_##name, 3, {2, 3, 4}, 0, 1e-5, {0}}

static const struct op_case cases[] = {
    BINARY_CASES(ADD, add, -2, 2),
    BINARY_CASES(SUB, sub, -2, 2),
    BINARY_CASES(MUL, mul, -2, 2),
    BINARY_CASES(DIV, div, 0.5, 2),
    BINARY_CASES(SILU_GRAD, silu_grad, -2, 2),
    /* x kept away from the kink (and gets no gradient: the slope is a step) */
    {TN_OP_LEAKY_RELU_GRAD, "leaky_relu_grad", CHECK_ALL, 2,
     {{2, {3, 4}, IN_AWAY, -1, 1, false}, {2, {3, 4}, R(-2, 2), true}},
     apply_leaky_relu_grad, ref_leaky_relu_grad, 2, {3, 4}, 0, 0, {0}},
    {TN_OP_LEAKY_RELU_GRAD, "leaky_relu_grad broadcast", CHECK_ALL, 2,
     {{2, {3, 4}, IN_AWAY, -1, 1, false}, {1, {4}, R(-2, 2), true}},
     apply_leaky_relu_grad, ref_leaky_relu_grad, 2, {3, 4}, 0, 0, {0}},
    COMPARE_CASES(GT, gt),
    COMPARE_CASES(GE, ge),
    COMPARE_CASES(LT, lt),
    COMPARE_CASES(LE, le),
    COMPARE_CASES(EQ, eq),
    COMPARE_CASES(NE, ne),
    {TN_OP_WHERE, "where broadcast", CHECK_ALL, 3,
     {{2, {3, 4}, IN_MASK, 0, 1, false}, {1, {4}, R(-2, 2), true}, {2, {3, 4}, T(-2, 2), true}},
     apply_where, ref_where, 2, {3, 4}, 0, 0, {0}},
    UNARY_CASE(NEG, neg, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(ADD_SCALAR, add_scalar, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(ADD_SCALAR, sub_scalar, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(ADD_SCALAR, rsub_scalar, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(MUL_SCALAR, mul_scalar, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(MUL_SCALAR, div_scalar, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(POW_SCALAR, rdiv_scalar, IN_RANDOM, 0.5, 2, CHECK_ALL),
    UNARY_CASE(POW_SCALAR, pow3, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(POW_SCALAR, pow_half, IN_RANDOM, 0.5, 2, CHECK_ALL),
    UNARY_CASE(POW_SCALAR, square, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(EXP, exp, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(LOG, log, IN_RANDOM, 0.5, 3, CHECK_ALL),
    UNARY_CASE(SQRT, sqrt, IN_RANDOM, 0.5, 3, CHECK_ALL),
    UNARY_CASE(ABS, abs, IN_AWAY, -1, 1, CHECK_ALL),
    UNARY_CASE(SIGN, sign, IN_AWAY, -1, 1, CHECK_FORWARD),
    {TN_OP_SIGN, "sign of zero", CHECK_FORWARD, 1, {{1, {4}, IN_INDEX, 0, 1, false}},
     apply_sign, ref_sign, 1, {4}, 0, 0, {0}},
    UNARY_CASE(CLAMP, clamp, IN_RANDOM, -3, 3, CHECK_ALL),
    UNARY_CASE(SIGMOID, sigmoid, IN_RANDOM, -3, 3, CHECK_ALL),
    UNARY_CASE(TANH, tanh, IN_RANDOM, -2, 2, CHECK_ALL),
    UNARY_CASE(SILU, silu, IN_RANDOM, -3, 3, CHECK_ALL),
    UNARY_CASE(RELU, relu, IN_AWAY, -1, 1, CHECK_ALL),
    UNARY_CASE(LEAKY_RELU, leaky_relu, IN_AWAY, -1, 1, CHECK_ALL),
};

const struct op_case_table cases_elementwise = {cases, sizeof cases / sizeof *cases};
