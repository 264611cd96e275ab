/* tn_random.h - the counter-based random generator (Philox4x32-10) and tensor fills.
 *
 * A generator is a seed and an offset. Number i of a stream is a pure function of
 * (seed, offset + i), so any device can draw the same numbers, a run is reproducible from
 * its seed, and a generator's whole state is two integers that go into checkpoints.
 * Numbers are drawn on the host and copied to the tensor's device.
 */
#ifndef TN_RANDOM_H
#define TN_RANDOM_H

#include "tn_tensor.h"

struct tn_rng {
    uint64_t seed;
    uint64_t offset; /* counter of 32-bit draws consumed so far */
};

/* A generator at the start of seed's stream. */
struct tn_rng tn_rng_new(uint64_t seed);

/* n floats uniform in [0, 1) into host memory. */
void tn_rng_uniform_host(struct tn_rng *rng, float *out, int64_t n);

/* n standard normal floats (Box-Muller) into host memory. */
void tn_rng_normal_host(struct tn_rng *rng, float *out, int64_t n);

/* Fills t with uniform values in [lo, hi). */
void tn_fill_uniform(struct tn_tensor *t, struct tn_rng *rng, float lo, float hi);

/* Fills t with normal values of the given mean and standard deviation. */
void tn_fill_normal(struct tn_tensor *t, struct tn_rng *rng, float mean, float std);

/* New tensor of shape on device with uniform values in [lo, hi). */
struct tn_tensor *tn_rand_uniform(struct tn_device device, int ndim, const int64_t *shape,
                                  struct tn_rng *rng, float lo, float hi);

/* New tensor of shape on device with standard normal values. */
struct tn_tensor *tn_randn(struct tn_device device, int ndim, const int64_t *shape,
                           struct tn_rng *rng);

#endif
