/* ag.h - reverse-mode automatic differentiation: the public API.
 *
 * How it works, in four lines (docs/autograd.md has the long version):
 *  1. every differentiable op (ag_ops.h) runs its kernel and, when grad mode is on and an
 *     input wants gradients, records a node that points to its inputs: that is the tape;
 *  2. ag_grad() walks the nodes reachable from the outputs, newest first, calling each node's
 *     backward rule, and sums the gradients that reach each tensor;
 *  3. every rule is written with the same differentiable ops, so with AG_CREATE_GRAPH the
 *     backward pass records nodes of its own, and its results can be differentiated again;
 *  4. that is double backward, which the WGAN-GP gradient penalty needs.
 */
#ifndef AG_H
#define AG_H

#include <stdio.h>

#include "../tensor/tn_tensor.h"
#include "ag_ops.h"

/* ---- grad mode ---- */

/* True when ops record nodes (the default). */
bool ag_grad_enabled(void);

/* Turns recording on or off for this thread; returns the previous setting. */
bool ag_set_grad_enabled(bool enabled);

/* ---- running backward ---- */

enum {
    AG_CREATE_GRAPH = 1 << 0, /* record the backward pass, so its results are differentiable */
    AG_RETAIN_GRAPH = 1 << 1, /* keep the graph for another pass (implied by AG_CREATE_GRAPH) */
};

/* Gradients of sum_k <outputs[k], grad_outputs[k]> with respect to inputs[0..n_in), written
 * to results (new tensors, owned like any op result). grad_outputs may be NULL, meaning ones.
 * An input the outputs do not depend on gets zeros. Nothing is stored in any .grad field. */
void ag_grad(int n_out, struct tn_tensor *const *outputs, struct tn_tensor *const *grad_outputs,
             int n_in, struct tn_tensor *const *inputs, struct tn_tensor **results,
             unsigned flags);

/* Accumulates the gradient of loss (a one-element tensor) into the .grad of every leaf that
 * requires it. flags may hold AG_RETAIN_GRAPH; AG_CREATE_GRAPH is refused (it would make a
 * parameter and its .grad point at each other; use ag_grad for higher order). */
void ag_backward(struct tn_tensor *loss, unsigned flags);

/* Drops t.grad (the "zero_grad" of optimizers). */
void ag_zero_grad(struct tn_tensor *t);

/* ---- checking gradients against finite differences ---- */

/* The function under test: builds an output from the inputs with differentiable ops. */
typedef struct tn_tensor *(*ag_check_fn)(struct tn_tensor *const *inputs, void *ctx);

struct ag_check_opts {
    double eps;       /* finite-difference step (default 1e-3) */
    double atol;      /* absolute tolerance (default 1e-3) */
    double rtol;      /* relative tolerance (default 1e-2) */
    uint64_t seed;    /* seed of the random projections */
    int64_t max_directions; /* inputs with more elements are checked along this many random
                               directions instead of element by element (default 64) */
};

struct ag_check_result {
    bool ok;
    double max_error;     /* largest |analytic - numeric| / (atol + rtol * |numeric|) */
    double analytic, numeric; /* the worst pair */
    int input;            /* which input, -1 if none */
    char message[256];
};

/* First order: compares ag_grad of <fn(inputs), w> (w random) with central differences,
 * for every input with requires_grad set. Inputs must be CPU or host-copyable tensors. */
bool ag_gradcheck(ag_check_fn fn, void *ctx, int n, struct tn_tensor *const *inputs,
                  const struct ag_check_opts *opts, struct ag_check_result *result);

/* Second order: h(inputs, w) = <grad of <fn(inputs), w>, u> with u random; compares the
 * gradient of h from a double backward with central differences of h, with respect to every
 * input that requires grad and to w (so the rules' use of the incoming gradient is checked). */
bool ag_gradgradcheck(ag_check_fn fn, void *ctx, int n, struct tn_tensor *const *inputs,
                      const struct ag_check_opts *opts, struct ag_check_result *result);

/* ---- teaching ---- */

/* Writes the graph that produced outputs as Graphviz DOT (dot -Tpng file.dot). */
void ag_dump_dot(FILE *file, int n_out, struct tn_tensor *const *outputs,
                 const char *const *names);

#endif
