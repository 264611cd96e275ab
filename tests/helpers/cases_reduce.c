/* cases_reduce.c - test cases of the reductions (SUM, AMAX, ARGMAX and the composites mean,
 * logsumexp, var, std) and of MATMUL, with naive references.
 */
#include <math.h>
#include <string.h>

#include "op_cases.h"

/* Output index (row-major over kept dims) of input element e of shape, reducing `axes`. */
static int64_t reduced_index(int ndim, const int64_t *shape, uint32_t axes, int64_t e) {
    int64_t out = 0, stride = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t coord = e % shape[d];
        e /= shape[d];
        if ((axes >> d) & 1) continue;
        out += coord * stride;
        stride *= shape[d];
    }
    return out;
}

enum reduce_kind { R_SUM, R_MEAN, R_MAX, R_LSE, R_VAR, R_STD };

static void reduce_ref(const struct op_case *c, const float *x, float *out, uint32_t axes,
                       enum reduce_kind kind) {
    const struct input_spec *s = &c->in[0];
    int64_t n_in = tn_numel_of(s->ndim, s->shape), n_out = op_case_out_numel(c);
    int64_t count = n_in / n_out;
    double acc[256], acc2[256];
    cr_assert(n_out <= 256);
    for (int64_t o = 0; o < n_out; o++) acc[o] = kind == R_MAX ? -INFINITY : 0.0;
    for (int64_t e = 0; e < n_in; e++) {
        int64_t o = reduced_index(s->ndim, s->shape, axes, e);
        if (kind == R_MAX || kind == R_LSE) acc[o] = fmax(acc[o], x[e]);
        else acc[o] += x[e];
    }
    if (kind == R_LSE || kind == R_VAR || kind == R_STD) {
        for (int64_t o = 0; o < n_out; o++) acc2[o] = 0.0;
        for (int64_t e = 0; e < n_in; e++) {
            int64_t o = reduced_index(s->ndim, s->shape, axes, e);
            if (kind == R_LSE) acc2[o] += exp(x[e] - acc[o]);
            else acc2[o] += pow(x[e] - acc[o] / (double)count, 2);
        }
    }
    for (int64_t o = 0; o < n_out; o++) {
        switch (kind) {
        case R_SUM: case R_MAX: out[o] = (float)acc[o]; break;
        case R_MEAN: out[o] = (float)(acc[o] / (double)count); break;
        case R_LSE: out[o] = (float)(acc[o] + log(acc2[o])); break;
        case R_VAR: out[o] = (float)(acc2[o] / (double)(count - 1)); break;
        case R_STD: out[o] = (float)sqrt(acc2[o] / (double)(count - 1)); break;
        }
    }
}

#define REDUCE(name, call, axes, kind)                                                      \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return call;                                                                        \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        reduce_ref(c, in[0], out, axes, kind);                                              \
    }

REDUCE(sum_last, ag_sum(in[0], AG_AXIS(2), false), AG_AXIS(2), R_SUM)
REDUCE(sum_outer_keep, ag_sum(in[0], AG_AXIS(0) | AG_AXIS(2), true), AG_AXIS(0) | AG_AXIS(2), R_SUM)
REDUCE(sum_all, ag_sum_all(in[0]), 7u, R_SUM)
REDUCE(mean_mid, ag_mean(in[0], AG_AXIS(1), false), AG_AXIS(1), R_MEAN)
REDUCE(mean_all, ag_mean_all(in[0]), 7u, R_MEAN)
REDUCE(amax_last, ag_amax(in[0], AG_AXIS(2), false), AG_AXIS(2), R_MAX)
REDUCE(amax_outer, ag_amax(in[0], AG_AXIS(0) | AG_AXIS(1), true), AG_AXIS(0) | AG_AXIS(1), R_MAX)
REDUCE(amax_ties, ag_amax(in[0], AG_AXIS(1), false), AG_AXIS(1), R_MAX)
REDUCE(logsumexp, ag_logsumexp(in[0], AG_AXIS(2), false), AG_AXIS(2), R_LSE)
REDUCE(var, ag_var(in[0], AG_AXIS(0), false), AG_AXIS(0), R_VAR)
REDUCE(std, ag_std(in[0], AG_AXIS(0) | AG_AXIS(2), true), AG_AXIS(0) | AG_AXIS(2), R_STD)

static struct tn_tensor *apply_argmax(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_argmax(in[0], 1, false);
}

static void ref_argmax(const struct op_case *c, float *const *in, float *out) {
    const int64_t *s = c->in[0].shape; /* [A, B, C], argmax over B */
    for (int64_t a = 0; a < s[0]; a++)
        for (int64_t k = 0; k < s[2]; k++) {
            int64_t best = 0;
            for (int64_t b = 1; b < s[1]; b++)
                if (in[0][(a * s[1] + b) * s[2] + k] > in[0][(a * s[1] + best) * s[2] + k]) best = b;
            out[a * s[2] + k] = (float)best;
        }
}

static struct tn_tensor *apply_matmul(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_matmul(in[0], in[1]);
}

/* batched product with broadcast batch dims: out [.., m, n] */
static void ref_matmul(const struct op_case *c, float *const *in, float *out) {
    const struct input_spec *a = &c->in[0], *b = &c->in[1];
    int64_t m = a->shape[a->ndim - 2], k = a->shape[a->ndim - 1], n = b->shape[b->ndim - 1];
    int bnd = c->out_ndim - 2;
    int64_t batches = tn_numel_of(bnd, c->out_shape);
    for (int64_t t = 0; t < batches; t++) {
        /* batch offsets of a and b by broadcasting the batch index */
        int64_t oa = 0, ob = 0, rem = t, sa = m * k, sb = k * n;
        for (int d = bnd - 1; d >= 0; d--) {
            int64_t coord = rem % c->out_shape[d];
            rem /= c->out_shape[d];
            int da = d - (bnd - (a->ndim - 2)), db = d - (bnd - (b->ndim - 2));
            if (da >= 0) { if (a->shape[da] != 1) oa += coord * sa; sa *= a->shape[da]; }
            if (db >= 0) { if (b->shape[db] != 1) ob += coord * sb; sb *= b->shape[db]; }
        }
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                double acc = 0;
                for (int64_t l = 0; l < k; l++)
                    acc += (double)in[0][oa + i * k + l] * in[1][ob + l * n + j];
                out[t * m * n + i * n + j] = (float)acc;
            }
    }
}

#define X234(kind, lo, hi, g) {3, {2, 3, 4}, kind, lo, hi, g}

static const struct op_case cases[] = {
    {TN_OP_SUM, "sum last axis", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_sum_last, ref_sum_last, 2, {2, 3}, 0, 0, {0}},
    {TN_OP_SUM, "sum outer axes keepdim strided", CHECK_ALL, 1, {X234(IN_TRANSPOSED, -2, 2, true)}, apply_sum_outer_keep, ref_sum_outer_keep, 3, {1, 3, 1}, 0, 0, {0}},
    {TN_OP_SUM, "sum all", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_sum_all, ref_sum_all, 0, {0}, 0, 0, {0}},
    {TN_OP_SUM, "mean middle axis", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_mean_mid, ref_mean_mid, 2, {2, 4}, 0, 0, {0}},
    {TN_OP_SUM, "mean all", CHECK_ALL, 1, {X234(IN_TRANSPOSED, -2, 2, true)}, apply_mean_all, ref_mean_all, 0, {0}, 0, 0, {0}},
    {TN_OP_AMAX, "amax last axis", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_amax_last, ref_amax_last, 2, {2, 3}, 0, 0, {0}},
    {TN_OP_AMAX, "amax outer axes keepdim strided", CHECK_ALL, 1, {X234(IN_TRANSPOSED, -2, 2, true)}, apply_amax_outer, ref_amax_outer, 3, {1, 1, 4}, 0, 0, {0}},
    {TN_OP_AMAX, "amax with ties", CHECK_FORWARD, 1, {X234(IN_INDEX, 0, 2, false)}, apply_amax_ties, ref_amax_ties, 2, {2, 4}, 0, 0, {0}},
    {TN_OP_ARGMAX, "argmax middle axis", CHECK_FORWARD, 1, {X234(IN_RANDOM, -2, 2, false)}, apply_argmax, ref_argmax, 2, {2, 4}, 0, 0, {0}},
    {TN_OP_ARGMAX, "argmax first of ties, strided", CHECK_FORWARD, 1, {X234(IN_INDEX, 0, 2, false)}, apply_argmax, ref_argmax, 2, {2, 4}, 0, 0, {0}},
    {TN_OP_SUM, "logsumexp", CHECK_ALL, 1, {X234(IN_RANDOM, -3, 3, true)}, apply_logsumexp, ref_logsumexp, 2, {2, 3}, 0, 0, {0}},
    {TN_OP_SUM, "unbiased var", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_var, ref_var, 2, {3, 4}, 0, 0, {0}},
    {TN_OP_SQRT, "unbiased std keepdim", CHECK_ALL, 1, {X234(IN_RANDOM, -2, 2, true)}, apply_std, ref_std, 3, {1, 3, 1}, 0, 0, {0}},
    {TN_OP_MATMUL, "matmul 2-D", CHECK_ALL, 2, {{2, {3, 4}, IN_RANDOM, -1, 1, true}, {2, {4, 5}, IN_RANDOM, -1, 1, true}}, apply_matmul, ref_matmul, 2, {3, 5}, 1e-5, 1e-5, {0}},
    {TN_OP_MATMUL, "matmul transposed operands", CHECK_ALL, 2, {{2, {3, 4}, IN_TRANSPOSED, -1, 1, true}, {2, {4, 5}, IN_TRANSPOSED, -1, 1, true}}, apply_matmul, ref_matmul, 2, {3, 5}, 1e-5, 1e-5, {0}},
    {TN_OP_MATMUL, "matmul batched broadcast", CHECK_ALL, 2, {{3, {2, 3, 4}, IN_RANDOM, -1, 1, true}, {2, {4, 2}, IN_RANDOM, -1, 1, true}}, apply_matmul, ref_matmul, 3, {2, 3, 2}, 1e-5, 1e-5, {0}},
    {TN_OP_MATMUL, "matmul batch dims broadcast both ways", CHECK_ALL, 2, {{4, {2, 1, 2, 3}, IN_RANDOM, -1, 1, true}, {3, {3, 3, 2}, IN_TRANSPOSED, -1, 1, true}}, apply_matmul, ref_matmul, 4, {2, 3, 2, 2}, 1e-5, 1e-5, {0}},
};

const struct op_case_table cases_reduce = {cases, sizeof cases / sizeof *cases};
