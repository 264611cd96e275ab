/* eval_plots.c - the plotted figures of `gwae eval` (plot.h): loss and GW curves read
 * back from log.jsonl, the isometry heatmap, the DCI scatter and the ROC curves.
 *
 * log.jsonl is read line by line as flat JSON objects; a line that does not parse, or lacks a
 * key, contributes no point to that key's curve (a log cut short by a crash still plots).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_figures.h"
#include "gwae/eval/metrics.h"
#include "plot.h"
#include "nn/nn_json.h"
#include "settings.h"

#define ISOMETRY_BINS 60

/* one curve read from the log: the value of key on the lines whose event is event */
struct curve {
    const char *event, *key, *name;
    double *x, *y;
    int64_t n;
};

/* fills the curves from the text of log.jsonl; x is the step (or the epoch for epoch-only
 * curves whose x_key is "epoch") */
static void read_curves(char *text, struct curve *c, int n_curves, const char *x_key) {
    int64_t lines = 1;
    for (char *p = text; *p; p++) lines += *p == '\n';
    for (int i = 0; i < n_curves; i++) {
        c[i].x = malloc((size_t)lines * sizeof(double));
        c[i].y = malloc((size_t)lines * sizeof(double));
        TN_CHECK(c[i].x && c[i].y, "eval_plots", "out of host memory");
        c[i].n = 0;
    }
    for (char *line = text; line && *line;) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        struct nn_json_flat o;
        char why[128];
        if (nn_json_flat_parse(line, len, &o, why, sizeof why)) {
            const struct nn_json_pair *ev = nn_json_flat_get(&o, "event");
            const struct nn_json_pair *xp = nn_json_flat_get(&o, x_key);
            for (int i = 0; ev && xp && i < n_curves; i++) {
                const struct nn_json_pair *v = nn_json_flat_get(&o, c[i].key);
                if (strcmp(ev->text, c[i].event) != 0 || !v || v->type != NN_JSON_NUMBER) continue;
                c[i].x[c[i].n] = strtod(xp->text, NULL);
                c[i].y[c[i].n++] = strtod(v->text, NULL);
            }
        }
        nn_json_flat_free(&o);
        line = end ? end + 1 : NULL;
    }
}

/* plots the curves that have points; nothing is written when none has */
static enum tn_status plot_curves(const char *path, struct curve *c, int n_curves,
                                  const struct plot_labels *labels) {
    struct plot_series s[8];
    int n = 0;
    for (int i = 0; i < n_curves && n < 8; i++)
        if (c[i].n > 0) s[n++] = (struct plot_series){c[i].name, c[i].x, c[i].y, c[i].n};
    enum tn_status st = n > 0 ? plot_lines(path, labels, s, n) : TN_OK;
    for (int i = 0; i < n_curves; i++) {
        free(c[i].x);
        free(c[i].y);
    }
    return st;
}

static enum tn_status log_figures(const char *dir) {
    char path[TOOL_PATH_MAX + 64];
    settings_join(path, sizeof path, dir, "log.jsonl");
    size_t len;
    char *text = nn_json_read_file(path, &len);
    if (!text) return TN_OK; /* a run without a log has no curves to draw */
    struct curve losses[] = {
        {"step", "loss", "loss (train)", 0, 0, 0},   {"step", "loss_w", "L_W (train)", 0, 0, 0},
        {"step", "loss_gw", "L_GW (train)", 0, 0, 0}, {"step", "loss_d", "L_D (train)", 0, 0, 0},
        {"epoch", "val_loss", "loss (validation)", 0, 0, 0},
    };
    struct curve gw[] = {
        {"epoch", "gw_estimate", "L_GW estimate", 0, 0, 0},
        {"epoch", "gw_solver", "GW solver, data vs latent (rho=1)", 0, 0, 0},
        {"epoch", "gw_solver_generated", "GW solver, generated pairs (rho=1)", 0, 0, 0},
        {"epoch", "gw_solver_encoded", "GW solver, data vs its codes (rho=1)", 0, 0, 0},
    };
    enum { NL = sizeof losses / sizeof losses[0], NG = sizeof gw / sizeof gw[0] };
    read_curves(text, losses, NL, "step");
    read_curves(text, gw, NG, "epoch");
    free(text);
    struct plot_labels l = {"Loss terms over training", "step", "value", 0, 0};
    settings_join(path, sizeof path, dir, "loss_curves.png");
    enum tn_status st = plot_curves(path, losses, NL, &l);
    struct plot_labels g = {"GW over training (fixed validation batch of 64)", "epoch",
                               "GW value", 0, 0};
    settings_join(path, sizeof path, dir, "gw_curve.png");
    enum tn_status st2 = plot_curves(path, gw, NG, &g);
    return st != TN_OK ? st : st2;
}

static enum tn_status isometry_figure(const struct eval_figure_set *f) {
    double hi = 0;
    for (int64_t i = 0; i < f->pairs; i++) {
        if (f->dz[i] > hi) hi = f->dz[i];
        if (f->dx[i] > hi) hi = f->dx[i];
    }
    hi = hi > 0 ? hi * 1.001 : 1.0;
    int64_t *counts = calloc(ISOMETRY_BINS * ISOMETRY_BINS, sizeof *counts);
    TN_CHECK(counts, "eval_plots", "out of host memory");
    gw_histogram2d(f->dz, f->dx, f->pairs, 0, hi, 0, hi, ISOMETRY_BINS, ISOMETRY_BINS, counts);
    char title[160], path[TOOL_PATH_MAX + 64];
    snprintf(title, sizeof title, "Isometry of %lld generated pairs, correlation %.3f",
             (long long)f->pairs, f->correlation);
    bool has_c = f->model->ops->latent_scale != NULL; /* else the mean-matching scale */
    struct plot_labels l = {title, f->squared ? "|dz|^2" : has_c ? "d_Z = (C/s)|dz|"
                                                                  : "d_Z = k|dz|, k: mean d_Z = mean d_X",
                               f->squared ? "|dx|^2" : "d_X = |dx|", 0, 0};
    settings_join(path, sizeof path, f->dir, "isometry.png");
    enum tn_status st = plot_heatmap(path, &l, counts, ISOMETRY_BINS, ISOMETRY_BINS, 0, hi, 0, hi);
    free(counts);
    return st;
}

static enum tn_status scatter_figure(const struct eval_figure_set *f) {
    const struct eval_dci *d = f->dci;
    int64_t n = d->n, l = f->model->common.latent;
    double *v = malloc((size_t)(3 * n) * sizeof *v);
    TN_CHECK(v, "eval_plots", "out of host memory");
    for (int64_t i = 0; i < n; i++) {
        v[i] = d->codes[i * l + d->dims[0]];
        v[n + i] = d->codes[i * l + d->dims[1]];
        v[2 * n + i] = f->test->factors[i * f->test->n_factors + d->factor];
    }
    char title[160], xl[32], yl[32], path[TOOL_PATH_MAX + 64];
    snprintf(title, sizeof title, "Latents most informative about %s (colour)",
             f->test->factor_names[d->factor]);
    snprintf(xl, sizeof xl, "z%d", d->dims[0]);
    snprintf(yl, sizeof yl, "z%d", d->dims[1]);
    struct plot_labels lab = {title, xl, yl, 0, 0};
    settings_join(path, sizeof path, f->dir, "dci_scatter.png");
    enum tn_status st = plot_scatter(path, &lab, v, v + n, v + 2 * n, n, PLOT_BY_VALUE);
    free(v);
    return st;
}

static enum tn_status roc_figure(const struct eval_figure_set *f) {
    static const double diag[2] = {0, 1};
    struct plot_series s[3];
    char names[2][96];
    for (int i = 0; i < f->n_roc; i++) {
        snprintf(names[i], sizeof names[i], "%s (AUC %.3f)", f->roc[i].name, f->roc[i].auc);
        s[i] = (struct plot_series){names[i], f->roc[i].fpr, f->roc[i].tpr, f->roc[i].points};
    }
    s[f->n_roc] = (struct plot_series){"chance", diag, diag, 2};
    struct plot_labels l = {"Out-of-distribution detection by the critic",
                               "false positive rate", "true positive rate", 0, 0};
    char path[TOOL_PATH_MAX + 64];
    settings_join(path, sizeof path, f->dir, "roc.png");
    return plot_lines(path, &l, s, f->n_roc + 1);
}

bool eval_plots_write(const struct eval_figure_set *f, char *err, size_t size) {
    enum tn_status st = log_figures(f->dir);
    if (st == TN_OK && f->dz) st = isometry_figure(f);
    if (st == TN_OK && f->dci) st = scatter_figure(f);
    if (st == TN_OK && f->n_roc > 0) st = roc_figure(f);
    if (st != TN_OK) {
        snprintf(err, size, "%s", tn_last_error());
        return false;
    }
    return true;
}
