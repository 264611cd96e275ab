/* nn_activation.c - the parameter-free modules of nn_layers.h: activations (ReLU,
 * LeakyReLU, SiLU, LeakySiLU, Sigmoid, Tanh), Flatten/Unflatten, and the Sequential container
 * that chains one-tensor modules through nn_forward. No weights, no buffers here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn_layers.h"

/* ---- activations ---- */

struct tn_tensor *nn_leaky_silu(struct tn_tensor *x, float a) {
    return ag_add(ag_mul_scalar(ag_silu(x), 1.0f - a), ag_mul_scalar(x, a));
}

struct tn_tensor *nn_activation_forward(struct nn_activation *a, struct tn_tensor *x) {
    switch (a->kind) {
    case NN_ACT_RELU: return ag_relu(x);
    case NN_ACT_LEAKY_RELU: return ag_leaky_relu(x, a->param);
    case NN_ACT_SILU: return ag_silu(x);
    case NN_ACT_LEAKY_SILU: return nn_leaky_silu(x, a->param);
    case NN_ACT_SIGMOID: return ag_sigmoid(x);
    case NN_ACT_TANH: return ag_tanh(x);
    }
    TN_FATAL("nn_activation_forward", "%s: unknown activation %d", a->base.name, (int)a->kind);
}

static struct tn_tensor *activation_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_activation_forward((struct nn_activation *)m, x);
}

struct nn_activation *nn_activation_new(const char *name, enum nn_activation_kind kind,
                                        float param) {
    TN_CHECK(kind >= NN_ACT_RELU && kind <= NN_ACT_TANH, "nn_activation_new",
             "%s: unknown activation %d", name, (int)kind);
    struct nn_activation *a = calloc(1, sizeof *a);
    TN_CHECK(a, "nn_activation_new", "out of host memory");
    nn_module_init(&a->base, name, activation_module_forward, NULL);
    a->kind = kind;
    a->param = param;
    return a;
}

struct nn_activation *nn_relu_new(const char *name) {
    return nn_activation_new(name, NN_ACT_RELU, 0.0f);
}

struct nn_activation *nn_leaky_relu_new(const char *name, float slope) {
    return nn_activation_new(name, NN_ACT_LEAKY_RELU, slope);
}

struct nn_activation *nn_silu_new(const char *name) {
    return nn_activation_new(name, NN_ACT_SILU, 0.0f);
}

struct nn_activation *nn_leaky_silu_new(const char *name, float a) {
    return nn_activation_new(name, NN_ACT_LEAKY_SILU, a);
}

struct nn_activation *nn_sigmoid_new(const char *name) {
    return nn_activation_new(name, NN_ACT_SIGMOID, 0.0f);
}

struct nn_activation *nn_tanh_new(const char *name) {
    return nn_activation_new(name, NN_ACT_TANH, 0.0f);
}

/* ---- Flatten / Unflatten ---- */

static struct tn_tensor *reshape_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_reshape_forward((struct nn_reshape *)m, x);
}

static struct nn_reshape *reshape_new(const char *name, int axis, int ndim,
                                      const int64_t *sizes) {
    TN_CHECK(axis >= 0 && ndim >= 0 && ndim < TN_MAX_DIMS, "nn_reshape_new",
             "%s: axis %d, %d sizes", name, axis, ndim);
    struct nn_reshape *r = calloc(1, sizeof *r);
    TN_CHECK(r, "nn_reshape_new", "out of host memory");
    nn_module_init(&r->base, name, reshape_module_forward, NULL);
    r->axis = axis;
    r->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        TN_CHECK(sizes[d] > 0, "nn_unflatten_new", "%s: size %lld", name, (long long)sizes[d]);
        r->shape[d] = sizes[d];
    }
    return r;
}

struct nn_reshape *nn_flatten_new(const char *name, int start_axis) {
    return reshape_new(name, start_axis, 0, NULL);
}

struct nn_reshape *nn_unflatten_new(const char *name, int axis, int ndim, const int64_t *sizes) {
    TN_CHECK(ndim >= 1, "nn_unflatten_new", "%s: no sizes", name);
    return reshape_new(name, axis, ndim, sizes);
}

struct tn_tensor *nn_reshape_forward(struct nn_reshape *r, struct tn_tensor *x) {
    if (r->ndim == 0) return ag_flatten(x, r->axis);
    char buf[96];
    TN_CHECK(r->axis < x->ndim && x->ndim - 1 + r->ndim <= TN_MAX_DIMS &&
                 tn_numel_of(r->ndim, r->shape) == x->shape[r->axis],
             "nn_unflatten", "%s: cannot split dim %d of %s", r->base.name, r->axis,
             tn_shape_str(x->ndim, x->shape, buf, sizeof buf));
    int64_t shape[TN_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < x->ndim; d++) {
        if (d != r->axis) {
            shape[k++] = x->shape[d];
            continue;
        }
        for (int j = 0; j < r->ndim; j++) shape[k++] = r->shape[j];
    }
    return ag_reshape(x, k, shape);
}

/* ---- Sequential ---- */

static struct tn_tensor *sequential_module_forward(struct nn_module *m, struct tn_tensor *x) {
    return nn_sequential_forward((struct nn_sequential *)m, x);
}

struct nn_sequential *nn_sequential_new(const char *name) {
    struct nn_sequential *s = calloc(1, sizeof *s);
    TN_CHECK(s, "nn_sequential_new", "out of host memory");
    nn_module_init(&s->base, name, sequential_module_forward, NULL);
    return s;
}

struct nn_module *nn_sequential_add(struct nn_sequential *s, struct nn_module *child) {
    TN_CHECK(child, "nn_sequential_add", "%s: NULL child", s->base.name);
    TN_CHECK(child->forward, "nn_sequential_add", "%s: child %s has no one-tensor forward",
             s->base.name, child->name);
    if (child->name[0] == '\0') snprintf(child->name, sizeof child->name, "%d", s->base.n_children);
    return nn_module_add_child(&s->base, child);
}

struct nn_sequential *nn_sequential_of(const char *name, ...) {
    struct nn_sequential *s = nn_sequential_new(name);
    va_list args;
    va_start(args, name);
    for (struct nn_module *child; (child = va_arg(args, struct nn_module *)) != NULL;)
        nn_sequential_add(s, child);
    va_end(args);
    return s;
}

struct tn_tensor *nn_sequential_forward(struct nn_sequential *s, struct tn_tensor *x) {
    for (int i = 0; i < s->base.n_children; i++) x = nn_forward(s->base.children[i], x);
    return x;
}
