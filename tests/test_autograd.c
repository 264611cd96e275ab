/* test_autograd.c - the semantics of the backward engine (ag_engine.c, ag_node.c): gradients of
 * small expressions checked against hand-computed values, a diamond graph, accumulation into
 * .grad and ag_zero_grad, the version check that catches a saved input changed in place,
 * no-grad mode, retain_graph, higher-order gradients with AG_CREATE_GRAPH, gradients with
 * respect to intermediate and unused tensors, ag_detach, a 20000-op chain that must not
 * overflow a 1 MiB thread stack in backward or when it is released, no host memory left
 * behind by threads that ran a graph, and the DOT dump of a graph.
 *
 * Every test is leak-checked: live tensors and bytes in use must be back at their start
 * values when the test's scope closes. Tests that expect an abort declare .signal = SIGABRT.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream, pthread_attr_setstacksize */

#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers/test_support.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

LEAK_CHECKED_SUITE(autograd);

static struct tn_tensor *leaf(int ndim, const int64_t *shape, const float *values) {
    return tn_set_requires_grad(make_tensor(ndim, shape, values), true);
}

/* ---- first-order gradients by hand ---- */

/* L = sum(x * y + x / y):  dL/dx = y + 1/y,  dL/dy = x - x/y^2 */
Test(autograd, backward_of_product_and_quotient) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    struct tn_tensor *y = leaf(1, (int64_t[]){3}, (float[]){4, 5, 8});
    struct tn_tensor *loss = ag_sum_all(ag_add(ag_mul(x, y), ag_div(x, y)));
    cr_assert_float_eq(tn_item(loss), 4 + 0.25f + 10 + 0.4f + 24 + 0.375f, 1e-5);
    ag_backward(loss, 0);
    cr_assert_not_null(x->grad);
    cr_assert_not_null(y->grad);
    assert_close(x->grad, (float[]){4.25f, 5.2f, 8.125f}, 1e-6, 1e-6);
    assert_close(y->grad, (float[]){1 - 1 / 16.0f, 2 - 2 / 25.0f, 3 - 3 / 64.0f}, 1e-6, 1e-6);
    cr_assert_null(x->grad->grad_fn, "a gradient from ag_backward is not differentiable");
    cr_assert_not(x->grad->requires_grad);
}

/* L = sum(a * b) with b [3] broadcast over a [2, 3]:  da = b,  db = column sums of a */
Test(autograd, backward_through_broadcasting_sums_over_broadcast_dims) {
    struct tn_tensor *a = leaf(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    struct tn_tensor *b = leaf(1, (int64_t[]){3}, (float[]){10, 20, 30});
    ag_backward(ag_sum_all(ag_mul(a, b)), 0);
    assert_shape(a->grad, 2, (int64_t[]){2, 3});
    assert_shape(b->grad, 1, (int64_t[]){3});
    assert_close(a->grad, (float[]){10, 20, 30, 10, 20, 30}, 0, 0);
    assert_close(b->grad, (float[]){5, 7, 9}, 0, 0);
}

/* L = sum(A B):  dA = 1 B^T (every row is B summed over columns),  dB = A^T 1 */
Test(autograd, backward_of_matmul) {
    struct tn_tensor *A = leaf(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    struct tn_tensor *B = leaf(2, (int64_t[]){3, 2}, (float[]){1, -1, 2, 0, 0.5f, 3});
    ag_backward(ag_sum_all(ag_matmul(A, B)), 0);
    assert_close(A->grad, (float[]){0, 2, 3.5f, 0, 2, 3.5f}, 1e-6, 1e-6);
    assert_close(B->grad, (float[]){5, 5, 7, 7, 9, 9}, 1e-6, 1e-6);
}

/* L = sum(sqrt(exp(x)) * w) = sum(exp(x / 2) w):  dL/dx = w exp(x / 2) / 2 */
Test(autograd, backward_of_a_unary_chain) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){-1, 0, 2});
    struct tn_tensor *w = make_tensor(1, (int64_t[]){3}, (float[]){1, 2, 3});
    ag_backward(ag_sum_all(ag_mul(ag_sqrt(ag_exp(x)), w)), 0);
    assert_close(x->grad, (float[]){0.5f * expf(-0.5f), 1.0f, 1.5f * expf(1.0f)}, 1e-6, 1e-5);
    cr_assert_null(w->grad, "a tensor that does not require grad gets none");
}

/* L = sum(permute(x) * w) + mean(x):  dL/dx = permute^-1(w) + 1/6 */
Test(autograd, backward_through_views_and_mean) {
    struct tn_tensor *x = leaf(2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    struct tn_tensor *w = make_tensor(2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6});
    struct tn_tensor *t = ag_transpose(x, 0, 1);
    struct tn_tensor *loss = ag_add(ag_sum_all(ag_mul(t, w)), ag_mean_all(x));
    ag_backward(loss, 0);
    float s = 1.0f / 6.0f;
    assert_close(x->grad, (float[]){1 + s, 3 + s, 5 + s, 2 + s, 4 + s, 6 + s}, 1e-6, 1e-6);
}

/* L = sum(slice(x, 0..2) * 2) + sum(slice(x, 1..3) * 3): the overlap gets both */
Test(autograd, backward_through_overlapping_slices) {
    struct tn_tensor *x = leaf(1, (int64_t[]){4}, (float[]){1, 1, 1, 1});
    struct tn_tensor *a = ag_mul_scalar(ag_slice(x, 0, 0, 2), 2.0f);
    struct tn_tensor *b = ag_mul_scalar(ag_slice(x, 0, 1, 3), 3.0f);
    ag_backward(ag_add(ag_sum_all(a), ag_sum_all(b)), 0);
    assert_close(x->grad, (float[]){2, 5, 3, 3}, 0, 0);
}

/* ag_grad gives the same values as ag_backward and leaves .grad alone */
Test(autograd, grad_matches_backward_and_stores_nothing) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    struct tn_tensor *y = leaf(1, (int64_t[]){3}, (float[]){4, 5, 8});
    struct tn_tensor *loss = ag_sum_all(ag_add(ag_mul(x, y), ag_div(x, y)));
    struct tn_tensor *in[2] = {x, y}, *g[2];
    ag_grad(1, &loss, NULL, 2, in, g, 0);
    assert_close(g[0], (float[]){4.25f, 5.2f, 8.125f}, 1e-6, 1e-6);
    assert_close(g[1], (float[]){1 - 1 / 16.0f, 2 - 2 / 25.0f, 3 - 3 / 64.0f}, 1e-6, 1e-6);
    cr_assert_null(x->grad);
    cr_assert_null(y->grad);
}

/* ag_grad with a grad_output: the vector-Jacobian product v^T J */
Test(autograd, grad_with_grad_outputs_is_a_vector_jacobian_product) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    struct tn_tensor *y = ag_mul(x, x); /* J = diag(2x) */
    struct tn_tensor *v = make_tensor(1, (int64_t[]){3}, (float[]){1, 10, 100});
    struct tn_tensor *g;
    ag_grad(1, &y, &v, 1, &x, &g, 0);
    assert_close(g, (float[]){2, 40, 600}, 0, 0);
}

/* ---- graph shapes ---- */

/* y = x * x;  z = y + y * 3 = 4 x^2:  dz/dx = 8 x, y's node runs once with both gradients */
Test(autograd, diamond_graph_sums_both_paths) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, -2, 0.5f});
    struct tn_tensor *y = ag_mul(x, x);
    struct tn_tensor *z = ag_add(y, ag_mul_scalar(y, 3.0f));
    ag_backward(ag_sum_all(z), 0);
    assert_close(x->grad, (float[]){8, -16, 4}, 0, 0);
}

/* the same leaf used by two ops of one expression: L = sum(x * x * x) = sum(x^3) */
Test(autograd, leaf_used_several_times) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){2, -3});
    ag_backward(ag_sum_all(ag_mul(ag_mul(x, x), x)), 0);
    assert_close(x->grad, (float[]){12, 27}, 0, 0);
}

/* ---- accumulation ---- */

Test(autograd, backward_accumulates_into_grad_across_calls) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 3});
    ag_backward(ag_sum_all(ag_mul(x, x)), 0); /* 2x */
    assert_close(x->grad, (float[]){2, 6}, 0, 0);
    ag_backward(ag_sum_all(ag_mul_scalar(x, 5.0f)), 0); /* + 5, from a second graph */
    assert_close(x->grad, (float[]){7, 11}, 0, 0);
}

Test(autograd, zero_grad_drops_the_gradient) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 3});
    ag_backward(ag_sum_all(ag_mul(x, x)), 0);
    ag_zero_grad(x);
    cr_assert_null(x->grad);
    ag_zero_grad(x); /* twice is fine */
    ag_backward(ag_sum_all(ag_mul_scalar(x, 5.0f)), 0);
    assert_close(x->grad, (float[]){5, 5}, 0, 0);
}

/* two leaves whose gradients flow from one node must not alias each other's .grad values */
Test(autograd, accumulation_into_one_leaf_leaves_the_other_unchanged) {
    struct tn_tensor *a = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *b = leaf(1, (int64_t[]){2}, (float[]){3, 4});
    ag_backward(ag_sum_all(ag_add(a, b)), 0); /* both get ones */
    ag_backward(ag_sum_all(ag_mul_scalar(a, 2.0f)), 0);
    assert_close(a->grad, (float[]){3, 3}, 0, 0);
    assert_close(b->grad, (float[]){1, 1}, 0, 0);
}

/* ---- version check ---- */

Test(autograd, changed_saved_leaf_is_caught, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    tn_write_host(x, (float[]){5, 6}); /* x is saved by MUL: its gradient would be wrong */
    ag_backward(loss, 0);
}

Test(autograd, changed_saved_intermediate_is_caught, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *y = ag_mul_scalar(x, 2.0f);
    struct tn_tensor *loss = ag_sum_all(ag_mul(y, y));
    tn_write_host(y, (float[]){0, 0});
    ag_backward(loss, 0);
}

Test(autograd, change_through_another_view_is_caught, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    tn_write_host(ag_slice(ag_detach(x), 0, 1, 1), (float[]){9}); /* shares x's storage */
    ag_backward(loss, 0);
}

Test(autograd, unchanged_inputs_pass_the_version_check) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *other = tn_zeros(TN_CPU, 1, (int64_t[]){2});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    tn_write_host(other, (float[]){5, 6}); /* not in the graph */
    ag_backward(loss, 0);
    assert_close(x->grad, (float[]){2, 4}, 0, 0);
}

/* ---- grad mode ---- */

Test(autograd, no_grad_mode_records_nothing) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    cr_assert(ag_grad_enabled(), "grad mode is on by default");
    bool previous = ag_set_grad_enabled(false);
    cr_assert(previous);
    cr_assert_not(ag_grad_enabled());
    struct tn_tensor *y = ag_mul(ag_exp(x), x);
    cr_assert_null(y->grad_fn);
    cr_assert_not(y->requires_grad);
    struct tn_tensor *v = ag_reshape(x, 2, (int64_t[]){1, 2});
    cr_assert_null(v->grad_fn, "views record nothing either");
    cr_assert_not(v->requires_grad);
    cr_assert_not(ag_set_grad_enabled(previous));
    cr_assert(ag_grad_enabled());
    struct tn_tensor *z = ag_mul(x, x);
    cr_assert_not_null(z->grad_fn, "recording is back on");
    cr_assert(z->requires_grad);
}

Test(autograd, ops_on_tensors_without_grad_record_nothing) {
    struct tn_tensor *a = make_tensor(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *y = ag_mul(a, a);
    cr_assert_null(y->grad_fn);
    cr_assert_not(y->requires_grad);
}

Test(autograd, backward_of_a_loss_without_grad_aborts, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    ag_set_grad_enabled(false);
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    ag_set_grad_enabled(true);
    ag_backward(loss, 0);
}

Test(autograd, backward_of_a_non_scalar_aborts, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    ag_backward(ag_mul(x, x), 0);
}

Test(autograd, backward_with_create_graph_is_refused, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    ag_backward(ag_sum_all(ag_mul(x, x)), AG_CREATE_GRAPH);
}

/* ---- retain_graph ---- */

Test(autograd, second_backward_without_retain_graph_aborts, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    ag_backward(loss, 0);
    ag_backward(loss, 0); /* the graph's saved inputs are gone */
}

Test(autograd, second_backward_with_retain_graph_doubles_the_gradient) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *loss = ag_sum_all(ag_mul(ag_exp(x), x)); /* d/dx = e^x (1 + x) */
    ag_backward(loss, AG_RETAIN_GRAPH);
    float once[2] = {expf(1) * 2, expf(2) * 3};
    assert_close(x->grad, once, 1e-6, 1e-6);
    ag_backward(loss, 0); /* the last pass may free the graph */
    assert_close(x->grad, (float[]){2 * once[0], 2 * once[1]}, 1e-6, 1e-6);
}

Test(autograd, grad_with_retain_graph_can_run_again) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, x));
    struct tn_tensor *g1, *g2;
    ag_grad(1, &loss, NULL, 1, &x, &g1, AG_RETAIN_GRAPH);
    ag_grad(1, &loss, NULL, 1, &x, &g2, 0);
    assert_close(g1, (float[]){2, 4}, 0, 0);
    assert_close(g2, (float[]){2, 4}, 0, 0);
}

/* ---- higher order ---- */

/* y = x^3 as x * x * x:  dy/dx = 3x^2,  d2y/dx2 = 6x */
Test(autograd, second_derivative_of_a_cube) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, -2, 0.5f});
    struct tn_tensor *y = ag_sum_all(ag_mul(ag_mul(x, x), x));
    struct tn_tensor *dy;
    ag_grad(1, &y, NULL, 1, &x, &dy, AG_CREATE_GRAPH);
    assert_close(dy, (float[]){3, 12, 0.75f}, 1e-6, 1e-6);
    cr_assert(dy->requires_grad, "with AG_CREATE_GRAPH the gradient is differentiable");
    cr_assert_not_null(dy->grad_fn);
    struct tn_tensor *sum_dy = ag_sum_all(dy), *d2y;
    ag_grad(1, &sum_dy, NULL, 1, &x, &d2y, 0);
    assert_close(d2y, (float[]){6, -12, 3}, 1e-6, 1e-6);
}

/* the same through POW_SCALAR, and a third derivative: d3/dx3 x^3 = 6 */
Test(autograd, third_derivative_of_pow) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1.5f, -2});
    struct tn_tensor *y = ag_sum_all(ag_pow_scalar(x, 3.0f));
    struct tn_tensor *d1, *d2, *d3;
    ag_grad(1, &y, NULL, 1, &x, &d1, AG_CREATE_GRAPH);
    struct tn_tensor *s1 = ag_sum_all(d1);
    ag_grad(1, &s1, NULL, 1, &x, &d2, AG_CREATE_GRAPH);
    assert_close(d2, (float[]){9, -12}, 1e-5, 1e-5);
    struct tn_tensor *s2 = ag_sum_all(d2);
    ag_grad(1, &s2, NULL, 1, &x, &d3, 0);
    assert_close(d3, (float[]){6, 6}, 1e-5, 1e-5);
}

/* f = sum(x y^2):  df/dx = y^2,  d/dy sum(df/dx) = 2y */
Test(autograd, mixed_second_derivative) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){3, -1});
    struct tn_tensor *y = leaf(1, (int64_t[]){2}, (float[]){2, 5});
    struct tn_tensor *f = ag_sum_all(ag_mul(ag_mul(x, y), y));
    struct tn_tensor *dx;
    ag_grad(1, &f, NULL, 1, &x, &dx, AG_CREATE_GRAPH);
    assert_close(dx, (float[]){4, 25}, 0, 0);
    struct tn_tensor *s = ag_sum_all(dx), *dxy[2], *in[2] = {y, x};
    ag_grad(1, &s, NULL, 2, in, dxy, 0);
    assert_close(dxy[0], (float[]){4, 10}, 0, 0);
    assert_close(dxy[1], (float[]){0, 0}, 0, 0); /* y^2 does not depend on x */
}

/* backward through a create_graph gradient into .grad: L = sum((d/dx sum(x^2))^2) = sum(4x^2) */
Test(autograd, backward_of_a_gradient_norm) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, -3});
    struct tn_tensor *f = ag_sum_all(ag_mul(x, x)), *g;
    ag_grad(1, &f, NULL, 1, &x, &g, AG_CREATE_GRAPH);
    cr_assert_null(x->grad, "ag_grad stores nothing");
    ag_backward(ag_sum_all(ag_mul(g, g)), 0);
    assert_close(x->grad, (float[]){8, -24}, 0, 0);
}

/* ---- which tensors get gradients ---- */

/* y = x * x;  z = sum(3y + y^2):  dz/dy = 3 + 2y, asked for directly */
Test(autograd, grad_with_respect_to_an_intermediate_tensor) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *y = ag_mul(x, x);
    struct tn_tensor *z = ag_sum_all(ag_add(ag_mul_scalar(y, 3.0f), ag_mul(y, y)));
    struct tn_tensor *in[2] = {y, x}, *g[2];
    ag_grad(1, &z, NULL, 2, in, g, 0);
    assert_close(g[0], (float[]){5, 11}, 0, 0);
    assert_close(g[1], (float[]){10, 44}, 0, 0); /* (3 + 2y) 2x */
    cr_assert_null(x->grad);
}

Test(autograd, grad_of_an_output_with_respect_to_itself_is_the_seed) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *y = ag_mul_scalar(x, 4.0f), *g;
    ag_grad(1, &y, NULL, 1, &y, &g, 0);
    assert_close(g, (float[]){1, 1}, 0, 0);
}

Test(autograd, unused_input_gets_zeros) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *u = leaf(2, (int64_t[]){2, 2}, (float[]){1, 2, 3, 4});
    struct tn_tensor *loss = ag_sum_all(ag_mul_scalar(x, 2.0f));
    struct tn_tensor *in[2] = {x, u}, *g[2];
    ag_grad(1, &loss, NULL, 2, in, g, 0);
    assert_close(g[0], (float[]){2, 2}, 0, 0);
    assert_shape(g[1], 2, (int64_t[]){2, 2});
    assert_close(g[1], (float[]){0, 0, 0, 0}, 0, 0);
}

Test(autograd, grad_with_respect_to_a_tensor_without_grad_aborts, .signal = SIGABRT) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *c = make_tensor(1, (int64_t[]){2}, (float[]){3, 4});
    struct tn_tensor *loss = ag_sum_all(ag_mul(x, c)), *g;
    ag_grad(1, &loss, NULL, 1, &c, &g, 0);
}

/* y = x * detach(x): the detached factor is a constant, so dy/dx = x, not 2x */
Test(autograd, detach_stops_gradients) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){3, -1});
    struct tn_tensor *d = ag_detach(x);
    cr_assert_null(d->grad_fn);
    cr_assert_not(d->requires_grad);
    ag_backward(ag_sum_all(ag_mul(x, d)), 0);
    assert_close(x->grad, (float[]){3, -1}, 0, 0);
    /* a detached intermediate cuts the whole path behind it */
    ag_zero_grad(x);
    struct tn_tensor *cut = ag_detach(ag_exp(ag_mul(x, x)));
    ag_backward(ag_sum_all(ag_add(x, cut)), 0);
    assert_close(x->grad, (float[]){1, 1}, 0, 0);
}

/* ---- deep graphs ---- */

#define CHAIN 20000
#define SMALL_STACK (1 << 20) /* a recursive walk of CHAIN nodes needs several MiB */

struct chain_run {
    bool backward;       /* run ag_backward over the chain (else only release it) */
    float grad;          /* x.grad after backward */
    int64_t live_before, live_after, bytes_before, bytes_after;
};

/* y_0 = x, y_k = y_{k-1} + x, so y_CHAIN = (CHAIN + 1) x and dy/dx = CHAIN + 1. The whole
 * chain is reachable only from its last tensor, so releasing that tensor frees CHAIN nodes. */
static void *run_chain(void *arg) {
    struct chain_run *r = arg;
    struct tn_mem_stats s0 = tn_mem_stats(TN_CPU);
    r->live_before = s0.live_tensors;
    r->bytes_before = s0.bytes_in_use;
    tn_scope_begin();
    struct tn_tensor *x = tn_keep(tn_set_requires_grad(tn_scalar(TN_CPU, 0.5f), true));
    struct tn_tensor *y = x;
    for (int k = 0; k < CHAIN; k++) {
        tn_scope_begin();
        struct tn_tensor *next = tn_keep(ag_add(y, x));
        tn_scope_end();
        if (y != x) tn_release(y); /* only the chain's nodes hold the earlier links */
        y = next;
    }
    if (r->backward) {
        ag_backward(y, 0);
        r->grad = x->grad ? tn_item(x->grad) : NAN;
    }
    tn_release(y); /* with a recursive release this would go CHAIN frames deep */
    tn_release(x);
    tn_scope_end();
    struct tn_mem_stats s1 = tn_mem_stats(TN_CPU);
    r->live_after = s1.live_tensors;
    r->bytes_after = s1.bytes_in_use;
    return NULL;
}

/* Runs the chain on a thread with a 1 MiB stack, so that recursion CHAIN deep would crash. */
static void chain_on_small_stack(struct chain_run *r) {
    pthread_attr_t attr;
    pthread_t thread;
    cr_assert_eq(pthread_attr_init(&attr), 0);
    cr_assert_eq(pthread_attr_setstacksize(&attr, SMALL_STACK), 0);
    cr_assert_eq(pthread_create(&thread, &attr, run_chain, r), 0);
    cr_assert_eq(pthread_join(thread, NULL), 0);
    pthread_attr_destroy(&attr);
    cr_assert_eq(r->live_after, r->live_before, "%lld tensors of the chain left alive",
                 (long long)(r->live_after - r->live_before));
    cr_assert_eq(r->bytes_after, r->bytes_before);
}

Test(autograd, long_chain_backward_does_not_overflow_the_stack) {
    struct chain_run r = {.backward = true};
    chain_on_small_stack(&r);
    cr_assert_eq(r.grad, (float)(CHAIN + 1), "grad %g, expected %d", (double)r.grad, CHAIN + 1);
}

Test(autograd, long_chain_release_does_not_overflow_the_stack) {
    struct chain_run r = {.backward = false};
    chain_on_small_stack(&r);
}

/* A short graph built and released on a thread of its own, which then exits. */
static void *short_graph(void *arg) {
    (void)arg;
    tn_scope_begin();
    struct tn_tensor *x = tn_set_requires_grad(tn_scalar(TN_CPU, 1.0f), true);
    struct tn_tensor *y = x;
    for (int k = 0; k < 8; k++) y = ag_add(y, x);
    tn_scope_end(); /* releases the graph through ag_node_release */
    return NULL;
}

/* Host memory the engine keeps per thread must go when the thread does: a program that runs
 * graphs on short-lived threads must not grow. Measured with LeakSanitizer in the Sanitize
 * build and with glibc's in-use byte count otherwise, over THREADS threads. */
#define THREADS 64

Test(autograd, graphs_on_exiting_threads_leave_no_host_memory_behind) {
#if defined(__SANITIZE_ADDRESS__)
    for (int i = 0; i < THREADS; i++) {
        pthread_t thread;
        cr_assert_eq(pthread_create(&thread, NULL, short_graph, NULL), 0);
        cr_assert_eq(pthread_join(thread, NULL), 0);
    }
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,
                 "LeakSanitizer found host memory lost by threads that ran a graph (above)");
#else
    pthread_t warm;
    cr_assert_eq(pthread_create(&warm, NULL, short_graph, NULL), 0); /* sets up an arena */
    cr_assert_eq(pthread_join(warm, NULL), 0);
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < THREADS; i++) {
        pthread_t thread;
        cr_assert_eq(pthread_create(&thread, NULL, short_graph, NULL), 0);
        cr_assert_eq(pthread_join(thread, NULL), 0);
    }
    size_t after = mallinfo2().uordblks;
    cr_assert_lt(after, before + 16 * 1024, "%zu bytes of host memory lost over %d threads",
                 after - before, THREADS);
#endif
}

/* the same chain on the test's own thread, through the fixture's scope */
Test(autograd, long_chain_backward_on_the_main_thread) {
    struct tn_tensor *x = leaf(0, NULL, (float[]){0.5f});
    struct tn_tensor *y = x;
    for (int k = 0; k < CHAIN; k++) y = ag_mul_scalar(y, (k & 1) ? -1.0f : 1.0f);
    ag_backward(y, 0);
    cr_assert_eq(tn_item(x->grad), 1.0f); /* CHAIN / 2 factors of -1: an even number */
}

/* ---- DOT dump ---- */

Test(autograd, dump_dot_names_the_ops) {
    struct tn_tensor *x = leaf(1, (int64_t[]){3}, (float[]){1, 2, 3});
    struct tn_tensor *w = make_tensor(1, (int64_t[]){3}, (float[]){4, 5, 6});
    struct tn_tensor *loss = ag_sum_all(ag_add(ag_mul(x, w), ag_exp(x)));
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    cr_assert_not_null(f);
    const char *names[1] = {"loss"};
    ag_dump_dot(f, 1, &loss, names);
    fclose(f);
    cr_assert_not_null(text);
    bool ok = strstr(text, "digraph") && strstr(text, "MUL") && strstr(text, "ADD") &&
              strstr(text, "EXP") && strstr(text, "SUM") && strstr(text, "loss") &&
              strstr(text, "[3]") && strstr(text, "grad") && text[size - 2] == '}';
    if (!ok) cr_log_error("dot output:\n%s", text);
    free(text);
    cr_assert(ok, "the DOT text lacks a header, an op name, the output name or a shape");
}

Test(autograd, dump_dot_to_a_file) {
    struct tn_tensor *x = leaf(1, (int64_t[]){2}, (float[]){1, 2});
    struct tn_tensor *y = ag_mul(x, x);
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    ag_dump_dot(f, 1, &y, NULL);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    char *text = calloc(1, (size_t)n + 1);
    cr_assert_not_null(text);
    cr_assert_eq(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    bool ok = strncmp(text, "digraph", 7) == 0 && strstr(text, "MUL") && strstr(text, "->");
    free(text);
    cr_assert(ok);
}
