/* op_cases.h - the per-op test table: one case describes inputs, the op call, a naive
 * reference for the forward value, and which checks run (forward, gradcheck, gradgradcheck).
 *
 * Cases live in tests/helpers/cases_<family>.c, one file per op family; op_cases.c joins the
 * tables, and tests/test_ops.c runs every case and the coverage test, which fails when an op
 * of TN_OP_LIST has no case with a forward check or, if it is differentiable, no gradient or
 * no second-order check. To test a new op, add a case to its family's file.
 */
#ifndef OP_CASES_H
#define OP_CASES_H

#include "test_support.h"

#include <criterion/parameterized.h>

enum input_kind {
    IN_RANDOM = 0,  /* uniform in [lo, hi), contiguous */
    IN_TRANSPOSED,  /* uniform in [lo, hi), last two dims stored swapped (a strided view) */
    IN_INDEX,       /* integers uniform in [0, hi) */
    IN_MASK,        /* 0 or 1 */
    IN_AWAY,        /* uniform in [lo, hi) with |x| >= 0.1: off the kink at 0 */
};

struct input_spec {
    int ndim;
    int64_t shape[6];
    enum input_kind kind;
    float lo, hi;
    bool grad; /* the input requires grad: gradcheck and gradgradcheck differentiate it */
};

enum {
    CHECK_FORWARD = 1 << 0,
    CHECK_GRAD = 1 << 1,
    CHECK_GRADGRAD = 1 << 2,
    CHECK_ALL = CHECK_FORWARD | CHECK_GRAD | CHECK_GRADGRAD,
};

struct op_case {
    enum tn_op op;         /* the op this case covers */
    const char *name;
    unsigned checks;
    int n_inputs;
    struct input_spec in[4];
    ag_check_fn apply;     /* runs the op (through the ag_ API) on the inputs */
    /* writes the expected output (row-major, out_numel values) from host copies of the
     * inputs (row-major, in the inputs' shapes) */
    void (*reference)(const struct op_case *c, float *const *in, float *expected);
    int out_ndim;
    int64_t out_shape[6];
    double atol, rtol;           /* forward tolerance (0: 1e-5, 1e-5) */
    struct ag_check_opts grad;   /* gradient tolerances (zeros: the defaults) */
};

struct op_case_table {
    const struct op_case *cases;
    int n;
};

/* All cases of all families, in one array of *n. */
const struct op_case *op_cases_all(int *n);

/* Indices 0..*n-1 of every case, cr_malloc'ed, as the parameters of a parameterised test:
 * Criterion runs each test in a fresh process of the binary, where the addresses of the
 * cases' functions may differ, so tests pass indices, not cases. */
int *op_case_indices(size_t *n);

/* The case a parameterised test's index names. */
const struct op_case *op_case_at(const int *index);

/* Frees the parameters op_case_indices made (the cleanup of cr_make_param_array). */
void op_case_free_indices(struct criterion_test_params *p);

/* Builds the inputs of a case on the CPU (in the current scope). */
void op_case_inputs(const struct op_case *c, struct tn_rng *rng, struct tn_tensor **in);

/* Element e (row-major over shape) of a host array of src_shape broadcast to shape. */
float broadcast_at(const float *src, int src_ndim, const int64_t *src_shape, int ndim,
                   const int64_t *shape, int64_t e);

/* Number of elements of the case's output. */
int64_t op_case_out_numel(const struct op_case *c);

/* The family tables (one per cases_*.c file). */
extern const struct op_case_table cases_elementwise;
extern const struct op_case_table cases_reduce;
extern const struct op_case_table cases_shape;
extern const struct op_case_table cases_conv;
extern const struct op_case_table cases_index;
extern const struct op_case_table cases_distance;

#endif
