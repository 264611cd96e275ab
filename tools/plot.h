/* plot.h - the evaluation figures as PNG files: line plots of named series (loss curves,
 * GW curves, ROC curves), a heatmap of a 2-D histogram on a log colour scale (the isometry
 * figure, d_Z across, d_X up) and scatter plots coloured by a value or a class (latent
 * scatters). Each figure has axes with numeric tick labels, a title and axis labels, drawn
 * with the project's own 5x7 font (font.h).
 *
 * Files are written atomically through png_write. Grids of images are png_write_grid's.
 * Bad arguments (NULL arrays, empty series) are programmer errors and abort; a failed write
 * or allocation returns its status.
 */
#ifndef PLOT_H
#define PLOT_H

#include <stdint.h>

#include "tensor/tn_error.h"

/* What every figure carries besides its data. */
struct plot_labels {
    const char *title, *x_label, *y_label; /* NULL: left out */
    int width, height;                      /* pixels; 0: 640 and 480 (at least 160 x 120) */
};

/* One curve of a line plot: (x[k], y[k]) for k < n, joined in order; non-finite points
 * break the curve. */
struct plot_series {
    const char *name; /* its legend entry (NULL: none) */
    const double *x, *y;
    int64_t n;
};

/* Line plot of n_series series with a legend, the axes spanning all finite points. */
enum tn_status plot_lines(const char *path, const struct plot_labels *labels,
                             const struct plot_series *series, int n_series);

/* Heatmap of counts[bins_y, bins_x] (gw_histogram2d's layout: row 0 the lowest y bin) over
 * [x_lo, x_hi) x [y_lo, y_hi): empty bins white, others coloured by log(count) against the
 * largest count, with a colour bar. */
enum tn_status plot_heatmap(const char *path, const struct plot_labels *labels,
                               const int64_t *counts, int bins_x, int bins_y, double x_lo,
                               double x_hi, double y_lo, double y_hi);

/* How a scatter plot colours its points. */
enum plot_colouring {
    PLOT_PLAIN,    /* one colour; colour may be NULL */
    PLOT_BY_VALUE, /* colour[k] on a continuous scale from its min to its max, colour bar */
    PLOT_BY_CLASS, /* (int)colour[k] picks one of 10 colours, legend of the classes seen */
};

/* Scatter plot of the n points (x[k], y[k]). */
enum tn_status plot_scatter(const char *path, const struct plot_labels *labels,
                               const double *x, const double *y, const double *colour,
                               int64_t n, enum plot_colouring how);

/* Bar chart of n bars: mean[k] with an error bar of +- err[k] (err may be NULL; non-finite
 * values draw no bar or no error bar), each named names[k] under it, written upwards; the
 * y axis spans 0 and every bar's extent. */
enum tn_status plot_bars(const char *path, const struct plot_labels *labels,
                         const char *const *names, const double *mean, const double *err, int n);

/* The PNG files images[0..n) side by side, cols per row, each under its caption (drawn at twice
 * the font's size), in cells as large as the largest image: figures of several runs in one. */
enum tn_status plot_tiles(const char *path, const char *const *images, const char *const *captions,
                          int n, int cols);

#endif
