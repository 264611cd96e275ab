/* image_folder.c - a folder of PNG/JPEG images as a dataset source: listing the files,
 * decoding one file (PNG through gw_png_read, JPEG through libjpeg-turbo) to RGB bytes,
 * centre-cropping it to a square and resizing it to the model's size.
 *
 * The split into train/valid/test and the parallel loop over files are in data/dataset.c. A JPEG
 * much larger than the target is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (DCT scaling,
 * never below the target size), which cuts the decoding time of large photos several-fold.
 * libjpeg reports errors through error_exit, which must not return: ours formats the message
 * and longjmps back to decode_jpeg, whose changing state lives in a struct of its caller.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>

#include "dataset.h"
#include "dataset.h"

#define MAX_PIXELS ((int64_t)1 << 28)

/* True when name ends in .png, .jpg or .jpeg, in any case. */
static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    return strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
           strcasecmp(dot, ".jpeg") == 0;
}

static int compare_paths(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

enum tn_status gw_image_list(const char *dir, char ***paths, int64_t *count) {
    *paths = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return tn_error(TN_ERR_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    char **list = NULL;
    int64_t n = 0, cap = 0;
    enum tn_status st = TN_OK;
    struct dirent *e;
    while (st == TN_OK && (e = readdir(d))) {
        /* hidden files ("._x.jpg" from macOS archives) are not images of the dataset */
        if (e->d_name[0] == '.' || !is_image_name(e->d_name)) continue;
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *path = malloc(len);
        if (!path) {
            st = tn_error(TN_ERR_OOM, "%s: out of host memory listing the folder", dir);
            break;
        }
        snprintf(path, len, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
            free(path);
            continue;
        }
        if (n == cap) {
            int64_t grown_cap = cap ? cap * 2 : 256;
            char **grown = realloc(list, (size_t)grown_cap * sizeof *grown);
            if (!grown) {
                free(path);
                st = tn_error(TN_ERR_OOM, "%s: out of host memory listing the folder", dir);
                break;
            }
            list = grown;
            cap = grown_cap;
        }
        list[n++] = path;
    }
    closedir(d);
    if (st == TN_OK && n == 0)
        st = tn_error(TN_ERR_INVALID, "%s: no .png, .jpg or .jpeg files in the folder", dir);
    if (st != TN_OK) {
        gw_image_list_free(list, n);
        return st;
    }
    qsort(list, (size_t)n, sizeof *list, compare_paths);
    *paths = list;
    *count = n;
    return TN_OK;
}

void gw_image_list_free(char **paths, int64_t count) {
    for (int64_t i = 0; i < count; i++) free(paths[i]);
    free(paths);
}

struct jpeg_state {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr mgr; /* cinfo.err points here; state_of() goes back to the state */
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    uint8_t *rgb;              /* the result, [h, w, 3] */
    uint8_t *row;              /* one decoded scanline */
    int width, height;
};

/* Recovers the state from libjpeg's error manager pointer. */
static struct jpeg_state *state_of(j_common_ptr cinfo) {
    return (struct jpeg_state *)((char *)cinfo->err - offsetof(struct jpeg_state, mgr));
}

/* libjpeg's error_exit: keeps the message and jumps back to decode_jpeg. */
static void jpeg_on_error(j_common_ptr cinfo) {
    struct jpeg_state *s = state_of(cinfo);
    (*cinfo->err->format_message)(cinfo, s->msg);
    longjmp(s->jump, 1);
}

/* libjpeg's emit_message: warnings that mean damaged image data (a truncated file, a bad
 * entropy code) are errors here, so that a corrupt file is refused, not half-grey; harmless
 * ones (extraneous bytes, unknown markers) and trace messages are ignored. */
static void jpeg_on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC ||
        code == JWRN_HUFF_BAD_CODE || code == JWRN_ARITH_BAD_CODE)
        jpeg_on_error(cinfo);
}

/* Decodes the JPEG stream f into s->rgb, at a reduced scale when the short side stays >= size;
 * false (message in s->msg) on failure. */
static int decode_jpeg(FILE *f, int size, struct jpeg_state *s) {
    s->cinfo.err = jpeg_std_error(&s->mgr);
    s->mgr.error_exit = jpeg_on_error;
    s->mgr.emit_message = jpeg_on_message;
    if (setjmp(s->jump)) {
        jpeg_destroy_decompress(&s->cinfo);
        return 0;
    }
    jpeg_create_decompress(&s->cinfo);
    jpeg_stdio_src(&s->cinfo, f);
    jpeg_read_header(&s->cinfo, TRUE);
    int cmyk = s->cinfo.jpeg_color_space == JCS_CMYK || s->cinfo.jpeg_color_space == JCS_YCCK;
    s->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    unsigned short_side = s->cinfo.image_width < s->cinfo.image_height ? s->cinfo.image_width
                                                                       : s->cinfo.image_height;
    for (unsigned denom = 8; denom >= 2; denom /= 2)
        if (short_side / denom >= (unsigned)size) {
            s->cinfo.scale_num = 1;
            s->cinfo.scale_denom = denom;
            break;
        }
    jpeg_start_decompress(&s->cinfo);
    unsigned w = s->cinfo.output_width, h = s->cinfo.output_height;
    int comps = s->cinfo.output_components;
    if ((int64_t)w * h > MAX_PIXELS || (comps != 3 && comps != 4)) {
        snprintf(s->msg, sizeof s->msg, "unsupported size or colour layout");
        jpeg_destroy_decompress(&s->cinfo);
        return 0;
    }
    s->rgb = malloc((size_t)w * h * 3);
    s->row = malloc((size_t)w * (size_t)comps);
    if (!s->rgb || !s->row) {
        snprintf(s->msg, sizeof s->msg, "out of host memory");
        jpeg_destroy_decompress(&s->cinfo);
        return 0;
    }
    int inverted = s->cinfo.saw_Adobe_marker; /* Adobe writes CMYK inverted */
    while (s->cinfo.output_scanline < h) {
        unsigned y = s->cinfo.output_scanline;
        JSAMPROW row = s->row;
        jpeg_read_scanlines(&s->cinfo, &row, 1);
        uint8_t *q = s->rgb + (size_t)y * w * 3;
        for (unsigned x = 0; x < w; x++, q += 3) {
            const uint8_t *p = s->row + (size_t)x * (size_t)comps;
            if (comps == 3) {
                q[0] = p[0];
                q[1] = p[1];
                q[2] = p[2];
            } else {
                int k = inverted ? p[3] : 255 - p[3];
                for (int c = 0; c < 3; c++) {
                    int v = inverted ? p[c] : 255 - p[c];
                    q[c] = (uint8_t)((v * k + 127) / 255);
                }
            }
        }
    }
    jpeg_finish_decompress(&s->cinfo);
    jpeg_destroy_decompress(&s->cinfo);
    s->width = (int)w;
    s->height = (int)h;
    return 1;
}

/* Reads a JPEG file as RGB bytes [h, w, 3] (malloc'ed). */
static enum tn_status read_jpeg(const char *path, int size, int *w, int *h, uint8_t **rgb) {
    FILE *f = fopen(path, "rb");
    if (!f) return tn_error(TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct jpeg_state *s = calloc(1, sizeof *s);
    if (!s) {
        fclose(f);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", path);
    }
    int ok = decode_jpeg(f, size, s);
    fclose(f);
    free(s->row);
    enum tn_status st = TN_OK;
    if (ok) {
        *rgb = s->rgb;
        *w = s->width;
        *h = s->height;
    } else {
        free(s->rgb);
        st = tn_error(TN_ERR_INVALID, "%s: corrupt JPEG: %s", path, s->msg);
    }
    free(s);
    return st;
}

enum tn_status gw_image_read(const char *path, int size, uint8_t *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return tn_error(TN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int w = 0, h = 0;
    uint8_t *rgb = NULL;
    enum tn_status st;
    if (got == 8 && memcmp(magic, png_magic, 8) == 0)
        st = gw_png_read(path, &w, &h, &rgb);
    else if (got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
        st = read_jpeg(path, size, &w, &h, &rgb);
    else
        st = tn_error(TN_ERR_INVALID, "%s: neither a PNG nor a JPEG file", path);
    if (st != TN_OK) return st;
    int side = w < h ? w : h;
    int x0 = (w - side) / 2, y0 = (h - side) / 2;
    uint8_t *plane = malloc((size_t)side * (size_t)side);
    if (!plane) {
        free(rgb);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", path);
    }
    for (int c = 0; c < 3; c++) {
        for (int y = 0; y < side; y++) {
            const uint8_t *src = rgb + ((size_t)(y0 + y) * (size_t)w + (size_t)x0) * 3 + c;
            uint8_t *dst = plane + (size_t)y * (size_t)side;
            for (int x = 0; x < side; x++) dst[x] = src[(size_t)x * 3];
        }
        gw_resize_plane(plane, side, side, out + (size_t)c * (size_t)size * (size_t)size, size,
                        size);
    }
    free(plane);
    free(rgb);
    return TN_OK;
}
