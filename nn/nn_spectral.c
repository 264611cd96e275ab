/* nn_spectral.c - spectral normalisation of a Linear or Conv2d, as PyTorch's
 * torch.nn.utils.spectral_norm (the old, hook-based API; gwae-spec.md section 3).
 *
 * The raw weight is the parameter "weight_orig", viewed as W_mat [out, K] (K = in*k*k for a
 * conv, in for a linear). Buffers "weight_u" [out] and "weight_v" [K] hold the power-iteration
 * vectors. Before each forward in training mode, n steps run under no-grad:
 *   v = normalize(W_mat^T u),  u = normalize(W_mat v),  normalize(y) = y / max(||y||, eps)
 * and the results are copied into the buffers in place. The graph of a call never holds the
 * buffers themselves but a copy (PyTorch's clone()), so later updates or checkpoint loads do
 * not invalidate it. Then sigma = u^T W_mat v is recorded with u, v as constants and the
 * forward uses W = weight_orig / sigma, so the engine's DIV rule gives
 * dL/dweight_orig = (G - <G, W> u v^T) / sigma. In evaluation mode no step runs.
 * This file holds no layer forward: nn_linear.c and nn_conv.c call nn_spectral_weight.
 */
#include <math.h>
#include <string.h>

#include "nn_layers.h"

static struct tn_tensor *buffer(struct nn_module *m, const char *name) {
    for (int i = 0; i < m->n_buffers; i++)
        if (strcmp(m->buffers[i].name, name) == 0) return m->buffers[i].tensor;
    TN_FATAL("nn_spectral_norm", "module %s has no buffer %s", m->name, name);
}

/* y / max(||y||_2, eps), for a vector y; call with grad mode off */
static struct tn_tensor *normalize(struct tn_tensor *y, float eps) {
    struct tn_tensor *norm = ag_sqrt(ag_sum_all(ag_square(y)));
    return ag_div(y, ag_clamp(norm, eps, INFINITY));
}

/* The spectral-norm state and raw weight of a Linear or Conv2d m (aborts for other kinds). */
static struct nn_spectral *layer_state(struct nn_module *m, struct tn_tensor **weight) {
    struct nn_linear *l = nn_as_linear(m);
    if (l) {
        *weight = l->weight;
        return &l->sn;
    }
    struct nn_conv2d *c = nn_as_conv2d(m);
    TN_CHECK(c, "nn_spectral_norm", "module %s is neither a Linear nor a Conv2d", m->name);
    *weight = c->weight;
    return &c->sn;
}

/* Renames parameter "weight" to "weight_orig" and moves it to the end of m's parameters,
 * where PyTorch's register_parameter puts it (after "bias"). */
static void rename_weight(struct nn_module *m) {
    int at = -1;
    for (int i = 0; i < m->n_params && at < 0; i++)
        if (strcmp(m->params[i].name, "weight") == 0) at = i;
    TN_CHECK(at >= 0, "nn_spectral_norm", "module %s has no parameter weight", m->name);
    struct tn_tensor *w = m->params[at].tensor; /* the module's reference, moved below */
    bool requires_grad = w->requires_grad;
    memmove(&m->params[at], &m->params[at + 1], (size_t)(m->n_params - at - 1) * sizeof *m->params);
    m->n_params--;
    nn_module_add_param(m, "weight_orig", w);
    tn_release(w);
    tn_set_requires_grad(w, requires_grad); /* a frozen layer stays frozen */
}

struct nn_module *nn_spectral_norm(struct nn_module *m, int n_power_iterations,
                                   struct tn_rng *rng) {
    struct tn_tensor *w;
    struct nn_spectral *sn = layer_state(m, &w);
    TN_CHECK(sn->n_power_iterations == 0, "nn_spectral_norm",
             "module %s is already spectrally normalised", m->name);
    TN_CHECK(n_power_iterations >= 1, "nn_spectral_norm",
             "%s: n_power_iterations must be positive, got %d", m->name, n_power_iterations);
    rename_weight(m);
    int64_t out = w->shape[0], k = w->numel / out;
    tn_scope_begin();
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *u = normalize(tn_randn(TN_CPU, 1, &out, rng), NN_SPECTRAL_EPS);
    struct tn_tensor *v = normalize(tn_randn(TN_CPU, 1, &k, rng), NN_SPECTRAL_EPS);
    ag_set_grad_enabled(mode);
    nn_module_add_buffer(m, "weight_u", u);
    nn_module_add_buffer(m, "weight_v", v);
    tn_scope_end();
    sn->n_power_iterations = n_power_iterations;
    sn->eps = NN_SPECTRAL_EPS;
    return m;
}

/* sigma = u^T W_mat v as a 0-dim tensor, recorded when weight_orig wants gradients */
static struct tn_tensor *sigma_of(struct tn_tensor *weight_orig, struct tn_tensor *u,
                                  struct tn_tensor *v) {
    int64_t out = u->numel, k = v->numel;
    int64_t mat[2] = {out, k}, col_u[2] = {out, 1}, col_v[2] = {k, 1};
    struct tn_tensor *w_v = ag_matmul(ag_reshape(weight_orig, 2, mat), ag_reshape(v, 2, col_v));
    return ag_sum_all(ag_mul(ag_reshape(u, 2, col_u), w_v)); /* u [out,1] . W_mat v [out,1] */
}

struct tn_tensor *nn_spectral_weight(struct nn_module *m, const struct nn_spectral *sn,
                                     struct tn_tensor *weight_orig) {
    int64_t out = weight_orig->shape[0], k = weight_orig->numel / out;
    int64_t mat[2] = {out, k}, row_u[2] = {1, out}, col_v[2] = {k, 1};
    struct tn_tensor *u_buf = buffer(m, "weight_u"), *v_buf = buffer(m, "weight_v");
    struct tn_tensor *u = u_buf, *v = v_buf;
    bool mode = ag_set_grad_enabled(false);
    /* the u, v that sigma uses are new tensors, never written again: this call's snapshot */
    if (m->training) {
        struct tn_tensor *w_mat = ag_reshape(weight_orig, 2, mat);
        for (int i = 0; i < sn->n_power_iterations; i++) {
            /* W_mat^T u, computed as the row u^T W_mat [1, K] */
            v = normalize(ag_reshape(ag_matmul(ag_reshape(u, 2, row_u), w_mat), 1, &k), sn->eps);
            u = normalize(ag_reshape(ag_matmul(w_mat, ag_reshape(v, 2, col_v)), 1, &out), sn->eps);
        }
        tn_copy_into(u_buf, u); /* in place, on the buffers' device */
        tn_copy_into(v_buf, v);
    } else {
        struct tn_op_params none = {0};
        u = tn_op_run(TN_OP_CONTIGUOUS, 1, &u_buf, &none);
        v = tn_op_run(TN_OP_CONTIGUOUS, 1, &v_buf, &none);
    }
    ag_set_grad_enabled(mode);
    return ag_div(weight_orig, sigma_of(weight_orig, u, v));
}

float nn_spectral_sigma(struct nn_module *m) {
    struct tn_tensor *w;
    struct nn_spectral *sn = layer_state(m, &w);
    TN_CHECK(sn->n_power_iterations > 0, "nn_spectral_sigma",
             "module %s is not spectrally normalised", m->name);
    tn_scope_begin();
    bool mode = ag_set_grad_enabled(false);
    float sigma = tn_item(sigma_of(w, buffer(m, "weight_u"), buffer(m, "weight_v")));
    ag_set_grad_enabled(mode);
    tn_scope_end();
    return sigma;
}
