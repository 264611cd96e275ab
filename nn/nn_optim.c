/* nn_optim.c - SGD, Adam, RMSprop and AdamNormGrad updates of nn_optim.h, and their state.
 *
 * On the CPU the updates are elementwise loops over host memory: a dense tensor is updated
 * through tn_data() in place, a strided one is copied to the host, updated and written back
 * with tn_write_host. On a device, dense tensors (all that nn_module_to_device and
 * nn_optim_to_device make) go to the backend's fused update (tn_update.h) with the same
 * scalars and float operations, and never leave the device (a strided gradient is made dense
 * on the device first); a strided parameter or state is staged through the host as on the
 * CPU. Each loop is written in float with the
 * operations in PyTorch's order (for example addcmul is self + value * t1 * t2, evaluated
 * left to right) and with PyTorch's Python-side scalars (bias corrections) in double.
 * Results agree with PyTorch to float rounding, not bit for bit: PyTorch's vector kernels
 * fuse some multiply-adds. AdamNormGrad divides the gradient by its norm with the engine's ops
 * (on the parameter's device, no host read) and is then Adam with eps / sqrt(1 - beta2^t) in
 * place of eps, which is its authors' formula rearranged into Adam's.
 */
#include "nn_optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/tn_update.h"

struct nn_optim_opts nn_optim_defaults(enum nn_optim_kind kind, double lr) {
    struct nn_optim_opts o = {.kind = kind, .lr = lr};
    if (kind == NN_OPTIM_ADAM || kind == NN_OPTIM_ADAM_NORMGRAD) {
        o.beta1 = 0.9;
        o.beta2 = 0.999;
        o.eps = 1e-8;
    } else if (kind == NN_OPTIM_RMSPROP) {
        o.alpha = 0.99;
        o.eps = 1e-8;
    }
    return o;
}

static void check_opts(const struct nn_optim_opts *o) {
    TN_CHECK(o->kind >= NN_OPTIM_SGD && o->kind <= NN_OPTIM_ADAM_NORMGRAD, "nn_optim_new",
             "unknown optimizer kind %d", (int)o->kind);
    TN_CHECK(o->lr >= 0.0, "nn_optim_new", "learning rate %g is negative", o->lr);
    TN_CHECK(o->momentum >= 0.0, "nn_optim_new", "momentum %g is negative", o->momentum);
    if (o->kind == NN_OPTIM_ADAM || o->kind == NN_OPTIM_ADAM_NORMGRAD) {
        TN_CHECK(o->beta1 >= 0.0 && o->beta1 < 1.0 && o->beta2 >= 0.0 && o->beta2 < 1.0,
                 "nn_optim_new", "Adam betas (%g, %g) must lie in [0, 1)", o->beta1, o->beta2);
        TN_CHECK(o->eps >= 0.0, "nn_optim_new", "eps %g is negative", o->eps);
    }
    if (o->kind == NN_OPTIM_RMSPROP) {
        TN_CHECK(o->alpha >= 0.0 && o->alpha <= 1.0, "nn_optim_new",
                 "RMSprop alpha %g must lie in [0, 1]", o->alpha);
        TN_CHECK(o->eps >= 0.0, "nn_optim_new", "eps %g is negative", o->eps);
    }
}

struct nn_optim *nn_optim_new(const struct nn_optim_opts *opts, int n,
                              const struct nn_entry *entries) {
    check_opts(opts);
    TN_CHECK(n >= 0, "nn_optim_new", "negative parameter count %d", n);
    struct nn_optim *o = calloc(1, sizeof *o);
    TN_CHECK(o, "nn_optim_new", "out of host memory");
    o->opts = *opts;
    o->params = calloc((size_t)(n > 0 ? n : 1), sizeof *o->params);
    TN_CHECK(o->params, "nn_optim_new", "out of host memory");
    for (int i = 0; i < n; i++) {
        if (entries[i].is_buffer) continue;
        TN_CHECK(strlen(entries[i].name) < NN_OPTIM_NAME_MAX, "nn_optim_new", "name too long");
        for (int k = 0; k < o->n_params; k++) {
            TN_CHECK(strcmp(o->params[k].name, entries[i].name) != 0, "nn_optim_new",
                     "parameter %s listed twice", entries[i].name);
            TN_CHECK(o->params[k].param != entries[i].tensor, "nn_optim_new",
                     "parameters %s and %s are the same tensor", o->params[k].name,
                     entries[i].name);
        }
        struct nn_optim_param *p = &o->params[o->n_params++];
        snprintf(p->name, sizeof p->name, "%s", entries[i].name);
        p->param = tn_retain(entries[i].tensor);
    }
    return o;
}

void nn_optim_free(struct nn_optim *o) {
    if (!o) return;
    for (int i = 0; i < o->n_params; i++) {
        tn_release(o->params[i].param);
        for (int s = 0; s < NN_OPTIM_MAX_SLOTS; s++) tn_release(o->params[i].state[s]);
    }
    free(o->params);
    free(o);
}

void nn_optim_zero_grad(struct nn_optim *o) {
    for (int i = 0; i < o->n_params; i++) ag_zero_grad(o->params[i].param);
}

void nn_optim_set_lr(struct nn_optim *o, double lr) {
    TN_CHECK(lr >= 0.0, "nn_optim_set_lr", "learning rate %g is negative", lr);
    o->opts.lr = lr;
}

const char *nn_optim_kind_name(enum nn_optim_kind kind) {
    switch (kind) {
    case NN_OPTIM_SGD: return "sgd";
    case NN_OPTIM_ADAM: return "adam";
    case NN_OPTIM_RMSPROP: return "rmsprop";
    case NN_OPTIM_ADAM_NORMGRAD: return "adam-normgrad";
    }
    return "unknown";
}

int nn_optim_n_slots(const struct nn_optim *o) {
    switch (o->opts.kind) {
    case NN_OPTIM_SGD: return o->opts.momentum != 0.0 ? 1 : 0;
    case NN_OPTIM_ADAM: return 2;
    case NN_OPTIM_RMSPROP: return o->opts.momentum != 0.0 ? 2 : 1;
    case NN_OPTIM_ADAM_NORMGRAD: return 2;
    }
    return 0;
}

const char *nn_optim_slot_name(const struct nn_optim *o, int slot) {
    TN_CHECK(slot >= 0 && slot < nn_optim_n_slots(o), "nn_optim_slot_name", "no slot %d", slot);
    static const char *const names[][NN_OPTIM_MAX_SLOTS] = {
        [NN_OPTIM_SGD] = {"momentum_buffer", NULL},
        [NN_OPTIM_ADAM] = {"exp_avg", "exp_avg_sq"},
        [NN_OPTIM_RMSPROP] = {"square_avg", "momentum_buffer"},
        [NN_OPTIM_ADAM_NORMGRAD] = {"exp_avg", "exp_avg_sq"},
    };
    return names[o->opts.kind][slot];
}

/* Zeros shaped like p, owned by the caller whatever scope is open. */
static struct tn_tensor *state_like(struct tn_tensor *p) {
    tn_scope_begin();
    struct tn_tensor *t = tn_keep(tn_zeros(p->storage->device, p->ndim, p->shape));
    tn_scope_end();
    return t;
}

void nn_optim_init_state(struct nn_optim *o) {
    int slots = nn_optim_n_slots(o);
    for (int i = 0; i < o->n_params; i++)
        for (int s = 0; s < slots; s++)
            if (!o->params[i].state[s]) o->params[i].state[s] = state_like(o->params[i].param);
}

void nn_optim_collect_state(struct nn_optim *o, const char *prefix, struct nn_entry_list *list) {
    nn_optim_init_state(o);
    int slots = nn_optim_n_slots(o);
    for (int i = 0; i < o->n_params; i++)
        for (int s = 0; s < slots; s++) {
            if (list->n == list->cap) {
                int cap = list->cap ? 2 * list->cap : 32;
                struct nn_entry *grown = realloc(list->items, (size_t)cap * sizeof *grown);
                TN_CHECK(grown, "nn_optim_collect_state", "out of host memory");
                list->items = grown;
                list->cap = cap;
            }
            struct nn_entry *e = &list->items[list->n++];
            int len = snprintf(e->name, sizeof e->name, "%s%s%s.%s", prefix, *prefix ? "." : "",
                               o->params[i].name, nn_optim_slot_name(o, s));
            TN_CHECK(len < (int)sizeof e->name, "nn_optim_collect_state", "name too long");
            e->tensor = o->params[i].state[s];
            e->is_buffer = true;
        }
}

/* ---- host access to a tensor's elements ---- */

struct host {
    struct tn_tensor *t;
    float *x;    /* t's elements in row-major order */
    bool staged; /* x is a host copy to write back, not t's own memory */
};

static struct host host_open(struct tn_tensor *t) {
    struct host h = {.t = t};
    if (t->storage->device.type == TN_DEVICE_CPU && tn_is_contiguous(t)) {
        h.x = tn_data(t);
        return h;
    }
    h.staged = true;
    h.x = malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
    TN_CHECK(h.x, "nn_optim_step", "out of host memory");
    tn_to_host(t, h.x);
    return h;
}

/* Ends access; a written tensor gets its new values and a bumped version. */
static void host_close(struct host *h, bool written) {
    if (h->staged) {
        if (written) tn_write_host(h->t, h->x);
        free(h->x);
    } else if (written) {
        tn_bump_version(h->t);
    }
}

/* ---- the updates; n elements, g the gradient, p the parameter ---- */

/* The scalars of step `step` (counted from 0), shared with the fused device update
 * (tn_update.h); Adam's bias corrections are computed in double, as PyTorch's Python side. */
static struct tn_update update_of(const struct nn_optim_opts *o, int64_t step) {
    struct tn_update u = {.neg_lr = (float)-o->lr, .momentum = (float)o->momentum,
                          .eps = (float)o->eps, .first = step == 0};
    switch (o->kind) {
    case NN_OPTIM_SGD: u.kind = TN_UPDATE_SGD; break;
    case NN_OPTIM_ADAM:
    case NN_OPTIM_ADAM_NORMGRAD: {
        double t = (double)(step + 1);
        double bias1 = 1.0 - pow(o->beta1, t), bias2 = 1.0 - pow(o->beta2, t);
        u.kind = TN_UPDATE_ADAM;
        u.neg_lr = (float)-(o->lr / bias1);
        u.bias2_sqrt = (float)sqrt(bias2);
        /* its authors' lr sqrt(c2) / c1 m / (sqrt(v) + eps), c1 and c2 the bias corrections,
         * is lr / c1 m / (sqrt(v) / sqrt(c2) + eps / sqrt(c2)): Adam with eps / sqrt(c2) */
        if (o->kind == NN_OPTIM_ADAM_NORMGRAD) u.eps = (float)(o->eps / sqrt(bias2));
        u.w = (float)(1.0 - o->beta1);
        u.small = fabsf(u.w) < 0.5f; /* PyTorch's lerp picks the form with the smaller error */
        u.decay = (float)o->beta2;
        u.rest = (float)(1.0 - o->beta2);
        break;
    }
    case NN_OPTIM_RMSPROP:
        u.kind = TN_UPDATE_RMSPROP;
        u.decay = (float)o->alpha;
        u.rest = (float)(1.0 - o->alpha);
        break;
    }
    return u;
}

/* SGD: buf = g at the first step, else buf = momentum buf + g; p = p - lr buf. */
static void sgd(const struct tn_update *u, int64_t n, const float *g, float *p, float *buf) {
    float neg_lr = u->neg_lr, momentum = u->momentum;
    for (int64_t i = 0; i < n; i++) {
        float d = g[i];
        if (buf) {
            buf[i] = u->first ? g[i] : buf[i] * momentum + g[i];
            d = buf[i];
        }
        p[i] = p[i] + neg_lr * d;
    }
}

/* Adam at step t (counted from 1): m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2;
 * p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps). */
static void adam(const struct tn_update *u, int64_t n, const float *g, float *p, float *m,
                 float *v) {
    float neg_step_size = u->neg_lr, bias2_sqrt = u->bias2_sqrt;
    float w = u->w, eps = u->eps;
    float beta2 = u->decay, one_minus_beta2 = u->rest;
    bool small = u->small;
    for (int64_t i = 0; i < n; i++) {
        m[i] = small ? m[i] + w * (g[i] - m[i]) : g[i] - (g[i] - m[i]) * (1.0f - w);
        v[i] = v[i] * beta2 + one_minus_beta2 * g[i] * g[i];
        float denom = sqrtf(v[i]) / bias2_sqrt + eps;
        p[i] = p[i] + neg_step_size * m[i] / denom;
    }
}

/* RMSprop: v = alpha v + (1 - alpha) g^2; avg = sqrt(v) + eps; without momentum
 * p = p - lr g / avg, with it buf = momentum buf + g / avg and p = p - lr buf. */
static void rmsprop(const struct tn_update *u, int64_t n, const float *g, float *p, float *v,
                    float *buf) {
    float alpha = u->decay, one_minus_alpha = u->rest;
    float eps = u->eps, neg_lr = u->neg_lr, momentum = u->momentum;
    for (int64_t i = 0; i < n; i++) {
        v[i] = v[i] * alpha + one_minus_alpha * g[i] * g[i];
        float avg = sqrtf(v[i]) + eps;
        if (buf) {
            buf[i] = buf[i] * momentum + g[i] / avg;
            p[i] = p[i] + neg_lr * buf[i];
        } else {
            p[i] = p[i] + neg_lr * g[i] / avg;
        }
    }
}

/* True when the fused device update can run: the parameter and its state dense on a
 * non-CPU device (the gradient is made dense there if it is not). */
static bool fused_on_device(const struct nn_optim_param *q, int slots) {
    if (q->param->storage->device.type == TN_DEVICE_CPU) return false;
    bool dense = tn_is_contiguous(q->param);
    for (int s = 0; s < slots; s++) dense = dense && tn_is_contiguous(q->state[s]);
    return dense;
}

/* One fused step on the device with gradient grad; a strided gradient (a transposed matmul
 * result) is first copied dense on the device rather than through the host. */
static void fused_step(const struct tn_update *u, struct nn_optim_param *q, struct tn_tensor *grad,
                       int slots) {
    tn_scope_begin();
    if (!tn_is_contiguous(grad)) {
        struct tn_op_params none = {0};
        grad = tn_op_run(TN_OP_CONTIGUOUS, 1, &grad, &none);
    }
    tn_update_apply(u, q->param, grad, slots ? q->state[0] : NULL, slots > 1 ? q->state[1] : NULL);
    tn_scope_end();
}

/* g / (|g|_2 + 1e-7), AdamNormGrad's gradient, in the current scope on g's device */
static struct tn_tensor *normalized(struct tn_tensor *g) {
    return ag_div(g, ag_add_scalar(ag_sqrt(ag_sum_all(ag_square(g))), 1e-7f));
}

static void step_param(struct nn_optim *o, struct nn_optim_param *q) {
    struct tn_tensor *grad = q->param->grad;
    char a[96], b[96];
    TN_CHECK(tn_same_shape(grad, q->param), "nn_optim_step", "%s: grad shape %s, param %s",
             q->name, tn_shape_str(grad->ndim, grad->shape, a, sizeof a),
             tn_shape_str(q->param->ndim, q->param->shape, b, sizeof b));
    TN_CHECK(tn_device_equal(grad->storage->device, q->param->storage->device), "nn_optim_step",
             "%s: grad and parameter are on different devices", q->name);
    int slots = nn_optim_n_slots(o);
    for (int s = 0; s < slots; s++)
        if (!q->state[s]) q->state[s] = state_like(q->param);

    struct tn_update u = update_of(&o->opts, q->step);
    tn_scope_begin();
    if (o->opts.kind == NN_OPTIM_ADAM_NORMGRAD) grad = normalized(grad);
    if (fused_on_device(q, slots)) {
        fused_step(&u, q, grad, slots);
        q->step++;
        tn_scope_end();
        return;
    }
    struct host g = host_open(grad), p = host_open(q->param), st[NN_OPTIM_MAX_SLOTS] = {{0}};
    for (int s = 0; s < slots; s++) st[s] = host_open(q->state[s]);
    int64_t n = q->param->numel;
    switch (o->opts.kind) {
    case NN_OPTIM_SGD: sgd(&u, n, g.x, p.x, slots ? st[0].x : NULL); break;
    case NN_OPTIM_ADAM: adam(&u, n, g.x, p.x, st[0].x, st[1].x); break;
    case NN_OPTIM_RMSPROP: rmsprop(&u, n, g.x, p.x, st[0].x, slots > 1 ? st[1].x : NULL); break;
    case NN_OPTIM_ADAM_NORMGRAD: adam(&u, n, g.x, p.x, st[0].x, st[1].x); break;
    }
    q->step++;
    for (int s = 0; s < slots; s++) host_close(&st[s], true);
    host_close(&p, true);
    host_close(&g, false);
    tn_scope_end();
}

void nn_optim_step(struct nn_optim *o) {
    bool previous = ag_set_grad_enabled(false);
    for (int i = 0; i < o->n_params; i++)
        if (o->params[i].param->grad) step_param(o, &o->params[i]);
    ag_set_grad_enabled(previous);
}

enum tn_status nn_optim_to_device(struct nn_optim *o, struct tn_device device) {
    for (int i = 0; i < o->n_params; i++)
        for (int k = 0; k < NN_OPTIM_MAX_SLOTS; k++)
            if (o->params[i].state[k]) {
                enum tn_status st = tn_move_to_device(o->params[i].state[k], device);
                if (st != TN_OK) return st;
            }
    return TN_OK;
}
