/* tn_op.h - ops for C code: their parameters, their metadata, and tn_op_run.
 *
 * The ops themselves are listed once, in tn_op_list.h, with arity, flags and formula or shape
 * inference. From that list come the enum, the name table and the metadata table
 * (tn_op_info.c); each backend fills a kernel table indexed by the same enum (tn_backend.h).
 * Every op has exactly one output. Shapes use the usual letters (N batch, C channels, H, W).
 *
 * tn_op_run() runs an op without recording anything: it checks devices, infers the output
 * shape, allocates it and calls the kernel. The differentiable API is ag_ops.h.
 */
#ifndef TN_OP_H
#define TN_OP_H

#include "tn_op_list.h"
#include "tn_tensor.h"

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

/* True when a gradient flows through input slot i of op (the list's NONDIFF and NOGRAD). */
bool tn_op_input_differentiable(enum tn_op op, int i);

/* Runs op on the inputs' device without recording a graph; returns the new output. */
struct tn_tensor *tn_op_run(enum tn_op op, int n, struct tn_tensor *const *in,
                            const struct tn_op_params *p);

/* Shape of broadcasting a and b (NumPy rules); aborts naming op when they do not broadcast. */
void tn_broadcast_shape(const char *op, int ndim_a, const int64_t *shape_a, int ndim_b,
                        const int64_t *shape_b, int *ndim, int64_t *shape);

/* Output size of a convolution along one dimension. */
int64_t tn_conv_out_size(int64_t in, int kernel, int stride, int padding, int dilation);

#endif
