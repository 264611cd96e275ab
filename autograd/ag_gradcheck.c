/* ag_gradcheck.c - first- and second-order gradient checks against central differences.
 *
 * Both checks reduce the function to a scalar with a fixed random weight w, so every output
 * element is checked at once: f(x) = <fn(x), w>. Function values are combined in double on
 * the host ("double accumulation"), which keeps the finite differences of float32 functions
 * meaningful. Small inputs are checked element by element; large ones along random
 * directions v, comparing <grad, v> with (f(x + eps v) - f(x - eps v)) / (2 eps).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tensor/tn_random.h"
#include "ag.h"

static struct ag_check_opts defaults(const struct ag_check_opts *opts) {
    struct ag_check_opts o = opts ? *opts : (struct ag_check_opts){0};
    if (o.eps <= 0) o.eps = 1e-3;
    if (o.atol <= 0) o.atol = 1e-3;
    if (o.rtol <= 0) o.rtol = 1e-2;
    if (o.max_directions <= 0) o.max_directions = 64;
    if (o.seed == 0) o.seed = 12345;
    return o;
}

static float *host_copy(const struct tn_tensor *t) {
    float *h = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    TN_CHECK(h, "gradcheck", "out of host memory");
    tn_to_host(t, h);
    return h;
}

static double dot_host(const float *a, const float *b, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

/* The scalar a check differentiates, evaluated at the inputs' current values. */
typedef double (*scalar_fn)(void *state);

struct checker {
    struct ag_check_opts opts;
    struct ag_check_result *result;
    struct tn_rng rng;
};

/* Records one comparison; returns false when it fails. */
static bool compare(struct checker *c, int input, double analytic, double numeric) {
    double err = fabs(analytic - numeric) / (c->opts.atol + c->opts.rtol * fabs(numeric));
    if (err > c->result->max_error) {
        c->result->max_error = err;
        c->result->analytic = analytic;
        c->result->numeric = numeric;
        c->result->input = input;
    }
    if (err <= 1.0) return true;
    if (c->result->ok)
        snprintf(c->result->message, sizeof c->result->message,
                 "input %d: analytic %.6g vs numeric %.6g (error %.3g of tolerance)", input,
                 analytic, numeric, err);
    c->result->ok = false;
    return false;
}

/* Compares the analytic gradient `grad` of scalar f with central differences of f in target. */
static void check_target(struct checker *c, int index, struct tn_tensor *target,
                         const struct tn_tensor *grad, scalar_fn f, void *state) {
    int64_t n = target->numel;
    float *x0 = host_copy(target), *g = host_copy(grad), *x = malloc((size_t)(n ? n : 1) * sizeof(float));
    TN_CHECK(x, "gradcheck", "out of host memory");
    double eps = c->opts.eps;
    bool elementwise = n <= c->opts.max_directions;
    int64_t checks = elementwise ? n : c->opts.max_directions;
    float *v = malloc((size_t)(n ? n : 1) * sizeof(float));
    TN_CHECK(v, "gradcheck", "out of host memory");
    for (int64_t k = 0; k < checks; k++) {
        if (elementwise) {
            memset(v, 0, (size_t)n * sizeof(float));
            v[k] = 1.0f;
        } else {
            tn_rng_normal_host(&c->rng, v, n);
        }
        double fx[2];
        for (int side = 0; side < 2; side++) {
            double step = side == 0 ? eps : -eps;
            for (int64_t i = 0; i < n; i++) x[i] = (float)((double)x0[i] + step * v[i]);
            tn_write_host(target, x);
            fx[side] = f(state);
        }
        tn_write_host(target, x0);
        double numeric = (fx[0] - fx[1]) / (2.0 * eps);
        if (!compare(c, index, dot_host(g, v, n), numeric)) break;
    }
    free(v);
    free(x);
    free(g);
    free(x0);
}

/* ---- first order ---- */

struct first_state {
    ag_check_fn fn;
    void *ctx;
    struct tn_tensor *const *inputs;
    const float *w;
};

/* f(x) = <fn(x), w>, in the caller's grad mode: fn may itself call ag_grad (a gradient
 * penalty does), which needs its graph recorded */
static double eval_first(void *p) {
    struct first_state *s = p;
    tn_scope_begin();
    struct tn_tensor *out = s->fn(s->inputs, s->ctx);
    float *o = host_copy(out);
    double value = dot_host(o, s->w, out->numel);
    free(o);
    tn_scope_end();
    return value;
}

static void begin(struct checker *c, const struct ag_check_opts *opts,
                  struct ag_check_result *result) {
    c->opts = defaults(opts);
    c->result = result;
    c->rng = tn_rng_new(c->opts.seed);
    *result = (struct ag_check_result){.ok = true, .input = -1};
}

bool ag_gradcheck(ag_check_fn fn, void *ctx, int n, struct tn_tensor *const *inputs,
                  const struct ag_check_opts *opts, struct ag_check_result *result) {
    struct checker c;
    begin(&c, opts, result);
    tn_scope_begin();
    struct tn_tensor *out = fn(inputs, ctx);
    struct tn_tensor *w = tn_randn(out->storage->device, out->ndim, out->shape, &c.rng);
    float *w_host = host_copy(w);
    struct tn_tensor *targets[TN_MAX_INPUTS * 2], *grads[TN_MAX_INPUTS * 2];
    int index[TN_MAX_INPUTS * 2], n_targets = 0;
    for (int i = 0; i < n; i++)
        if (inputs[i]->requires_grad) {
            index[n_targets] = i;
            targets[n_targets++] = inputs[i];
        }
    TN_CHECK(n_targets > 0, "ag_gradcheck", "no input requires grad");
    TN_CHECK(out->requires_grad, "ag_gradcheck", "the output does not depend on the inputs");
    ag_grad(1, &out, &w, n_targets, targets, grads, 0);
    struct first_state state = {fn, ctx, inputs, w_host};
    for (int t = 0; t < n_targets && result->ok; t++)
        check_target(&c, index[t], targets[t], grads[t], eval_first, &state);
    free(w_host);
    tn_scope_end();
    return result->ok;
}

/* ---- second order ---- */

struct second_state {
    ag_check_fn fn;
    void *ctx;
    struct tn_tensor *const *inputs;
    struct tn_tensor *w;                  /* the output weight, itself differentiated */
    int n_targets;
    struct tn_tensor **targets;           /* inputs that require grad */
    float **u;                            /* one random direction per target */
};

/* h(x, w) = sum_t <d<fn(x), w>/dx_t, u_t>, from a first-order pass */
static double eval_second(void *p) {
    struct second_state *s = p;
    tn_scope_begin();
    struct tn_tensor *out = s->fn(s->inputs, s->ctx);
    struct tn_tensor *grads[TN_MAX_INPUTS];
    ag_grad(1, &out, &s->w, s->n_targets, s->targets, grads, 0);
    double h = 0.0;
    for (int t = 0; t < s->n_targets; t++) {
        float *g = host_copy(grads[t]);
        h += dot_host(g, s->u[t], grads[t]->numel);
        free(g);
    }
    tn_scope_end();
    return h;
}

bool ag_gradgradcheck(ag_check_fn fn, void *ctx, int n, struct tn_tensor *const *inputs,
                      const struct ag_check_opts *opts, struct ag_check_result *result) {
    struct checker c;
    begin(&c, opts, result);
    tn_scope_begin();
    struct tn_tensor *targets[TN_MAX_INPUTS + 1], *grads[TN_MAX_INPUTS];
    int index[TN_MAX_INPUTS + 1], n_targets = 0;
    for (int i = 0; i < n; i++)
        if (inputs[i]->requires_grad) {
            index[n_targets] = i;
            targets[n_targets++] = inputs[i];
        }
    TN_CHECK(n_targets > 0, "ag_gradgradcheck", "no input requires grad");
    struct tn_tensor *out = fn(inputs, ctx);
    TN_CHECK(out->requires_grad, "ag_gradgradcheck", "the output does not depend on the inputs");
    struct tn_tensor *w = tn_set_requires_grad(
        tn_randn(out->storage->device, out->ndim, out->shape, &c.rng), true);
    float *u[TN_MAX_INPUTS];
    struct tn_tensor *h = NULL;
    ag_grad(1, &out, &w, n_targets, targets, grads, AG_CREATE_GRAPH);
    for (int t = 0; t < n_targets; t++) {
        u[t] = malloc((size_t)(targets[t]->numel ? targets[t]->numel : 1) * sizeof(float));
        TN_CHECK(u[t], "gradgradcheck", "out of host memory");
        tn_rng_normal_host(&c.rng, u[t], targets[t]->numel);
        struct tn_tensor *ut = tn_from_host(targets[t]->storage->device, targets[t]->ndim,
                                            targets[t]->shape, u[t]);
        struct tn_tensor *term = ag_sum_all(ag_mul(grads[t], ut));
        h = h ? ag_add(h, term) : term;
    }
    /* h always depends on w; if it does not require grad, no rule recorded anything */
    targets[n_targets] = w;
    index[n_targets] = -2; /* reported as input -2: the output weight */
    struct tn_tensor *second[TN_MAX_INPUTS + 1];
    if (h->requires_grad) {
        ag_grad(1, &h, NULL, n_targets + 1, targets, second, 0);
    } else {
        for (int t = 0; t <= n_targets; t++) second[t] = tn_full_like(targets[t], 0.0f);
    }
    struct second_state state = {fn, ctx, inputs, w, n_targets, targets, u};
    for (int t = 0; t <= n_targets && result->ok; t++)
        check_target(&c, index[t], targets[t], second[t], eval_second, &state);
    for (int t = 0; t < n_targets; t++) free(u[t]);
    tn_scope_end();
    return result->ok;
}
