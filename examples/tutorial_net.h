/* tutorial_net.h - the network and data of docs/tutorial.md, steps 3 to 5, which include it:
 * y = tanh(x w1 + b1) w2 + b2 on a batch of four inputs of three features, with the mean
 * squared error to four targets as the loss. Not a library: static functions for the
 * tutorial's programs, written once so that each step shows only what is new.
 */
#ifndef TUTORIAL_NET_H
#define TUTORIAL_NET_H

#include "autograd/ag.h"
#include "tensor/tn_random.h"

/* The data: inputs x [4, 3] and their targets t [4, 1]. */
struct data {
    struct tn_tensor *x, *t;
};

/* The loss mean (y - t)^2 of y = tanh(x w1 + b1) w2 + b2, with p = {w1, b1, w2, b2}; its
 * signature is ag_check_fn's, so step 5 hands it to the gradient checks as it is. */
static struct tn_tensor *loss_of(struct tn_tensor *const *p, void *ctx) {
    const struct data *d = ctx;
    struct tn_tensor *h = ag_tanh(ag_add(ag_matmul(d->x, p[0]), p[1])); /* [4, 5] */
    struct tn_tensor *y = ag_add(ag_matmul(h, p[2]), p[3]);            /* [4, 1] */
    return ag_mean_all(ag_square(ag_sub(y, d->t)));
}

/* Parameters w1 [3, 5], b1 [5], w2 [5, 1], b2 [1], uniform in [-1, 1) and wanting
 * gradients, and the data, all drawn from seed 1 (in the open scope). */
static void make(struct tn_tensor **p, struct data *d) {
    struct tn_rng rng = tn_rng_new(1);
    const int64_t shapes[4][2] = {{3, 5}, {5}, {5, 1}, {1}};
    for (int k = 0; k < 4; k++)
        p[k] = tn_set_requires_grad(
            tn_rand_uniform(TN_CPU, k % 2 ? 1 : 2, shapes[k], &rng, -1.0f, 1.0f), true);
    d->x = tn_rand_uniform(TN_CPU, 2, (int64_t[]){4, 3}, &rng, -1.0f, 1.0f);
    d->t = tn_rand_uniform(TN_CPU, 2, (int64_t[]){4, 1}, &rng, -1.0f, 1.0f);
}

#endif
