/* nn_norm.c - BatchNorm1d and BatchNorm2d of nn_layers.h, as PyTorch's with
 * track_running_stats: batch statistics in training mode (gradients flow through the mean and
 * the biased variance), running statistics in evaluation mode. The running-statistics update
 * runs under no-grad and writes the buffers in place, so references to them (a checkpoint
 * list) stay valid; graphs use copies. PyTorch's num_batches_tracked counter is not kept (it
 * only matters when momentum is None).
 */
#include <stdlib.h>
#include <string.h>

#include "nn_layers.h"

static struct tn_tensor *batchnorm_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_batchnorm_forward((struct nn_batchnorm *)m, x);
}

static struct nn_batchnorm *batchnorm_new(const char *name, int64_t num_features, float eps,
                                          float momentum, bool affine, int spatial_dims) {
    TN_CHECK(num_features > 0 && eps >= 0.0f && momentum >= 0.0f && momentum <= 1.0f,
             "nn_batchnorm_new", "%s: %lld features, eps %g, momentum %g", name,
             (long long)num_features, eps, momentum);
    struct nn_batchnorm *bn = calloc(1, sizeof *bn);
    TN_CHECK(bn, "nn_batchnorm_new", "out of host memory");
    nn_module_init(&bn->base, name, batchnorm_module_forward, NULL);
    bn->num_features = num_features;
    bn->eps = eps;
    bn->momentum = momentum;
    bn->affine = affine;
    bn->spatial_dims = spatial_dims;
    tn_scope_begin();
    if (affine) {
        bn->weight = nn_module_add_param(&bn->base, "weight", tn_full(TN_CPU, 1, &num_features, 1.0f));
        bn->bias = nn_module_add_param(&bn->base, "bias", tn_zeros(TN_CPU, 1, &num_features));
    }
    nn_module_add_buffer(&bn->base, "running_mean", tn_zeros(TN_CPU, 1, &num_features));
    nn_module_add_buffer(&bn->base, "running_var", tn_full(TN_CPU, 1, &num_features, 1.0f));
    tn_scope_end();
    return bn;
}

struct nn_batchnorm *nn_batchnorm1d_new(const char *name, int64_t num_features, float eps,
                                        float momentum, bool affine) {
    return batchnorm_new(name, num_features, eps, momentum, affine, 1);
}

struct nn_batchnorm *nn_batchnorm2d_new(const char *name, int64_t num_features, float eps,
                                        float momentum, bool affine) {
    return batchnorm_new(name, num_features, eps, momentum, affine, 2);
}

static struct tn_tensor *buffer(struct nn_module *m, const char *name) {
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0) return m->buffers[i].tensor;
    TN_FATAL("nn_batchnorm", "module %s has no buffer %s", m->name, name);
}

/* running = (1 - momentum) running + momentum batch, written into the buffer [C] in place */
static void update_running(struct nn_batchnorm *bn, const char *name,
                           struct tn_tensor *batch_stat) {
    struct tn_tensor *running = buffer(&bn->base, name);
    struct tn_tensor *stat = ag_reshape(batch_stat, 1, &bn->num_features);
    struct tn_tensor *updated = ag_add(ag_mul_scalar(running, 1.0f - bn->momentum),
                                       ag_mul_scalar(stat, bn->momentum));
    tn_copy_into(running, updated); /* on the buffer's device: no host round trip */
}

/* A copy of a running statistic shaped [1, C, 1...] for x's rank: the graph holds the copy,
 * so a later update of the buffer does not invalidate it. */
static struct tn_tensor *running_copy(struct nn_batchnorm *bn, const char *name, int ndim,
                                      const int64_t *channel_shape) {
    struct tn_tensor *running = buffer(&bn->base, name);
    struct tn_op_params none = {0};
    return ag_reshape(tn_op_run(TN_OP_CONTIGUOUS, 1, &running, &none), ndim, channel_shape);
}

struct tn_tensor *nn_batchnorm_forward(struct nn_batchnorm *bn, struct tn_tensor *x) {
    char buf[96];
    bool shape_ok = bn->spatial_dims == 1 ? (x->ndim == 2 || x->ndim == 3) : x->ndim == 4;
    TN_CHECK(shape_ok && x->shape[1] == bn->num_features, "nn_batchnorm_forward",
             "%s: input %s, expected %s with %lld channels", bn->base.name,
             tn_shape_str(x->ndim, x->shape, buf, sizeof buf),
             bn->spatial_dims == 1 ? "[N,C] or [N,C,L]" : "[N,C,H,W]",
             (long long)bn->num_features);
    uint32_t axes = AG_AXIS(0);
    int64_t channel_shape[4] = {1, bn->num_features, 1, 1}; /* broadcasts [C] over x */
    for (int d = 2; d < x->ndim; d++) axes |= AG_AXIS(d);
    int64_t per_channel = x->numel / bn->num_features;
    struct tn_tensor *y;
    if (bn->base.training) {
        TN_CHECK(per_channel > 1, "nn_batchnorm_forward",
                 "%s: expected more than 1 value per channel when training, got input %s",
                 bn->base.name, tn_shape_str(x->ndim, x->shape, buf, sizeof buf));
        struct tn_tensor *mean = ag_mean(x, axes, true);              /* [1,C,(1,1)] */
        struct tn_tensor *centred = ag_sub(x, mean);
        struct tn_tensor *var = ag_mean(ag_square(centred), axes, true); /* biased */
        y = ag_div(centred, ag_sqrt(ag_add_scalar(var, bn->eps)));
        tn_scope_begin();
        bool mode = ag_set_grad_enabled(false);
        update_running(bn, "running_mean", mean);
        /* the running variance takes the unbiased estimate: n/(n-1) times the biased one */
        update_running(bn, "running_var",
                       ag_mul_scalar(var, (float)((double)per_channel / (double)(per_channel - 1))));
        ag_set_grad_enabled(mode);
        tn_scope_end();
    } else {
        struct tn_tensor *mean = running_copy(bn, "running_mean", x->ndim, channel_shape);
        struct tn_tensor *var = running_copy(bn, "running_var", x->ndim, channel_shape);
        y = ag_div(ag_sub(x, mean), ag_sqrt(ag_add_scalar(var, bn->eps)));
    }
    if (bn->affine) {
        y = ag_add(ag_mul(y, ag_reshape(bn->weight, x->ndim, channel_shape)),
                   ag_reshape(bn->bias, x->ndim, channel_shape));
    }
    return y;
}
