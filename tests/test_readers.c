/* test_readers.c - what the file readers refuse: a FIFO in place of an IDX file, an image or
 * a JSON file (each reader must refuse it at once, never block: every test has a timeout so
 * that a regression fails instead of hanging), IDX headers that claim more than the file can
 * hold or overflow when multiplied, Fashion-MNIST labels outside 0..9, images whose declared
 * size is over the pixel limit, and escape bytes of a file name in a message; and every seed
 * of fuzz/corpus/{idx,image,json}/ is replayed through its reader (valid_* read, invalid_*
 * refused), so CI runs them without clang.
 *
 * Files are written into a fresh temporary folder per test, removed at its end.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <zlib.h>

#include "gwae/data/dataset.h"
#include "gwae/data/idx.h"
#include "helpers/test_support.h"
#include "nn/nn_json.h"

static char dir[64];

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/gw_test_readers_XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    leak_check_begin();
}

static void teardown(void) {
    leak_check_end();
    remove_tree(dir);
}

TestSuite(readers, .init = setup, .fini = teardown, .timeout = 20);

/* dir/name in a static buffer (two at a time). */
static const char *in_dir(const char *name) {
    static char path[2][256];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    return path[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void make_fifo(const char *path) {
    cr_assert_eq(mkfifo(path, 0600), 0, "mkfifo %s: %s", path, strerror(errno));
}

/* Asserts the status and that the message holds each of the (up to two) needles. */
static void assert_refused(enum tn_status got, enum tn_status want, const char *a,
                           const char *b) {
    cr_assert_eq(got, want, "status %s, expected %s (%s)", tn_status_name(got),
                 tn_status_name(want), tn_last_error());
    cr_assert(strstr(tn_last_error(), a), "message \"%s\" lacks \"%s\"", tn_last_error(), a);
    cr_assert(!b || strstr(tn_last_error(), b), "message \"%s\" lacks \"%s\"", tn_last_error(), b);
    cr_assert(!strchr(tn_last_error(), '\n'), "message of more than one line");
}

/* The header of an IDX file of bytes with ndim dims (big-endian 32-bit). */
static size_t idx_header(uint8_t *out, int ndim, const uint32_t *dims) {
    out[0] = out[1] = 0;
    out[2] = 0x08;
    out[3] = (uint8_t)ndim;
    for (int d = 0; d < ndim; d++)
        for (int k = 0; k < 4; k++) out[4 + 4 * d + k] = (uint8_t)(dims[d] >> (24 - 8 * k));
    return 4 + 4 * (size_t)ndim;
}

/* Writes an IDX file of bytes: header, then n values (gzip-compressed when gz). */
static void write_idx(const char *path, int ndim, const uint32_t *dims, const uint8_t *values,
                      size_t n, bool gz) {
    uint8_t header[20];
    size_t h = idx_header(header, ndim, dims);
    if (!gz) {
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        fwrite(header, 1, h, f);
        if (n) fwrite(values, 1, n, f);
        fclose(f);
        return;
    }
    gzFile f = gzopen(path, "wb9");
    cr_assert(f);
    gzwrite(f, header, (unsigned)h);
    if (n) gzwrite(f, values, (unsigned)n);
    gzclose(f);
}

/* ---- a FIFO is refused by every reader, at once ---- */

Test(readers, an_idx_fifo_is_refused_without_blocking) {
    make_fifo(in_dir("train-images-idx3-ubyte"));
    struct gw_idx idx;
    assert_refused(gw_idx_load(in_dir("train-images-idx3-ubyte"), 0, &idx), TN_ERR_IO,
                   in_dir("train-images-idx3-ubyte"), "not a regular file");
}

Test(readers, an_image_fifo_is_refused_without_blocking) {
    make_fifo(in_dir("a.png"));
    uint8_t out[3 * 4 * 4];
    assert_refused(gw_image_read(in_dir("a.png"), 4, out), TN_ERR_IO, in_dir("a.png"),
                   "not a regular file");
    int w, h;
    uint8_t *rgb;
    assert_refused(gw_png_read(in_dir("a.png"), &w, &h, &rgb), TN_ERR_IO, in_dir("a.png"),
                   "not a regular file");
}

Test(readers, a_json_fifo_is_refused_without_blocking) {
    make_fifo(in_dir("config.json"));
    size_t len;
    errno = 0;
    cr_assert_null(nn_json_read_file(in_dir("config.json"), &len));
    cr_assert_neq(errno, 0);
    assert_refused(TN_ERR_IO, TN_ERR_IO, in_dir("config.json"), "not a regular file");
    cr_assert_null(nn_json_read_file(dir, &len), "a folder was read as a file");
    cr_assert_null(nn_json_read_file(in_dir("missing.json"), &len));
    cr_assert_eq(errno, ENOENT);
}

/* ---- IDX headers ---- */

Test(readers, an_idx_header_whose_dims_overflow_is_refused_without_undefined_behaviour) {
    /* 2^17 * 2^17 = 2^34 passes, then 2^32 - 1: the product no longer fits in 64 bits */
    const uint32_t dims[3] = {1u << 17, 1u << 17, 0xffffffffu};
    write_idx(in_dir("big"), 3, dims, NULL, 0, false);
    struct gw_idx idx;
    assert_refused(gw_idx_load(in_dir("big"), 0, &idx), TN_ERR_INVALID, in_dir("big"), "dim 2");
    cr_assert_null(idx.data);
}

Test(readers, an_idx_file_claiming_more_than_it_holds_is_refused_before_reading) {
    const uint32_t dims[3] = {60000, 28, 28};
    uint8_t values[100] = {0};
    write_idx(in_dir("plain"), 3, dims, values, sizeof values, false);
    struct gw_idx idx;
    assert_refused(gw_idx_load(in_dir("plain"), 0, &idx), TN_ERR_INVALID, "47040000 bytes",
                   "the file holds 100");
    /* 1 GiB claimed by a gzip file of a few hundred bytes: at most 1032 bytes per byte */
    const uint32_t huge[3] = {1u << 20, 32, 32};
    write_idx(in_dir("bomb.gz"), 3, huge, values, sizeof values, true);
    assert_refused(gw_idx_load(in_dir("bomb.gz"), 0, &idx), TN_ERR_INVALID, "1073741824 bytes",
                   "1032");
}

/* Writes a Fashion-MNIST folder of 4x4 images: 20 train, 3 test, labels i % 10. */
static void write_fake_fashion(uint8_t bad_label, int bad_index) {
    uint8_t values[20 * 16], labels[20];
    for (int i = 0; i < 20 * 16; i++) values[i] = (uint8_t)i;
    for (int i = 0; i < 20; i++) labels[i] = (uint8_t)(i % 10);
    labels[bad_index] = bad_label;
    const uint32_t train[3] = {20, 4, 4}, n_train = 20, test[3] = {3, 4, 4}, n_test = 3;
    write_idx(in_dir("train-images-idx3-ubyte"), 3, train, values, 20 * 16, false);
    write_idx(in_dir("train-labels-idx1-ubyte"), 1, &n_train, labels, 20, false);
    write_idx(in_dir("t10k-images-idx3-ubyte"), 3, test, values, 3 * 16, false);
    write_idx(in_dir("t10k-labels-idx1-ubyte"), 1, &n_test, labels, 3, false);
}

Test(readers, fashion_mnist_labels_outside_0_to_9_are_refused_naming_file_and_index) {
    write_fake_fashion(255, 13);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = dir, .size = 4};
    struct gw_splits s;
    assert_refused(gw_data_load(&o, &s), TN_ERR_INVALID, in_dir("train-labels-idx1-ubyte"),
                   "label 255 at index 13");
    cr_assert_null(s.train.pixels);
    write_fake_fashion(9, 13);
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    gw_splits_free(&s);
}

Test(readers, a_dataset_over_the_memory_limit_is_refused_naming_the_option) {
    write_fake_fashion(0, 0);
    /* 4 x 16 + 2 x 20 + 3 raw bytes, then 23 images of 3 x 4 x 4 bytes and a label each */
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = dir, .size = 4,
                                .max_memory = 1000};
    struct gw_splits s;
    assert_refused(gw_data_load(&o, &s), TN_ERR_INVALID, "over the limit of",
                   "raise it with --max-data-memory");
    o.max_memory = 4000;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    gw_splits_free(&s);
    struct gw_data_options shapes = {.source = GW_SOURCE_SHAPES, .size = 64,
                                     .shapes_count = 1000000};
    assert_refused(gw_data_load(&shapes, &s), TN_ERR_INVALID, "shapes: the dataset would take",
                   "limit of 8 GiB");
    /* an IDX file is read only up to the size its caller allows */
    struct gw_idx idx;
    assert_refused(gw_idx_load(in_dir("train-images-idx3-ubyte"), 100, &idx), TN_ERR_INVALID,
                   "320 bytes of values", "over the 100 allowed");
    cr_assert_eq(gw_idx_load(in_dir("train-images-idx3-ubyte"), 320, &idx), TN_OK);
    gw_idx_free(&idx);
}

/* ---- images ---- */

/* Appends a PNG chunk (length, type, data, CRC) to out at *n. */
static void png_chunk(uint8_t *out, size_t *n, const char *type, const uint8_t *data,
                      uint32_t len) {
    uint8_t *p = out + *n;
    for (int k = 0; k < 4; k++) p[k] = (uint8_t)(len >> (24 - 8 * k));
    memcpy(p + 4, type, 4);
    if (len) memcpy(p + 8, data, len);
    uLong crc = crc32(0, p + 4, 4 + len);
    for (int k = 0; k < 4; k++) p[8 + len + k] = (uint8_t)(crc >> (24 - 8 * k));
    *n += 12 + len;
}

Test(readers, a_png_declaring_more_pixels_than_the_limit_is_refused_before_decoding) {
    /* 10000 x 10000 RGB in a 69-byte file: no image data follows the header */
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t file[128], ihdr[13] = {0, 0, 0x27, 0x10, 0, 0, 0x27, 0x10, 8, 2, 0, 0, 0};
    size_t n = 8;
    memcpy(file, sig, 8);
    png_chunk(file, &n, "IHDR", ihdr, 13);
    png_chunk(file, &n, "IDAT", NULL, 0);
    png_chunk(file, &n, "IEND", NULL, 0);
    write_bytes(in_dir("huge.png"), file, n);
    uint8_t out[3 * 4 * 4];
    assert_refused(gw_image_read(in_dir("huge.png"), 4, out), TN_ERR_INVALID, "10000 x 10000",
                   "pixel limit");
}

Test(readers, a_jpeg_declaring_more_pixels_than_the_limit_is_refused_before_decoding) {
    /* a real 16x16 JPEG whose frame header is then made to say 20000 x 20000 */
    uint8_t rgb[16 * 16 * 3];
    memset(rgb, 90, sizeof rgb);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = c.image_height = 16;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < 16) {
        JSAMPROW row = rgb + c.next_scanline * 48;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    size_t sof = 2;
    while (sof + 9 < size && !(buf[sof] == 0xff && buf[sof + 1] == 0xc0)) sof++;
    cr_assert(sof + 9 < size, "no SOF0 marker");
    buf[sof + 5] = buf[sof + 7] = 20000 >> 8;
    buf[sof + 6] = buf[sof + 8] = 20000 & 0xff;
    write_bytes(in_dir("huge.jpg"), buf, size);
    free(buf);
    uint8_t out[3 * 4 * 4];
    assert_refused(gw_image_read(in_dir("huge.jpg"), 4, out), TN_ERR_INVALID, "20000 x 20000",
                   "pixel limit");
}

/* ---- file names in messages ---- */

Test(readers, escape_bytes_of_a_file_name_are_quoted_in_messages) {
    char path[256];
    snprintf(path, sizeof path, "%s/\x1b[31mred\x1b[0m.png", dir);
    write_bytes(path, "not an image", 12);
    uint8_t out[3 * 4 * 4];
    assert_refused(gw_image_read(path, 4, out), TN_ERR_INVALID, "\\x1b[31mred\\x1b[0m.png",
                   "neither a PNG nor a JPEG");
    cr_assert(!strchr(tn_last_error(), 0x1b), "a raw escape byte in \"%s\"", tn_last_error());
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = path, .size = 4};
    struct gw_splits s;
    assert_refused(gw_data_load(&o, &s), TN_ERR_IO, "\\x1b[31mred", "cannot open");
    cr_assert(!strchr(tn_last_error(), 0x1b), "a raw escape byte in \"%s\"", tn_last_error());
}

Test(readers, tn_quote_escapes_control_bytes_and_bad_utf8_and_keeps_good_utf8) {
    char out[TN_QUOTE_SIZE];
    cr_assert_str_eq(tn_quote("runs/a b.png", out, sizeof out), "runs/a b.png");
    cr_assert_str_eq(tn_quote("a\nb\tc\x1b[2J\x7f", out, sizeof out), "a\\x0ab\\x09c\\x1b[2J\\x7f");
    cr_assert_str_eq(tn_quote("back\\slash", out, sizeof out), "back\\\\slash");
    /* UTF-8 kept: é, €, 😀; not kept: a lone continuation byte, an overlong '/', a surrogate,
     * a cut sequence, the C1 control U+009B (a terminal's CSI) and bytes above F4 */
    cr_assert_str_eq(tn_quote("r\xc3\xa9sum\xe2\x82\xac \xf0\x9f\x98\x80", out, sizeof out),
                     "r\xc3\xa9sum\xe2\x82\xac \xf0\x9f\x98\x80");
    cr_assert_str_eq(tn_quote("\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xc2\x9b|\xf5", out,
                              sizeof out),
                     "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82|\\xc2\\x9b|\\xf5");
    /* cut with "..." to fit, never inside an escape or a UTF-8 sequence */
    char small[8];
    cr_assert_str_eq(tn_quote("abcdefgh", small, sizeof small), "abcd...");
    cr_assert_str_eq(tn_quote("abcdefg", small, sizeof small), "abcdefg");
    cr_assert_str_eq(tn_quote("ab\x01zzzz", small, sizeof small), "ab...");
    cr_assert_str_eq(tn_quote("a\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", small, sizeof small),
                     "a\xe2\x82\xac...");
    cr_assert_str_eq(tn_quote("", small, sizeof small), "");
}

/* ---- the fuzz corpora ---- */

/* Reads every file of fuzz/corpus/<name>/ with read: valid_* must succeed, invalid_* fail. */
static void replay_corpus(const char *name, bool (*read)(const char *path)) {
    char folder[512];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(folder, sizeof folder, "%.*s/../fuzz/corpus/%s", slash ? (int)(slash - __FILE__) : 1,
             slash ? __FILE__ : ".", name);
    DIR *d = opendir(folder);
    cr_assert(d, "no corpus at %s", folder);
    int valid = 0, invalid = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", folder, e->d_name);
        bool ok_name = strncmp(e->d_name, "valid_", 6) == 0;
        if (!ok_name && strncmp(e->d_name, "invalid_", 8) != 0) continue;
        bool ok = read(path);
        cr_assert_eq(ok, ok_name, "%s/%s: %s (%s)", name, e->d_name, ok ? "read" : "refused",
                     tn_last_error());
        valid += ok_name;
        invalid += !ok_name;
    }
    closedir(d);
    cr_assert(valid >= 3 && invalid >= 3, "%s: only %d valid and %d invalid seeds", name, valid,
              invalid);
}

static bool read_idx(const char *path) {
    struct gw_idx idx;
    bool ok = gw_idx_load(path, (uint64_t)1 << 24, &idx) == TN_OK;
    gw_idx_free(&idx);
    return ok;
}

static bool read_image(const char *path) {
    uint8_t out[3 * 8 * 8];
    return gw_image_read(path, 8, out) == TN_OK;
}

static bool read_json(const char *path) {
    size_t len;
    char *text = nn_json_read_file(path, &len), why[256];
    cr_assert(text, "%s: %s", path, strerror(errno));
    struct nn_json_flat o;
    bool ok = nn_json_flat_parse(text, len, &o, why, sizeof why);
    nn_json_flat_free(&o);
    free(text);
    return ok;
}

Test(readers, every_idx_image_and_json_fuzz_seed_replays_as_its_name_says) {
    replay_corpus("idx", read_idx);
    replay_corpus("image", read_image);
    replay_corpus("json", read_json);
}
