/* cpu_conv_trim.c - convolutions whose outer kernel taps never meet the image, run with the
 * taps that do.
 *
 * On small maps a tap can fall in the padding for every output: a 4x4 kernel with stride 2
 * and padding 1 on a 2x2 map gives one output, and only the middle 2x2 taps of it see pixels.
 * The zero columns still cost their multiply-adds (four times the useful work in that case,
 * the critic's last conv). When the taps that meet the image are a sub-rectangle and the
 * convolution without the others (padding reduced by the taps cut at the top and left) has the
 * same output size, the op runs on the cropped weight; the weight gradient of a cut tap is 0.
 * Anything else goes to cpu_conv.c unchanged. Not here: the conv arithmetic itself.
 */
#include <string.h>

#include "cpu_internal.h"

/* The first and last kernel taps along one dim that read a pixel for some output. Returns
 * false when no tap does. */
static bool taps_used(int64_t in, int64_t out, int64_t k, int64_t s, int64_t pad, int64_t d,
                      int64_t *first, int64_t *last) {
    *first = -1;
    for (int64_t i = 0; i < k; i++)
        for (int64_t o = 0; o < out; o++) {
            int64_t at = o * s - pad + i * d;
            if (at >= 0 && at < in) {
                if (*first < 0) *first = i;
                *last = i;
                break;
            }
        }
    return *first >= 0;
}

/* Copies the taps [r0, r0 + rows) x [c0, c0 + cols) of each of `planes` kh x kw planes of w
 * into (or, when back, from) the dense crop [planes, rows, cols]. */
static void copy_taps(float *w, int64_t planes, int64_t kh, int64_t kw, float *crop, int64_t r0,
                      int64_t rows, int64_t c0, int64_t cols, bool back) {
    for (int64_t q = 0; q < planes; q++) /* rows of a few floats: no memcpy calls */
        for (int64_t i = 0; i < rows; i++) {
            float *full = w + (q * kh + r0 + i) * kw + c0, *part = crop + (q * rows + i) * cols;
            for (int64_t j = 0; j < cols; j++) {
                if (back) full[j] = part[j];
                else part[j] = full[j];
            }
        }
}

bool cpu_conv_trim(const struct tn_kernel_args *a, const int64_t *x_shape,
                   const int64_t *w_shape) {
    const struct tn_conv_geom *g = &a->params->conv;
    int64_t kh = w_shape[2], kw = w_shape[3];
    int64_t ho = tn_conv_out_size(x_shape[2], (int)kh, g->stride[0], g->padding[0], g->dilation[0]);
    int64_t wo = tn_conv_out_size(x_shape[3], (int)kw, g->stride[1], g->padding[1], g->dilation[1]);
    int64_t r0, r1, c0, c1;
    if (ho <= 0 || wo <= 0 ||
        !taps_used(x_shape[2], ho, kh, g->stride[0], g->padding[0], g->dilation[0], &r0, &r1) ||
        !taps_used(x_shape[3], wo, kw, g->stride[1], g->padding[1], g->dilation[1], &c0, &c1))
        return false;
    if (r0 == 0 && r1 == kh - 1 && c0 == 0 && c1 == kw - 1) return false;
    struct tn_op_params p = *a->params;
    p.conv.padding[0] -= (int)(r0 * g->dilation[0]);
    p.conv.padding[1] -= (int)(c0 * g->dilation[1]);
    int64_t rows = r1 - r0 + 1, cols = c1 - c0 + 1;
    if (p.conv.padding[0] < 0 || p.conv.padding[1] < 0 ||
        tn_conv_out_size(x_shape[2], (int)rows, g->stride[0], p.conv.padding[0], g->dilation[0]) != ho ||
        tn_conv_out_size(x_shape[3], (int)cols, g->stride[1], p.conv.padding[1], g->dilation[1]) != wo)
        return false;

    tn_scope_begin();
    int64_t planes = w_shape[0] * w_shape[1], crop_shape[4] = {w_shape[0], w_shape[1], rows, cols};
    if (a->op == TN_OP_CONV2D || a->op == TN_OP_CONV2D_GRAD_INPUT) {
        struct tn_tensor *w = a->in[1], *crop = tn_empty(TN_CPU, 4, crop_shape);
        if (!tn_is_contiguous(w)) {
            struct tn_op_params none = {0};
            w = tn_op_run(TN_OP_CONTIGUOUS, 1, &w, &none);
        }
        copy_taps(tn_data(w), planes, kh, kw, tn_data(crop), r0, rows, c0, cols, false);
        struct tn_tensor *in[3] = {a->in[0], crop, a->n_inputs == 3 ? a->in[2] : NULL};
        struct tn_kernel_args cropped = {a->op, a->out, a->n_inputs, in, &p};
        if (a->op == TN_OP_CONV2D) cpu_kernel_conv2d(&cropped);
        else cpu_kernel_conv2d_grad_input(&cropped);
    } else { /* CONV2D_GRAD_WEIGHT: the used taps' gradient, zeros elsewhere */
        p.shape[2] = rows;
        p.shape[3] = cols;
        struct tn_tensor *dw = tn_op_run(TN_OP_CONV2D_GRAD_WEIGHT, 2, a->in, &p);
        memset(tn_data(a->out), 0, sizeof(float) * (size_t)a->out->numel);
        copy_taps(tn_data(a->out), planes, kh, kw, tn_data(dw), r0, rows, c0, cols, true);
    }
    tn_scope_end();
    return true;
}
