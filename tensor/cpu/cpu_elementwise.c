/* cpu_elementwise.c - CPU kernels of the elementwise ops (binary, unary, where).
 *
 * Every kernel runs the same loop: the plan of cpu_loop.c cut into pieces of at most CHUNK
 * elements of one row, spread over the OpenMP threads. The row body is written once per op
 * by a macro, with a stride-1 path the compiler vectorises and a strided path.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cpu_internal.h"

#define CHUNK 16384

/* Runs BODY(o, a, b, c, n, so, sa, sb, sc) over pieces of the loop. */
#define FOR_EACH_PIECE(loop, BODY)                                                         \
    do {                                                                                   \
        int64_t rows_ = cpu_loop_rows(&(loop)), len_ = cpu_loop_row_length(&(loop));       \
        int64_t per_row_ = (len_ + CHUNK - 1) / CHUNK, pieces_ = rows_ * per_row_;         \
        int last_ = (loop).ndim - 1;                                                       \
        int64_t so = (loop).strides[0][last_], sa = (loop).strides[1][last_];              \
        int64_t sb = (loop).n_operands > 2 ? (loop).strides[2][last_] : 0;                 \
        int64_t sc = (loop).n_operands > 3 ? (loop).strides[3][last_] : 0;                 \
        CPU_PARALLEL_FOR(rows_ * len_ >= CPU_PARALLEL_MIN && pieces_ > 1, p_, pieces_,      \
            int64_t off_[CPU_MAX_OPERANDS] = {0};                                          \
            cpu_loop_row_offsets(&(loop), p_ / per_row_, off_);                            \
            int64_t start_ = (p_ % per_row_) * CHUNK;                                      \
            int64_t n = len_ - start_ < CHUNK ? len_ - start_ : CHUNK;                     \
            float *o = (loop).base[0] + off_[0] + start_ * so;                             \
            const float *a = (loop).base[1] + off_[1] + start_ * sa;                       \
            const float *b = (loop).n_operands > 2 ? (loop).base[2] + off_[2] + start_ * sb \
                                                   : NULL;                                 \
            const float *c = (loop).n_operands > 3 ? (loop).base[3] + off_[3] + start_ * sc \
                                                   : NULL;                                 \
            (void)b;                                                                       \
            (void)c;                                                                       \
            BODY;);                                                                        \
    } while (0)

/* out[j] = EXPR(x, y) over one piece, with a dense path. */
#define BINARY_BODY(EXPR)                                                                  \
    if (so == 1 && sa == 1 && sb == 1) {                                                   \
        for (int64_t j = 0; j < n; j++) { float x = a[j], y = b[j]; o[j] = (EXPR); }       \
    } else if (so == 1 && sa == 1 && sb == 0) {                                            \
        float y = b[0];                                                                    \
        for (int64_t j = 0; j < n; j++) { float x = a[j]; o[j] = (EXPR); }                 \
    } else {                                                                               \
        for (int64_t j = 0; j < n; j++) { float x = a[j * sa], y = b[j * sb]; o[j * so] = (EXPR); } \
    }

#define UNARY_BODY(EXPR)                                                                   \
    if (so == 1 && sa == 1) {                                                              \
        for (int64_t j = 0; j < n; j++) { float x = a[j]; o[j] = (EXPR); }                 \
    } else {                                                                               \
        for (int64_t j = 0; j < n; j++) { float x = a[j * sa]; o[j * so] = (EXPR); }       \
    }

/* e^x for the sigmoid family, in a form the compiler vectorises (libm's expf is a call per
 * element, 5x slower here). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, a degree-6
 * polynomial for e^r (Cephes' coefficients, within 2 ulp of expf), and 2^n put into the
 * exponent bits. x is clamped to [-87.3, 88.0] so that 2^n stays a normal float: beyond it
 * e^x saturates near 1.3e-38 or 1.6e38, which leaves 1 / (1 + e^x) correct to float
 * precision. A NaN stays NaN (the comparisons let it through and the polynomial keeps it). */
static inline float sigmoid_exp(float x) {
    const float magic = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    x = x < -87.33654f ? -87.33654f : x;
    x = x > 88.02969f ? 88.02969f : x;
    float shifted = x * 1.44269504088896341f + magic;
    float n = shifted - magic;
    float r = x - n * 0.693359375f - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits_shifted, bits_magic, scale_bits;
    memcpy(&bits_shifted, &shifted, 4);
    memcpy(&bits_magic, &magic, 4);
    scale_bits = (bits_shifted - bits_magic + 127u) << 23;
    float scale;
    memcpy(&scale, &scale_bits, 4);
    return p * scale;
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + sigmoid_exp(-x)); }

/* d/dx x sigmoid(x) = s (1 + x (1 - s)) */
static inline float silu_slope(float x) {
    float s = sigmoidf(x);
    return s * (1.0f + x * (1.0f - s));
}

void cpu_kernel_binary(const struct tn_kernel_args *args) {
    struct cpu_loop loop;
    cpu_loop_init(&loop, args->out, 2, args->in);
    switch (args->op) {
    case TN_OP_ADD: FOR_EACH_PIECE(loop, BINARY_BODY(x + y)); break;
    case TN_OP_SUB: FOR_EACH_PIECE(loop, BINARY_BODY(x - y)); break;
    case TN_OP_MUL: FOR_EACH_PIECE(loop, BINARY_BODY(x * y)); break;
    case TN_OP_DIV: FOR_EACH_PIECE(loop, BINARY_BODY(x / y)); break;
    case TN_OP_GT: FOR_EACH_PIECE(loop, BINARY_BODY(x > y ? 1.0f : 0.0f)); break;
    case TN_OP_GE: FOR_EACH_PIECE(loop, BINARY_BODY(x >= y ? 1.0f : 0.0f)); break;
    case TN_OP_LT: FOR_EACH_PIECE(loop, BINARY_BODY(x < y ? 1.0f : 0.0f)); break;
    case TN_OP_LE: FOR_EACH_PIECE(loop, BINARY_BODY(x <= y ? 1.0f : 0.0f)); break;
    case TN_OP_EQ: FOR_EACH_PIECE(loop, BINARY_BODY(x == y ? 1.0f : 0.0f)); break;
    case TN_OP_NE: FOR_EACH_PIECE(loop, BINARY_BODY(x != y ? 1.0f : 0.0f)); break;
    case TN_OP_SILU_GRAD: FOR_EACH_PIECE(loop, BINARY_BODY(silu_slope(x) * y)); break;
    case TN_OP_LEAKY_RELU_GRAD: {
        const float s0 = args->params->scalar[0];
        FOR_EACH_PIECE(loop, BINARY_BODY(x > 0.0f ? y : s0 * y));
        break;
    }
    default: TN_FATAL(tn_op_name(args->op), "not a binary op");
    }
}


void cpu_kernel_unary(const struct tn_kernel_args *args) {
    struct cpu_loop loop;
    cpu_loop_init(&loop, args->out, 1, args->in);
    const float s0 = args->params->scalar[0], s1 = args->params->scalar[1];
    switch (args->op) {
    case TN_OP_NEG: FOR_EACH_PIECE(loop, UNARY_BODY(-x)); break;
    case TN_OP_ADD_SCALAR: FOR_EACH_PIECE(loop, UNARY_BODY(x + s0)); break;
    case TN_OP_MUL_SCALAR: FOR_EACH_PIECE(loop, UNARY_BODY(x * s0)); break;
    case TN_OP_POW_SCALAR:
        if (s0 == 2.0f) FOR_EACH_PIECE(loop, UNARY_BODY(x * x));
        else if (s0 == 1.0f) FOR_EACH_PIECE(loop, UNARY_BODY(x));
        else FOR_EACH_PIECE(loop, UNARY_BODY(powf(x, s0)));
        break;
    case TN_OP_EXP: FOR_EACH_PIECE(loop, UNARY_BODY(expf(x))); break;
    case TN_OP_LOG: FOR_EACH_PIECE(loop, UNARY_BODY(logf(x))); break;
    case TN_OP_SQRT: FOR_EACH_PIECE(loop, UNARY_BODY(sqrtf(x))); break;
    case TN_OP_ABS: FOR_EACH_PIECE(loop, UNARY_BODY(fabsf(x))); break;
    case TN_OP_SIGN:
        FOR_EACH_PIECE(loop, UNARY_BODY(x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f)));
        break;
    case TN_OP_CLAMP: FOR_EACH_PIECE(loop, UNARY_BODY(x < s0 ? s0 : (x > s1 ? s1 : x))); break;
    case TN_OP_SIGMOID: FOR_EACH_PIECE(loop, UNARY_BODY(sigmoidf(x))); break;
    case TN_OP_TANH: FOR_EACH_PIECE(loop, UNARY_BODY(tanhf(x))); break;
    case TN_OP_SILU: FOR_EACH_PIECE(loop, UNARY_BODY(x * sigmoidf(x))); break;
    case TN_OP_RELU: FOR_EACH_PIECE(loop, UNARY_BODY(x > 0.0f ? x : 0.0f)); break;
    case TN_OP_LEAKY_RELU: FOR_EACH_PIECE(loop, UNARY_BODY(x > 0.0f ? x : s0 * x)); break;
    default: TN_FATAL(tn_op_name(args->op), "not a unary op");
    }
}

void cpu_kernel_where(const struct tn_kernel_args *args) {
    struct cpu_loop loop;
    cpu_loop_init(&loop, args->out, 3, args->in);
    FOR_EACH_PIECE(loop, for (int64_t j = 0; j < n; j++) o[j * so] =
                             a[j * sa] != 0.0f ? b[j * sb] : c[j * sc]);
}
