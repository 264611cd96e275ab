/* image_folder.c - a folder of PNG/JPEG images as a dataset source: listing the files,
 * decoding one file (PNG through png_read.c, JPEG through libjpeg-turbo) to RGB bytes,
 * centre-cropping it to a square and resizing it to the model's size, and the lock that lets
 * only one large decode run at a time (image.h).
 *
 * The split into train/valid/test and the parallel loop over files are in data/dataset.c. A JPEG
 * much larger than the target is decoded at 1/2, 1/4 or 1/8 scale by libjpeg (DCT scaling,
 * never below the target size), which cuts the decoding time of large photos several-fold.
 * libjpeg reports errors through error_exit, which must not return: ours formats the message
 * and longjmps back to decode_jpeg, whose changing state lives in a struct of its caller.
 * A progressive JPEG may hold any number of scans, each a pass over the whole image: more
 * than MAX_SCANS is refused, as libjpeg-turbo's own fuzzers do.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "dataset.h"
#include "image.h"
#include "nn/nn_file.h"

#define MAX_SCANS 500

static pthread_mutex_t large_lock = PTHREAD_MUTEX_INITIALIZER;

void gw_image_lock_large(struct gw_rgb *img, bool gate, uint64_t bytes) {
    if (!gate || img->locked || bytes <= GW_IMAGE_LARGE_BYTES) return;
    pthread_mutex_lock(&large_lock);
    img->locked = true;
}

void gw_image_unlock(struct gw_rgb *img) {
    if (!img->locked) return;
    img->locked = false;
    pthread_mutex_unlock(&large_lock);
}

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
    char shown[TN_QUOTE_SIZE];
    tn_quote(dir, shown, sizeof shown);
    DIR *d = opendir(dir);
    if (!d) return tn_error(TN_ERR_IO, "%s: cannot open folder: %s", shown, strerror(errno));
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
            st = tn_error(TN_ERR_OOM, "%s: out of host memory listing the folder", shown);
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
                st = tn_error(TN_ERR_OOM, "%s: out of host memory listing the folder", shown);
                break;
            }
            list = grown;
            cap = grown_cap;
        }
        list[n++] = path;
    }
    closedir(d);
    if (st == TN_OK && n == 0)
        st = tn_error(TN_ERR_INVALID, "%s: no .png, .jpg or .jpeg files in the folder", shown);
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
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX + 16];
    struct gw_rgb *img;
    uint8_t *row;              /* one decoded scanline */
};

/* Recovers the state from libjpeg's error manager pointer. */
static struct jpeg_state *state_of(j_common_ptr cinfo) {
    return (struct jpeg_state *)((char *)cinfo->err - offsetof(struct jpeg_state, mgr));
}

/* libjpeg's error_exit: keeps the message and jumps back to decode_jpeg. */
static void jpeg_on_error(j_common_ptr cinfo) {
    struct jpeg_state *s = state_of(cinfo);
    char text[JMSG_LENGTH_MAX];
    (*cinfo->err->format_message)(cinfo, text);
    snprintf(s->msg, sizeof s->msg, "corrupt JPEG: %s", text);
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

/* libjpeg's progress monitor: refuses a stream of more than MAX_SCANS scans. */
static void jpeg_on_progress(j_common_ptr cinfo) {
    if (((j_decompress_ptr)cinfo)->input_scan_number <= MAX_SCANS) return;
    struct jpeg_state *s = state_of(cinfo);
    snprintf(s->msg, sizeof s->msg, "corrupt JPEG: more than %d scans", MAX_SCANS);
    longjmp(s->jump, 1);
}

/* Refuses with msg and leaves decode_jpeg through its setjmp. */
static void jpeg_refuse(struct jpeg_state *s, const char *msg) {
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    longjmp(s->jump, 1);
}

/* Decodes the JPEG stream f into s->img, at a reduced scale when the short side stays
 * >= min_side; false (message in s->msg) on failure. */
static bool decode_jpeg(FILE *f, uint64_t max_pixels, int min_side, bool gate,
                        struct jpeg_state *s) {
    s->cinfo.err = jpeg_std_error(&s->mgr);
    s->mgr.error_exit = jpeg_on_error;
    s->mgr.emit_message = jpeg_on_message;
    s->progress.progress_monitor = jpeg_on_progress;
    if (setjmp(s->jump)) {
        jpeg_destroy_decompress(&s->cinfo);
        return false;
    }
    jpeg_create_decompress(&s->cinfo);
    s->cinfo.progress = &s->progress;
    jpeg_stdio_src(&s->cinfo, f);
    jpeg_read_header(&s->cinfo, TRUE);
    unsigned iw = s->cinfo.image_width, ih = s->cinfo.image_height;
    if ((uint64_t)iw * ih > max_pixels) {
        char msg[128];
        snprintf(msg, sizeof msg, "%u x %u pixels, over the pixel limit of %llu", iw, ih,
                 (unsigned long long)max_pixels);
        jpeg_refuse(s, msg);
    }
    int comps_in = s->cinfo.num_components;
    if (comps_in != 1 && comps_in != 3 && comps_in != 4)
        jpeg_refuse(s, "unsupported JPEG colour layout");
    int cmyk = s->cinfo.jpeg_color_space == JCS_CMYK || s->cinfo.jpeg_color_space == JCS_YCCK;
    s->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    unsigned short_side = iw < ih ? iw : ih;
    for (unsigned denom = 8; denom >= 2; denom /= 2)
        if (short_side / denom >= (unsigned)min_side) {
            s->cinfo.scale_num = 1;
            s->cinfo.scale_denom = denom;
            break;
        }
    jpeg_calc_output_dimensions(&s->cinfo);
    unsigned w = s->cinfo.output_width, h = s->cinfo.output_height;
    int comps = s->cinfo.output_components;
    if (comps != 3 && comps != 4) jpeg_refuse(s, "unsupported JPEG colour layout");
    /* a multi-scan (progressive) stream keeps every DCT coefficient: 2 bytes a sample */
    uint64_t coefficients = jpeg_has_multiple_scans(&s->cinfo) ? (uint64_t)iw * ih * comps_in * 2
                                                               : 0;
    gw_image_lock_large(s->img, gate, (uint64_t)w * h * 3 + coefficients);
    jpeg_start_decompress(&s->cinfo);
    s->img->rgb = malloc((size_t)w * h * 3);
    s->row = malloc((size_t)w * (size_t)comps);
    if (!s->img->rgb || !s->row) jpeg_refuse(s, "out of host memory");
    int inverted = s->cinfo.saw_Adobe_marker; /* Adobe writes CMYK inverted */
    while (s->cinfo.output_scanline < h) {
        unsigned y = s->cinfo.output_scanline;
        JSAMPROW row = s->row;
        jpeg_read_scanlines(&s->cinfo, &row, 1);
        uint8_t *q = s->img->rgb + (size_t)y * w * 3;
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
    s->img->width = (int)w;
    s->img->height = (int)h;
    return true;
}

bool gw_jpeg_decode(FILE *f, uint64_t max_pixels, int min_side, bool gate, struct gw_rgb *img,
                    char *msg, size_t size) {
    struct jpeg_state *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(msg, size, "out of host memory");
        return false;
    }
    s->img = img;
    bool ok = decode_jpeg(f, max_pixels, min_side, gate, s);
    free(s->row);
    if (!ok) {
        snprintf(msg, size, "%s", s->msg);
        free(img->rgb);
        img->rgb = NULL;
    }
    free(s);
    return ok;
}

enum tn_status gw_image_decode(FILE *f, const char *name, int size, uint64_t max_pixels,
                               uint8_t *out) {
    uint8_t magic[8] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    struct gw_rgb img = {0};
    char msg[JMSG_LENGTH_MAX + 32] = "cannot read the file";
    bool png = got == 8 && memcmp(magic, png_magic, 8) == 0;
    bool jpeg = got >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff;
    if (!png && !jpeg) return tn_error(TN_ERR_INVALID, "%s: neither a PNG nor a JPEG file", name);
    bool ok = fseek(f, 0, SEEK_SET) == 0 &&
              (png ? gw_png_decode(f, max_pixels, true, &img, msg, sizeof msg)
                   : gw_jpeg_decode(f, max_pixels, size, true, &img, msg, sizeof msg));
    uint8_t *plane = NULL;
    if (ok) {
        int w = img.width, h = img.height, side = w < h ? w : h;
        int x0 = (w - side) / 2, y0 = (h - side) / 2;
        plane = malloc((size_t)side * (size_t)side);
        for (int c = 0; plane && c < 3; c++) {
            for (int y = 0; y < side; y++) {
                const uint8_t *src = img.rgb + ((size_t)(y0 + y) * (size_t)w + (size_t)x0) * 3 + c;
                uint8_t *dst = plane + (size_t)y * (size_t)side;
                for (int x = 0; x < side; x++) dst[x] = src[(size_t)x * 3];
            }
            gw_resize_plane(plane, side, side, out + (size_t)c * (size_t)size * (size_t)size, size,
                            size);
        }
    }
    gw_image_unlock(&img);
    free(img.rgb);
    free(plane);
    if (!ok) return tn_error(TN_ERR_INVALID, "%s: %s", name, msg);
    if (!plane) return tn_error(TN_ERR_OOM, "%s: out of host memory", name);
    return TN_OK;
}

enum tn_status gw_image_read(const char *path, int size, uint8_t *out) {
    int fd;
    uint64_t file_size;
    enum tn_status st = nn_open_regular(path, "", &fd, &file_size);
    if (st != TN_OK) return st;
    char shown[TN_QUOTE_SIZE];
    tn_quote(path, shown, sizeof shown);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return tn_error(TN_ERR_OOM, "%s: out of host memory", shown);
    }
    st = gw_image_decode(f, shown, size, GW_IMAGE_MAX_PIXELS, out);
    fclose(f);
    return st;
}
