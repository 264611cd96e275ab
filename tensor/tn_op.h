/* tn_op.h - the one list of ops, their parameters and metadata, shared by every backend.
 *
 * Each op is named once in TN_OP_LIST with its arity and flags. From that list come the enum,
 * the name table and the metadata table (tn_op_info.c); each backend fills a kernel table
 * indexed by the same enum (tn_backend.h). Every op has exactly one output. The formula of
 * each op is on its line; shapes use the usual letters (N batch, C channels, H, W).
 *
 * tn_op_run() runs an op without recording anything: it checks devices, infers the output
 * shape, allocates it and calls the kernel. The differentiable API is ag_ops.h.
 */
#ifndef TN_OP_H
#define TN_OP_H

#include "tn_tensor.h"

/* Flags of an op. */
enum {
    TN_OPF_NONE = 0,
    TN_OPF_ELEMENTWISE = 1 << 0, /* inputs broadcast to one shape; out[i] = f(in[i]...) */
    TN_OPF_VIEW = 1 << 1,        /* output shares the input's storage; no kernel runs */
    TN_OPF_NONDIFF = 1 << 2,     /* no gradient flows through it (masks, indices) */
    TN_OPF_VARIADIC = 1 << 3,    /* takes 1..TN_MAX_INPUTS inputs */
};

#define TN_MAX_INPUTS 8

/* X(name, n_inputs, flags)   formula */
#define TN_OP_LIST(X)                                                                       \
    /* elementwise, binary, broadcasting */                                                 \
    X(ADD, 2, TN_OPF_ELEMENTWISE)       /* a + b */                                         \
    X(SUB, 2, TN_OPF_ELEMENTWISE)       /* a - b */                                         \
    X(MUL, 2, TN_OPF_ELEMENTWISE)       /* a * b */                                         \
    X(DIV, 2, TN_OPF_ELEMENTWISE)       /* a / b */                                         \
    X(WHERE, 3, TN_OPF_ELEMENTWISE)     /* cond != 0 ? a : b  (cond not differentiable) */  \
    X(GT, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a > b ? 1 : 0 */                       \
    X(GE, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a >= b */                              \
    X(LT, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a < b */                               \
    X(LE, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a <= b */                              \
    X(EQ, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a == b */                              \
    X(NE, 2, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* a != b */                              \
    /* elementwise, unary; s0, s1 = params.scalar[0], [1] */                                \
    X(NEG, 1, TN_OPF_ELEMENTWISE)        /* -x */                                           \
    X(ADD_SCALAR, 1, TN_OPF_ELEMENTWISE) /* x + s0 */                                       \
    X(MUL_SCALAR, 1, TN_OPF_ELEMENTWISE) /* x * s0 */                                       \
    X(POW_SCALAR, 1, TN_OPF_ELEMENTWISE) /* x ^ s0 */                                       \
    X(EXP, 1, TN_OPF_ELEMENTWISE)        /* e^x */                                          \
    X(LOG, 1, TN_OPF_ELEMENTWISE)        /* ln x */                                         \
    X(SQRT, 1, TN_OPF_ELEMENTWISE)       /* sqrt x */                                       \
    X(ABS, 1, TN_OPF_ELEMENTWISE)        /* |x| */                                          \
    X(SIGN, 1, TN_OPF_ELEMENTWISE | TN_OPF_NONDIFF) /* -1, 0 or 1 (sign(0) = 0) */          \
    X(CLAMP, 1, TN_OPF_ELEMENTWISE)      /* min(max(x, s0), s1) */                          \
    X(SIGMOID, 1, TN_OPF_ELEMENTWISE)    /* 1 / (1 + e^-x) */                               \
    X(TANH, 1, TN_OPF_ELEMENTWISE)       /* tanh x */                                       \
    X(SILU, 1, TN_OPF_ELEMENTWISE)       /* x * sigmoid(x) */                               \
    X(RELU, 1, TN_OPF_ELEMENTWISE)       /* max(x, 0) */                                    \
    X(LEAKY_RELU, 1, TN_OPF_ELEMENTWISE) /* x > 0 ? x : s0 * x */                           \
    /* activation backward, one pass instead of a chain of ops: (x, g) -> g * f'(x) */     \
    X(SILU_GRAD, 2, TN_OPF_ELEMENTWISE)  /* g * s (1 + x (1 - s)), s = sigmoid(x) */        \
    X(LEAKY_RELU_GRAD, 2, TN_OPF_ELEMENTWISE) /* g * (x > 0 ? 1 : s0) */                    \
    /* reductions over params.axes (a bitmask of input dims), params.keepdim */             \
    X(SUM, 1, TN_OPF_NONE)               /* sum over axes */                                \
    X(AMAX, 1, TN_OPF_NONE)              /* max over axes (gradient split among ties) */    \
    X(ARGMAX, 1, TN_OPF_NONDIFF)         /* index of the first max along params.axis */     \
    /* linear algebra */                                                                    \
    X(MATMUL, 2, TN_OPF_NONE)            /* [..., m, k] x [..., k, n] -> [..., m, n] */     \
    /* views and copies */                                                                  \
    X(RESHAPE, 1, TN_OPF_VIEW)           /* same elements, params.shape (copies if needed) */ \
    X(PERMUTE, 1, TN_OPF_VIEW)           /* out dim d = in dim params.perm[d] */            \
    X(EXPAND, 1, TN_OPF_VIEW)            /* broadcast size-1 dims to params.shape */        \
    X(SLICE, 1, TN_OPF_VIEW)             /* x[start : start + length] along params.axis */  \
    X(UNSLICE, 1, TN_OPF_NONE)           /* zeros of params.shape with the slice set to x */ \
    X(CONTIGUOUS, 1, TN_OPF_NONE)        /* dense row-major copy */                         \
    X(CONCAT, 1, TN_OPF_VARIADIC)        /* join inputs along params.axis */                \
    X(TO_DEVICE, 1, TN_OPF_NONE)         /* dense copy on params.device (any two devices) */ \
    /* padding of the last two dims (H, W): params.pads = top, bottom, left, right */       \
    X(PAD, 1, TN_OPF_NONE)               /* zero or replicate padding */                    \
    X(PAD_ADJOINT, 1, TN_OPF_NONE)       /* transpose of PAD: crop, adding border copies back */ \
    /* convolution, NCHW; weight [Cout, Cin/groups, kh, kw]; geometry in params.conv */     \
    /* CONV2D and CONV2D_GRAD_INPUT take an optional bias [C of the output] as a 3rd input,  \
     * added as each image is written (one pass over the output fewer than a separate add) */ \
    X(CONV2D, 2, TN_OPF_VARIADIC)        /* (x [N,Cin,H,W], w[, b]) -> y [N,Cout,Ho,Wo] */  \
    X(CONV2D_GRAD_INPUT, 2, TN_OPF_VARIADIC) /* (gy, w[, b]) -> dx [N,Cin,H,W]; transposed conv */ \
    X(CONV2D_GRAD_WEIGHT, 2, TN_OPF_NONE) /* (x, gy) -> dw [Cout,Cin/groups,kh,kw] */       \
    /* indexing along params.axis; indices are float32 holding exact integers < 2^24 */     \
    X(GATHER, 2, TN_OPF_NONE)            /* out[..i..] = x[..idx[..i..]..] (idx not diff.) */ \
    X(SCATTER_ADD, 2, TN_OPF_NONE)       /* (idx, src): zeros of params.shape, += src at idx */ \
    X(ARGSORT, 1, TN_OPF_NONDIFF)        /* permutation sorting x along axis (stable) */      \
    /* distances */                                                                         \
    X(PDIST, 1, TN_OPF_NONE)             /* x [B, D] -> [B, B]: out[i,j] = ||x_i - x_j||_2 */

enum tn_op {
#define TN_OP_ENUM(name, n, flags) TN_OP_##name,
    TN_OP_LIST(TN_OP_ENUM)
#undef TN_OP_ENUM
    TN_OP_COUNT
};

enum tn_pad_mode { TN_PAD_ZEROS = 0, TN_PAD_REPLICATE = 1 };

/* Geometry of a 2-D convolution; dims are [H, W]. */
struct tn_conv_geom {
    int stride[2];
    int padding[2];  /* zeros, on both sides */
    int dilation[2];
    int groups;
};

/* Parameters of an op; each op reads only the fields its comment names. */
struct tn_op_params {
    float scalar[2];                /* s0, s1 */
    uint32_t axes;                  /* reductions: bit d set = reduce dim d */
    bool keepdim;
    bool descending;                /* ARGSORT */
    int axis;                       /* ARGMAX, SLICE, UNSLICE, CONCAT, GATHER, ARGSORT, ... */
    int64_t start, length;          /* SLICE, UNSLICE */
    int ndim;                       /* target shape: RESHAPE, EXPAND, UNSLICE, SCATTER_ADD, */
    int64_t shape[TN_MAX_DIMS];     /* and the known input/weight shape of the conv grads */
    int perm[TN_MAX_DIMS];          /* PERMUTE */
    struct tn_conv_geom conv;
    enum tn_pad_mode pad_mode;      /* PAD, PAD_ADJOINT */
    struct tn_device device;        /* TO_DEVICE: where the output lives */
    int64_t pads[4];                /* top, bottom, left, right */
};

/* Metadata of an op, shared by all backends. */
struct tn_op_info {
    const char *name;
    int n_inputs;        /* exact arity; for TN_OPF_VARIADIC the minimum */
    unsigned flags;
    /* Checks the inputs and writes the output's shape; aborts with a message on misuse. */
    void (*infer)(enum tn_op op, int n, struct tn_tensor *const *in,
                  const struct tn_op_params *p, int *ndim, int64_t *shape);
};

/* Metadata of op. */
const struct tn_op_info *tn_op_info(enum tn_op op);

/* Name of op ("CONV2D_GRAD_INPUT"). */
const char *tn_op_name(enum tn_op op);

/* Runs op on the inputs' device without recording a graph; returns the new output. */
struct tn_tensor *tn_op_run(enum tn_op op, int n, struct tn_tensor *const *in,
                            const struct tn_op_params *p);

/* Shape of broadcasting a and b (NumPy rules); aborts naming op when they do not broadcast. */
void tn_broadcast_shape(const char *op, int ndim_a, const int64_t *shape_a, int ndim_b,
                        const int64_t *shape_b, int *ndim, int64_t *shape);

/* Output size of a convolution along one dimension. */
int64_t tn_conv_out_size(int64_t in, int kernel, int stride, int padding, int dilation);

#endif
