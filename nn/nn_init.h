/* nn_init.h - parameter initialisers that reproduce PyTorch's defaults, drawn from a seeded
 * counter-based generator (struct tn_rng), so that a model is reproducible from its seed.
 *
 * PyTorch's default for Linear, Conv1d/2d and ConvTranspose2d (reset_parameters):
 *   weight ~ U(-bound, bound), bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + a^2)),
 *            a = sqrt(5)  (kaiming_uniform_ with a = sqrt(5)), which is bound = 1/sqrt(fan_in);
 *   bias   ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))  (0 when fan_in is 0);
 * drawn in that order: the whole weight (row-major), then the whole bias.
 * fan_in is taken from the weight tensor as PyTorch does: shape[1] * prod(shape[2..]), so
 *   Linear [out, in]                     -> in
 *   Conv2d [out, in/groups, k, k]        -> (in/groups) * k * k
 *   Conv1d [out, in/groups, k]           -> (in/groups) * k
 *   ConvTranspose2d [in, out/groups, k, k] -> (out/groups) * k * k  (dim 1 of its weight)
 * The numbers are not PyTorch's bits (another generator), only the same distributions.
 * This file holds no layer: the layers (nn_layers.h) call nn_init_default.
 */
#ifndef NN_INIT_H
#define NN_INIT_H

#include "tensor/tn_random.h"

/* The a of PyTorch's default kaiming_uniform_ call, sqrt(5). */
#define NN_INIT_DEFAULT_A 2.2360679774997896

/* fan_in of a weight: shape[1] * prod(shape[2..]) (shape[0] for a 1-D tensor). */
int64_t nn_init_fan_in(const struct tn_tensor *w);

/* fan_out of a weight: shape[0] * prod(shape[2..]). */
int64_t nn_init_fan_out(const struct tn_tensor *w);

/* Gain of leaky_relu with negative slope a: sqrt(2 / (1 + a^2)). */
double nn_init_leaky_relu_gain(double a);

/* Bound of kaiming_uniform (fan_in mode, leaky_relu): gain(a) * sqrt(3 / fan_in). */
double nn_init_kaiming_uniform_bound(double a, int64_t fan_in);

/* Bound of PyTorch's default bias: 1/sqrt(fan_in), or 0 when fan_in is 0. */
double nn_init_bias_bound(int64_t fan_in);

/* Fills t with U(lo, hi) values drawn from rng (row-major order). */
void nn_init_uniform(struct tn_tensor *t, float lo, float hi, struct tn_rng *rng);

/* Fills t with value (draws nothing). */
void nn_init_constant(struct tn_tensor *t, float value);

/* kaiming_uniform_(w, a, mode=fan_in, nonlinearity=leaky_relu): U(+-bound(a, fan_in(w))). */
void nn_init_kaiming_uniform(struct tn_tensor *w, double a, struct tn_rng *rng);

/* PyTorch's reset_parameters of Linear/Conv: kaiming_uniform(w, sqrt(5)), then bias (may
 * be NULL) U(+-1/sqrt(fan_in(w))); weight drawn first. */
void nn_init_default(struct tn_tensor *w, struct tn_tensor *bias, struct tn_rng *rng);

#endif
