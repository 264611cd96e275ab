/* plot.c - the figures of plot.h drawn on an RGB canvas and written as PNG.
 *
 * A figure is a white canvas, a plot frame (the data rectangle and the data ranges it shows),
 * light grid lines at "nice" tick values (1, 2 or 5 times a power of ten), the data clipped to
 * the frame, then the frame's border, ticks, tick labels, title and axis labels in the 5x7
 * font of font.c (the title at twice the size when it fits). Colours: a 10-colour palette
 * for series and classes, and a pale-yellow -> teal -> navy ramp for counts and values.
 */
#include "plot.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "font.h"
#include "gwae/data/dataset.h"
#include "png_write.h"

struct rgb {
    uint8_t r, g, b;
};

static const struct rgb white = {255, 255, 255}, ink = {30, 30, 30}, grid = {228, 228, 228},
                        frame_grey = {120, 120, 120};

/* Distinct colours for series and classes, in order of use. */
static const struct rgb palette[10] = {
    {0, 92, 200},   {232, 118, 0},  {22, 150, 62},   {204, 32, 44},   {128, 72, 184},
    {122, 80, 40},  {222, 88, 172}, {100, 100, 100}, {168, 168, 0},   {0, 170, 192},
};

struct canvas {
    int w, h;
    uint8_t *rgb;
    int cx0, cy0, cx1, cy1; /* clip rectangle, inclusive */
};

/* The data rectangle in pixels (inclusive) and the ranges it spans. */
struct frame {
    int x0, y0, x1, y1;
    double x_lo, x_hi, y_lo, y_hi;
    bool categorical_x; /* no x grid or ticks: the caller labels its categories */
};

static void put(struct canvas *c, int x, int y, struct rgb col) {
    if (x < c->cx0 || x > c->cx1 || y < c->cy0 || y > c->cy1) return;
    uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

/* Fills [x0, x1) x [y0, y1). */
static void fill_rect(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col) {
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) put(c, x, y, col);
}

static void unclip(struct canvas *c) {
    c->cx0 = c->cy0 = 0;
    c->cx1 = c->w - 1;
    c->cy1 = c->h - 1;
}

static void clip_to(struct canvas *c, const struct frame *f) {
    c->cx0 = f->x0;
    c->cy0 = f->y0;
    c->cx1 = f->x1;
    c->cy1 = f->y1;
}

/* Bresenham's line, thick adds the pixels right of and below each point. */
static void draw_line(struct canvas *c, int x0, int y0, int x1, int y1, struct rgb col,
                      bool thick) {
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        put(c, x0, y0, col);
        if (thick) {
            put(c, x0 + 1, y0, col);
            put(c, x0, y0 + 1, col);
        }
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

/* Width in pixels of s drawn at scale (one blank column between glyphs). */
static int text_width(const char *s, int scale) {
    int n = (int)strlen(s);
    return n ? (n * (FONT_WIDTH + 1) - 1) * scale : 0;
}

/* Draws s with its top-left corner at (x, y); up: turned a quarter left, reading upwards,
 * the box then FONT_HEIGHT wide with (x, y) its top-left. */
static void draw_text(struct canvas *c, int x, int y, const char *s, struct rgb col, int scale,
                      bool up) {
    int total = text_width(s, 1);
    for (int i = 0; s[i]; i++) {
        const uint8_t *g = font_glyph(s[i]);
        for (int r = 0; r < FONT_HEIGHT; r++)
            for (int k = 0; k < FONT_WIDTH; k++) {
                if (!(g[r] >> (FONT_WIDTH - 1 - k) & 1)) continue;
                int u = i * (FONT_WIDTH + 1) + k;
                if (up)
                    put(c, x + r, y + total - 1 - u, col);
                else
                    fill_rect(c, x + u * scale, y + r * scale, x + (u + 1) * scale,
                              y + (r + 1) * scale, col);
            }
    }
}

/* The ramp of counts and values: t in [0, 1] from pale yellow through teal to navy. */
static struct rgb ramp(double t) {
    static const struct rgb stops[3] = {{255, 237, 160}, {45, 160, 135}, {25, 35, 110}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    int k = t < 0.5 ? 0 : 1;
    double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
    const struct rgb a = stops[k], b = stops[k + 1];
    return (struct rgb){(uint8_t)lround(a.r + u * (b.r - a.r)), (uint8_t)lround(a.g + u * (b.g - a.g)),
                        (uint8_t)lround(a.b + u * (b.b - a.b))};
}

static enum tn_status canvas_new(struct canvas *c, const struct plot_labels *l) {
    c->w = l && l->width > 0 ? l->width : 640;
    c->h = l && l->height > 0 ? l->height : 480;
    if (c->w < 160) c->w = 160;
    if (c->h < 120) c->h = 120;
    c->rgb = malloc((size_t)c->w * (size_t)c->h * 3);
    if (!c->rgb) return tn_error(TN_ERR_OOM, "no memory for a %d x %d figure", c->w, c->h);
    memset(c->rgb, 255, (size_t)c->w * (size_t)c->h * 3);
    unclip(c);
    return TN_OK;
}

/* Pads [*lo, *hi] by 4% on each side; an empty or degenerate range becomes a unit one. */
static void pad_range(double *lo, double *hi) {
    if (!(*lo <= *hi)) {
        *lo = 0.0;
        *hi = 1.0;
    }
    if (*hi - *lo <= 1e-12 * fmax(1.0, fabs(*lo))) {
        double half = fmax(0.5, fabs(*lo) * 0.1);
        *lo -= half;
        *hi += half;
    }
    double pad = 0.04 * (*hi - *lo);
    *lo -= pad;
    *hi += pad;
}

/* The frame of a canvas with right extra pixels kept for a colour bar. */
static struct frame make_frame(const struct canvas *c, int right, double x_lo, double x_hi,
                               double y_lo, double y_hi) {
    return (struct frame){.x0 = 64, .y0 = 34, .x1 = c->w - 16 - right, .y1 = c->h - 46,
                          .x_lo = x_lo, .x_hi = x_hi, .y_lo = y_lo, .y_hi = y_hi};
}

static int px(const struct frame *f, double x) {
    return f->x0 + (int)lround((x - f->x_lo) / (f->x_hi - f->x_lo) * (f->x1 - f->x0));
}

static int py(const struct frame *f, double y) {
    return f->y1 - (int)lround((y - f->y_lo) / (f->y_hi - f->y_lo) * (f->y1 - f->y0));
}

/* A tick step near (hi - lo) / 5 that is 1, 2 or 5 times a power of ten. */
static double nice_step(double lo, double hi) {
    double raw = (hi - lo) / 5.0, mag = pow(10.0, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1.0 : r < 3.0 ? 2.0 : r < 7.0 ? 5.0 : 10.0) * mag;
}

/* The tick label of v with as many decimals as the step needs. */
static void format_tick(double v, double step, char *buf, size_t size) {
    if (fabs(v) < 1e-9 * step) v = 0.0; /* no "-0" */
    if (fabs(v) >= 1e6 || step < 1e-6) {
        snprintf(buf, size, "%.3g", v);
        return;
    }
    int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, size, "%.*f", decimals > 6 ? 6 : decimals, v);
}

/* The tick values in [lo, hi] into out (at most max); returns how many. */
static int ticks(double lo, double hi, double *out, int max) {
    double step = nice_step(lo, hi), first = ceil(lo / step - 1e-9) * step;
    int n = 0;
    for (double v = first; v <= hi + 1e-9 * step && n < max; v = first + n * step) out[n++] = v;
    return n;
}

static void draw_grid(struct canvas *c, const struct frame *f) {
    double t[32];
    int n = f->categorical_x ? 0 : ticks(f->x_lo, f->x_hi, t, 32);
    for (int k = 0; k < n; k++) draw_line(c, px(f, t[k]), f->y0, px(f, t[k]), f->y1, grid, false);
    n = ticks(f->y_lo, f->y_hi, t, 32);
    for (int k = 0; k < n; k++) draw_line(c, f->x0, py(f, t[k]), f->x1, py(f, t[k]), grid, false);
}

/* The border, ticks and their labels, the title and the axis labels. */
static void draw_axes(struct canvas *c, const struct frame *f, const struct plot_labels *l) {
    unclip(c);
    draw_line(c, f->x0, f->y0, f->x1, f->y0, frame_grey, false);
    draw_line(c, f->x0, f->y1, f->x1, f->y1, frame_grey, false);
    draw_line(c, f->x0, f->y0, f->x0, f->y1, frame_grey, false);
    draw_line(c, f->x1, f->y0, f->x1, f->y1, frame_grey, false);
    double t[32];
    char buf[32];
    int n = f->categorical_x ? 0 : ticks(f->x_lo, f->x_hi, t, 32);
    double step = nice_step(f->x_lo, f->x_hi);
    for (int k = 0; k < n; k++) {
        int x = px(f, t[k]);
        draw_line(c, x, f->y1, x, f->y1 + 4, ink, false);
        format_tick(t[k], step, buf, sizeof buf);
        draw_text(c, x - text_width(buf, 1) / 2, f->y1 + 8, buf, ink, 1, false);
    }
    n = ticks(f->y_lo, f->y_hi, t, 32);
    step = nice_step(f->y_lo, f->y_hi);
    for (int k = 0; k < n; k++) {
        int y = py(f, t[k]);
        draw_line(c, f->x0 - 4, y, f->x0, y, ink, false);
        format_tick(t[k], step, buf, sizeof buf);
        draw_text(c, f->x0 - 7 - text_width(buf, 1), y - FONT_HEIGHT / 2, buf, ink, 1, false);
    }
    if (!l) return;
    if (l->title) {
        int scale = text_width(l->title, 2) <= c->w - 8 ? 2 : 1;
        draw_text(c, (c->w - text_width(l->title, scale)) / 2, 17 - FONT_HEIGHT * scale / 2,
                  l->title, ink, scale, false);
    }
    if (l->x_label)
        draw_text(c, (f->x0 + f->x1 - text_width(l->x_label, 1)) / 2, c->h - 16, l->x_label, ink,
                  1, false);
    if (l->y_label)
        draw_text(c, 6, (f->y0 + f->y1 - text_width(l->y_label, 1)) / 2, l->y_label, ink, 1, true);
}

/* Pixels of data (neither background nor grid) in the box [x0, x1] x [y0, y1]. */
static int64_t data_pixels(const struct canvas *c, int x0, int y0, int x1, int y1) {
    int64_t n = 0;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < c->h; y++)
        for (int x = x0 < 0 ? 0 : x0; x <= x1 && x < c->w; x++) {
            const uint8_t *p = c->rgb + ((size_t)y * (size_t)c->w + (size_t)x) * 3;
            bool background = (p[0] == white.r && p[1] == white.g && p[2] == white.b) ||
                              (p[0] == grid.r && p[1] == grid.g && p[2] == grid.b);
            n += !background;
        }
    return n;
}

/* A legend box in the frame corner that hides the fewest data pixels (top right on a tie):
 * a colour swatch (a short line or a square) and a name per entry. */
static void draw_legend(struct canvas *c, const struct frame *f, const char *const *names,
                        const struct rgb *colours, int n, bool lines) {
    int widest = 0, shown = 0;
    for (int k = 0; k < n; k++)
        if (names[k]) {
            int w = text_width(names[k], 1);
            widest = w > widest ? w : widest;
            shown++;
        }
    if (!shown) return;
    int w = widest + 32, h = shown * 12 + 6, x = f->x1 - w - 6, y = f->y0 + 6;
    const int corners[4][2] = {{f->x1 - w - 6, f->y0 + 6}, {f->x0 + 6, f->y0 + 6},
                               {f->x1 - w - 6, f->y1 - h - 6}, {f->x0 + 6, f->y1 - h - 6}};
    int64_t least = -1;
    for (int k = 0; k < 4; k++) {
        int64_t hidden = data_pixels(c, corners[k][0], corners[k][1], corners[k][0] + w,
                                     corners[k][1] + h);
        if (least < 0 || hidden < least) {
            least = hidden;
            x = corners[k][0];
            y = corners[k][1];
        }
    }
    unclip(c);
    fill_rect(c, x, y, x + w, y + h, white);
    draw_line(c, x, y, x + w, y, frame_grey, false);
    draw_line(c, x, y + h, x + w, y + h, frame_grey, false);
    draw_line(c, x, y, x, y + h, frame_grey, false);
    draw_line(c, x + w, y, x + w, y + h, frame_grey, false);
    int row = 0;
    for (int k = 0; k < n; k++) {
        if (!names[k]) continue;
        int cy = y + 6 + row * 12 + FONT_HEIGHT / 2;
        if (lines)
            draw_line(c, x + 6, cy, x + 22, cy, colours[k], true);
        else
            fill_rect(c, x + 11, cy - 2, x + 16, cy + 3, colours[k]);
        draw_text(c, x + 27, cy - FONT_HEIGHT / 2, names[k], ink, 1, false);
        row++;
    }
}

/* A vertical colour bar right of the frame, ramp(0) at the bottom, labelled at its bottom,
 * middle and top with the values printed by fmt (one double). */
static void draw_colour_bar(struct canvas *c, const struct frame *f, const char *fmt,
                            double low, double mid, double high) {
    int x0 = f->x1 + 14, x1 = x0 + 14;
    unclip(c);
    for (int y = f->y0; y <= f->y1; y++)
        fill_rect(c, x0, y, x1, y + 1, ramp((double)(f->y1 - y) / (double)(f->y1 - f->y0)));
    const double values[3] = {low, mid, high};
    const int rows[3] = {f->y1 - FONT_HEIGHT + 1, (f->y0 + f->y1 - FONT_HEIGHT) / 2, f->y0};
    char text[32];
    for (int k = 0; k < 3; k++) {
        snprintf(text, sizeof text, fmt, values[k]);
        draw_text(c, x1 + 4, rows[k], text, ink, 1, false);
    }
}

/* A white canvas with its frame (right pixels kept for a colour bar), grid lines drawn and
 * drawing clipped to the frame. */
static enum tn_status begin_figure(struct canvas *c, struct frame *f,
                                   const struct plot_labels *labels, int right, double x_lo,
                                   double x_hi, double y_lo, double y_hi) {
    enum tn_status st = canvas_new(c, labels);
    if (st != TN_OK) return st;
    *f = make_frame(c, right, x_lo, x_hi, y_lo, y_hi);
    draw_grid(c, f);
    clip_to(c, f);
    return TN_OK;
}

/* Writes the canvas and frees it. */
static enum tn_status finish(struct canvas *c, const char *path) {
    enum tn_status s = png_write(path, c->w, c->h, c->rgb);
    free(c->rgb);
    return s;
}

/* The smallest and largest finite values of v[n] into lo, hi (lo > hi when none). */
static void finite_range(const double *v, int64_t n, double *lo, double *hi) {
    for (int64_t k = 0; k < n; k++)
        if (isfinite(v[k])) {
            *lo = fmin(*lo, v[k]);
            *hi = fmax(*hi, v[k]);
        }
}

enum tn_status plot_lines(const char *path, const struct plot_labels *labels,
                             const struct plot_series *series, int n_series) {
    TN_CHECK(path && series && n_series > 0, "plot_lines", "no path or no series");
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    for (int s = 0; s < n_series; s++) {
        TN_CHECK(series[s].n >= 0 && (series[s].n == 0 || (series[s].x && series[s].y)),
                 "plot_lines", "series %d has no data arrays", s);
        finite_range(series[s].x, series[s].n, &x_lo, &x_hi);
        finite_range(series[s].y, series[s].n, &y_lo, &y_hi);
    }
    pad_range(&x_lo, &x_hi);
    pad_range(&y_lo, &y_hi);
    struct canvas c;
    struct frame f;
    enum tn_status st = begin_figure(&c, &f, labels, 0, x_lo, x_hi, y_lo, y_hi);
    if (st != TN_OK) return st;
    const char *names[10];
    struct rgb colours[10];
    for (int s = 0; s < n_series; s++) {
        const struct plot_series *q = &series[s];
        struct rgb col = palette[s % 10];
        for (int64_t k = 1; k < q->n; k++)
            if (isfinite(q->x[k - 1]) && isfinite(q->y[k - 1]) && isfinite(q->x[k]) &&
                isfinite(q->y[k]))
                draw_line(&c, px(&f, q->x[k - 1]), py(&f, q->y[k - 1]), px(&f, q->x[k]),
                          py(&f, q->y[k]), col, true);
        if (q->n == 1 && isfinite(q->x[0]) && isfinite(q->y[0]))
            fill_rect(&c, px(&f, q->x[0]) - 1, py(&f, q->y[0]) - 1, px(&f, q->x[0]) + 2,
                      py(&f, q->y[0]) + 2, col);
        if (s < 10) {
            names[s] = q->name;
            colours[s] = col;
        }
    }
    draw_axes(&c, &f, labels);
    draw_legend(&c, &f, names, colours, n_series < 10 ? n_series : 10, true);
    return finish(&c, path);
}

enum tn_status plot_heatmap(const char *path, const struct plot_labels *labels,
                               const int64_t *counts, int bins_x, int bins_y, double x_lo,
                               double x_hi, double y_lo, double y_hi) {
    TN_CHECK(path && counts && bins_x > 0 && bins_y > 0 && x_hi > x_lo && y_hi > y_lo,
             "plot_heatmap", "bad histogram (%d x %d bins, [%g, %g) x [%g, %g))", bins_x,
             bins_y, x_lo, x_hi, y_lo, y_hi);
    int64_t most = 0;
    for (int64_t k = 0; k < (int64_t)bins_x * bins_y; k++) most = counts[k] > most ? counts[k] : most;
    struct canvas c;
    struct frame f;
    enum tn_status st = begin_figure(&c, &f, labels, 70, x_lo, x_hi, y_lo, y_hi);
    if (st != TN_OK) return st;
    double log_most = most > 1 ? log((double)most) : 1.0;
    int w = f.x1 - f.x0, h = f.y1 - f.y0;
    for (int iy = 0; iy < bins_y; iy++)
        for (int ix = 0; ix < bins_x; ix++) {
            int64_t n = counts[(int64_t)iy * bins_x + ix];
            if (n <= 0) continue;
            struct rgb col = ramp(most > 1 ? log((double)n) / log_most : 1.0);
            fill_rect(&c, f.x0 + ix * w / bins_x, f.y1 - (iy + 1) * h / bins_y,
                      f.x0 + (ix + 1) * w / bins_x, f.y1 - iy * h / bins_y, col);
        }
    draw_axes(&c, &f, labels);
    draw_colour_bar(&c, &f, "%.0f", 1.0, most > 1 ? sqrt((double)most) : 1.0,
                    most > 1 ? (double)most : 1.0);
    return finish(&c, path);
}

enum tn_status plot_scatter(const char *path, const struct plot_labels *labels,
                               const double *x, const double *y, const double *colour,
                               int64_t n, enum plot_colouring how) {
    TN_CHECK(path && n >= 0 && (n == 0 || (x && y)) && (how == PLOT_PLAIN || colour || n == 0),
             "plot_scatter", "no path, no points or no colours");
    double x_lo = INFINITY, x_hi = -INFINITY, y_lo = INFINITY, y_hi = -INFINITY;
    double v_lo = INFINITY, v_hi = -INFINITY;
    finite_range(x, n, &x_lo, &x_hi);
    finite_range(y, n, &y_lo, &y_hi);
    if (how == PLOT_BY_VALUE) finite_range(colour, n, &v_lo, &v_hi);
    pad_range(&x_lo, &x_hi);
    pad_range(&y_lo, &y_hi);
    struct canvas c;
    struct frame f;
    enum tn_status st = begin_figure(&c, &f, labels, how == PLOT_BY_VALUE ? 70 : 0, x_lo, x_hi, y_lo, y_hi);
    if (st != TN_OK) return st;
    bool seen[10] = {false};
    int first_class[10] = {0};
    for (int64_t k = 0; k < n; k++) {
        if (!isfinite(x[k]) || !isfinite(y[k])) continue;
        struct rgb col = palette[0];
        if (how == PLOT_BY_VALUE)
            col = ramp(v_hi > v_lo ? (colour[k] - v_lo) / (v_hi - v_lo) : 0.5);
        else if (how == PLOT_BY_CLASS && isfinite(colour[k])) {
            int cls = (int)colour[k], slot = ((cls % 10) + 10) % 10;
            col = palette[slot];
            if (!seen[slot]) first_class[slot] = cls;
            seen[slot] = true;
        }
        int cx = px(&f, x[k]), cy = py(&f, y[k]);
        fill_rect(&c, cx - 1, cy - 1, cx + 2, cy + 2, col);
    }
    draw_axes(&c, &f, labels);
    if (how == PLOT_BY_VALUE) {
        bool any = v_lo <= v_hi;
        draw_colour_bar(&c, &f, "%.3g", any ? v_lo : 0.0, any ? 0.5 * (v_lo + v_hi) : 0.0,
                        any ? v_hi : 0.0);
    } else if (how == PLOT_BY_CLASS) {
        char text[10][16];
        const char *names[10];
        for (int s = 0; s < 10; s++) {
            snprintf(text[s], sizeof text[s], "%d", first_class[s]);
            names[s] = seen[s] ? text[s] : NULL;
        }
        draw_legend(&c, &f, names, palette, 10, false);
    }
    return finish(&c, path);
}

enum tn_status plot_bars(const char *path, const struct plot_labels *labels,
                         const char *const *names, const double *mean, const double *err, int n) {
    TN_CHECK(path && names && mean && n > 0, "plot_bars", "no path or no bars");
    double lo = 0.0, hi = 0.0; /* the bars start at 0 */
    int widest = 0;
    for (int k = 0; k < n; k++) {
        double e = err && isfinite(err[k]) ? err[k] : 0.0;
        if (isfinite(mean[k])) {
            lo = fmin(lo, mean[k] - e);
            hi = fmax(hi, mean[k] + e);
        }
        int w = text_width(names[k], 1);
        widest = w > widest ? w : widest;
    }
    pad_range(&lo, &hi);
    struct canvas c;
    enum tn_status st = canvas_new(&c, labels);
    if (st != TN_OK) return st;
    struct frame f = make_frame(&c, 0, 0.0, (double)n, lo, hi);
    f.categorical_x = true;
    f.y1 = c.h - 24 - widest; /* room for the names, written upwards under the bars */
    if (f.y1 < f.y0 + 40) f.y1 = f.y0 + 40;
    draw_grid(&c, &f);
    clip_to(&c, &f);
    int slot = (f.x1 - f.x0) / n, half = slot * 3 / 8 > 2 ? slot * 3 / 8 : 2;
    for (int k = 0; k < n; k++) {
        int mid = px(&f, k + 0.5), top = py(&f, isfinite(mean[k]) ? mean[k] : 0.0);
        int base = py(&f, 0.0);
        if (isfinite(mean[k]))
            fill_rect(&c, mid - half, top < base ? top : base, mid + half,
                      (top < base ? base : top) + 1, palette[k % 10]);
        if (isfinite(mean[k]) && err && isfinite(err[k]) && err[k] > 0) {
            int a = py(&f, mean[k] - err[k]), b = py(&f, mean[k] + err[k]), cap = half / 2;
            draw_line(&c, mid, a, mid, b, ink, false);
            draw_line(&c, mid - cap, a, mid + cap, a, ink, false);
            draw_line(&c, mid - cap, b, mid + cap, b, ink, false);
        }
    }
    draw_axes(&c, &f, labels);
    for (int k = 0; k < n; k++)
        draw_text(&c, px(&f, k + 0.5) - FONT_HEIGHT / 2, f.y1 + 8, names[k],
                  isfinite(mean[k]) ? ink : frame_grey, 1, true);
    return finish(&c, path);
}

enum tn_status plot_tiles(const char *path, const char *const *images, const char *const *captions,
                          int n, int cols) {
    TN_CHECK(path && images && captions && n > 0 && cols > 0, "plot_tiles", "nothing to tile");
    uint8_t **rgb = calloc((size_t)n, sizeof *rgb);
    int *w = calloc((size_t)n, sizeof *w), *h = calloc((size_t)n, sizeof *h);
    TN_CHECK(rgb && w && h, "plot_tiles", "out of host memory");
    enum tn_status st = TN_OK;
    int cell_w = 0, cell_h = 0;
    for (int k = 0; k < n && st == TN_OK; k++) {
        st = gw_png_read(images[k], &w[k], &h[k], &rgb[k]);
        cell_w = w[k] > cell_w ? w[k] : cell_w;
        cell_h = h[k] > cell_h ? h[k] : cell_h;
    }
    struct canvas c = {0};
    if (st == TN_OK) {
        if (cols > n) cols = n;
        int rows = (n + cols - 1) / cols, caption = 2 * FONT_HEIGHT + 8;
        struct plot_labels size = {.width = cols * cell_w, .height = rows * (cell_h + caption)};
        st = canvas_new(&c, &size);
        for (int k = 0; k < n && st == TN_OK; k++) {
            int x0 = k % cols * cell_w, y0 = k / cols * (cell_h + caption);
            /* a caption too long for its tile at double size is drawn at single size */
            int scale = text_width(captions[k], 2) <= cell_w - 16 ? 2 : 1;
            draw_text(&c, x0 + 8, y0 + 4 + (2 - scale) * FONT_HEIGHT / 2, captions[k], ink, scale,
                      false);
            for (int y = 0; y < h[k]; y++)
                memcpy(c.rgb + ((size_t)(y0 + caption + y) * (size_t)c.w + (size_t)x0) * 3,
                       rgb[k] + (size_t)y * (size_t)w[k] * 3, (size_t)w[k] * 3);
        }
        if (st == TN_OK) st = finish(&c, path);
        else free(c.rgb);
    }
    for (int k = 0; k < n; k++) free(rgb[k]);
    free(rgb);
    free(w);
    free(h);
    return st;
}
