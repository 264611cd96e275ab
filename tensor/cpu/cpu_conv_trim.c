/* cpu_conv_trim.c - convolutions whose outer kernel taps never meet the image, run with the
 * taps that do.
 *
 * On small maps a tap can fall in the padding for every output: a 4x4 kernel with stride 2
 * and padding 1 on a 2x2 map gives one output, and only the middle 2x2 taps of it see pixels.
 * The zero columns still cost their multiply-adds (four times the useful work in that case,
 * the critic's last conv). When the taps that meet the image are a sub-rectangle and the
 * convolution without the others (padding reduced by the taps cut at the top and left) has the
 * same output size, the op runs on the cropped weight; the weight gradient of a cut tap is 0.
 * Anything else goes to cpu_conv.c unchanged. When the taps left cover the whole image and
 * give one output pixel (that 2x2 map again), the op is a plain product with x or dx seen as
 * [N, C*H*W]: one product (cpu_sgemm), no column matrix. Not here: any other conv arithmetic.
 */
#include <string.h>

#include "cpu_conv.h"

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
    /* rows of a few floats: plain loops, no memcpy calls, no branch inside */
    if (back) {
        for (int64_t q = 0; q < planes; q++)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++)
                    w[(q * kh + r0 + i) * kw + c0 + j] = crop[(q * rows + i) * cols + j];
    } else {
        for (int64_t q = 0; q < planes; q++)
            for (int64_t i = 0; i < rows; i++)
                for (int64_t j = 0; j < cols; j++)
                    crop[(q * rows + i) * cols + j] = w[(q * kh + r0 + i) * kw + c0 + j];
    }
}

/* The op when the cropped kernel covers the image and the output is 1x1 (groups 1), with
 * crop [K, R] (R = C*H*W) the cropped weight or, for the weight gradient, its result:
 *   y [N, K] = x [N, R] crop^T,   dx [N, R] = gy [N, K] crop,   dcrop [K, R] = gy^T x. */
static void whole_image(const struct tn_kernel_args *a, const int64_t *x_shape, float *crop,
                        int64_t k) {
    int n = (int)x_shape[0], r = (int)(x_shape[1] * x_shape[2] * x_shape[3]), kk = (int)k;
    float *out = tn_data(a->out);
    if (a->op == TN_OP_CONV2D) {
        cpu_sgemm(false, true, n, kk, r, tn_data(cpu_dense(a->in[0])), r, crop, r, 0.0f, out, kk);
    } else if (a->op == TN_OP_CONV2D_GRAD_INPUT) {
        cpu_sgemm(false, false, n, r, kk, tn_data(cpu_dense(a->in[0])), kk, crop, r, 0.0f, out,
                  r);
    } else {
        cpu_sgemm(true, false, kk, r, n, tn_data(cpu_dense(a->in[1])), kk,
                  tn_data(cpu_dense(a->in[0])), r, 0.0f, crop, r);
        return;
    }
    if (a->n_inputs < 3) return;
    int64_t channels = a->out->shape[1];
    add_channel_bias(out, tn_data(cpu_dense(a->in[2])), n, channels,
                     a->out->numel / (n * channels));
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
        tn_conv_out_size(x_shape[2], (int)rows, g->stride[0], p.conv.padding[0],
                         g->dilation[0]) != ho ||
        tn_conv_out_size(x_shape[3], (int)cols, g->stride[1], p.conv.padding[1],
                         g->dilation[1]) != wo)
        return false;

    bool whole = g->groups == 1 && ho == 1 && wo == 1 && rows == x_shape[2] &&
                 cols == x_shape[3] && p.conv.padding[0] == 0 && p.conv.padding[1] == 0 &&
                 g->dilation[0] == 1 && g->dilation[1] == 1;

    tn_scope_begin();
    int64_t planes = w_shape[0] * w_shape[1], crop_shape[4] = {w_shape[0], w_shape[1], rows, cols};
    if (whole && a->op == TN_OP_CONV2D_GRAD_WEIGHT) {
        struct tn_tensor *dcrop = tn_empty(TN_CPU, 4, crop_shape);
        whole_image(a, x_shape, tn_data(dcrop), w_shape[0]);
        memset(tn_data(a->out), 0, sizeof(float) * (size_t)a->out->numel);
        copy_taps(tn_data(a->out), planes, kh, kw, tn_data(dcrop), r0, rows, c0, cols, true);
    } else if (a->op == TN_OP_CONV2D || a->op == TN_OP_CONV2D_GRAD_INPUT) {
        struct tn_tensor *w = cpu_dense(a->in[1]), *crop = tn_empty(TN_CPU, 4, crop_shape);
        copy_taps(tn_data(w), planes, kh, kw, tn_data(crop), r0, rows, c0, cols, false);
        if (whole) {
            whole_image(a, x_shape, tn_data(crop), w_shape[0]);
            tn_scope_end();
            return true;
        }
        struct tn_tensor *in[3] = {a->in[0], crop, a->n_inputs == 3 ? a->in[2] : NULL};
        struct tn_kernel_args cropped = {a->op, a->out, a->n_inputs, in, &p};
        if (a->op == TN_OP_CONV2D) cpu_kernel_conv2d(&cropped);
        else cpu_kernel_conv2d_grad_input(&cropped);
    } else { /* CONV2D_GRAD_WEIGHT: the used taps' gradient, zeros elsewhere */
        p.shape[2] = rows;
        p.shape[3] = cols;
        struct tn_tensor *dw = tn_empty(TN_CPU, 4, crop_shape);
        cpu_kernel_conv2d_grad_weight(&(struct tn_kernel_args){a->op, dw, 2, a->in, &p});
        memset(tn_data(a->out), 0, sizeof(float) * (size_t)a->out->numel);
        copy_taps(tn_data(a->out), planes, kh, kw, tn_data(dw), r0, rows, c0, cols, true);
    }
    tn_scope_end();
    return true;
}
