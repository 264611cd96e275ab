/* png_read.c - reading a PNG file of any type as 8-bit RGB through libpng (the image-folder
 * dataset's PNG half; writing PNG figures is the tool's, tools/png_write.c).
 *
 * libpng reports errors by calling an error function that must not return; ours keeps the
 * message and longjmps back to the setjmp of the function that drives libpng. Everything that
 * decode changes after its setjmp lives in a state struct owned by its caller, so no local
 * variable is left indeterminate by the longjmp.
 */
#include "dataset.h"

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS ((int64_t)1 << 28) /* refuse larger images: a corrupt header, not a photo */

struct png_state {
    char msg[200];       /* libpng's last error */
    uint8_t *raw;        /* decoded rows after libpng's transforms */
    png_bytep *rows;     /* pointers into raw */
    uint8_t *rgb;        /* the result, [h, w, 3] */
    int width, height;
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

/* Decodes the PNG stream f (signature already read) into s->rgb; false on a libpng error. */
static int decode(FILE *f, struct png_state *s) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    if (!png) {
        snprintf(s->msg, sizeof s->msg, "libpng could not start");
        return 0;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        snprintf(s->msg, sizeof s->msg, "out of host memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return 0;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((int64_t)w * h > MAX_PIXELS) png_error(png, "image too large");
    int type = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int channels = png_get_channels(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    if (png_get_bit_depth(png, info) != 8 || channels < 1 || channels > 4 ||
        row_bytes < (size_t)w * (size_t)channels)
        png_error(png, "unexpected layout after conversion to 8 bits");
    s->raw = malloc(row_bytes * h);
    s->rows = malloc(sizeof(png_bytep) * h);
    s->rgb = malloc((size_t)w * h * 3);
    if (!s->raw || !s->rows || !s->rgb) png_error(png, "out of host memory");
    for (png_uint_32 y = 0; y < h; y++) s->rows[y] = s->raw + (size_t)y * row_bytes;
    png_read_image(png, s->rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    /* gray (1), gray+alpha (2), RGB (3), RGBA (4): keep the colour, drop the alpha */
    for (png_uint_32 y = 0; y < h; y++)
        for (png_uint_32 x = 0; x < w; x++) {
            const uint8_t *p = s->rows[y] + (size_t)x * (size_t)channels;
            uint8_t *q = s->rgb + ((size_t)y * w + x) * 3;
            if (channels < 3) {
                q[0] = q[1] = q[2] = p[0];
            } else {
                q[0] = p[0];
                q[1] = p[1];
                q[2] = p[2];
            }
        }
    s->width = (int)w;
    s->height = (int)h;
    return 1;
}

enum tn_status gw_png_read(const char *path, int *width, int *height, uint8_t **rgb) {
    *rgb = NULL;
    *width = *height = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tn_error(TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
        fclose(f);
        return tn_error(TN_ERR_INVALID, "%s: not a PNG file", path);
    }
    struct png_state s = {0};
    int ok = decode(f, &s);
    fclose(f);
    free(s.raw);
    free(s.rows);
    if (!ok) {
        free(s.rgb);
        return tn_error(TN_ERR_INVALID, "%s: corrupt PNG: %s", path, s.msg);
    }
    *rgb = s.rgb;
    *width = s.width;
    *height = s.height;
    return TN_OK;
}
