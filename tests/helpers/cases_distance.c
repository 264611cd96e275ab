/* cases_distance.c - test cases of PDIST (pairwise Euclidean distances of rows). */
#include <math.h>

#include "op_cases.h"

static struct tn_tensor *apply_pdist(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return ag_pdist(in[0]);
}

/* out[i,j] = sqrt(sum_k (x[i,k] - x[j,k])^2) */
static void ref_pdist(const struct op_case *c, float *const *in, float *out) {
    int64_t b = c->in[0].shape[0], d = c->in[0].shape[1];
    for (int64_t i = 0; i < b; i++)
        for (int64_t j = 0; j < b; j++) {
            double acc = 0;
            for (int64_t k = 0; k < d; k++) acc += pow((double)in[0][i * d + k] - in[0][j * d + k], 2);
            out[i * b + j] = (float)sqrt(acc);
        }
}

static const struct op_case cases[] = {
    {TN_OP_PDIST, "pdist rows", CHECK_ALL, 1, {{2, {4, 3}, IN_RANDOM, -2, 2, true}},
     apply_pdist, ref_pdist, 2, {4, 4}, 1e-5, 1e-5, {0}},
    {TN_OP_PDIST, "pdist strided rows", CHECK_ALL, 1, {{2, {5, 6}, IN_TRANSPOSED, -1, 1, true}},
     apply_pdist, ref_pdist, 2, {5, 5}, 1e-5, 1e-5, {0}},
    /* small integers: repeated rows, so some off-diagonal distances are exactly 0 */
    {TN_OP_PDIST, "pdist with equal rows", CHECK_FORWARD, 1, {{2, {6, 1}, IN_INDEX, 0, 2, false}},
     apply_pdist, ref_pdist, 2, {6, 6}, 0, 0, {0}},
};

const struct op_case_table cases_distance = {cases, sizeof cases / sizeof *cases};
