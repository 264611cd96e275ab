/* tn_random.c - Philox4x32-10 (Salmon et al., SC'11) and the fills built on it.
 *
 * Word i of a seed's stream is word i % 4 of the Philox block i / 4, so a fill computes each
 * block once and, for large fills, splits the blocks over the OpenMP threads: the words, and
 * so the draws, are the same whatever the thread count or the size of the fill.
 */
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

/* the words of block b of the seed's stream whose indices lie in [first, first + n), into
 * out[index - first] */
static void block_words(uint64_t seed, uint64_t b, uint64_t first, uint64_t n, uint32_t *out) {
    uint32_t ctr[4] = {(uint32_t)b, (uint32_t)(b >> 32), 0, 0};
    philox(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
    for (uint64_t k = 0; k < 4; k++) {
        uint64_t i = 4 * b + k;
        if (i >= first && i - first < n) out[i - first] = ctr[k];
    }
}

#define PARALLEL_MIN_WORDS 65536 /* below this a thread team costs more than it saves */

/* words [first, first + n) of the seed's stream into out */
static void stream(uint64_t seed, uint64_t first, uint64_t n, uint32_t *out) {
    uint64_t b0 = first / 4, b1 = (first + n + 3) / 4;
    if (n < PARALLEL_MIN_WORDS) {
        for (uint64_t b = b0; b < b1; b++) block_words(seed, b, first, n, out);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t b = (int64_t)b0; b < (int64_t)b1; b++) block_words(seed, (uint64_t)b, first, n, out);
}

struct tn_rng tn_rng_new(uint64_t seed) { return (struct tn_rng){seed, 0}; }

/* uniform in [0, 1) from the top 24 bits: every value is exactly representable */
static float to_unit(uint32_t bits) { return (float)(bits >> 8) * (1.0f / 16777216.0f); }

/* the next n words of rng's stream (malloc'ed), advancing it */
static uint32_t *next_words(struct tn_rng *rng, int64_t n) {
    uint32_t *w = malloc((size_t)(n > 0 ? n : 1) * sizeof *w);
    TN_CHECK(w, "tn_random", "out of host memory for %lld draws", (long long)n);
    stream(rng->seed, rng->offset, (uint64_t)n, w);
    rng->offset += (uint64_t)n;
    return w;
}

void tn_rng_uniform_host(struct tn_rng *rng, float *out, int64_t n) {
    uint32_t *w = next_words(rng, n);
    for (int64_t i = 0; i < n; i++) out[i] = to_unit(w[i]);
    free(w);
}

/* Box-Muller of words w[i], w[i + 1] into out[i] (and out[i + 1] when i + 1 < n) */
static void box_muller(const uint32_t *w, int64_t i, int64_t n, float *out) {
    double u1 = ((double)(w[i] >> 8) + 1.0) / 16777217.0; /* (0, 1) */
    double u2 = (double)(w[i + 1] >> 8) / 16777216.0;
    double r = sqrt(-2.0 * log(u1)), angle = 6.283185307179586 * u2;
    out[i] = (float)(r * cos(angle));
    if (i + 1 < n) out[i + 1] = (float)(r * sin(angle));
}

void tn_rng_normal_host(struct tn_rng *rng, float *out, int64_t n) {
    int64_t words = n + (n & 1); /* a pair per two values; an odd n uses a whole pair */
    uint32_t *w = next_words(rng, words);
    if (n < PARALLEL_MIN_WORDS) {
        for (int64_t i = 0; i < n; i += 2) box_muller(w, i, n, out);
    } else {
#pragma omp parallel for schedule(static)
        for (int64_t p = 0; p < words / 2; p++) box_muller(w, 2 * p, n, out);
    }
    free(w);
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
