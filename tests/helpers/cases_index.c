/* cases_index.c - test cases of the index ops: GATHER, SCATTER_ADD (with colliding indices),
 * ARGSORT (stable, ascending and descending, with ties) and the composites index_select and
 * sort (its values are a GATHER, differentiable in x). Indices are float32 integers drawn
 * with IN_INDEX; references are plain loops over row-major host copies.
 */
#include <stdlib.h>

#include "op_cases.h"

/* Coordinates of element e (row-major over shape). */
static void coords_of(int64_t e, int ndim, const int64_t *shape, int64_t *coord) {
    for (int d = ndim - 1; d >= 0; d--) {
        coord[d] = e % shape[d];
        e /= shape[d];
    }
}

/* Row-major element index of coord in shape. */
static int64_t flat_of(const int64_t *coord, int ndim, const int64_t *shape) {
    int64_t e = 0;
    for (int d = 0; d < ndim; d++) e = e * shape[d] + coord[d];
    return e;
}

/* ---- references ---- */

/* out[..i..] = x[.. idx[..i..] ..] along axis; out has idx's shape (input 1) */
static void gather_ref(const struct op_case *c, const float *x, const float *idx, int axis,
                       float *out) {
    const struct input_spec *xs = &c->in[0], *is = &c->in[1];
    int64_t coord[TN_MAX_DIMS];
    for (int64_t e = 0; e < tn_numel_of(is->ndim, is->shape); e++) {
        coords_of(e, is->ndim, is->shape, coord);
        coord[axis] = (int64_t)idx[e];
        out[e] = x[flat_of(coord, xs->ndim, xs->shape)];
    }
}

/* zeros of the output shape, then out[.. idx[..i..] ..] += src[..i..] (inputs idx, src) */
static void scatter_add_ref(const struct op_case *c, const float *idx, const float *src, int axis,
                            float *out) {
    const struct input_spec *is = &c->in[0];
    int64_t n_out = op_case_out_numel(c), coord[TN_MAX_DIMS];
    double *acc = calloc((size_t)n_out, sizeof *acc);
    cr_assert(acc);
    for (int64_t e = 0; e < tn_numel_of(is->ndim, is->shape); e++) {
        coords_of(e, is->ndim, is->shape, coord);
        coord[axis] = (int64_t)idx[e];
        acc[flat_of(coord, c->out_ndim, c->out_shape)] += src[e];
    }
    for (int64_t e = 0; e < n_out; e++) out[e] = (float)acc[e];
    free(acc);
}

/* The stable sorting permutation along axis, by counting: element j of a line lands at the
 * number of elements that come before it (smaller, or larger when descending, or equal with
 * a smaller index). */
static void argsort_ref(int ndim, const int64_t *shape, const float *x, int axis, bool descending,
                        float *perm) {
    int64_t coord[TN_MAX_DIMS];
    int64_t len = shape[axis], stride = tn_numel_of(ndim - axis - 1, shape + axis + 1);
    for (int64_t e = 0; e < tn_numel_of(ndim, shape); e++) {
        coords_of(e, ndim, shape, coord);
        int64_t j = coord[axis], base = e - j * stride, pos = 0;
        for (int64_t k = 0; k < len; k++) {
            float vk = x[base + k * stride], vj = x[e];
            bool before = descending ? vk > vj : vk < vj;
            if (before || (vk == vj && k < j)) pos++;
        }
        perm[base + pos * stride] = (float)j;
    }
}

/* x's slices along axis picked by the 1-D index (input 1) */
static void index_select_ref(const struct op_case *c, const float *x, const float *idx, int axis,
                             float *out) {
    int64_t coord[TN_MAX_DIMS];
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        coords_of(e, c->out_ndim, c->out_shape, coord);
        coord[axis] = (int64_t)idx[coord[axis]];
        out[e] = x[flat_of(coord, c->in[0].ndim, c->in[0].shape)];
    }
}

/* x sorted along axis: x gathered at its stable sorting permutation */
static void sort_values_ref(const struct op_case *c, const float *x, int axis, bool descending,
                            float *out) {
    const struct input_spec *s = &c->in[0];
    int64_t n = tn_numel_of(s->ndim, s->shape), coord[TN_MAX_DIMS];
    float *perm = malloc((size_t)n * sizeof *perm);
    cr_assert(perm);
    argsort_ref(s->ndim, s->shape, x, axis, descending, perm);
    for (int64_t e = 0; e < n; e++) {
        coords_of(e, s->ndim, s->shape, coord);
        coord[axis] = (int64_t)perm[e];
        out[e] = x[flat_of(coord, s->ndim, s->shape)];
    }
    free(perm);
}

/* ---- apply functions with their references ---- */

#define GATHER(name, axis)                                                                  \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return ag_gather(in[0], axis, in[1]);                                               \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        gather_ref(c, in[0], in[1], axis, out);                                             \
    }

#define SCATTER_ADD(name, axis, ndim, ...)                                                  \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        static const int64_t shape[] = {__VA_ARGS__};                                       \
        (void)ctx;                                                                          \
        return ag_scatter_add(in[0], in[1], axis, ndim, shape);                             \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        scatter_add_ref(c, in[0], in[1], axis, out);                                        \
    }

#define ARGSORT(name, axis, descending)                                                     \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return ag_argsort(in[0], axis, descending);                                         \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        argsort_ref(c->in[0].ndim, c->in[0].shape, in[0], axis, descending, out);           \
    }

#define INDEX_SELECT(name, axis)                                                            \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return ag_index_select(in[0], axis, in[1]);                                         \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        index_select_ref(c, in[0], in[1], axis, out);                                       \
    }

#define SORT_VALUES(name, axis, descending)                                                 \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        struct tn_tensor *values;                                                           \
        (void)ctx;                                                                          \
        ag_sort(in[0], axis, descending, &values, NULL);                                    \
        return values;                                                                      \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        sort_values_ref(c, in[0], axis, descending, out);                                   \
    }

GATHER(gather_axis1, 1)
GATHER(gather_axis0, 0)
GATHER(gather_axis2, 2)
SCATTER_ADD(scatter_rows, 0, 2, 2, 3)
SCATTER_ADD(scatter_last, 2, 3, 2, 3, 3)
SCATTER_ADD(scatter_wide, 1, 2, 2, 5)
ARGSORT(argsort_last_asc, 1, false)
ARGSORT(argsort_last_desc, 1, true)
ARGSORT(argsort_first_asc, 0, false)
ARGSORT(argsort_first_desc, 0, true)
INDEX_SELECT(index_select_rows, 0)
INDEX_SELECT(index_select_mid, 1)
INDEX_SELECT(index_select_last, 2)
SORT_VALUES(sort_last_asc, 1, false)
SORT_VALUES(sort_first_desc, 0, true)
SORT_VALUES(sort_last_desc, 1, true)

/* the permutation that ag_sort returns beside the values */
static struct tn_tensor *apply_sort_perm(struct tn_tensor *const *in, void *ctx) {
    struct tn_tensor *values, *perm;
    (void)ctx;
    ag_sort(in[0], 2, false, &values, &perm);
    return perm;
}

static void ref_sort_perm(const struct op_case *c, float *const *in, float *out) {
    argsort_ref(c->in[0].ndim, c->in[0].shape, in[0], 2, false, out);
}

/* ---- the table ---- */

#define R(lo, hi) IN_RANDOM, lo, hi
#define T(lo, hi) IN_TRANSPOSED, lo, hi
#define I(hi) IN_INDEX, 0, hi
#define OUT(nd, ...) nd, {__VA_ARGS__}
#define TOL 0, 0, {0}

static const struct op_case cases[] = {
    /* GATHER: the index has x's ndim and x's sizes outside the axis; hi = the axis size */
    {TN_OP_GATHER, "gather 2-D along axis 1", CHECK_ALL, 2,
     {{2, {3, 5}, R(-2, 2), true}, {2, {3, 4}, I(5), false}},
     apply_gather_axis1, ref_gather_axis1, OUT(2, 3, 4), TOL},
    {TN_OP_GATHER, "gather 2-D along axis 1, strided x, more picks than the axis", CHECK_ALL, 2,
     {{2, {3, 5}, T(-2, 2), true}, {2, {3, 7}, I(5), false}},
     apply_gather_axis1, ref_gather_axis1, OUT(2, 3, 7), TOL},
    {TN_OP_GATHER, "gather 3-D along axis 0", CHECK_ALL, 2,
     {{3, {4, 2, 3}, R(-2, 2), true}, {3, {5, 2, 3}, I(4), false}},
     apply_gather_axis0, ref_gather_axis0, OUT(3, 5, 2, 3), TOL},
    {TN_OP_GATHER, "gather 3-D along axis 2, strided x", CHECK_ALL, 2,
     {{3, {2, 3, 4}, T(-2, 2), true}, {3, {2, 3, 2}, I(4), false}},
     apply_gather_axis2, ref_gather_axis2, OUT(3, 2, 3, 2), TOL},
    /* SCATTER_ADD: more sources than targets along the axis, so additions collide */
    {TN_OP_SCATTER_ADD, "scatter_add 4 rows into 2", CHECK_ALL, 2,
     {{2, {4, 3}, I(2), false}, {2, {4, 3}, R(-2, 2), true}},
     apply_scatter_rows, ref_scatter_rows, OUT(2, 2, 3), TOL},
    {TN_OP_SCATTER_ADD, "scatter_add 3-D along axis 2, strided source", CHECK_ALL, 2,
     {{3, {2, 3, 5}, I(3), false}, {3, {2, 3, 5}, T(-2, 2), true}},
     apply_scatter_last, ref_scatter_last, OUT(3, 2, 3, 3), TOL},
    {TN_OP_SCATTER_ADD, "scatter_add into a longer axis", CHECK_ALL, 2,
     {{2, {2, 3}, I(5), false}, {2, {2, 3}, R(-2, 2), true}},
     apply_scatter_wide, ref_scatter_wide, OUT(2, 2, 5), TOL},
    /* ARGSORT (not differentiable): distinct values, ties (small integers), strided */
    {TN_OP_ARGSORT, "argsort ascending", CHECK_FORWARD, 1, {{2, {3, 5}, R(-2, 2), false}},
     apply_argsort_last_asc, ref_argsort_last_asc, OUT(2, 3, 5), TOL},
    {TN_OP_ARGSORT, "argsort descending", CHECK_FORWARD, 1, {{2, {3, 5}, R(-2, 2), false}},
     apply_argsort_last_desc, ref_argsort_last_desc, OUT(2, 3, 5), TOL},
    {TN_OP_ARGSORT, "argsort ascending, ties keep index order", CHECK_FORWARD, 1,
     {{2, {3, 8}, I(3), false}}, apply_argsort_last_asc, ref_argsort_last_asc, OUT(2, 3, 8), TOL},
    {TN_OP_ARGSORT, "argsort descending, ties keep index order", CHECK_FORWARD, 1,
     {{2, {3, 8}, I(3), false}}, apply_argsort_last_desc, ref_argsort_last_desc, OUT(2, 3, 8), TOL},
    {TN_OP_ARGSORT, "argsort 3-D along axis 0, descending with ties", CHECK_FORWARD, 1,
     {{3, {5, 2, 3}, I(2), false}}, apply_argsort_first_desc, ref_argsort_first_desc, OUT(3, 5, 2, 3), TOL},
    {TN_OP_ARGSORT, "argsort 3-D along axis 0, ascending with ties", CHECK_FORWARD, 1,
     {{3, {5, 2, 3}, I(2), false}}, apply_argsort_first_asc, ref_argsort_first_asc, OUT(3, 5, 2, 3), TOL},
    {TN_OP_ARGSORT, "argsort strided, along the last axis", CHECK_FORWARD, 1,
     {{2, {4, 6}, T(-2, 2), false}}, apply_argsort_last_asc, ref_argsort_last_asc, OUT(2, 4, 6), TOL},
    {TN_OP_ARGSORT, "argsort strided, along axis 0, descending", CHECK_FORWARD, 1,
     {{2, {4, 6}, T(-2, 2), false}}, apply_argsort_first_desc, ref_argsort_first_desc, OUT(2, 4, 6), TOL},
    {TN_OP_ARGSORT, "sort permutation, 3-D last axis, ties", CHECK_FORWARD, 1,
     {{3, {2, 3, 6}, I(3), false}}, apply_sort_perm, ref_sort_perm, OUT(3, 2, 3, 6), TOL},
    /* index_select: a 1-D index expanded over the other dims, then GATHER */
    {TN_OP_GATHER, "index_select rows", CHECK_ALL, 2,
     {{2, {4, 3}, R(-2, 2), true}, {1, {5}, I(4), false}},
     apply_index_select_rows, ref_index_select_rows, OUT(2, 5, 3), TOL},
    {TN_OP_GATHER, "index_select middle axis, strided", CHECK_ALL, 2,
     {{3, {2, 4, 3}, T(-2, 2), true}, {1, {3}, I(4), false}},
     apply_index_select_mid, ref_index_select_mid, OUT(3, 2, 3, 3), TOL},
    {TN_OP_GATHER, "index_select last axis, repeated picks", CHECK_ALL, 2,
     {{3, {2, 3, 4}, R(-2, 2), true}, {1, {6}, I(4), false}},
     apply_index_select_last, ref_index_select_last, OUT(3, 2, 3, 6), TOL},
    /* sort values: distinct random values for the gradient checks (no ties to cross) */
    {TN_OP_GATHER, "sort values ascending", CHECK_ALL, 1, {{2, {3, 5}, R(-2, 2), true}},
     apply_sort_last_asc, ref_sort_last_asc, OUT(2, 3, 5), TOL},
    {TN_OP_GATHER, "sort values descending along axis 0, strided", CHECK_ALL, 1,
     {{2, {4, 3}, T(-2, 2), true}}, apply_sort_first_desc, ref_sort_first_desc, OUT(2, 4, 3), TOL},
    {TN_OP_GATHER, "sort values descending with ties", CHECK_FORWARD, 1, {{2, {3, 8}, I(3), false}},
     apply_sort_last_desc, ref_sort_last_desc, OUT(2, 3, 8), TOL},
};

const struct op_case_table cases_index = {cases, sizeof cases / sizeof *cases};
