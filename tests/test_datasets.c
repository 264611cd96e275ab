/* test_datasets.c - the data side of gwae/: resizing, shuffling, the generated scene dataset,
 * the Fashion-MNIST loader and its errors, and the PNG and .npy writers.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwae/gw_data.h"
#include "gwae/gw_npy.h"
#include "gwae/gw_png.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(data);

#define FASHION "/usr/share/datasets/fashion-mnist"

Test(data, resizing_a_constant_plane_keeps_it_constant) {
    uint8_t src[28 * 28], up[64 * 64], down[7 * 7];
    memset(src, 77, sizeof src);
    gw_resize_plane(src, 28, 28, up, 64, 64);
    gw_resize_plane(src, 28, 28, down, 7, 7);
    for (int i = 0; i < 64 * 64; i++) cr_assert_eq(up[i], 77, "upscaled pixel %d is %d", i, up[i]);
    for (int i = 0; i < 7 * 7; i++) cr_assert_eq(down[i], 77, "downscaled pixel %d is %d", i, down[i]);
}

Test(data, downscaling_by_two_averages_blocks) {
    uint8_t src[16] = {0, 100, 10, 10, 200, 100, 10, 10, 0, 0, 40, 60, 0, 0, 60, 40}, dst[4];
    gw_resize_plane(src, 4, 4, dst, 2, 2);
    uint8_t expected[4] = {100, 10, 0, 50};
    for (int i = 0; i < 4; i++) cr_assert_eq(dst[i], expected[i], "pixel %d: %d, expected %d", i, dst[i], expected[i]);
}

Test(data, permutations_are_permutations_and_seeded) {
    int64_t a[100], b[100];
    struct tn_rng r1 = tn_rng_new(4), r2 = tn_rng_new(4);
    gw_permutation(&r1, 100, a);
    gw_permutation(&r2, 100, b);
    bool seen[100] = {0};
    for (int i = 0; i < 100; i++) {
        cr_assert(a[i] >= 0 && a[i] < 100 && !seen[a[i]], "not a permutation at %d", i);
        seen[a[i]] = true;
        cr_assert_eq(a[i], b[i], "the same seed gave another order");
    }
}

Test(data, shapes_are_deterministic_with_factors_in_range) {
    struct gw_dataset a, b;
    cr_assert_eq(gw_shapes_generate(50, 32, 9, &a), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_shapes_generate(50, 32, 9, &b), TN_OK, "%s", tn_last_error());
    cr_assert_eq(a.n_factors, 6);
    cr_assert(memcmp(a.pixels, b.pixels, (size_t)50 * 3 * 32 * 32) == 0, "same seed, other pixels");
    for (int64_t i = 0; i < 50 * 6; i++) {
        float f = a.factors[i];
        cr_assert(i % 6 == 4 ? (f == 0 || f == 1 || f == 2 || f == 3) : (f >= 0 && f <= 1),
                  "factor %lld = %g out of range", (long long)(i % 6), f);
    }
    /* different scenes differ */
    cr_assert(memcmp(a.pixels, a.pixels + 3 * 32 * 32, 3 * 32 * 32) != 0);
    gw_dataset_free(&a);
    gw_dataset_free(&b);
}

Test(data, fashion_mnist_loads_resized_to_three_channels_and_splits) {
    if (access(FASHION "/train-images-idx3-ubyte.gz", R_OK) != 0)
        cr_skip_test("Debian's dataset-fashion-mnist is not installed (%s)", FASHION);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = FASHION, .size = 32,
                                .limit = 300, .valid_fraction = 0.1, .seed = 1};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert_eq(s.train.count, 300);
    cr_assert_eq(s.valid.count, 6000);
    cr_assert_eq(s.test.count, 10000);
    cr_assert_eq(s.train.size, 32);
    cr_assert_eq(s.train.channels, 3);
    for (int64_t i = 0; i < 300; i++) {
        float label = s.train.factors[i];
        cr_assert(label >= 0 && label <= 9 && label == (int)label, "label %g", label);
        const uint8_t *img = s.train.pixels + i * 3 * 32 * 32;
        cr_assert(memcmp(img, img + 32 * 32, 32 * 32) == 0 && memcmp(img, img + 2 * 32 * 32, 32 * 32) == 0,
                  "image %lld: the three channels differ", (long long)i);
    }
    int64_t idx[2] = {0, 1};
    struct tn_tensor *batch = gw_dataset_batch(&s.train, idx, 2);
    int64_t shape[4] = {2, 3, 32, 32};
    assert_shape(batch, 4, shape);
    gw_splits_free(&s);
}

Test(data, a_missing_dataset_folder_is_an_error_naming_it) {
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = "/nonexistent/fmnist",
                                .size = 32, .seed = 1};
    struct gw_splits s;
    cr_assert_neq(gw_data_load(&o, &s), TN_OK);
    cr_assert(strstr(tn_last_error(), "/nonexistent/fmnist"), "%s", tn_last_error());
}

Test(data, png_grid_and_npy_are_written_with_the_expected_layout) {
    char dir[] = "/tmp/gwae_data_XXXXXX";
    cr_assert(mkdtemp(dir));
    char png[128], npy[128];
    snprintf(png, sizeof png, "%s/grid.png", dir);
    snprintf(npy, sizeof npy, "%s/a.npy", dir);
    int64_t shape[4] = {6, 3, 8, 8};
    struct tn_rng rng = tn_rng_new(2);
    cr_assert_eq(gw_png_write_grid(png, tn_rand_uniform(TN_CPU, 4, shape, &rng, 0, 1), 3, 1), TN_OK, "%s", tn_last_error());
    int w, h;
    uint8_t *rgb;
    cr_assert_eq(gw_png_read(png, &w, &h, &rgb), TN_OK, "%s", tn_last_error());
    cr_assert(w > 3 * 8 && w <= 3 * 8 + 4 && h > 2 * 8 && h <= 2 * 8 + 3, "grid %d x %d", w, h);
    free(rgb);
    float values[6] = {1, 2, 3, 4, 5, 6};
    cr_assert_eq(gw_npy_write(npy, 2, 3, values), TN_OK, "%s", tn_last_error());
    FILE *f = fopen(npy, "rb");
    cr_assert(f);
    unsigned char head[10];
    cr_assert_eq(fread(head, 1, 10, f), 10u);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert(memcmp(head, "\x93NUMPY\x01\x00", 8) == 0, "bad magic");
    int header = head[8] | head[9] << 8;
    cr_assert_eq((10 + header) % 64, 0, "data not aligned to 64 bytes");
    cr_assert_eq(size, 10 + header + 6 * 4);
    unlink(png);
    unlink(npy);
    rmdir(dir);
}
