/* test_plot.c - the figures of plot.h: each is a valid PNG of the stated size (read back
 * with gw_png_read), data land on the pixels the axes put them at and in the expected colours,
 * titles are drawn only when given, and a write into a missing folder returns an error.
 *
 * Files go into a fresh temporary folder per test, removed at its end.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gwae/data/dataset.h"
#include "plot.h"
#include "png_write.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(plot);

static char dir[64], file[128];

/* A fresh folder and the path of figure.png in it. */
static const char *fresh_path(void) {
    snprintf(dir, sizeof dir, "/tmp/gw_test_plot_XXXXXX");
    cr_assert(mkdtemp(dir), "cannot make a temporary folder");
    snprintf(file, sizeof file, "%s/figure.png", dir);
    return file;
}

static void remove_path(void) {
    unlink(file);
    rmdir(dir);
}

/* Reads the figure back, asserting its size. */
static uint8_t *read_back(int width, int height) {
    int w = 0, h = 0;
    uint8_t *rgb = NULL;
    cr_assert_eq(gw_png_read(file, &w, &h, &rgb), TN_OK, "%s", tn_last_error());
    cr_assert(w == width && h == height, "figure is %d x %d, expected %d x %d", w, h, width,
              height);
    return rgb;
}

static bool pixel_is(const uint8_t *rgb, int width, int x, int y, int r, int g, int b) {
    const uint8_t *p = rgb + ((size_t)y * width + x) * 3;
    return p[0] == r && p[1] == g && p[2] == b;
}

/* Pixels of colour (r, g, b) in [x0, x1) x [y0, y1). */
static int count_colour(const uint8_t *rgb, int width, int x0, int y0, int x1, int y1, int r,
                        int g, int b) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) n += pixel_is(rgb, width, x, y, r, g, b);
    return n;
}

/* Pixels darker than mid-grey in [x0, x1) x [y0, y1): text and lines in ink. */
static int count_dark(const uint8_t *rgb, int width, int x0, int y0, int x1, int y1) {
    int n = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            const uint8_t *p = rgb + ((size_t)y * width + x) * 3;
            n += p[0] < 80 && p[1] < 80 && p[2] < 80;
        }
    return n;
}

Test(plot, a_line_plot_puts_a_flat_series_across_the_middle_of_its_frame) {
    fresh_path();
    double x[11], y[11];
    for (int k = 0; k < 11; k++) {
        x[k] = k;
        y[k] = 1.0;
    }
    struct plot_series s = {"flat", x, y, 11};
    struct plot_labels l = {.title = "Flat", .x_label = "step", .y_label = "value",
                               .width = 300, .height = 200};
    cr_assert_eq(plot_lines(file, &l, &s, 1), TN_OK, "%s", tn_last_error());
    uint8_t *rgb = read_back(300, 200);
    /* frame rows 34..154: a constant series sits at row 94; column 174 is x = 5 */
    int hits = count_colour(rgb, 300, 174, 93, 175, 96, 0, 92, 200);
    cr_assert(hits >= 1, "series colour not found at (174, 94)");
    cr_assert_eq(count_colour(rgb, 300, 174, 100, 175, 150, 0, 92, 200), 0,
                 "series colour below the line");
    cr_assert(count_dark(rgb, 300, 0, 0, 300, 30) > 20, "no title drawn");
    free(rgb);
    remove_path();
}

Test(plot, a_figure_without_labels_has_the_default_size_and_no_title) {
    fresh_path();
    double x[2] = {0, 1}, y[2] = {0, 1};
    struct plot_series s = {NULL, x, y, 2};
    cr_assert_eq(plot_lines(file, NULL, &s, 1), TN_OK);
    uint8_t *rgb = read_back(640, 480);
    cr_assert_eq(count_dark(rgb, 640, 0, 0, 640, 30), 0, "something drawn in the title band");
    free(rgb);
    remove_path();
}

Test(plot, a_heatmap_colours_bins_by_log_count_and_leaves_empty_ones_white) {
    fresh_path();
    /* 2 x 2 bins over [0, 1) x [0, 2): bottom-left 1, top-right 100, the others empty */
    int64_t counts[4] = {1, 0, 0, 100};
    struct plot_labels l = {.title = "isometry", .x_label = "d_Z", .y_label = "d_X",
                               .width = 400, .height = 300};
    cr_assert_eq(plot_heatmap(file, &l, counts, 2, 2, 0, 1, 0, 2), TN_OK);
    uint8_t *rgb = read_back(400, 300);
    /* frame x 64..314, y 34..254; (100, 180) lies in the bottom-left bin, (240, 70) in the
     * top-right one, (240, 180) in the empty bottom-right one, all off the grid lines */
    cr_assert(pixel_is(rgb, 400, 100, 180, 255, 237, 160), "count 1 is not the palest colour");
    cr_assert(pixel_is(rgb, 400, 240, 70, 25, 35, 110), "the largest count is not the darkest");
    cr_assert(pixel_is(rgb, 400, 240, 180, 255, 255, 255), "an empty bin is not white");
    free(rgb);
    remove_path();
}

Test(plot, a_scatter_by_class_paints_each_class_in_its_own_colour) {
    fresh_path();
    double x[2] = {0, 1}, y[2] = {0, 0}, cls[2] = {0, 3};
    struct plot_labels l = {.width = 300, .height = 200};
    cr_assert_eq(plot_scatter(file, &l, x, y, cls, 2, PLOT_BY_CLASS), TN_OK);
    uint8_t *rgb = read_back(300, 200);
    /* x = 0 maps to column 72 and x = 1 to 276; y = 0 is the middle row 94 */
    cr_assert(pixel_is(rgb, 300, 72, 94, 0, 92, 200), "class 0 point missing");
    cr_assert(pixel_is(rgb, 300, 276, 94, 204, 32, 44), "class 3 point missing");
    free(rgb);
    remove_path();
}

Test(plot, a_scatter_by_value_paints_the_extremes_at_the_ends_of_the_ramp) {
    fresh_path();
    double x[3] = {0, 0.5, 1}, y[3] = {0, 0.5, 1}, v[3] = {-2, 0, 7};
    struct plot_labels l = {.width = 320, .height = 240};
    cr_assert_eq(plot_scatter(file, &l, x, y, v, 3, PLOT_BY_VALUE), TN_OK);
    uint8_t *rgb = read_back(320, 240);
    /* frame x 64..234 (70 pixels kept for the colour bar), y 34..194 */
    cr_assert(count_colour(rgb, 320, 64, 34, 235, 195, 255, 237, 160) == 9, "lowest value");
    cr_assert(count_colour(rgb, 320, 64, 34, 235, 195, 25, 35, 110) == 9, "highest value");
    free(rgb);
    remove_path();
}

Test(plot, writing_into_a_missing_folder_returns_an_error) {
    double x[2] = {0, 1};
    struct plot_series s = {"a", x, x, 2};
    enum tn_status st = plot_lines("/nonexistent-gw-folder/figure.png", NULL, &s, 1);
    cr_assert_neq(st, TN_OK);
    cr_assert(strstr(tn_last_error(), "nonexistent-gw-folder"), "message: %s", tn_last_error());
}
