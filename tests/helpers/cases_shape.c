/* cases_shape.c - test cases of the view and copy ops (RESHAPE, PERMUTE, EXPAND, SLICE,
 * UNSLICE, CONTIGUOUS, CONCAT), of padding (PAD, PAD_ADJOINT) and of the composites built on
 * them (squeeze, unsqueeze, flatten, transpose, split), on contiguous, broadcast and strided
 * (transposed) inputs. References are plain index loops over row-major host copies.
 */
#include <stdlib.h>

#include "op_cases.h"

/* ---- index helpers ---- */

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

/* Same elements in the same row-major order (reshape, contiguous, squeeze, flatten...). */
static void ref_copy(const struct op_case *c, float *const *in, float *out) {
    for (int64_t e = 0; e < op_case_out_numel(c); e++) out[e] = in[0][e];
}

/* out[coord] = x[coord'] with coord'[perm[d]] = coord[d] */
static void permute_ref(const struct op_case *c, const float *x, const int *perm, float *out) {
    int64_t oc[TN_MAX_DIMS], xc[TN_MAX_DIMS];
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        coords_of(e, c->out_ndim, c->out_shape, oc);
        for (int d = 0; d < c->out_ndim; d++) xc[perm[d]] = oc[d];
        out[e] = x[flat_of(xc, c->in[0].ndim, c->in[0].shape)];
    }
}

static void ref_expand(const struct op_case *c, float *const *in, float *out) {
    for (int64_t e = 0; e < op_case_out_numel(c); e++)
        out[e] = broadcast_at(in[0], c->in[0].ndim, c->in[0].shape, c->out_ndim, c->out_shape, e);
}

/* out = x[start : start + out.shape[axis]] along axis */
static void slice_ref(const struct op_case *c, const float *x, int axis, int64_t start,
                      float *out) {
    int64_t oc[TN_MAX_DIMS];
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        coords_of(e, c->out_ndim, c->out_shape, oc);
        oc[axis] += start;
        out[e] = x[flat_of(oc, c->in[0].ndim, c->in[0].shape)];
    }
}

/* zeros of out's shape with x at [start, start + x.shape[axis]) along axis */
static void unslice_ref(const struct op_case *c, const float *x, int axis, int64_t start,
                        float *out) {
    int64_t xc[TN_MAX_DIMS];
    for (int64_t e = 0; e < op_case_out_numel(c); e++) out[e] = 0.0f;
    for (int64_t e = 0; e < tn_numel_of(c->in[0].ndim, c->in[0].shape); e++) {
        coords_of(e, c->in[0].ndim, c->in[0].shape, xc);
        xc[axis] += start;
        out[flat_of(xc, c->out_ndim, c->out_shape)] = x[e];
    }
}

/* the inputs one after the other along axis */
static void concat_ref(const struct op_case *c, float *const *in, int axis, float *out) {
    int64_t oc[TN_MAX_DIMS];
    for (int64_t e = 0; e < op_case_out_numel(c); e++) {
        coords_of(e, c->out_ndim, c->out_shape, oc);
        int i = 0;
        while (oc[axis] >= c->in[i].shape[axis]) oc[axis] -= c->in[i++].shape[axis];
        out[e] = in[i][flat_of(oc, c->in[i].ndim, c->in[i].shape)];
    }
}

static int64_t clamp_i(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

/* padded (i, j) of the last two dims reads x at (i - top, j - left): zero outside, or the
 * nearest border cell for replicate */
static void pad_ref(const struct op_case *c, const float *x, enum tn_pad_mode mode,
                    const int64_t *pads, float *out) {
    int nd = c->in[0].ndim;
    int64_t h = c->in[0].shape[nd - 2], w = c->in[0].shape[nd - 1];
    int64_t oh = c->out_shape[nd - 2], ow = c->out_shape[nd - 1];
    int64_t planes = tn_numel_of(nd - 2, c->in[0].shape);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                int64_t si = i - pads[0], sj = j - pads[2];
                bool inside = si >= 0 && si < h && sj >= 0 && sj < w;
                float v = 0.0f;
                if (inside || mode == TN_PAD_REPLICATE)
                    v = x[(p * h + clamp_i(si, h)) * w + clamp_i(sj, w)];
                out[(p * oh + i) * ow + j] = v;
            }
}

/* the transpose of pad_ref: every cell of g adds into the x cell pad_ref read it from */
static void pad_adjoint_ref(const struct op_case *c, const float *g, enum tn_pad_mode mode,
                            const int64_t *pads, float *out) {
    int nd = c->in[0].ndim;
    int64_t gh = c->in[0].shape[nd - 2], gw = c->in[0].shape[nd - 1];
    int64_t h = c->out_shape[nd - 2], w = c->out_shape[nd - 1];
    int64_t planes = tn_numel_of(nd - 2, c->out_shape);
    double *acc = calloc((size_t)op_case_out_numel(c), sizeof *acc);
    cr_assert(acc);
    for (int64_t p = 0; p < planes; p++)
        for (int64_t i = 0; i < gh; i++)
            for (int64_t j = 0; j < gw; j++) {
                int64_t si = i - pads[0], sj = j - pads[2];
                bool inside = si >= 0 && si < h && sj >= 0 && sj < w;
                if (inside || mode == TN_PAD_REPLICATE)
                    acc[(p * h + clamp_i(si, h)) * w + clamp_i(sj, w)] += g[(p * gh + i) * gw + j];
            }
    for (int64_t e = 0; e < op_case_out_numel(c); e++) out[e] = (float)acc[e];
    free(acc);
}

/* ---- apply functions (and their references where they take parameters) ---- */

#define APPLY(name, call)                                                                   \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        (void)ctx;                                                                          \
        return call;                                                                        \
    }

static const int64_t s_4x6[] = {4, 6}, s_6x4[] = {6, 4}, s_2x3x2x2[] = {2, 3, 2, 2};
static const int64_t s_4x2x3[] = {4, 2, 3};
APPLY(reshape_4x6, ag_reshape(in[0], 2, s_4x6))
APPLY(reshape_6x4, ag_reshape(in[0], 2, s_6x4))
APPLY(reshape_split_last, ag_reshape(in[0], 4, s_2x3x2x2))
APPLY(reshape_merge_lead, ag_reshape(in[0], 3, s_4x2x3))
APPLY(squeeze, ag_squeeze(in[0], 1))
APPLY(squeeze_last, ag_squeeze(in[0], 2))
APPLY(unsqueeze, ag_unsqueeze(in[0], 1))
APPLY(unsqueeze_end, ag_unsqueeze(in[0], 2))
APPLY(flatten, ag_flatten(in[0], 1))
APPLY(flatten_all, ag_flatten(in[0], 0))
APPLY(contiguous, ag_contiguous(in[0]))
APPLY(to_cpu, ag_to_device(in[0], TN_CPU))

/* ag_contiguous of a transposed view made inside the op: out = x^T, dense */
APPLY(contiguous_of_transpose, ag_contiguous(ag_transpose(in[0], 0, 1)))
static void ref_contiguous_of_transpose(const struct op_case *c, float *const *in, float *out) {
    static const int perm[] = {1, 0};
    permute_ref(c, in[0], perm, out);
}

#define PERMUTE(name, call, ...)                                                            \
    APPLY(name, call)                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        static const int perm[] = {__VA_ARGS__};                                            \
        permute_ref(c, in[0], perm, out);                                                   \
    }

static const int p_201[] = {2, 0, 1}, p_3102[] = {3, 1, 0, 2}, p_10[] = {1, 0};
PERMUTE(permute3, ag_permute(in[0], p_201), 2, 0, 1)
PERMUTE(permute4, ag_permute(in[0], p_3102), 3, 1, 0, 2)
PERMUTE(permute2, ag_permute(in[0], p_10), 1, 0)
PERMUTE(transpose02, ag_transpose(in[0], 0, 2), 2, 1, 0)
PERMUTE(transpose12, ag_transpose(in[0], 1, 2), 0, 2, 1)

static const int64_t s_2x3x4[] = {2, 3, 4}, s_2x4x3[] = {2, 4, 3};
APPLY(expand_lead, ag_expand(in[0], 3, s_2x3x4))
APPLY(expand_243, ag_expand(in[0], 3, s_2x4x3))

#define SLICE(name, axis, start, length)                                                    \
    APPLY(name, ag_slice(in[0], axis, start, length))                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        slice_ref(c, in[0], axis, start, out);                                              \
    }

SLICE(slice_axis0, 0, 1, 2)
SLICE(slice_mid, 1, 1, 3)
SLICE(slice_last, 2, 2, 2)

#define UNSLICE(name, axis, start, ndim, ...)                                               \
    static struct tn_tensor *apply_##name(struct tn_tensor *const *in, void *ctx) {         \
        static const int64_t shape[] = {__VA_ARGS__};                                       \
        (void)ctx;                                                                          \
        return ag_unslice(in[0], axis, start, ndim, shape);                                 \
    }                                                                                       \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        unslice_ref(c, in[0], axis, start, out);                                            \
    }

UNSLICE(unslice_mid, 1, 2, 3, 2, 5, 3)
UNSLICE(unslice_axis0, 0, 0, 2, 4, 3)
UNSLICE(unslice_last, 2, 1, 3, 2, 3, 4)

#define CONCAT(name, n, axis)                                                               \
    APPLY(name, ag_concat(n, in, axis))                                                     \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        concat_ref(c, in, axis, out);                                                       \
    }

CONCAT(concat2_axis0, 2, 0)
CONCAT(concat2_axis1, 2, 1)
CONCAT(concat3_axis1, 3, 1)
CONCAT(concat3_axis0, 3, 0)

#define PAD(name, mode, top, bottom, left, right)                                           \
    APPLY(name, ag_pad2d(in[0], mode, top, bottom, left, right))                            \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        static const int64_t pads[] = {top, bottom, left, right};                           \
        pad_ref(c, in[0], mode, pads, out);                                                 \
    }

#define PAD_ADJOINT(name, mode, top, bottom, left, right)                                   \
    APPLY(name, ag_pad2d_adjoint(in[0], mode, top, bottom, left, right))                    \
    static void ref_##name(const struct op_case *c, float *const *in, float *out) {         \
        static const int64_t pads[] = {top, bottom, left, right};                           \
        pad_adjoint_ref(c, in[0], mode, pads, out);                                         \
    }

PAD(pad_zeros, TN_PAD_ZEROS, 1, 2, 0, 3)
PAD(pad_replicate, TN_PAD_REPLICATE, 1, 2, 0, 3)
PAD(pad_zeros_all, TN_PAD_ZEROS, 2, 1, 1, 2)
PAD(pad_replicate_wide, TN_PAD_REPLICATE, 3, 0, 4, 1)
PAD_ADJOINT(pad_adj_zeros, TN_PAD_ZEROS, 1, 2, 0, 3)
PAD_ADJOINT(pad_adj_replicate, TN_PAD_REPLICATE, 1, 2, 0, 3)
PAD_ADJOINT(pad_adj_replicate_wide, TN_PAD_REPLICATE, 3, 0, 4, 1)

/* split [5, 4] along 0 into 2 + 3 rows; out = concat(-3 piece1, 2 piece0): both pieces
 * matter, with different weights, so a gradient routed to the wrong piece shows */
static struct tn_tensor *apply_split_rows(struct tn_tensor *const *in, void *ctx) {
    static const int64_t sizes[] = {2, 3};
    struct tn_tensor *piece[2];
    (void)ctx;
    ag_split(in[0], 0, 2, sizes, piece);
    struct tn_tensor *parts[2] = {ag_mul_scalar(piece[1], -3.0f), ag_mul_scalar(piece[0], 2.0f)};
    return ag_concat(2, parts, 0);
}

static void ref_split_rows(const struct op_case *c, float *const *in, float *out) {
    (void)c;
    for (int64_t r = 0; r < 5; r++)
        for (int64_t k = 0; k < 4; k++) {
            int64_t src = r < 3 ? r + 2 : r - 3;
            out[r * 4 + k] = (float)((r < 3 ? -3.0 : 2.0) * in[0][src * 4 + k]);
        }
}

/* split [2, 6, 3] along 1 into 1 + 2 + 3: the middle piece, dims 1..2 of x */
static struct tn_tensor *apply_split_middle(struct tn_tensor *const *in, void *ctx) {
    static const int64_t sizes[] = {1, 2, 3};
    struct tn_tensor *piece[3];
    (void)ctx;
    ag_split(in[0], 1, 3, sizes, piece);
    return piece[1];
}

static void ref_split_middle(const struct op_case *c, float *const *in, float *out) {
    slice_ref(c, in[0], 1, 1, out);
}

/* split [2, 6, 3] along 1 into 2 + 2 + 2; out = piece0 + 2 piece1 + 3 piece2 */
static struct tn_tensor *apply_split_weighted(struct tn_tensor *const *in, void *ctx) {
    static const int64_t sizes[] = {2, 2, 2};
    struct tn_tensor *piece[3];
    (void)ctx;
    ag_split(in[0], 1, 3, sizes, piece);
    return ag_add(ag_add(piece[0], ag_mul_scalar(piece[1], 2.0f)), ag_mul_scalar(piece[2], 3.0f));
}

static void ref_split_weighted(const struct op_case *c, float *const *in, float *out) {
    (void)c;
    for (int64_t a = 0; a < 2; a++)
        for (int64_t b = 0; b < 2; b++)
            for (int64_t k = 0; k < 3; k++) {
                double s = 0;
                for (int64_t p = 0; p < 3; p++) s += (double)(p + 1) * in[0][(a * 6 + p * 2 + b) * 3 + k];
                out[(a * 2 + b) * 3 + k] = (float)s;
            }
}

/* ---- the table ---- */

#define R(lo, hi) IN_RANDOM, lo, hi
#define T(lo, hi) IN_TRANSPOSED, lo, hi
#define X1(nd, kind, ...) 1, {{nd, {__VA_ARGS__}, kind, true}}
#define OUT(nd, ...) nd, {__VA_ARGS__}
#define TOL 0, 0, {0}

static const struct op_case cases[] = {
    /* RESHAPE: contiguous; strided inputs that force a copy; strided inputs still viewable */
    {TN_OP_RESHAPE, "reshape contiguous", CHECK_ALL, X1(3, R(-2, 2), 2, 3, 4), apply_reshape_4x6, ref_copy, OUT(2, 4, 6), TOL},
    {TN_OP_RESHAPE, "reshape strided (copies)", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_reshape_6x4, ref_copy, OUT(2, 6, 4), TOL},
    {TN_OP_RESHAPE, "reshape 2-D strided (copies)", CHECK_ALL, X1(2, T(-2, 2), 4, 6), apply_reshape_6x4, ref_copy, OUT(2, 6, 4), TOL},
    {TN_OP_RESHAPE, "reshape strided, split strided dim (view)", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_reshape_split_last, ref_copy, OUT(4, 2, 3, 2, 2), TOL},
    {TN_OP_RESHAPE, "reshape strided, merge leading dims (view)", CHECK_ALL, X1(4, T(-2, 2), 2, 2, 2, 3), apply_reshape_merge_lead, ref_copy, OUT(3, 4, 2, 3), TOL},
    /* composites of RESHAPE */
    {TN_OP_RESHAPE, "squeeze", CHECK_ALL, X1(3, R(-2, 2), 2, 1, 3), apply_squeeze, ref_copy, OUT(2, 2, 3), TOL},
    {TN_OP_RESHAPE, "squeeze last, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 1), apply_squeeze_last, ref_copy, OUT(2, 2, 3), TOL},
    {TN_OP_RESHAPE, "unsqueeze", CHECK_ALL, X1(2, R(-2, 2), 2, 3), apply_unsqueeze, ref_copy, OUT(3, 2, 1, 3), TOL},
    {TN_OP_RESHAPE, "unsqueeze at end, strided", CHECK_ALL, X1(2, T(-2, 2), 3, 4), apply_unsqueeze_end, ref_copy, OUT(3, 3, 4, 1), TOL},
    {TN_OP_RESHAPE, "flatten from dim 1", CHECK_ALL, X1(3, R(-2, 2), 2, 3, 4), apply_flatten, ref_copy, OUT(2, 2, 12), TOL},
    {TN_OP_RESHAPE, "flatten all, strided (copies)", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_flatten_all, ref_copy, OUT(1, 24), TOL},
    /* PERMUTE and its composite transpose */
    {TN_OP_PERMUTE, "permute 3-D", CHECK_ALL, X1(3, R(-2, 2), 2, 3, 4), apply_permute3, ref_permute3, OUT(3, 4, 2, 3), TOL},
    {TN_OP_PERMUTE, "permute 3-D strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_permute3, ref_permute3, OUT(3, 4, 2, 3), TOL},
    {TN_OP_PERMUTE, "permute 4-D", CHECK_ALL, X1(4, R(-2, 2), 2, 3, 2, 4), apply_permute4, ref_permute4, OUT(4, 4, 3, 2, 2), TOL},
    {TN_OP_PERMUTE, "permute 2-D of strided (undoes the layout)", CHECK_ALL, X1(2, T(-2, 2), 3, 5), apply_permute2, ref_permute2, OUT(2, 5, 3), TOL},
    {TN_OP_PERMUTE, "transpose dims 0, 2", CHECK_ALL, X1(3, R(-2, 2), 2, 3, 4), apply_transpose02, ref_transpose02, OUT(3, 4, 3, 2), TOL},
    {TN_OP_PERMUTE, "transpose dims 1, 2 strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_transpose12, ref_transpose12, OUT(3, 2, 4, 3), TOL},
    /* EXPAND: leading dims added, size-1 dims broadcast */
    {TN_OP_EXPAND, "expand adds leading dims", CHECK_ALL, X1(1, R(-2, 2), 4), apply_expand_lead, ref_expand, OUT(3, 2, 3, 4), TOL},
    {TN_OP_EXPAND, "expand size-1 dims and a leading dim", CHECK_ALL, X1(2, R(-2, 2), 3, 1), apply_expand_lead, ref_expand, OUT(3, 2, 3, 4), TOL},
    {TN_OP_EXPAND, "expand size-1 dims", CHECK_ALL, X1(3, R(-2, 2), 1, 3, 1), apply_expand_lead, ref_expand, OUT(3, 2, 3, 4), TOL},
    {TN_OP_EXPAND, "expand strided", CHECK_ALL, X1(3, T(-2, 2), 2, 1, 3), apply_expand_243, ref_expand, OUT(3, 2, 4, 3), TOL},
    /* SLICE and the split composites */
    {TN_OP_SLICE, "slice axis 0", CHECK_ALL, X1(2, R(-2, 2), 4, 3), apply_slice_axis0, ref_slice_axis0, OUT(2, 2, 3), TOL},
    {TN_OP_SLICE, "slice middle axis", CHECK_ALL, X1(3, R(-2, 2), 2, 5, 3), apply_slice_mid, ref_slice_mid, OUT(3, 2, 3, 3), TOL},
    {TN_OP_SLICE, "slice last axis, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 5), apply_slice_last, ref_slice_last, OUT(3, 2, 3, 2), TOL},
    {TN_OP_SLICE, "split rows, pieces recombined", CHECK_ALL, X1(2, R(-2, 2), 5, 4), apply_split_rows, ref_split_rows, OUT(2, 5, 4), TOL},
    {TN_OP_SLICE, "split middle axis, one piece, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 6, 3), apply_split_middle, ref_split_middle, OUT(3, 2, 2, 3), TOL},
    {TN_OP_SLICE, "split into 3 weighted pieces", CHECK_ALL, X1(3, R(-2, 2), 2, 6, 3), apply_split_weighted, ref_split_weighted, OUT(3, 2, 2, 3), TOL},
    /* UNSLICE */
    {TN_OP_UNSLICE, "unslice middle axis", CHECK_ALL, X1(3, R(-2, 2), 2, 2, 3), apply_unslice_mid, ref_unslice_mid, OUT(3, 2, 5, 3), TOL},
    {TN_OP_UNSLICE, "unslice axis 0 at start, strided", CHECK_ALL, X1(2, T(-2, 2), 2, 3), apply_unslice_axis0, ref_unslice_axis0, OUT(2, 4, 3), TOL},
    {TN_OP_UNSLICE, "unslice last axis, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 2), apply_unslice_last, ref_unslice_last, OUT(3, 2, 3, 4), TOL},
    /* CONTIGUOUS of transposed views */
    {TN_OP_CONTIGUOUS, "contiguous of a strided input", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_contiguous, ref_copy, OUT(3, 2, 3, 4), TOL},
    {TN_OP_CONTIGUOUS, "contiguous of a transpose", CHECK_ALL, X1(2, R(-2, 2), 3, 4), apply_contiguous_of_transpose, ref_contiguous_of_transpose, OUT(2, 4, 3), TOL},
    /* TO_DEVICE: to the CPU here (a dense copy); test_cuda runs it from the GPU */
    {TN_OP_TO_DEVICE, "to_device cpu of a strided input", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_to_cpu, ref_copy, OUT(3, 2, 3, 4), TOL},
    /* CONCAT */
    {TN_OP_CONCAT, "concat 2 along axis 0", CHECK_ALL, 2,
     {{2, {2, 3}, R(-2, 2), true}, {2, {1, 3}, R(-2, 2), true}},
     apply_concat2_axis0, ref_concat2_axis0, OUT(2, 3, 3), TOL},
    {TN_OP_CONCAT, "concat 2 along axis 1, one strided", CHECK_ALL, 2,
     {{3, {2, 3, 2}, T(-2, 2), true}, {3, {2, 2, 2}, R(-2, 2), true}},
     apply_concat2_axis1, ref_concat2_axis1, OUT(3, 2, 5, 2), TOL},
    {TN_OP_CONCAT, "concat 3 along axis 1, one strided", CHECK_ALL, 3,
     {{2, {2, 2}, R(-2, 2), true}, {2, {2, 3}, T(-2, 2), true}, {2, {2, 1}, R(-2, 2), true}},
     apply_concat3_axis1, ref_concat3_axis1, OUT(2, 2, 6), TOL},
    {TN_OP_CONCAT, "concat 3 along axis 0, one strided, one without grad", CHECK_ALL, 3,
     {{3, {1, 2, 3}, R(-2, 2), true}, {3, {2, 2, 3}, R(-2, 2), false}, {3, {2, 2, 3}, T(-2, 2), true}},
     apply_concat3_axis0, ref_concat3_axis0, OUT(3, 5, 2, 3), TOL},
    /* PAD on [2, 3, 4, 5] with pads top 1, bottom 2, left 0, right 3 */
    {TN_OP_PAD, "pad zeros asymmetric", CHECK_ALL, X1(4, R(-2, 2), 2, 3, 4, 5), apply_pad_zeros, ref_pad_zeros, OUT(4, 2, 3, 7, 8), TOL},
    {TN_OP_PAD, "pad replicate asymmetric", CHECK_ALL, X1(4, R(-2, 2), 2, 3, 4, 5), apply_pad_replicate, ref_pad_replicate, OUT(4, 2, 3, 7, 8), TOL},
    {TN_OP_PAD, "pad zeros all sides, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 3, 4), apply_pad_zeros_all, ref_pad_zeros_all, OUT(3, 2, 6, 7), TOL},
    {TN_OP_PAD, "pad replicate wider than the image, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 2, 3), apply_pad_replicate_wide, ref_pad_replicate_wide, OUT(3, 2, 5, 8), TOL},
    /* PAD_ADJOINT: [2, 3, 7, 8] cropped back to [2, 3, 4, 5] */
    {TN_OP_PAD_ADJOINT, "pad adjoint zeros", CHECK_ALL, X1(4, R(-2, 2), 2, 3, 7, 8), apply_pad_adj_zeros, ref_pad_adj_zeros, OUT(4, 2, 3, 4, 5), TOL},
    {TN_OP_PAD_ADJOINT, "pad adjoint replicate", CHECK_ALL, X1(4, R(-2, 2), 2, 3, 7, 8), apply_pad_adj_replicate, ref_pad_adj_replicate, OUT(4, 2, 3, 4, 5), TOL},
    {TN_OP_PAD_ADJOINT, "pad adjoint replicate wide, strided", CHECK_ALL, X1(3, T(-2, 2), 2, 5, 8), apply_pad_adj_replicate_wide, ref_pad_adj_replicate_wide, OUT(3, 2, 2, 3), TOL},
};

const struct op_case_table cases_shape = {cases, sizeof cases / sizeof *cases};
