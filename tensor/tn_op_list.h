/* tn_op_list.h - the one list of ops: every op is one line with its arity, its flags (which
 * inputs carry gradients), and either its formula (elementwise ops) or its shape inference.
 *
 * Everything keyed by op comes from this list: the enum, the metadata table with names and
 * shape inference (tn_op_info.c), which inputs are differentiable (tn_op_input_differentiable),
 * and the elementwise kernels of every backend, which compile the formula written here
 * (tensor/cpu/cpu_elementwise.c and tensor/cuda/cuda_elementwise.cu). Kernel tables and
 * backward rules are checked against the list when first used.
 *
 * Plain macros and enums only, no includes: the CUDA kernels (C++) read this file, and they
 * cannot include the engine's C11 headers. tn_op.h is the header C code includes.
 */
#ifndef TN_OP_LIST_H
#define TN_OP_LIST_H

#define TN_MAX_INPUTS 8

/* Flags of an op. */
enum {
    TN_OPF_NONE = 0,
    TN_OPF_ELEMENTWISE = 1 << 0, /* set for the ops of TN_OP_LIST_ELEMENTWISE */
    TN_OPF_VIEW = 1 << 1,        /* output shares the input's storage; no kernel runs */
    TN_OPF_NONDIFF = 1 << 2,     /* no input carries a gradient (masks, indices) */
    TN_OPF_VARIADIC = 1 << 3,    /* takes n_inputs..TN_MAX_INPUTS inputs */
};

/* Flag: input i of the op carries no gradient (a condition, an index, a mask's source). */
#define TN_OPF_NOGRAD(i) (1 << (8 + (i)))

/* E(name, n_inputs, flags, formula): out[i] = formula, with the inputs broadcast to one
 * shape. In the formula x, y and z are inputs 0, 1 and 2, and s0, s1 are params.scalar[0],
 * [1], all float. The CPU and CUDA kernels compile this same expression; the functions it may
 * call beyond <math.h> are in tensor/tn_elementwise.h, built for both. */
#define TN_OP_LIST_ELEMENTWISE(E)                                                           \
    /* binary, broadcasting */                                                              \
    E(ADD, 2, TN_OPF_NONE, x + y)                                                           \
    E(SUB, 2, TN_OPF_NONE, x - y)                                                           \
    E(MUL, 2, TN_OPF_NONE, x * y)                                                           \
    E(DIV, 2, TN_OPF_NONE, x / y)                                                           \
    E(WHERE, 3, TN_OPF_NOGRAD(0), x != 0.0f ? y : z)   /* the condition is a mask */        \
    E(GT, 2, TN_OPF_NONDIFF, x > y ? 1.0f : 0.0f)                                           \
    E(GE, 2, TN_OPF_NONDIFF, x >= y ? 1.0f : 0.0f)                                          \
    E(LT, 2, TN_OPF_NONDIFF, x < y ? 1.0f : 0.0f)                                           \
    E(LE, 2, TN_OPF_NONDIFF, x <= y ? 1.0f : 0.0f)                                          \
    E(EQ, 2, TN_OPF_NONDIFF, x == y ? 1.0f : 0.0f)                                          \
    E(NE, 2, TN_OPF_NONDIFF, x != y ? 1.0f : 0.0f)                                          \
    /* unary */                                                                             \
    E(NEG, 1, TN_OPF_NONE, -x)                                                              \
    E(ADD_SCALAR, 1, TN_OPF_NONE, x + s0)                                                   \
    E(MUL_SCALAR, 1, TN_OPF_NONE, x * s0)                                                   \
    E(POW_SCALAR, 1, TN_OPF_NONE, s0 == 2.0f ? x * x : (s0 == 1.0f ? x : powf(x, s0)))      \
    E(EXP, 1, TN_OPF_NONE, expf(x))                                                         \
    E(LOG, 1, TN_OPF_NONE, logf(x))                                                         \
    E(SQRT, 1, TN_OPF_NONE, sqrtf(x))                                                       \
    E(ABS, 1, TN_OPF_NONE, fabsf(x))                                                        \
    E(SIGN, 1, TN_OPF_NONDIFF, x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f))                 \
    E(CLAMP, 1, TN_OPF_NONE, x < s0 ? s0 : (x > s1 ? s1 : x))                               \
    E(SIGMOID, 1, TN_OPF_NONE, tn_sigmoidf(x))                                              \
    E(TANH, 1, TN_OPF_NONE, tanhf(x))                                                       \
    E(SILU, 1, TN_OPF_NONE, x * tn_sigmoidf(x))                                             \
    E(RELU, 1, TN_OPF_NONE, x > 0.0f ? x : 0.0f)                                            \
    E(LEAKY_RELU, 1, TN_OPF_NONE, x > 0.0f ? x : s0 * x)                                    \
    /* activation backward in one pass instead of a chain of ops: (x, g = y) -> g f'(x) */  \
    E(SILU_GRAD, 2, TN_OPF_NONE, tn_silu_slope(x) * y)                                      \
    E(LEAKY_RELU_GRAD, 2, TN_OPF_NOGRAD(0), x > 0.0f ? y : s0 * y) /* slope: a step in x */

/* X(name, n_inputs, flags, infer): infer is the op's shape inference in tn_op_info.c, which
 * checks every argument. Formulas are on the lines' comments. */
#define TN_OP_LIST_OTHER(X)                                                                 \
    /* reductions over params.axes (a bitmask of input dims), params.keepdim */             \
    X(SUM, 1, TN_OPF_NONE, infer_reduce)              /* sum over axes */                   \
    X(AMAX, 1, TN_OPF_NONE, infer_reduce)             /* max over axes (ties share g) */    \
    X(ARGMAX, 1, TN_OPF_NONDIFF, infer_argmax)        /* first max index along axis */      \
    /* linear algebra */                                                                    \
    X(MATMUL, 2, TN_OPF_NONE, infer_matmul)           /* [..., m, k] x [..., k, n] */       \
    /* views and copies */                                                                  \
    X(RESHAPE, 1, TN_OPF_VIEW, infer_target_shape)    /* params.shape (copies if needed) */ \
    X(PERMUTE, 1, TN_OPF_VIEW, infer_permute)         /* out dim d = in dim params.perm[d] */ \
    X(EXPAND, 1, TN_OPF_VIEW, infer_target_shape)     /* size-1 dims to params.shape */     \
    X(SLICE, 1, TN_OPF_VIEW, infer_slice)             /* [start, start + length) on axis */ \
    X(UNSLICE, 1, TN_OPF_NONE, infer_slice)           /* zeros of params.shape, slice = x */ \
    X(CONTIGUOUS, 1, TN_OPF_NONE, infer_same)         /* dense row-major copy */            \
    X(CONCAT, 1, TN_OPF_VARIADIC, infer_concat)       /* join inputs along params.axis */   \
    X(TO_DEVICE, 1, TN_OPF_NONE, infer_same)          /* dense copy on params.device */     \
    /* padding of the last two dims (H, W): params.pads = top, bottom, left, right */       \
    X(PAD, 1, TN_OPF_NONE, infer_pad)                 /* zero or replicate padding */       \
    X(PAD_ADJOINT, 1, TN_OPF_NONE, infer_pad)         /* transpose of PAD: crop, add back */ \
    /* convolution, NCHW; weight [Cout, Cin/groups, kh, kw]; geometry in params.conv; an  \
     * optional bias [C of the output] as a 3rd input is added as each image is written */ \
    X(CONV2D, 2, TN_OPF_VARIADIC, infer_conv)         /* (x, w[, b]) -> y [N,Cout,Ho,Wo] */ \
    X(CONV2D_GRAD_INPUT, 2, TN_OPF_VARIADIC, infer_conv) /* (gy, w[, b]) -> dx; transposed */ \
    X(CONV2D_GRAD_WEIGHT, 2, TN_OPF_NONE, infer_conv) /* (x, gy) -> dw */                   \
    /* indexing along params.axis; indices are float32 holding exact integers < 2^24 */     \
    X(GATHER, 2, TN_OPF_NOGRAD(1), infer_gather)      /* out[..i..] = x[..idx[..i..]..] */  \
    X(SCATTER_ADD, 2, TN_OPF_NOGRAD(0), infer_gather) /* (idx, src): zeros, += src at idx */ \
    X(ARGSORT, 1, TN_OPF_NONDIFF, infer_argsort)      /* stable sorting permutation */      \
    /* distances */                                                                         \
    X(PDIST, 1, TN_OPF_NONE, infer_pdist)             /* [B, D] -> [B, B] = ||x_i - x_j|| */

/* Every op: X(name, n_inputs, flags, formula or infer). */
#define TN_OP_LIST(X) TN_OP_LIST_ELEMENTWISE(X) TN_OP_LIST_OTHER(X)

enum tn_op {
#define TN_OP_ENUM(name, n, flags, extra) TN_OP_##name,
    TN_OP_LIST(TN_OP_ENUM)
#undef TN_OP_ENUM
    TN_OP_COUNT
};

#endif
