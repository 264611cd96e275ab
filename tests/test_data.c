/* test_data.c - the data pipeline of gwae/: the plane resize (constant planes, bilinear
 * upscaling against hand values, area-average downscaling), seeded permutations, float
 * batches, the Fashion-MNIST loader (skipped, saying so, without Debian's dataset package)
 * and its errors on missing, truncated and mismatched IDX files, the generated scenes, the
 * image-folder loader on PNGs of every colour type and on JPEGs (crop, resize, corrupt
 * files), the PNG grid writer and the .npy / CSV writers.
 *
 * Files are written into a fresh temporary folder per test, removed at its end.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "gwae/data/dataset.h"
#include "gwae/data/idx.h"
#include "npy.h"
#include "png_write.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(data);

#define FASHION "/usr/share/datasets/fashion-mnist"

static char dir[64];

/* Makes the test's temporary folder (in dir). */
static void make_dir(void) {
    snprintf(dir, sizeof dir, "/tmp/gw_test_data_XXXXXX");
    cr_assert(mkdtemp(dir), "cannot make a temporary folder");
}

/* Removes the temporary folder and the files in it. */
static void remove_dir(void) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
    rmdir(dir);
}

/* dir/name into path. */
static const char *in_dir(char *path, size_t size, const char *name) {
    snprintf(path, size, "%s/%s", dir, name);
    return path;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* Writes an IDX file of bytes with the given dims and count values (fewer than the dims
 * announce makes a truncated file); gzip-compressed when the name ends in .gz. */
static void write_idx(const char *path, int ndim, const int *dims, const uint8_t *values,
                      size_t count) {
    uint8_t header[4 + 4 * 4] = {0, 0, 0x08, (uint8_t)ndim};
    for (int d = 0; d < ndim; d++) {
        header[4 + 4 * d] = (uint8_t)(dims[d] >> 24);
        header[5 + 4 * d] = (uint8_t)(dims[d] >> 16);
        header[6 + 4 * d] = (uint8_t)(dims[d] >> 8);
        header[7 + 4 * d] = (uint8_t)dims[d];
    }
    size_t n = strlen(path);
    if (n > 3 && strcmp(path + n - 3, ".gz") == 0) {
        gzFile f = gzopen(path, "wb");
        cr_assert(f);
        gzwrite(f, header, (unsigned)(4 + 4 * ndim));
        if (count) gzwrite(f, values, (unsigned)count);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert(f);
        fwrite(header, 1, (size_t)(4 + 4 * ndim), f);
        if (count) fwrite(values, 1, count, f);
        fclose(f);
    }
}

/* Writes a PNG with libpng's own API: any colour type and bit depth, rows of raw bytes. */
static void write_png_raw(const char *path, int w, int h, int color_type, int depth,
                          int interlace, const uint8_t *data, const png_color *palette,
                          int n_palette, const uint8_t *trans, int n_trans) {
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    if (setjmp(png_jmpbuf(png))) cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette) png_set_PLTE(png, info, palette, n_palette);
    if (trans) png_set_tRNS(png, info, trans, n_trans, NULL);
    png_write_info(png, info);
    size_t row_bytes = png_get_rowbytes(png, info);
    png_bytep rows[64];
    cr_assert(h <= 64);
    for (int y = 0; y < h; y++) rows[y] = (png_bytep)(data + (size_t)y * row_bytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* Writes a JPEG of 3 (RGB) or 1 (gray) components at quality 95. */
static void write_jpeg(const char *path, int w, int h, int components, const uint8_t *data) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = components;
    c.in_color_space = components == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(data + (size_t)c.next_scanline * (size_t)w * (size_t)components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    fclose(f);
    jpeg_destroy_compress(&c);
}

/* Asserts that the planar image out[3, s, s] is one colour, to within tol. */
static void assert_solid(const uint8_t *out, int s, int r, int g, int b, int tol,
                         const char *what) {
    int want[3] = {r, g, b};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < s * s; i++)
            cr_assert(abs(out[c * s * s + i] - want[c]) <= tol,
                      "%s: channel %d pixel %d is %d, expected %d", what, c, i, out[c * s * s + i],
                      want[c]);
}

/* ---- resizing ---- */

Test(data, resizing_a_constant_plane_keeps_it_constant_at_any_size) {
    static const int sizes[][4] = {{28, 28, 64, 64}, {28, 28, 13, 13}, {100, 37, 37, 100},
                                   {5, 7, 3, 11}, {64, 64, 64, 64}, {1, 1, 9, 4}};
    uint8_t src[100 * 100], dst[100 * 100];
    memset(src, 77, sizeof src);
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        const int *z = sizes[k];
        gw_resize_plane(src, z[0], z[1], dst, z[2], z[3]);
        for (int i = 0; i < z[2] * z[3]; i++)
            cr_assert_eq(dst[i], 77, "%dx%d -> %dx%d: pixel %d is %d", z[0], z[1], z[2], z[3], i,
                         dst[i]);
    }
}

Test(data, upscaling_2x2_to_4x4_matches_bilinear_hand_values) {
    /* F.interpolate(mode='bilinear', align_corners=False): source index (i + 0.5) / 2 - 0.5
     * clamped at 0, so along an axis [a, b] -> [a, 0.75a + 0.25b, 0.25a + 0.75b, b] */
    const uint8_t src[4] = {0, 64, 128, 192};
    const uint8_t expected[16] = {0,  16,  48,  64,  32,  48,  80,  96,
                                  96, 112, 144, 160, 128, 144, 176, 192};
    uint8_t dst[16];
    gw_resize_plane(src, 2, 2, dst, 4, 4);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(dst[i], expected[i], "pixel %d: %d, expected %d", i, dst[i], expected[i]);
}

Test(data, downscaling_averages_blocks_and_weights_partial_pixels) {
    const uint8_t src[16] = {0, 100, 10, 10, 200, 100, 10, 10, 0, 0, 40, 60, 0, 0, 60, 40};
    const uint8_t expected[4] = {100, 10, 0, 50};
    uint8_t dst[4];
    gw_resize_plane(src, 4, 4, dst, 2, 2);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(dst[i], expected[i], "pixel %d: %d, expected %d", i, dst[i], expected[i]);
    /* 3 -> 2: each output covers 1.5 inputs, the middle one shared half and half */
    const uint8_t row[3] = {0, 90, 180};
    uint8_t out[2];
    gw_resize_plane(row, 1, 3, out, 1, 2);
    cr_assert_eq(out[0], 30, "(0 + 90 / 2) / 1.5 = 30, got %d", out[0]);
    cr_assert_eq(out[1], 150, "(90 / 2 + 180) / 1.5 = 150, got %d", out[1]);
}

/* ---- permutations and batches ---- */

Test(data, permutations_are_permutations_repeatable_from_the_seed) {
    enum { N = 1000 };
    static int64_t a[N], b[N], c[N];
    struct tn_rng r1 = tn_rng_new(4), r2 = tn_rng_new(4), r3 = tn_rng_new(5);
    gw_permutation(&r1, N, a);
    gw_permutation(&r2, N, b);
    gw_permutation(&r3, N, c);
    bool seen[N] = {0};
    int moved = 0, same_as_other_seed = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] >= 0 && a[i] < N && !seen[a[i]], "not a permutation at %d", i);
        seen[a[i]] = true;
        cr_assert_eq(a[i], b[i], "the same seed gave another order at %d", i);
        moved += a[i] != i;
        same_as_other_seed += a[i] == c[i];
    }
    cr_assert(moved > N / 2, "only %d of %d indices moved", moved, N);
    cr_assert(same_as_other_seed < N / 10, "another seed gave %d equal places", same_as_other_seed);
    int64_t one = -1;
    gw_permutation(&r1, 1, &one);
    cr_assert_eq(one, 0);
    gw_permutation(&r1, 0, NULL);
}

Test(data, a_batch_is_the_chosen_images_as_floats_divided_by_255) {
    uint8_t pixels[3 * 3 * 2 * 2];
    for (int i = 0; i < 36; i++) pixels[i] = (uint8_t)(i * 7);
    struct gw_dataset d = {.count = 3, .channels = 3, .size = 2, .pixels = pixels};
    int64_t idx[2] = {2, 0};
    struct tn_tensor *t = gw_dataset_batch(&d, idx, 2);
    int64_t shape[4] = {2, 3, 2, 2};
    assert_shape(t, 4, shape);
    float expected[24];
    for (int i = 0; i < 12; i++) {
        expected[i] = (float)pixels[24 + i] / 255.0f;
        expected[12 + i] = (float)pixels[i] / 255.0f;
    }
    assert_close(t, expected, 0, 0);
}

/* ---- Fashion-MNIST ---- */

Test(data, fashion_mnist_loads_resized_three_channel_labelled_splits) {
    if (access(FASHION, R_OK) != 0)
        cr_skip_test("%s is missing: install Debian's dataset-fashion-mnist to run this test",
                     FASHION);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = FASHION, .size = 32,
                                .limit = 500, .seed = 3};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert_eq(s.train.count, 500);
    cr_assert_eq(s.valid.count, 6000, "10%% of 60000 held out by default, got %lld",
                 (long long)s.valid.count);
    cr_assert_eq(s.test.count, 10000);
    const struct gw_dataset *sets[3] = {&s.train, &s.valid, &s.test};
    size_t plane = 32 * 32;
    for (int k = 0; k < 3; k++) {
        const struct gw_dataset *d = sets[k];
        cr_assert(d->channels == 3 && d->size == 32 && d->n_factors == 1);
        cr_assert_str_eq(d->factor_names[0], "label");
        int counts[10] = {0};
        for (int64_t i = 0; i < d->count; i++) {
            float label = d->factors[i];
            cr_assert(label >= 0 && label <= 9 && label == (int)label, "label %g", label);
            counts[(int)label]++;
            const uint8_t *img = d->pixels + (size_t)i * 3 * plane;
            cr_assert(memcmp(img, img + plane, plane) == 0 &&
                          memcmp(img, img + 2 * plane, plane) == 0,
                      "split %d image %lld: the three channels differ", k, (long long)i);
        }
        for (int c = 0; c < 10; c++) cr_assert(counts[c] > 0, "split %d has no label %d", k, c);
    }
    /* the test set is the official one, in order: its first image is t10k's first, resized */
    struct gw_idx raw;
    cr_assert_eq(gw_idx_load(FASHION "/t10k-images-idx3-ubyte.gz", 0, &raw), TN_OK);
    uint8_t expected[32 * 32];
    gw_resize_plane(raw.data, 28, 28, expected, 32, 32);
    gw_idx_free(&raw);
    cr_assert(memcmp(s.test.pixels, expected, plane) == 0, "test image 0 is not t10k's first");
    int64_t idx[2] = {0, 499};
    struct tn_tensor *batch = gw_dataset_batch(&s.train, idx, 2);
    int64_t shape[4] = {2, 3, 32, 32};
    assert_shape(batch, 4, shape);
    gw_splits_free(&s);
}

/* Writes a small Fashion-MNIST-like folder: n train and 3 test images of 4x4, plain files. */
static void write_fake_fashion(int n_train, int n_train_labels) {
    char path[256];
    uint8_t values[64 * 16];
    for (int i = 0; i < 64 * 16; i++) values[i] = (uint8_t)i;
    uint8_t labels[64];
    for (int i = 0; i < 64; i++) labels[i] = (uint8_t)(i % 10);
    int dims[3] = {n_train, 4, 4};
    write_idx(in_dir(path, sizeof path, "train-images-idx3-ubyte"), 3, dims, values,
              (size_t)n_train * 16);
    write_idx(in_dir(path, sizeof path, "train-labels-idx1-ubyte.gz"), 1, &n_train_labels, labels,
              (size_t)n_train_labels);
    int test_dims[3] = {3, 4, 4}, n_test = 3;
    write_idx(in_dir(path, sizeof path, "t10k-images-idx3-ubyte.gz"), 3, test_dims, values, 48);
    write_idx(in_dir(path, sizeof path, "t10k-labels-idx1-ubyte"), 1, &n_test, labels, 3);
}

Test(data, idx_files_load_compressed_or_not_with_a_seeded_split) {
    make_dir();
    write_fake_fashion(40, 40);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = dir, .size = 8,
                                .valid_fraction = 0.25, .seed = 11};
    struct gw_splits a, b;
    cr_assert_eq(gw_data_load(&o, &a), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_data_load(&o, &b), TN_OK, "%s", tn_last_error());
    cr_assert(a.train.count == 30 && a.valid.count == 10 && a.test.count == 3);
    cr_assert(memcmp(a.valid.factors, b.valid.factors, 10 * sizeof(float)) == 0 &&
              memcmp(a.valid.pixels, b.valid.pixels, 10 * 3 * 64) == 0, "same seed, other split");
    o.seed = 12;
    o.limit = 7;
    struct gw_splits c;
    cr_assert_eq(gw_data_load(&o, &c), TN_OK, "%s", tn_last_error());
    cr_assert(c.train.count == 7 && c.valid.count == 10);
    cr_assert(memcmp(a.valid.pixels, c.valid.pixels, 10 * 3 * 64) != 0, "another seed, same split");
    gw_splits_free(&a);
    gw_splits_free(&b);
    gw_splits_free(&c);
    remove_dir();
}

Test(data, a_missing_dataset_folder_names_the_file_and_the_package) {
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = "/nonexistent/fmnist",
                                .size = 32};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_IO);
    cr_assert_str_eq(tn_last_error(),
                     "/nonexistent/fmnist/train-images-idx3-ubyte.gz: cannot open (install "
                     "Debian's dataset-fashion-mnist or pass --data DIR)");
    cr_assert(s.train.pixels == NULL && s.valid.pixels == NULL && s.test.pixels == NULL);
}

Test(data, a_truncated_idx_file_is_an_error_naming_it) {
    make_dir();
    write_fake_fashion(40, 40);
    char path[256];
    uint8_t values[100] = {0};
    int dims[3] = {10, 28, 28};
    /* announces 10 images of 28x28 but holds 100 bytes */
    write_idx(in_dir(path, sizeof path, "train-images-idx3-ubyte"), 3, dims, values, 100);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = dir, .size = 8};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), path) && strstr(tn_last_error(), "truncated"), "%s",
              tn_last_error());
    /* a .gz cut in the middle of its compressed stream (the other files whole again) */
    write_fake_fashion(40, 40);
    static uint8_t big[10 * 28 * 28];
    for (size_t i = 0; i < sizeof big; i++) big[i] = (uint8_t)(i * 2654435761u >> 24);
    write_idx(in_dir(path, sizeof path, "t10k-images-idx3-ubyte.gz"), 3, dims, big, sizeof big);
    static uint8_t gz[20000];
    FILE *f = fopen(path, "rb");
    size_t n = fread(gz, 1, sizeof gz, f);
    fclose(f);
    cr_assert(n > 1000 && n < sizeof gz, "compressed size %zu", n);
    write_bytes(path, gz, n / 2);
    cr_assert_neq(gw_data_load(&o, &s), TN_OK);
    cr_assert(strstr(tn_last_error(), path), "%s", tn_last_error());
    remove_dir();
}

Test(data, labels_not_matching_the_images_are_invalid) {
    make_dir();
    write_fake_fashion(12, 11);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = dir, .size = 8};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "11 labels for the 12 images"), "%s", tn_last_error());
    remove_dir();
}

/* ---- generated scenes ---- */

Test(data, scenes_are_deterministic_with_factors_on_their_grids) {
    struct gw_dataset a, b, c;
    cr_assert_eq(gw_shapes_generate(200, 32, 9, &a), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_shapes_generate(200, 32, 9, &b), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_shapes_generate(200, 32, 10, &c), TN_OK, "%s", tn_last_error());
    cr_assert(a.count == 200 && a.channels == 3 && a.size == 32 && a.n_factors == 6);
    static const char *const names[6] = {"floor_hue", "wall_hue", "object_hue",
                                         "scale",     "shape",    "orientation"};
    static const int levels[6] = {10, 10, 10, 8, 4, 15};
    for (int k = 0; k < 6; k++) cr_assert_str_eq(a.factor_names[k], names[k]);
    cr_assert(memcmp(a.pixels, b.pixels, (size_t)200 * 3 * 32 * 32) == 0,
              "same seed, other pixels");
    cr_assert(memcmp(a.factors, b.factors, 200 * 6 * sizeof(float)) == 0);
    cr_assert(memcmp(a.factors, c.factors, 200 * 6 * sizeof(float)) != 0,
              "another seed, same factors");
    int used[6][15] = {{0}};
    for (int64_t i = 0; i < 200 * 6; i++) {
        int k = (int)(i % 6);
        float f = a.factors[i];
        float steps = k < 3 ? f * 10 : k == 3 ? f * 7 : k == 4 ? f : f * 14;
        int level = (int)(steps + 0.5f);
        cr_assert(f >= 0 && f <= (k == 4 ? 3 : 1) && fabsf(steps - level) < 1e-4f &&
                      level < levels[k],
                  "factor %s = %g is not on its grid", names[k], f);
        used[k][level]++;
    }
    for (int k = 0; k < 6; k++)
        for (int l = 0; l < levels[k]; l++)
            cr_assert(used[k][l] > 0, "%s never takes its value %d of 200 draws", names[k], l);
    gw_dataset_free(&a);
    gw_dataset_free(&b);
    gw_dataset_free(&c);
}

Test(data, scenes_with_different_factors_are_different_images) {
    struct gw_dataset d;
    cr_assert_eq(gw_shapes_generate(300, 32, 21, &d), TN_OK, "%s", tn_last_error());
    size_t per = 3 * 32 * 32;
    for (int i = 0; i < 300; i++)
        for (int j = i + 1; j < 300; j++) {
            const float *f = d.factors + i * 6, *g = d.factors + j * 6;
            int differ = 0;
            for (int k = 0; k < 6; k++)
                if (f[k] != g[k] && !(k == 5 && f[4] == 2)) differ = 1; /* spheres do not turn */
            if (differ)
                cr_assert(memcmp(d.pixels + i * per, d.pixels + j * per, per) != 0,
                          "scenes %d and %d differ in factors but not in pixels", i, j);
        }
    gw_dataset_free(&d);
}

Test(data, the_shapes_source_splits_80_10_10_and_caps_training) {
    struct gw_data_options o = {.source = GW_SOURCE_SHAPES, .size = 16, .shapes_count = 200,
                                .seed = 4};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert(s.train.count == 160 && s.valid.count == 20 && s.test.count == 20, "%lld/%lld/%lld",
              (long long)s.train.count, (long long)s.valid.count, (long long)s.test.count);
    cr_assert(s.test.n_factors == 6 && s.test.size == 16);
    cr_assert_str_eq(s.test.factor_names[5], "orientation");
    gw_splits_free(&s);
    o.limit = 50;
    o.valid_fraction = 0.2;
    o.test_fraction = 0.3;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert(s.train.count == 50 && s.valid.count == 40 && s.test.count == 60);
    gw_splits_free(&s);
    o.valid_fraction = 0.6;
    o.test_fraction = 0.5;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID);
}

/* ---- a folder of images ---- */

Test(data, pngs_of_every_colour_type_are_cropped_to_the_centre_and_resized) {
    make_dir();
    char path[256];
    uint8_t out[3 * 4 * 4];
    /* RGB 8x4: red, green in the middle 4 columns, blue: the crop keeps only green */
    uint8_t rgb[4 * 8 * 3];
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 8; x++) {
            uint8_t *p = rgb + (y * 8 + x) * 3;
            p[0] = x < 2 ? 255 : 0;
            p[1] = x >= 2 && x < 6 ? 200 : 0;
            p[2] = x >= 6 ? 255 : 0;
        }
    cr_assert_eq(png_write(in_dir(path, sizeof path, "a.png"), 8, 4, rgb), TN_OK, "%s",
                 tn_last_error());
    cr_assert_eq(gw_image_read(path, 4, out), TN_OK, "%s", tn_last_error());
    assert_solid(out, 4, 0, 200, 0, 0, "RGB crop");
    /* gray + alpha 3x5: rows 1..3 survive the crop, alpha is dropped */
    uint8_t ga[5 * 3 * 2];
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 3; x++) {
            ga[(y * 3 + x) * 2] = (uint8_t)(40 * y);
            ga[(y * 3 + x) * 2 + 1] = (uint8_t)(x * 100);
        }
    write_png_raw(in_dir(path, sizeof path, "b.PNG"), 3, 5, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, ga,
                  NULL, 0, NULL, 0);
    uint8_t small[3 * 3 * 3];
    cr_assert_eq(gw_image_read(path, 3, small), TN_OK, "%s", tn_last_error());
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 3; y++)
            for (int x = 0; x < 3; x++)
                cr_assert_eq(small[(c * 3 + y) * 3 + x], 40 * (y + 1), "gray+alpha c%d y%d x%d", c,
                             y, x);
    /* 16-bit RGB, interlaced: values b * 257 scale to b */
    uint8_t deep[4 * 4 * 6];
    for (int i = 0; i < 16; i++) {
        int v[3] = {(i % 4) * 60, (i / 4) * 60, 200};
        for (int c = 0; c < 3; c++) {
            deep[i * 6 + 2 * c] = (uint8_t)v[c];     /* big-endian: b * 257 = (b << 8) | b */
            deep[i * 6 + 2 * c + 1] = (uint8_t)v[c];
        }
    }
    write_png_raw(in_dir(path, sizeof path, "c.png"), 4, 4, PNG_COLOR_TYPE_RGB, 16, 1, deep, NULL,
                  0, NULL, 0);
    cr_assert_eq(gw_image_read(path, 4, out), TN_OK, "%s", tn_last_error());
    for (int i = 0; i < 16; i++) {
        cr_assert_eq(out[i], (i % 4) * 60, "16-bit red at %d", i);
        cr_assert_eq(out[16 + i], (i / 4) * 60, "16-bit green at %d", i);
        cr_assert_eq(out[32 + i], 200, "16-bit blue at %d", i);
    }
    /* palette, 2 bits per index, with transparency (tRNS) that is dropped like alpha */
    png_color palette[3] = {{10, 20, 30}, {200, 100, 0}, {0, 0, 255}};
    const uint8_t trans[3] = {0, 128, 255};
    /* rows of 4 indices of 2 bits: 0 1 2 0 | 2 1 0 0 */
    const uint8_t idx[2] = {(0 << 6) | (1 << 4) | (2 << 2) | 0, (2 << 6) | (1 << 4) | (0 << 2) | 0};
    write_png_raw(in_dir(path, sizeof path, "d.png"), 4, 2, PNG_COLOR_TYPE_PALETTE, 2, 0, idx,
                  palette, 3, trans, 3);
    uint8_t pal[3 * 2 * 2];
    cr_assert_eq(gw_image_read(path, 2, pal), TN_OK, "%s", tn_last_error());
    const int expected_idx[4] = {1, 2, 1, 0}; /* the crop keeps columns 1 and 2 */
    for (int i = 0; i < 4; i++) {
        const png_color *p = &palette[expected_idx[i]];
        cr_assert(pal[i] == p->red && pal[4 + i] == p->green && pal[8 + i] == p->blue,
                  "palette pixel %d is (%d, %d, %d)", i, pal[i], pal[4 + i], pal[8 + i]);
    }
    remove_dir();
}

Test(data, jpegs_rgb_gray_and_large_ones_are_decoded) {
    make_dir();
    char path[256];
    uint8_t out[3 * 8 * 8];
    static uint8_t rgb[192 * 256 * 3];
    for (int i = 0; i < 192 * 256; i++) {
        rgb[i * 3] = 30;
        rgb[i * 3 + 1] = 160;
        rgb[i * 3 + 2] = 220;
    }
    write_jpeg(in_dir(path, sizeof path, "large.JPG"), 256, 192, 3, rgb); /* read at 1/8 scale */
    cr_assert_eq(gw_image_read(path, 8, out), TN_OK, "%s", tn_last_error());
    assert_solid(out, 8, 30, 160, 220, 4, "large JPEG");
    /* 24x12 gray: the crop keeps the 12 middle columns (value 150), the sides are 0 and 255 */
    static uint8_t gray[12 * 24];
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 24; x++) gray[y * 24 + x] = x < 6 ? 0 : x < 18 ? 150 : 255;
    write_jpeg(in_dir(path, sizeof path, "gray.jpeg"), 24, 12, 1, gray);
    uint8_t g[3 * 4 * 4];
    cr_assert_eq(gw_image_read(path, 4, g), TN_OK, "%s", tn_last_error());
    for (int i = 4; i < 12; i += 4) /* inner columns, away from the JPEG ringing at the edges */
        for (int c = 0; c < 3; c++)
            cr_assert(abs(g[c * 16 + i + 1] - 150) <= 6 && abs(g[c * 16 + i + 2] - 150) <= 6,
                      "gray JPEG channel %d row %d: %d %d", c, i / 4, g[c * 16 + i + 1],
                      g[c * 16 + i + 2]);
    remove_dir();
}

Test(data, a_folder_loads_every_image_sorted_and_split) {
    make_dir();
    char path[256];
    uint8_t rgb[6 * 6 * 3];
    const char *names[5] = {"e.png", "a.PNG", "c.jpg", "b.Jpeg", "d.png"};
    for (int k = 0; k < 5; k++) {
        for (int i = 0; i < 36; i++) {
            rgb[i * 3] = (uint8_t)(40 * k + 20);
            rgb[i * 3 + 1] = 128;
            rgb[i * 3 + 2] = 50;
        }
        in_dir(path, sizeof path, names[k]);
        if (strchr(names[k], 'j') || strchr(names[k], 'J'))
            write_jpeg(path, 6, 6, 3, rgb);
        else
            cr_assert_eq(png_write(path, 6, 6, rgb), TN_OK, "%s", tn_last_error());
    }
    write_bytes(in_dir(path, sizeof path, "notes.txt"), "not an image", 12);
    write_bytes(in_dir(path, sizeof path, ".hidden.png"), "not an image", 12);
    char **list;
    int64_t count;
    cr_assert_eq(gw_image_list(dir, &list, &count), TN_OK, "%s", tn_last_error());
    cr_assert_eq(count, 5);
    const char *sorted[5] = {"a.PNG", "b.Jpeg", "c.jpg", "d.png", "e.png"};
    for (int k = 0; k < 5; k++)
        cr_assert(strcmp(strrchr(list[k], '/') + 1, sorted[k]) == 0, "file %d is %s", k, list[k]);
    gw_image_list_free(list, count);
    struct gw_data_options o = {.source = GW_SOURCE_FOLDER, .path = dir, .size = 3,
                                .valid_fraction = 0.2, .test_fraction = 0.2, .seed = 8};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert(s.train.count == 3 && s.valid.count == 1 && s.test.count == 1);
    cr_assert(s.train.n_factors == 0 && s.train.factors == NULL && s.train.size == 3);
    bool seen[5] = {0};
    const struct gw_dataset *sets[3] = {&s.train, &s.valid, &s.test};
    for (int k = 0; k < 3; k++)
        for (int64_t i = 0; i < sets[k]->count; i++) {
            const uint8_t *img = sets[k]->pixels + i * 27;
            int which = img[0] / 40; /* red is 40 k + 20 for file k */
            cr_assert(which >= 0 && which < 5 && !seen[which], "image red %d", img[0]);
            seen[which] = true;
            assert_solid(img, 3, 40 * which + 20, 128, 50, 4, names[which]);
        }
    gw_splits_free(&s);
    remove_dir();
}

Test(data, corrupt_missing_or_empty_image_sources_are_errors_naming_them) {
    make_dir();
    char path[256], bad[256];
    struct gw_data_options o = {.source = GW_SOURCE_FOLDER, .path = dir, .size = 4};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID, "an empty folder loaded");
    cr_assert(strstr(tn_last_error(), dir), "%s", tn_last_error());
    uint8_t rgb[16 * 16 * 3];
    for (size_t i = 0; i < sizeof rgb; i++) rgb[i] = (uint8_t)(i * 37);
    for (int k = 0; k < 12; k++) {
        char name[32];
        snprintf(name, sizeof name, "img%02d.png", k);
        cr_assert_eq(png_write(in_dir(path, sizeof path, name), 16, 16, rgb), TN_OK);
    }
    /* a PNG cut in the middle of its image data */
    FILE *f = fopen(in_dir(path, sizeof path, "img05.png"), "rb");
    static uint8_t bytes[4096];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    write_bytes(in_dir(bad, sizeof bad, "img07.png"), bytes, n / 2);
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), bad), "%s", tn_last_error());
    cr_assert(s.train.pixels == NULL && s.valid.pixels == NULL);
    /* text named .png, and a cut JPEG */
    write_bytes(bad, "hello, not a picture", 20);
    uint8_t out[3 * 4 * 4];
    cr_assert_eq(gw_image_read(bad, 4, out), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), bad) && strstr(tn_last_error(), "neither"), "%s",
              tn_last_error());
    write_jpeg(in_dir(path, sizeof path, "photo.jpg"), 16, 16, 3, rgb);
    f = fopen(path, "rb");
    n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    write_bytes(path, bytes, n * 2 / 3);
    cr_assert_eq(gw_image_read(path, 4, out), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), path), "%s", tn_last_error());
    int w, h;
    uint8_t *pixels;
    cr_assert_eq(gw_png_read(in_dir(path, sizeof path, "none.png"), &w, &h, &pixels), TN_ERR_IO);
    remove_dir();
    o.path = "/nonexistent/images";
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_IO);
    cr_assert(strstr(tn_last_error(), "/nonexistent/images"), "%s", tn_last_error());
}

/* ---- writers ---- */

Test(data, a_png_grid_has_the_tiled_size_clamped_values_and_white_padding) {
    make_dir();
    char path[256];
    int64_t shape[4] = {5, 3, 8, 8};
    float values[5 * 3 * 64];
    for (int i = 0; i < 5 * 3 * 64; i++) {
        int image = i / 192, channel = i / 64 % 3;
        values[i] = channel == 0 ? 0.2f * image : channel == 1 ? 2.0f : -1.0f;
    }
    struct tn_tensor *t = tn_from_host(TN_CPU, 4, shape, values);
    cr_assert_eq(png_write_grid(in_dir(path, sizeof path, "grid.png"), t, 3, 2), TN_OK, "%s",
                 tn_last_error());
    int w, h;
    uint8_t *rgb;
    cr_assert_eq(gw_png_read(path, &w, &h, &rgb), TN_OK, "%s", tn_last_error());
    cr_assert(w == 3 * 8 + 4 * 2 && h == 2 * 8 + 3 * 2, "grid %d x %d, expected 32 x 22", w, h);
    for (int image = 0; image < 5; image++) {
        int x0 = 2 + (image % 3) * 10, y0 = 2 + (image / 3) * 10;
        const uint8_t *p = rgb + ((y0 + 3) * w + x0 + 5) * 3;
        int red = (int)(0.2f * image * 255.0f + 0.5f);
        cr_assert(p[0] == red && p[1] == 255 && p[2] == 0, "image %d: (%d, %d, %d)", image, p[0],
                  p[1], p[2]);
    }
    const uint8_t *corner = rgb, *gap = rgb + (5 * w + 10) * 3, *empty = rgb + (15 * w + 25) * 3;
    for (int c = 0; c < 3; c++)
        cr_assert(corner[c] == 255 && gap[c] == 255 && empty[c] == 255, "padding is not white");
    free(rgb);
    /* no temporary file is left beside the result */
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) files += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(files, 1);
    remove_dir();
}

Test(data, npy_files_have_the_numpy_1_0_header_and_little_endian_floats) {
    make_dir();
    char path[256];
    float values[6] = {1.0f, -2.5f, 3.25f, 0.0f, 1e-3f, 7.0f};
    cr_assert_eq(npy_write(in_dir(path, sizeof path, "z.npy"), 2, 3, values), TN_OK, "%s",
                 tn_last_error());
    FILE *f = fopen(path, "rb");
    static uint8_t bytes[512];
    size_t n = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    cr_assert(memcmp(bytes, "\x93NUMPY\x01\x00", 8) == 0, "bad magic or version");
    size_t header = bytes[8] | (size_t)bytes[9] << 8;
    cr_assert_eq((10 + header) % 64, 0, "data not aligned to 64 bytes");
    cr_assert_eq(n, 10 + header + 6 * 4);
    char text[256];
    memcpy(text, bytes + 10, header);
    text[header] = 0;
    const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    cr_assert(strncmp(text, dict, strlen(dict)) == 0, "header text: %s", text);
    cr_assert_eq(text[header - 1], '\n');
    for (size_t i = strlen(dict); i < header - 1; i++)
        cr_assert_eq(text[i], ' ', "padding at %zu", i);
    for (int i = 0; i < 6; i++) {
        const uint8_t *p = bytes + 10 + header + 4 * i;
        uint32_t bits = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float v;
        memcpy(&v, &bits, 4);
        cr_assert_eq(v, values[i], "value %d", i);
    }
    remove_dir();
}

Test(data, csv_files_have_a_header_of_names_and_one_line_per_row) {
    make_dir();
    char path[256];
    float values[4] = {1.0f, 2.5f, -3.0f, 0.1f};
    const char *names[2] = {"z0", "label, \"fine\""};
    cr_assert_eq(csv_write(in_dir(path, sizeof path, "z.csv"), 2, 2, names, values), TN_OK, "%s",
                 tn_last_error());
    FILE *f = fopen(path, "rb");
    char text[256] = {0};
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    const char *expected = "z0,\"label, \"\"fine\"\"\"\n1,2.5\n-3,0.100000001\n";
    cr_assert_eq(n, strlen(expected));
    cr_assert_str_eq(text, expected);
    remove_dir();
}
