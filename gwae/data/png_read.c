/* png_read.c - reading a PNG file of any type as 8-bit RGB through libpng (the image-folder
 * dataset's PNG half; writing PNG figures is the tool's, tools/png_write.c).
 *
 * libpng's transforms turn every type (1-16 bit, gray, gray+alpha, palette, RGB, RGBA, with
 * or without tRNS, interlaced or not) into 8-bit RGB rows written straight into the result,
 * so a decode holds 3 bytes per pixel. libpng reports errors by calling an error function that
 * must not return; ours keeps the message and longjmps back to the setjmp of the function that
 * drives libpng. Everything that decode changes after its setjmp lives in a state struct owned
 * by its caller, so no local variable is left indeterminate by the longjmp.
 */
#define _POSIX_C_SOURCE 200809L

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "image.h"
#include "nn/nn_file.h"

struct png_state {
    char *msg;           /* the caller's buffer for the reason of a failure */
    size_t msg_size;
    png_bytep *rows;     /* pointers into img->rgb */
    struct gw_rgb *img;
};

/* libpng's error callback: keeps the message and jumps back to the driving function. */
static void on_error(png_structp png, png_const_charp msg) {
    struct png_state *s = png_get_error_ptr(png);
    snprintf(s->msg, s->msg_size, "corrupt PNG: %s", msg);
    png_longjmp(png, 1);
}

/* libpng's warning callback: warnings (bad ancillary chunks, ...) are not worth a line. */
static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Drives libpng over f into s->img; false on a libpng error or a refused size. */
static bool decode(FILE *f, uint64_t max_pixels, bool gate, struct png_state *s) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, on_error, on_warning);
    if (!png) {
        snprintf(s->msg, s->msg_size, "libpng could not start");
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        snprintf(s->msg, s->msg_size, "out of host memory");
        png_destroy_read_struct(&png, NULL, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        return false;
    }
    png_init_io(png, f);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((uint64_t)w * h > max_pixels) {
        snprintf(s->msg, s->msg_size, "%u x %u pixels, over the pixel limit of %llu", w, h,
                 (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        return false;
    }
    png_set_expand(png);       /* palette to RGB, gray below 8 bits to 8, tRNS to alpha */
    png_set_scale_16(png);
    png_set_strip_alpha(png);
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_bit_depth(png, info) != 8 || png_get_channels(png, info) != 3 ||
        png_get_rowbytes(png, info) != (size_t)w * 3)
        png_error(png, "unexpected layout after conversion to 8-bit RGB");
    gw_image_lock_large(s->img, gate, (uint64_t)w * h * 3 + (uint64_t)h * sizeof(png_bytep));
    s->img->rgb = malloc((size_t)w * h * 3);
    s->rows = malloc(sizeof(png_bytep) * h);
    if (!s->img->rgb || !s->rows) png_error(png, "out of host memory");
    for (png_uint_32 y = 0; y < h; y++) s->rows[y] = s->img->rgb + (size_t)y * w * 3;
    png_read_image(png, s->rows);
    png_read_end(png, NULL);
    png_destroy_read_struct(&png, &info, NULL);
    s->img->width = (int)w;
    s->img->height = (int)h;
    return true;
}

bool gw_png_decode(FILE *f, uint64_t max_pixels, bool gate, struct gw_rgb *img, char *msg,
                   size_t size) {
    struct png_state s = {.msg = msg, .msg_size = size, .img = img};
    bool ok = decode(f, max_pixels, gate, &s);
    free(s.rows);
    if (!ok) {
        free(img->rgb);
        img->rgb = NULL;
    }
    return ok;
}

enum tn_status gw_png_read(const char *path, int *width, int *height, uint8_t **rgb) {
    *rgb = NULL;
    *width = *height = 0;
    int fd;
    uint64_t file_size;
    enum tn_status st = nn_open_regular(path, "", &fd, &file_size);
    if (st != TN_OK) return st;
    char shown[TN_QUOTE_SIZE], msg[256] = "cannot read the file";
    tn_quote(path, shown, sizeof shown);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", shown);
    }
    uint8_t sig[8];
    bool is_png = fread(sig, 1, 8, f) == 8 && png_sig_cmp(sig, 0, 8) == 0;
    struct gw_rgb img = {0};
    bool ok = is_png && fseek(f, 0, SEEK_SET) == 0 &&
              gw_png_decode(f, GW_IMAGE_MAX_PIXELS, false, &img, msg, sizeof msg);
    fclose(f);
    if (!is_png) return tn_error(TN_ERR_INVALID, "%s: not a PNG file", shown);
    if (!ok) return tn_error(TN_ERR_INVALID, "%s: %s", shown, msg);
    *rgb = img.rgb;
    *width = img.width;
    *height = img.height;
    return TN_OK;
}
