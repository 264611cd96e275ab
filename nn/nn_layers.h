/* nn_layers.h - the layers of the nn library: Linear, Conv2d, ConvTranspose2d, Conv1d,
 * BatchNorm1d/2d, spectral normalisation, activation and shape modules, Sequential.
 *
 * Every layer is a struct whose first member is its struct nn_module (nn_module.h), made on
 * the heap by its _new function and freed by nn_module_free(&layer->base) (or by its parent).
 * Each has a typed forward (nn_linear_forward...) and the module's one-tensor forward, so
 * nn_forward(&layer->base, x) and nn_sequential chains work too. Forwards are written with the
 * differentiable ops of ag_ops.h only: no layer has a backward of its own, so every layer is
 * as many times differentiable as the ops it uses (twice, for the gradient penalty).
 * Results follow the ownership rule of tn_tensor.h (they belong to the innermost scope).
 *
 * Behaviours match PyTorch's defaults (../shared/reference/gwae-spec.md, sections 2, 3, 8):
 * weights stored in PyTorch's layouts, initialised as nn_init.h says (weight then bias, from
 * the rng passed to the constructor), parameter and buffer names as in PyTorch's state_dict.
 * Layers are built on the CPU; nn_module_to_device moves them, and their forwards and buffer
 * updates then run on that device. This file holds no optimizer, loss or checkpoint code.
 *
 * Buffers (batch-norm running statistics, spectral-norm u and v) are updated in place
 * (tn_copy_into on the buffer's device, which bumps their version) and keep their
 * identity, so references to them (a checkpoint list, nn_module_find) stay valid. No graph holds a buffer itself: forwards
 * use a fresh copy, so a graph recorded before an update, or before a checkpoint load, can
 * still be differentiated after it.
 */
#ifndef NN_LAYERS_H
#define NN_LAYERS_H

#include "nn_module.h"
#include "tensor/tn_random.h"

/* ---- spectral normalisation state (torch.nn.utils.spectral_norm, hook API) ---- */

#define NN_SPECTRAL_EPS 1e-12f

/* Spectral-norm settings of a Linear or Conv2d; n_power_iterations 0 means "not applied". */
struct nn_spectral {
    int n_power_iterations; /* power iterations before each forward in training mode */
    float eps;              /* normalize(y) = y / max(||y||, eps) */
};

/* ---- Linear: y = x W^T + b ---- */

struct nn_linear {
    struct nn_module base;
    int64_t in_features, out_features;
    struct tn_tensor *weight; /* [out, in]: param "weight" ("weight_orig" under spectral norm) */
    struct tn_tensor *bias;   /* [out]: param "bias", or NULL */
    struct nn_spectral sn;
};

/* A Linear layer; weight [out, in] and bias [out] drawn from rng (nn_init_default). */
struct nn_linear *nn_linear_new(const char *name, int64_t in_features, int64_t out_features,
                                bool bias, struct tn_rng *rng);

/* x [..., in] -> [..., out] (x [in] -> [out] too). */
struct tn_tensor *nn_linear_forward(struct nn_linear *l, struct tn_tensor *x);

/* m as a Linear, or NULL when it is another kind of module. */
struct nn_linear *nn_as_linear(struct nn_module *m);

/* ---- Conv2d ---- */

struct nn_conv2d {
    struct nn_module base;
    int64_t in_channels, out_channels;
    int kernel_size, stride, padding, dilation, groups;
    enum tn_pad_mode pad_mode; /* TN_PAD_ZEROS or TN_PAD_REPLICATE (padding_mode="replicate") */
    struct tn_tensor *weight;  /* [out, in/groups, k, k] ("weight_orig" under spectral norm) */
    struct tn_tensor *bias;    /* [out] or NULL */
    struct nn_spectral sn;
};

/* A Conv2d layer with square kernel, stride, padding and dilation; weight and bias drawn
 * from rng with fan_in = (in/groups) * k * k. REPLICATE pads x by copying its border
 * (ag_pad2d) and then convolves with no padding, as PyTorch does. */
struct nn_conv2d *nn_conv2d_new(const char *name, int64_t in_channels, int64_t out_channels,
                                int kernel_size, int stride, int padding, int dilation,
                                int groups, bool bias, enum tn_pad_mode pad_mode,
                                struct tn_rng *rng);

/* x [N, in, H, W] -> [N, out, Ho, Wo], Ho = (H + 2p - d(k-1) - 1)/s + 1. */
struct tn_tensor *nn_conv2d_forward(struct nn_conv2d *c, struct tn_tensor *x);

/* m as a Conv2d, or NULL. */
struct nn_conv2d *nn_as_conv2d(struct nn_module *m);

/* ---- ConvTranspose2d ---- */

struct nn_conv_transpose2d {
    struct nn_module base;
    int64_t in_channels, out_channels;
    int kernel_size, stride, padding, output_padding, groups;
    struct tn_tensor *weight; /* [in, out/groups, k, k], PyTorch's layout */
    struct tn_tensor *bias;   /* [out] or NULL */
};

/* A ConvTranspose2d layer (dilation 1, zero padding); weight and bias drawn from rng with
 * fan_in = (out/groups) * k * k, as PyTorch computes it from weight dim 1. */
struct nn_conv_transpose2d *nn_conv_transpose2d_new(const char *name, int64_t in_channels,
                                                    int64_t out_channels, int kernel_size,
                                                    int stride, int padding, int output_padding,
                                                    int groups, bool bias, struct tn_rng *rng);

/* x [N, in, H, W] -> [N, out, Ho, Wo], Ho = (H-1)s - 2p + (k-1) + output_padding + 1. */
struct tn_tensor *nn_conv_transpose2d_forward(struct nn_conv_transpose2d *c,
                                              struct tn_tensor *x);

/* ---- Conv1d ---- */

struct nn_conv1d {
    struct nn_module base;
    int64_t in_channels, out_channels;
    int kernel_size, stride, padding, groups;
    struct tn_tensor *weight; /* [out, in/groups, k] */
    struct tn_tensor *bias;   /* [out] or NULL */
};

/* A Conv1d layer (dilation 1, zero padding) through ag_conv1d; fan_in = (in/groups) * k. */
struct nn_conv1d *nn_conv1d_new(const char *name, int64_t in_channels, int64_t out_channels,
                                int kernel_size, int stride, int padding, int groups, bool bias,
                                struct tn_rng *rng);

/* x [N, in, L] -> [N, out, Lo], Lo = (L + 2p - k)/s + 1. */
struct tn_tensor *nn_conv1d_forward(struct nn_conv1d *c, struct tn_tensor *x);

/* ---- BatchNorm1d / BatchNorm2d ---- */

#define NN_BN_EPS 1e-5f      /* PyTorch's default eps */
#define NN_BN_MOMENTUM 0.1f  /* PyTorch's default momentum (the GWAE priors use 0.5) */

struct nn_batchnorm {
    struct nn_module base;
    int64_t num_features;   /* C */
    float eps, momentum;
    bool affine;
    int spatial_dims;       /* 1: BatchNorm1d ([N,C] or [N,C,L]); 2: BatchNorm2d ([N,C,H,W]) */
    struct tn_tensor *weight, *bias; /* [C] params "weight" (ones), "bias" (zeros); NULL if !affine */
    /* buffers "running_mean" [C] (zeros) and "running_var" [C] (ones), by name */
};

/* BatchNorm1d over [N, C] or [N, C, L]: statistics per channel over N (and L). */
struct nn_batchnorm *nn_batchnorm1d_new(const char *name, int64_t num_features, float eps,
                                        float momentum, bool affine);

/* BatchNorm2d over [N, C, H, W]: statistics per channel over N, H, W. */
struct nn_batchnorm *nn_batchnorm2d_new(const char *name, int64_t num_features, float eps,
                                        float momentum, bool affine);

/* Training mode: y = (x - mean) / sqrt(var + eps) with the batch mean and biased variance
 * (gradients flow through both), then running = (1 - momentum) running + momentum batch
 * under no-grad, with the UNBIASED variance for running_var. Evaluation mode: the running
 * statistics. Then y * weight + bias when affine. Same shape out as in. */
struct tn_tensor *nn_batchnorm_forward(struct nn_batchnorm *bn, struct tn_tensor *x);

/* ---- spectral normalisation ---- */

/* Applies spectral normalisation to a Linear or Conv2d m, as torch.nn.utils.spectral_norm:
 * the parameter "weight" becomes "weight_orig" (moved after "bias", as in PyTorch), buffers
 * "weight_u" [out] and "weight_v" [in*k*k] are drawn N(0,1) from rng (u first) and
 * normalised. Every forward then uses W = weight_orig / sigma (section 3 of the spec), with
 * n_power_iterations (>= 1; PyTorch's default is 1) power steps first in training mode.
 * Returns m. */
struct nn_module *nn_spectral_norm(struct nn_module *m, int n_power_iterations,
                                   struct tn_rng *rng);

/* The normalised weight for a forward call (used by the Linear and Conv2d forwards):
 * in training mode, n power steps under no-grad, v = normalize(W_mat^T u),
 * u = normalize(W_mat v), W_mat = weight_orig viewed [out, K], written into the buffers;
 * then sigma = u^T W_mat v recorded with (copies of) u, v as constants, and
 * weight_orig / sigma returned, shaped like weight_orig. */
struct tn_tensor *nn_spectral_weight(struct nn_module *m, const struct nn_spectral *sn,
                                     struct tn_tensor *weight_orig);

/* sigma = u^T W_mat v from the stored u, v (no power step, no graph): the current estimate of
 * the largest singular value of weight_orig. */
float nn_spectral_sigma(struct nn_module *m);

/* ---- activations ---- */

enum nn_activation_kind {
    NN_ACT_RELU,
    NN_ACT_LEAKY_RELU, /* x > 0 ? x : param * x */
    NN_ACT_SILU,
    NN_ACT_LEAKY_SILU, /* (1 - param) silu(x) + param x */
    NN_ACT_SIGMOID,
    NN_ACT_TANH,
};

#define NN_LEAKY_SILU_DEFAULT 0.2f

struct nn_activation {
    struct nn_module base; /* no parameters */
    enum nn_activation_kind kind;
    float param;           /* LeakyReLU slope or LeakySiLU a; unused otherwise */
};

/* LeakySiLU(a): (1 - a) * x * sigmoid(x) + a * x, elementwise. */
struct tn_tensor *nn_leaky_silu(struct tn_tensor *x, float a);

/* An activation module of the given kind (param as the enum says). */
struct nn_activation *nn_activation_new(const char *name, enum nn_activation_kind kind,
                                        float param);

/* ReLU module. */
struct nn_activation *nn_relu_new(const char *name);

/* LeakyReLU(slope) module (the critic uses 0.2). */
struct nn_activation *nn_leaky_relu_new(const char *name, float slope);

/* SiLU module. */
struct nn_activation *nn_silu_new(const char *name);

/* LeakySiLU(a) module (the GWAE priors use a = NN_LEAKY_SILU_DEFAULT = 0.2). */
struct nn_activation *nn_leaky_silu_new(const char *name, float a);

/* Sigmoid module. */
struct nn_activation *nn_sigmoid_new(const char *name);

/* Tanh module. */
struct nn_activation *nn_tanh_new(const char *name);

/* Applies the activation to x (any shape). */
struct tn_tensor *nn_activation_forward(struct nn_activation *a, struct tn_tensor *x);

/* ---- shape modules ---- */

struct nn_reshape {
    struct nn_module base; /* no parameters */
    int axis;              /* flatten: first dim merged; unflatten: the dim split */
    int ndim;              /* unflatten: the sizes that dim becomes; 0 for flatten */
    int64_t shape[TN_MAX_DIMS];
};

/* Flatten(start_axis): merges dims start_axis.. into one (PyTorch's default is 1). */
struct nn_reshape *nn_flatten_new(const char *name, int start_axis);

/* Unflatten(axis, sizes): splits dim axis into ndim dims of the given sizes. */
struct nn_reshape *nn_unflatten_new(const char *name, int axis, int ndim, const int64_t *sizes);

/* Flattens or unflattens x (a view when x's layout allows it). */
struct tn_tensor *nn_reshape_forward(struct nn_reshape *r, struct tn_tensor *x);

/* ---- Sequential ---- */

struct nn_sequential {
    struct nn_module base; /* the children are base.children, applied in order */
};

/* An empty Sequential. */
struct nn_sequential *nn_sequential_new(const char *name);

/* Appends child (which must have a one-tensor forward; the Sequential frees it); returns it.
 * A child with an empty name "" is named by its position, "0", "1", ..., as PyTorch's
 * Sequential names its children (so dotted names match PyTorch's state_dict). */
struct nn_module *nn_sequential_add(struct nn_sequential *s, struct nn_module *child);

/* A Sequential of the modules listed, up to a terminating NULL. */
struct nn_sequential *nn_sequential_of(const char *name, ...);

/* Applies the children in order: x -> c0 -> c1 -> ... (x itself when there are none). */
struct tn_tensor *nn_sequential_forward(struct nn_sequential *s, struct tn_tensor *x);

#endif
