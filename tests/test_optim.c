/* test_optim.c - the optimizers of nn/nn_optim.h: the first three steps of SGD (momentum),
 * Adam and RMSprop (with and without momentum) against hand-computed values and a double
 * precision reference of PyTorch's formulas; parameters without a grad are skipped; a step
 * records no graph, updates in place and bumps storage versions, so a graph recorded before
 * the step is refused; zero_grad drops grads; strided parameters and broadcast gradients;
 * the state's names and its creation before a first step; AdamNormGrad's first steps against
 * hand values and a double reference of its authors' formulas, and its step unchanged when the
 * gradient is scaled.
 *
 * Checkpoints of the state, and resuming a run from one, are in test_checkpoint.c.
 */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/test_support.h"
#include "nn/nn_optim.h"

LEAK_CHECKED_SUITE(optim);

#define N 4
static const float p0[N] = {1.0f, -2.0f, 0.5f, 3.0f};
static const float grads[3][N] = {
    {0.1f, -0.2f, 0.3f, -0.4f},
    {0.5f, 0.5f, -0.5f, 0.0f},
    {-1.0f, 2.0f, 0.25f, 0.1f},
};

/* A parameter [N] holding p0, and an optimizer over it named "w". */
static struct nn_optim *single(const struct nn_optim_opts *opts, struct tn_tensor **p) {
    *p = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct nn_entry e = {.name = "w", .tensor = *p};
    return nn_optim_new(opts, 1, &e);
}

static void set_grad(struct tn_tensor *p, const float *g) {
    ag_zero_grad(p);
    p->grad = tn_keep(make_tensor(p->ndim, p->shape, g));
}

/* Runs steps 1..3 of o on p with the fixed grads, checking p after each against want[k]. */
static void run_three(struct nn_optim *o, struct tn_tensor *p, const double want[3][N]) {
    for (int k = 0; k < 3; k++) {
        set_grad(p, grads[k]);
        nn_optim_step(o);
        float w[N];
        for (int i = 0; i < N; i++) w[i] = (float)want[k][i];
        assert_close(p, w, 1e-6, 1e-5);
        cr_assert_eq(o->params[0].step, k + 1);
    }
}

/* ---- SGD ---- */

Test(optim, sgd_with_momentum_matches_hand_values) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    opts.momentum = 0.9;
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    /* buf1 = g1; buf2 = 0.9 g1 + g2 = (0.59, 0.32, -0.23, -0.36);
     * buf3 = 0.9 buf2 + g3 = (-0.469, 2.288, 0.043, -0.224); p -= 0.1 buf each step */
    static const double want[3][N] = {
        {0.99, -1.98, 0.47, 3.04},
        {0.931, -2.012, 0.493, 3.076},
        {0.9779, -2.2408, 0.4887, 3.0984},
    };
    run_three(o, p, want);
    nn_optim_free(o);
}

Test(optim, sgd_without_momentum_has_no_state) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.5);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    cr_assert_eq(nn_optim_n_slots(o), 0);
    static const double want[3][N] = {
        {0.95, -1.9, 0.35, 3.2},
        {0.7, -2.15, 0.6, 3.2},
        {1.2, -3.15, 0.475, 3.15},
    };
    run_three(o, p, want);
    nn_optim_free(o);
}

/* ---- Adam and RMSprop against a double-precision reference ---- */

static void adam_reference(double lr, double b1, double b2, double eps, double want[3][N]) {
    double p[N], m[N] = {0}, v[N] = {0};
    for (int i = 0; i < N; i++) p[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        for (int i = 0; i < N; i++) {
            double g = grads[t - 1][i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mhat = m[i] / (1 - pow(b1, t)), vhat_sqrt = sqrt(v[i]) / sqrt(1 - pow(b2, t));
            p[i] -= lr * mhat / (vhat_sqrt + eps);
            want[t - 1][i] = p[i];
        }
    }
}

static void rmsprop_reference(double lr, double alpha, double eps, double momentum,
                              double want[3][N]) {
    double p[N], v[N] = {0}, buf[N] = {0};
    for (int i = 0; i < N; i++) p[i] = p0[i];
    for (int t = 0; t < 3; t++)
        for (int i = 0; i < N; i++) {
            double g = grads[t][i];
            v[i] = alpha * v[i] + (1 - alpha) * g * g;
            double avg = sqrt(v[i]) + eps;
            if (momentum > 0) {
                buf[i] = momentum * buf[i] + g / avg;
                p[i] -= lr * buf[i];
            } else {
                p[i] -= lr * g / avg;
            }
            want[t][i] = p[i];
        }
}

Test(optim, adam_matches_hand_values_and_reference) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM, 0.01);
    cr_assert(opts.beta1 == 0.9 && opts.beta2 == 0.999 && opts.eps == 1e-8);
    double want[3][N];
    adam_reference(0.01, 0.9, 0.999, 1e-8, want);
    /* step 1 by hand: bias correction makes m_hat = g and sqrt(v_hat) = |g|, so every element
     * moves by lr against the sign of its gradient */
    static const double step1[N] = {0.99, -1.99, 0.49, 3.01};
    for (int i = 0; i < N; i++) cr_assert(fabs(want[0][i] - step1[i]) < 1e-6);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    run_three(o, p, want);
    cr_assert_str_eq(nn_optim_slot_name(o, 0), "exp_avg");
    cr_assert_str_eq(nn_optim_slot_name(o, 1), "exp_avg_sq");
    /* after three steps exp_avg = 0.81 (0.1 g1) + 0.9 (0.1 g2) + 0.1 g3 */
    float m[N];
    for (int i = 0; i < N; i++)
        m[i] = (float)(0.081 * grads[0][i] + 0.09 * grads[1][i] + 0.1 * grads[2][i]);
    assert_close(o->params[0].state[0], m, 1e-7, 1e-5);
    nn_optim_free(o);
}

Test(optim, rmsprop_matches_hand_values_and_reference) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_RMSPROP, 0.01);
    cr_assert(opts.alpha == 0.99 && opts.eps == 1e-8 && opts.momentum == 0.0);
    double want[3][N];
    rmsprop_reference(0.01, 0.99, 1e-8, 0.0, want);
    /* step 1 by hand: v = 0.01 g^2, sqrt(v) = 0.1 |g|: p moves by 10 lr = 0.1 against g */
    static const double step1[N] = {0.9, -1.9, 0.4, 3.1};
    for (int i = 0; i < N; i++) cr_assert(fabs(want[0][i] - step1[i]) < 1e-6);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    cr_assert_eq(nn_optim_n_slots(o), 1);
    run_three(o, p, want);
    cr_assert_str_eq(nn_optim_slot_name(o, 0), "square_avg");
    float v[N];
    for (int i = 0; i < N; i++) {
        double g1 = grads[0][i], g2 = grads[1][i], g3 = grads[2][i];
        v[i] = (float)(0.01 * (0.99 * 0.99 * g1 * g1 + 0.99 * g2 * g2 + g3 * g3));
    }
    assert_close(o->params[0].state[0], v, 1e-9, 1e-5);
    nn_optim_free(o);
}

Test(optim, rmsprop_with_momentum_matches_reference) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_RMSPROP, 0.01);
    opts.momentum = 0.5;
    double want[3][N];
    rmsprop_reference(0.01, 0.99, 1e-8, 0.5, want);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    cr_assert_eq(nn_optim_n_slots(o), 2);
    cr_assert_str_eq(nn_optim_slot_name(o, 1), "momentum_buffer");
    run_three(o, p, want);
    nn_optim_free(o);
}

/* AdamNormGrad as its authors wrote it (SWAE utils/optimizer.py), in double */
static void adam_normgrad_reference(double lr, double b1, double b2, double eps, double scale,
                                    double want[3][N]) {
    double p[N], m[N] = {0}, v[N] = {0};
    for (int i = 0; i < N; i++) p[i] = p0[i];
    for (int t = 1; t <= 3; t++) {
        double norm = 0;
        for (int i = 0; i < N; i++) norm += pow(scale * grads[t - 1][i], 2);
        norm = sqrt(norm);
        double step = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
        for (int i = 0; i < N; i++) {
            double g = scale * grads[t - 1][i] / (norm + 1e-7);
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            p[i] -= step * m[i] / (sqrt(v[i]) + eps);
            want[t - 1][i] = p[i];
        }
    }
}

Test(optim, adam_normgrad_matches_hand_values_and_its_authors_formulas) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM_NORMGRAD, 0.01);
    cr_assert(opts.beta1 == 0.9 && opts.beta2 == 0.999 && opts.eps == 1e-8);
    double want[3][N];
    adam_normgrad_reference(0.01, 0.9, 0.999, 1e-8, 1.0, want);
    /* step 1 by hand: m = 0.1 g', v = 0.001 g'^2 with g' = g / |g|, and the step size
     * lr sqrt(0.001) / 0.1 makes every element move by lr against the sign of its gradient */
    static const double step1[N] = {0.99, -1.99, 0.49, 3.01};
    for (int i = 0; i < N; i++) cr_assert(fabs(want[0][i] - step1[i]) < 1e-6);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    run_three(o, p, want);
    cr_assert_str_eq(nn_optim_kind_name(o->opts.kind), "adam-normgrad");
    cr_assert_eq(nn_optim_n_slots(o), 2);
    cr_assert_str_eq(nn_optim_slot_name(o, 0), "exp_avg");
    cr_assert_str_eq(nn_optim_slot_name(o, 1), "exp_avg_sq");
    /* the state holds the moments of the normalised gradients */
    float m[N];
    double norms[3];
    for (int k = 0; k < 3; k++) {
        norms[k] = 0;
        for (int i = 0; i < N; i++) norms[k] += (double)grads[k][i] * grads[k][i];
        norms[k] = sqrt(norms[k]) + 1e-7;
    }
    for (int i = 0; i < N; i++)
        m[i] = (float)(0.081 * grads[0][i] / norms[0] + 0.09 * grads[1][i] / norms[1] +
                       0.1 * grads[2][i] / norms[2]);
    assert_close(o->params[0].state[0], m, 1e-7, 1e-5);
    nn_optim_free(o);
}

Test(optim, adam_normgrad_step_does_not_change_when_the_gradient_is_scaled) {
    const double scales[3] = {1e-3, 1.0, 1e4};
    float after[3][N];
    for (int s = 0; s < 3; s++) {
        struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM_NORMGRAD, 0.01);
        struct tn_tensor *p;
        struct nn_optim *o = single(&opts, &p);
        for (int k = 0; k < 3; k++) {
            float g[N];
            for (int i = 0; i < N; i++) g[i] = (float)(scales[s] * grads[k][i]);
            set_grad(p, g);
            nn_optim_step(o);
        }
        tn_to_host(p, after[s]);
        nn_optim_free(o);
    }
    for (int i = 0; i < N; i++) {
        /* 1e-7 in the denominator is the only scale the step sees: 1e-7 / |g| relative */
        cr_assert(fabs(after[0][i] - after[1][i]) <= 2e-6, "%g vs %g", after[0][i], after[1][i]);
        cr_assert(fabs(after[2][i] - after[1][i]) <= 1e-6, "%g vs %g", after[2][i], after[1][i]);
    }
    /* and the scaled run is still the authors' step */
    double want[3][N];
    adam_normgrad_reference(0.01, 0.9, 0.999, 1e-8, 1e-3, want);
    for (int i = 0; i < N; i++) cr_assert(fabs(after[0][i] - want[2][i]) <= 1e-5);
}

Test(optim, eps_is_added_after_the_square_root) {
    /* with eps = 1 and g = 0.1: v = 0.01 * 0.01 = 1e-4, sqrt(v) + eps = 1.01 (before the root
     * it would be sqrt(1.0001) = 1.00005) */
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_RMSPROP, 1.0);
    opts.eps = 1.0;
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    set_grad(p, (float[]){0.1f, 0.1f, 0.1f, 0.1f});
    nn_optim_step(o);
    float want[N];
    for (int i = 0; i < N; i++) want[i] = (float)(p0[i] - 0.1 / 1.01);
    assert_close(p, want, 1e-6, 1e-6);
    nn_optim_free(o);
}

/* ---- what a step does and does not do ---- */

Test(optim, parameters_without_grad_are_skipped) {
    struct tn_tensor *a = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct tn_tensor *b = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct nn_entry e[2] = {{.name = "a", .tensor = a}, {.name = "b", .tensor = b}};
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM, 0.1);
    struct nn_optim *o = nn_optim_new(&opts, 2, e);
    uint64_t version_b = b->storage->version;
    set_grad(a, grads[0]);
    nn_optim_step(o);
    assert_close(b, p0, 0, 0);
    cr_assert_eq(b->storage->version, version_b, "a skipped parameter is not written");
    cr_assert_null(o->params[1].state[0], "no state for a parameter that never had a grad");
    cr_assert_eq(o->params[1].step, 0);
    cr_assert_eq(o->params[0].step, 1);
    nn_optim_free(o);
}

Test(optim, buffers_in_the_entry_list_are_not_trained) {
    struct tn_tensor *w = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct tn_tensor *r = make_tensor(1, (int64_t[]){N}, p0);
    struct nn_entry e[2] = {{.name = "w", .tensor = w},
                            {.name = "running", .tensor = r, .is_buffer = true}};
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    struct nn_optim *o = nn_optim_new(&opts, 2, e);
    cr_assert_eq(o->n_params, 1);
    cr_assert_str_eq(o->params[0].name, "w");
    nn_optim_free(o);
}

Test(optim, step_records_no_graph_updates_in_place_and_bumps_versions) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_RMSPROP, 0.01);
    opts.momentum = 0.9;
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    float *memory = tn_data(p);
    struct tn_storage *storage = p->storage;
    for (int k = 0; k < 2; k++) {
        set_grad(p, grads[k]);
        uint64_t version = p->storage->version;
        struct tn_mem_stats before = tn_mem_stats(TN_CPU);
        nn_optim_step(o);
        struct tn_mem_stats after = tn_mem_stats(TN_CPU);
        cr_assert(ag_grad_enabled(), "the step restores grad mode");
        cr_assert_gt(p->storage->version, version, "the step bumps the parameter's version");
        cr_assert_eq(p->storage, storage, "the parameter keeps its storage");
        cr_assert_eq(tn_data(p), memory);
        cr_assert_null(p->grad_fn, "the parameter is still a leaf");
        cr_assert(p->requires_grad);
        for (int s = 0; s < 2; s++) {
            cr_assert_null(o->params[0].state[s]->grad_fn);
            cr_assert_not(o->params[0].state[s]->requires_grad);
        }
        if (k == 1) /* the first step made the state; later steps make nothing */
            cr_assert_eq(after.live_tensors, before.live_tensors, "a step leaves no tensors");
    }
    nn_optim_free(o);
}

Test(optim, graph_recorded_before_a_step_is_refused_after_it, .signal = SIGABRT) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    struct tn_tensor *loss = ag_sum_all(ag_mul(p, p)); /* saves p for its backward */
    set_grad(p, grads[0]);
    nn_optim_step(o);
    ag_backward(loss, 0); /* p changed in place since: the version check aborts */
}

Test(optim, zero_grad_sets_grads_to_none) {
    struct tn_tensor *a = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct tn_tensor *b = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct nn_entry e[2] = {{.name = "a", .tensor = a}, {.name = "b", .tensor = b}};
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    struct nn_optim *o = nn_optim_new(&opts, 2, e);
    ag_backward(ag_sum_all(ag_add(ag_square(a), b)), 0);
    cr_assert_not_null(a->grad);
    cr_assert_not_null(b->grad);
    nn_optim_zero_grad(o);
    cr_assert_null(a->grad);
    cr_assert_null(b->grad);
    nn_optim_step(o); /* nothing to do */
    assert_close(a, p0, 0, 0);
    nn_optim_free(o);
}

Test(optim, step_after_backward_uses_the_accumulated_grad) {
    /* loss = sum(p^2) / 2 has gradient p, so SGD with lr 0.25 scales p by 0.75 */
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.25);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    tn_scope_begin();
    ag_backward(ag_mul_scalar(ag_sum_all(ag_square(p)), 0.5f), 0);
    tn_scope_end();
    nn_optim_step(o);
    float want[N];
    for (int i = 0; i < N; i++) want[i] = 0.75f * p0[i];
    assert_close(p, want, 1e-7, 1e-6);
    nn_optim_free(o);
}

Test(optim, broadcast_grad_and_strided_parameter_are_updated_correctly) {
    /* a parameter that is a transposed view, and a gradient with stride 0 */
    float base[6] = {1, 2, 3, 4, 5, 6}; /* [2, 3]; the parameter is its transpose [3, 2] */
    struct tn_tensor *dense = make_tensor(2, (int64_t[]){2, 3}, base);
    struct tn_tensor *p = tn_view(dense, 2, (int64_t[]){3, 2}, (int64_t[]){1, 3}, 0);
    tn_set_requires_grad(p, true);
    struct nn_entry e = {.name = "t", .tensor = p};
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.5);
    opts.momentum = 0.9;
    struct nn_optim *o = nn_optim_new(&opts, 1, &e);
    struct tn_tensor *row = make_tensor(1, (int64_t[]){2}, (float[]){1.0f, -2.0f});
    p->grad = tn_keep(tn_view(row, 2, (int64_t[]){3, 2}, (int64_t[]){0, 1}, 0));
    uint64_t version = p->storage->version;
    nn_optim_step(o);
    cr_assert_gt(p->storage->version, version);
    /* p was [[1,4],[2,5],[3,6]]; each row of p moves by -0.5 (1, -2) */
    assert_close(p, (float[]){0.5f, 5.0f, 1.5f, 6.0f, 2.5f, 7.0f}, 0, 0);
    assert_close(dense, (float[]){0.5f, 1.5f, 2.5f, 5.0f, 6.0f, 7.0f}, 0, 0);
    assert_close(o->params[0].state[0], (float[]){1, -2, 1, -2, 1, -2}, 0, 0);
    ag_zero_grad(p);
    nn_optim_free(o);
}

Test(optim, init_state_and_collect_state_name_every_slot) {
    struct tn_tensor *a = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct tn_tensor *b = tn_set_requires_grad(make_tensor(2, (int64_t[]){2, 2}, p0), true);
    struct nn_entry e[2] = {{.name = "enc.weight", .tensor = a}, {.name = "logc", .tensor = b}};
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM, 0.1);
    struct nn_optim *o = nn_optim_new(&opts, 2, e);
    struct nn_entry_list list = {0};
    nn_optim_collect_state(o, "optim.main", &list);
    cr_assert_eq(list.n, 4);
    static const char *const names[4] = {"optim.main.enc.weight.exp_avg",
                                         "optim.main.enc.weight.exp_avg_sq",
                                         "optim.main.logc.exp_avg", "optim.main.logc.exp_avg_sq"};
    for (int i = 0; i < 4; i++) {
        cr_assert_str_eq(list.items[i].name, names[i]);
        cr_assert(tn_same_shape(list.items[i].tensor, i < 2 ? a : b));
        float zeros[N] = {0};
        assert_close(list.items[i].tensor, zeros, 0, 0);
    }
    cr_assert_eq(o->params[0].step, 0);
    nn_entry_list_free(&list);
    /* state made before the first step behaves as the lazily made one: compare with a twin */
    struct tn_tensor *a2 = tn_set_requires_grad(make_tensor(1, (int64_t[]){N}, p0), true);
    struct nn_entry e2 = {.name = "enc.weight", .tensor = a2};
    struct nn_optim *lazy = nn_optim_new(&opts, 1, &e2);
    for (int k = 0; k < 3; k++) {
        set_grad(a, grads[k]);
        set_grad(a2, grads[k]);
        nn_optim_step(o);
        nn_optim_step(lazy);
    }
    float got[N], want[N];
    tn_to_host(a, got);
    tn_to_host(a2, want);
    cr_assert(memcmp(got, want, sizeof got) == 0, "pre-made state changes nothing");
    nn_optim_free(lazy);
    nn_optim_free(o);
}

Test(optim, set_lr_changes_the_next_steps) {
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.1);
    struct tn_tensor *p;
    struct nn_optim *o = single(&opts, &p);
    nn_optim_set_lr(o, 1.0);
    set_grad(p, grads[0]);
    nn_optim_step(o);
    assert_close(p, (float[]){0.9f, -1.8f, 0.2f, 3.4f}, 1e-6, 1e-6);
    cr_assert_str_eq(nn_optim_kind_name(o->opts.kind), "sgd");
    nn_optim_free(o);
}

/* nn_module_to_device and nn_optim_to_device move in place: the optimizer keeps training the
 * same tensors afterwards (CPU to CPU here; a GPU move is the same code path) */
Test(optim, moving_module_and_state_keeps_the_optimizer_working) {
    struct nn_module *m = calloc(1, sizeof *m);
    nn_module_init(m, "m", NULL, NULL);
    float w0[2] = {1.0f, -1.0f};
    int64_t shape[1] = {2};
    struct tn_tensor *w = nn_module_add_param(m, "w", make_tensor(1, shape, w0));
    struct nn_entry_list list = {0};
    nn_module_collect(m, "", false, &list);
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_SGD, 0.5);
    struct nn_optim *o = nn_optim_new(&opts, list.n, list.items);
    nn_entry_list_free(&list);
    nn_optim_init_state(o);
    cr_assert_eq(nn_module_to_device(m, TN_CPU), TN_OK);
    cr_assert_eq(nn_optim_to_device(o, TN_CPU), TN_OK);
    ag_backward(ag_sum_all(ag_square(w)), 0); /* grad 2w */
    nn_optim_step(o);
    float expected[2] = {0.0f, 0.0f}; /* w - 0.5 * 2w */
    assert_close(w, expected, 1e-7, 0);
    nn_optim_free(o);
    nn_module_free(m);
}
