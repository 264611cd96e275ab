/* test_ops.c - runs every op case of the table (tests/helpers/cases_*.c): forward against
 * the naive reference, gradcheck and gradgradcheck; and the coverage test over TN_OP_LIST.
 */
#include <stdlib.h>

#include "helpers/op_cases.h"

ParameterizedTestParameters(ops, forward) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

ParameterizedTest(int *index, ops, forward, .init = leak_check_begin,
                  .fini = leak_check_end) {
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_FORWARD)) cr_skip_test("%s: no forward check", c->name);
    struct tn_rng rng = tn_rng_new(7);
    struct tn_tensor *in[4];
    op_case_inputs(c, &rng, in);
    float *host[4];
    for (int i = 0; i < c->n_inputs; i++) {
        host[i] = malloc((size_t)(in[i]->numel ? in[i]->numel : 1) * sizeof(float));
        tn_to_host(in[i], host[i]);
    }
    struct tn_tensor *out = c->apply(in, NULL);
    assert_shape(out, c->out_ndim, c->out_shape);
    float *expected = malloc((size_t)(out->numel ? out->numel : 1) * sizeof(float));
    c->reference(c, host, expected);
    assert_close(out, expected, c->atol > 0 ? c->atol : 1e-5, c->rtol > 0 ? c->rtol : 1e-5);
    free(expected);
    for (int i = 0; i < c->n_inputs; i++) free(host[i]);
}

ParameterizedTestParameters(ops, gradcheck) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

ParameterizedTest(int *index, ops, gradcheck, .init = leak_check_begin,
                  .fini = leak_check_end) {
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_GRAD)) cr_skip_test("%s: not differentiable", c->name);
    struct tn_rng rng = tn_rng_new(11);
    struct tn_tensor *in[4];
    op_case_inputs(c, &rng, in);
    struct ag_check_result r;
    ag_gradcheck(c->apply, NULL, c->n_inputs, in, &c->grad, &r);
    cr_assert(r.ok, "%s: gradcheck failed: %s", c->name, r.message);
}

ParameterizedTestParameters(ops, gradgradcheck) {
    size_t n;
    int *cases = op_case_indices(&n);
    return cr_make_param_array(int, cases, n, op_case_free_indices);
}

ParameterizedTest(int *index, ops, gradgradcheck, .init = leak_check_begin,
                  .fini = leak_check_end) {
    const struct op_case *c = op_case_at(index);
    if (!(c->checks & CHECK_GRADGRAD)) cr_skip_test("%s: not differentiable", c->name);
    struct tn_rng rng = tn_rng_new(13);
    struct tn_tensor *in[4];
    op_case_inputs(c, &rng, in);
    struct ag_check_result r;
    ag_gradgradcheck(c->apply, NULL, c->n_inputs, in, &c->grad, &r);
    cr_assert(r.ok, "%s: gradgradcheck failed: %s", c->name, r.message);
}

/* Every op has a forward case; every differentiable op a gradient and a second-order case. */
Test(ops, coverage) {
    int n;
    const struct op_case *all = op_cases_all(&n);
    int missing = 0;
    for (int op = 0; op < TN_OP_COUNT; op++) {
        unsigned have = 0;
        for (int i = 0; i < n; i++)
            if (all[i].op == (enum tn_op)op) have |= all[i].checks;
        bool differentiable = !(tn_op_info(op)->flags & TN_OPF_NONDIFF);
        unsigned need = differentiable ? CHECK_ALL : CHECK_FORWARD;
        if ((have & need) != need) {
            cr_log_error("op %s lacks:%s%s%s", tn_op_name(op),
                         (have & CHECK_FORWARD) ? "" : " forward",
                         (need & CHECK_GRAD) && !(have & CHECK_GRAD) ? " gradcheck" : "",
                         (need & CHECK_GRADGRAD) && !(have & CHECK_GRADGRAD) ? " gradgradcheck" : "");
            missing++;
        }
    }
    cr_assert_eq(missing, 0, "%d ops lack test cases (see the log above)", missing);
}

/* A case whose checks include gradients must have an input that requires grad. */
Test(ops, cases_are_consistent) {
    int n;
    const struct op_case *all = op_cases_all(&n);
    for (int i = 0; i < n; i++) {
        bool any_grad = false;
        for (int k = 0; k < all[i].n_inputs; k++) any_grad = any_grad || all[i].in[k].grad;
        if (all[i].checks & (CHECK_GRAD | CHECK_GRADGRAD))
            cr_expect(any_grad, "case %s checks gradients but no input requires grad", all[i].name);
        if (tn_op_info(all[i].op)->flags & TN_OPF_NONDIFF)
            cr_expect(!(all[i].checks & (CHECK_GRAD | CHECK_GRADGRAD)),
                      "case %s checks gradients of a non-differentiable op", all[i].name);
    }
}
