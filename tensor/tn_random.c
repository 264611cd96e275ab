/* tn_random.c - Philox4x32-10 (Salmon et al., SC'11) and the fills built on it. */
#include "tn_random.h"

#include <math.h>
#include <stdlib.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

/* Ten rounds of Philox on a 128-bit counter with a 64-bit key. */
static void philox(uint32_t ctr[4], uint32_t key0, uint32_t key1) {
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0], p1 = (uint64_t)PHILOX_M1 * ctr[2];
        uint32_t next[4] = {(uint32_t)(p1 >> 32) ^ ctr[1] ^ key0, (uint32_t)p1,
                            (uint32_t)(p0 >> 32) ^ ctr[3] ^ key1, (uint32_t)p0};
        for (int i = 0; i < 4; i++) ctr[i] = next[i];
        key0 += PHILOX_W0;
        key1 += PHILOX_W1;
    }
}

/* 32-bit draw number i of the seed's stream. */
static uint32_t draw(uint64_t seed, uint64_t i) {
    uint64_t block = i / 4;
    uint32_t ctr[4] = {(uint32_t)block, (uint32_t)(block >> 32), 0, 0};
    philox(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    return ctr[i % 4];
}

struct tn_rng tn_rng_new(uint64_t seed) { return (struct tn_rng){seed, 0}; }

/* uniform in [0, 1) from the top 24 bits: every value is exactly representable */
static float to_unit(uint32_t bits) { return (float)(bits >> 8) * (1.0f / 16777216.0f); }

void tn_rng_uniform_host(struct tn_rng *rng, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = to_unit(draw(rng->seed, rng->offset + (uint64_t)i));
    rng->offset += (uint64_t)n;
}

void tn_rng_normal_host(struct tn_rng *rng, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i += 2) {
        uint64_t k = rng->offset + (uint64_t)i;
        double u1 = ((double)(draw(rng->seed, k) >> 8) + 1.0) / 16777217.0; /* (0, 1) */
        double u2 = (double)(draw(rng->seed, k + 1) >> 8) / 16777216.0;
        double r = sqrt(-2.0 * log(u1)), angle = 6.283185307179586 * u2;
        out[i] = (float)(r * cos(angle));
        if (i + 1 < n) out[i + 1] = (float)(r * sin(angle));
    }
    rng->offset += (uint64_t)(n + (n & 1));
}

void tn_fill_uniform(struct tn_tensor *t, struct tn_rng *rng, float lo, float hi) {
    float *host = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    TN_CHECK(host, "tn_fill_uniform", "out of host memory");
    tn_rng_uniform_host(rng, host, t->numel);
    for (int64_t i = 0; i < t->numel; i++) host[i] = lo + (hi - lo) * host[i];
    tn_write_host(t, host);
    free(host);
}

void tn_fill_normal(struct tn_tensor *t, struct tn_rng *rng, float mean, float std) {
    float *host = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    TN_CHECK(host, "tn_fill_normal", "out of host memory");
    tn_rng_normal_host(rng, host, t->numel);
    for (int64_t i = 0; i < t->numel; i++) host[i] = mean + std * host[i];
    tn_write_host(t, host);
    free(host);
}

struct tn_tensor *tn_rand_uniform(struct tn_device device, int ndim, const int64_t *shape,
                                  struct tn_rng *rng, float lo, float hi) {
    struct tn_tensor *t = tn_empty(device, ndim, shape);
    tn_fill_uniform(t, rng, lo, hi);
    return t;
}

struct tn_tensor *tn_randn(struct tn_device device, int ndim, const int64_t *shape,
                           struct tn_rng *rng) {
    struct tn_tensor *t = tn_empty(device, ndim, shape);
    tn_fill_normal(t, rng, 0.0f, 1.0f);
    return t;
}
