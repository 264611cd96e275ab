/* png_write.c - PNG figures: 8-bit RGB images and grids of image tensors, encoded by libpng
 * into memory and written atomically (nn_write_file_atomic). Reading PNG files is the data
 * library's (gwae/data/png_read.c).
 *
 * libpng reports errors by calling an error function that must not return; ours keeps the
 * message and longjmps back to the setjmp of encode. What encode changes after its setjmp
 * lives in a state struct owned by its caller, so no local variable is left indeterminate.
 */
#include "png_write.h"

#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_file.h"

#define MAX_PIXELS ((int64_t)1 << 28) /* the largest figure written */

struct png_state {
    char msg[200];       /* libpng's last error */
    uint8_t *data;       /* encoded bytes */
    size_t len, cap;
};

/* libpng's error callback: keeps the message and jumps back to the driving function. */
static void on_error(png_structp png, png_const_charp msg) {
    struct png_state *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

/* libpng's warning callback: warnings (bad ancillary chunks, ...) are not worth a line. */
static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Appends encoded bytes to the state's growing buffer. */
static void mem_write(png_structp png, png_bytep bytes, png_size_t n) {
    struct png_state *s = png_get_io_ptr(png);
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n) cap *= 2;
        uint8_t *grown = realloc(s->data, cap);
        if (!grown) png_error(png, "out of host memory");
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
}

/* Nothing to flush: the bytes go to memory. */
static void mem_flush(png_structp png) {
    (void)png;
}

/* Encodes rgb[h, w, 3] into s->data; false (message in s->msg) on failure. */
static int encode(struct png_state *s, int w, int h, const uint8_t *rgb) {
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    if (!png) {
        snprintf(s->msg, sizeof s->msg, "libpng could not start");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        snprintf(s->msg, sizeof s->msg, "out of host memory");
        png_destroy_write_struct(&png, NULL);
        return 0;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return 0;
    }
    png_set_write_fn(png, s, mem_write, mem_flush);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++)
        png_write_row(png, (png_const_bytep)(rgb + (size_t)y * (size_t)w * 3));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 1;
}

enum tn_status png_write(const char *path, int width, int height, const uint8_t *rgb) {
    if (width <= 0 || height <= 0 || (int64_t)width * height > MAX_PIXELS)
        return tn_error(TN_ERR_INVALID, "%s: cannot write a %dx%d image", path, width, height);
    struct png_state s = {0};
    enum tn_status st = TN_OK;
    if (!encode(&s, width, height, rgb))
        st = tn_error(TN_ERR_IO, "%s: PNG encoding failed: %s", path, s.msg);
    else
        st = nn_write_file_atomic(path, s.data, s.len);
    free(s.data);
    return st;
}

enum tn_status png_write_grid(const char *path, const struct tn_tensor *images, int cols,
                                 int pad) {
    char buf[96];
    TN_CHECK(images->ndim == 4 && (images->shape[1] == 1 || images->shape[1] == 3),
             "png_write_grid", "images must be [N, 1 or 3, H, W], got %s",
             tn_shape_str(images->ndim, images->shape, buf, sizeof buf));
    TN_CHECK(pad >= 0, "png_write_grid", "negative padding %d", pad);
    int64_t n = images->shape[0], c = images->shape[1], h = images->shape[2], w = images->shape[3];
    if (n == 0 || h == 0 || w == 0) return tn_error(TN_ERR_INVALID, "%s: no images to write", path);
    if (cols <= 0) cols = (int)ceil(sqrt((double)n));
    if (cols > n) cols = (int)n;
    int64_t rows = (n + cols - 1) / cols;
    int64_t gw = cols * w + (cols + 1) * pad, gh = rows * h + (rows + 1) * pad;
    if (gw * gh > MAX_PIXELS || gw > INT32_MAX || gh > INT32_MAX)
        return tn_error(TN_ERR_INVALID, "%s: a %lldx%lld grid is too large", path, (long long)gw,
                        (long long)gh);
    float *host = malloc((size_t)images->numel * sizeof(float));
    uint8_t *rgb = malloc((size_t)(gw * gh * 3));
    if (!host || !rgb) {
        free(host);
        free(rgb);
        return tn_error(TN_ERR_OOM, "%s: out of host memory for the grid", path);
    }
    tn_to_host(images, host);
    memset(rgb, 255, (size_t)(gw * gh * 3));
    for (int64_t i = 0; i < n; i++) {
        int64_t x0 = pad + (i % cols) * (w + pad), y0 = pad + (i / cols) * (h + pad);
        for (int64_t ch = 0; ch < 3; ch++) {
            const float *plane = host + (i * c + (c == 1 ? 0 : ch)) * h * w;
            for (int64_t y = 0; y < h; y++)
                for (int64_t x = 0; x < w; x++) {
                    float v = plane[y * w + x];
                    v = v > 0.0f ? (v < 1.0f ? v : 1.0f) : 0.0f; /* NaN goes to 0 too */
                    rgb[((y0 + y) * gw + x0 + x) * 3 + ch] = (uint8_t)(v * 255.0f + 0.5f);
                }
        }
    }
    enum tn_status st = png_write(path, (int)gw, (int)gh, rgb);
    free(host);
    free(rgb);
    return st;
}

