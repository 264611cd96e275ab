/* nn_linear.c - the Linear layer of nn_layers.h: y = x W^T + b with W stored [out, in].
 * Spectral normalisation (nn_spectral.c) swaps W for weight_orig / sigma in the forward.
 */
#include <stdlib.h>

#include "nn_init.h"
#include "nn_layers.h"

static struct tn_tensor *linear_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_linear_forward((struct nn_linear *)m, x);
}

struct nn_linear *nn_as_linear(struct nn_module *m) {
    return m && m->forward == linear_module_forward ? (struct nn_linear *)m : NULL;
}

struct nn_linear *nn_linear_new(const char *name, int64_t in_features, int64_t out_features,
                                bool bias, struct tn_rng *rng) {
    TN_CHECK(in_features > 0 && out_features > 0, "nn_linear_new", "%s: sizes %lld -> %lld",
             name, (long long)in_features, (long long)out_features);
    struct nn_linear *l = calloc(1, sizeof *l);
    TN_CHECK(l, "nn_linear_new", "out of host memory");
    nn_module_init(&l->base, name, linear_module_forward, NULL);
    l->in_features = in_features;
    l->out_features = out_features;
    tn_scope_begin();
    int64_t w_shape[2] = {out_features, in_features};
    struct tn_tensor *w = tn_empty(TN_CPU, 2, w_shape);
    struct tn_tensor *b = bias ? tn_empty(TN_CPU, 1, &out_features) : NULL;
    nn_init_default(w, b, rng);
    l->weight = nn_module_add_param(&l->base, "weight", w);
    if (b) l->bias = nn_module_add_param(&l->base, "bias", b);
    tn_scope_end();
    return l;
}

struct tn_tensor *nn_linear_forward(struct nn_linear *l, struct tn_tensor *x) {
    TN_CHECK(x->ndim >= 1 && x->shape[x->ndim - 1] == l->in_features, "nn_linear_forward",
             "%s: input's last dim is %lld, expected %lld", l->base.name,
             (long long)(x->ndim ? x->shape[x->ndim - 1] : 0), (long long)l->in_features);
    struct tn_tensor *w = l->sn.n_power_iterations > 0
                              ? nn_spectral_weight(&l->base, &l->sn, l->weight)
                              : l->weight;
    bool vector = x->ndim == 1;
    struct tn_tensor *x2 = vector ? ag_unsqueeze(x, 0) : x;   /* [.., in] */
    struct tn_tensor *y = ag_matmul(x2, ag_transpose(w, 0, 1)); /* [.., in] x [in, out] */
    if (vector) y = ag_squeeze(y, 0);
    return l->bias ? ag_add(y, l->bias) : y;
}
