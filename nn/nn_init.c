/* nn_init.c - the PyTorch-default initialisers of nn_init.h (fans, bounds, fills). */
#include "nn_init.h"

#include <math.h>
#include <stdlib.h>

static int64_t receptive_field(const struct tn_tensor *w) {
    int64_t r = 1;
    for (int d = 2; d < w->ndim; d++) r *= w->shape[d];
    return r;
}

int64_t nn_init_fan_in(const struct tn_tensor *w) {
    TN_CHECK(w->ndim >= 1, "nn_init_fan_in", "a 0-dim tensor has no fan");
    if (w->ndim == 1) return w->shape[0];
    return w->shape[1] * receptive_field(w);
}

int64_t nn_init_fan_out(const struct tn_tensor *w) {
    TN_CHECK(w->ndim >= 1, "nn_init_fan_out", "a 0-dim tensor has no fan");
    return w->shape[0] * receptive_field(w);
}

double nn_init_leaky_relu_gain(double a) { return sqrt(2.0 / (1.0 + a * a)); }

double nn_init_kaiming_uniform_bound(double a, int64_t fan_in) {
    TN_CHECK(fan_in > 0, "nn_init_kaiming_uniform", "fan_in is 0 (a tensor with no elements)");
    return nn_init_leaky_relu_gain(a) * sqrt(3.0 / (double)fan_in);
}

double nn_init_bias_bound(int64_t fan_in) { return fan_in > 0 ? 1.0 / sqrt((double)fan_in) : 0.0; }

void nn_init_uniform(struct tn_tensor *t, float lo, float hi, struct tn_rng *rng) {
    TN_CHECK(lo <= hi, "nn_init_uniform", "lo %g above hi %g", lo, hi);
    tn_fill_uniform(t, rng, lo, hi);
}

void nn_init_constant(struct tn_tensor *t, float value) {
    float *host = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    TN_CHECK(host, "nn_init_constant", "out of host memory");
    for (int64_t i = 0; i < t->numel; i++) host[i] = value;
    tn_write_host(t, host);
    free(host);
}

void nn_init_kaiming_uniform(struct tn_tensor *w, double a, struct tn_rng *rng) {
    float bound = (float)nn_init_kaiming_uniform_bound(a, nn_init_fan_in(w));
    tn_fill_uniform(w, rng, -bound, bound);
}

void nn_init_default(struct tn_tensor *w, struct tn_tensor *bias, struct tn_rng *rng) {
    nn_init_kaiming_uniform(w, NN_INIT_DEFAULT_A, rng);
    if (!bias) return;
    float bound = (float)nn_init_bias_bound(nn_init_fan_in(w));
    tn_fill_uniform(bias, rng, -bound, bound);
}
