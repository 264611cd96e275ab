/* cmd_compare.c - `gwae compare RUN_DIR...`: the measurements of several evaluated runs side by
 * side, grouped by what they trained (model, prior, dataset and every other saved setting but
 * the seed), with the mean, the sample standard deviation and the number of seeds of each
 * measurement, as a Markdown table (stdout) and, with --out DIR, comparison.md,
 * comparison.csv, a bar chart with error bars per measurement and the groups' isometry
 * histograms side by side (the paper's Fig. 1b).
 *
 * Runs are comparable only when eval measured them the same way: every run must carry the
 * same eval_version in metrics.json, the runs of one dataset the same number of test images,
 * and no two runs of a group the same seed; otherwise the command refuses, naming the runs.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "nn/nn_json.h"
#include "plot.h"
#include "run_dir.h"
#include "settings.h"
#include "tool.h"

#define RUNS_MAX 512
#define GROUPS_MAX 128
#define KEY_MAX 2048

/* the measurements compared, in column order: metrics.json key, column title, figure title */
static const struct {
    const char *key, *title, *long_title;
} measures[] = {
    {"test_psnr_mean", "PSNR", "test PSNR (dB)"},
    {"fd_prior", "FD gen", "Frechet distance of prior samples (project classifier)"},
    {"fd_reconstruction", "FD rec", "Frechet distance of reconstructions"},
    {"isometry_correlation", "isometry r", "isometry: correlation of d_Z and d_X"},
    {"dci_disentanglement", "DCI D", "DCI disentanglement"},
    {"dci_completeness", "DCI C", "DCI completeness"},
    {"dci_informativeness", "DCI I", "DCI informativeness"},
    {"ood_heldout_auc", "AUC held-out", "OOD AUC, held-out classes"},
    {"ood_shapes_auc", "AUC shapes", "OOD AUC, generated scenes"},
    {"gw_solver_encoded_mean", "GW(x, z)", "empirical GW between data and codes"},
    {"knn_acc_1", "1-NN", "k-NN accuracy of codes, k = 1"},
    {"knn_acc_5", "5-NN", "k-NN accuracy of codes, k = 5"},
    {"wall_time_s", "train s", "training wall time (s)"},
};
#define N_MEASURES ((int)(sizeof measures / sizeof measures[0]))

struct run {
    const char *dir;
    struct tool_settings s;
    char key[KEY_MAX];      /* every saved setting but the seed */
    double value[N_MEASURES]; /* NAN where metrics.json has none */
    char eval_version[32];
    int64_t test_images;
    int group;
};

struct group {
    char label[256];
    int n_runs, first;
    double mean[N_MEASURES], sd[N_MEASURES];
    int n[N_MEASURES];
};

struct compare_options {
    char out[TOOL_PATH_MAX];
};

static const struct gw_option compare_specs[] = {
    {"out", GW_OPT_STRING, GW_FIELD(struct compare_options, out), 1, 0, NULL, GW_OPT_LOCAL,
     "Options", "DIR", "also write comparison.md, comparison.csv and the figures into DIR", NULL},
};

static const char compare_usage[] =
    "usage: gwae compare RUN_DIR... [--out DIR]\n\n"
    "Groups evaluated runs (gwae eval) by what they trained: model, prior, dataset and every\n"
    "saved setting but the seed; prints each measurement's mean +- sample standard deviation\n"
    "over the group's seeds and the number of seeds as a Markdown table. --out DIR adds\n"
    "comparison.md, comparison.csv (one row per group and measurement), a bar chart with\n"
    "error bars per measurement (bars_<key>.png) and the groups' isometry histograms side by\n"
    "side (isometry.png). Runs measured by different versions of eval, runs of one dataset\n"
    "evaluated on different numbers of test images, and two runs of a group with the same seed\n"
    "are refused, naming them.\n";

/* the grouping key of a run: "name=value" of every FIXED row and of epochs and steps, but the
 * seed, in table order */
static void key_of(struct run *r) {
    struct settings_table room;
    const struct opt_table *t = settings_train_table(&r->s, &room);
    int used = 0;
    r->key[0] = '\0';
    for (int i = 0; i < t->n && used < KEY_MAX; i++) {
        const struct gw_option *row = &t->specs[i];
        bool budget = strcmp(row->name, "epochs") == 0 || strcmp(row->name, "steps") == 0;
        if (strcmp(row->name, "seed") == 0 || (row->cls != GW_OPT_FIXED && !budget)) continue;
        char value[TOOL_PATH_MAX];
        opt_format(row, &r->s, value, sizeof value);
        used += snprintf(r->key + used, (size_t)(KEY_MAX - used), "%s%s=%s", used ? " " : "",
                         row->name, value);
    }
}

/* reads RUN_DIR's settings and measurements into r; 0 or the exit code */
static int read_run(const char *dir, struct run *r) {
    char err[TOOL_PATH_MAX + 512], path[TOOL_PATH_MAX + 32];
    r->dir = dir;
    settings_defaults(&r->s);
    if (!settings_load_run(dir, &r->s, err, sizeof err))
        return tool_fail("compare", TOOL_EXIT_FAIL, "%s", err);
    key_of(r);
    settings_join(path, sizeof path, dir, "metrics.json");
    size_t len;
    char *text = nn_json_read_file(path, &len);
    if (!text) return tool_fail("compare", TOOL_EXIT_FAIL, "%s: no metrics.json (run gwae eval %s)",
                                dir, dir);
    struct nn_json_flat o;
    bool ok = nn_json_flat_parse(text, len, &o, err, sizeof err);
    free(text);
    const struct nn_json_pair *v = ok ? nn_json_flat_get(&o, "eval_version") : NULL;
    const struct nn_json_pair *n = ok ? nn_json_flat_get(&o, "test_images") : NULL;
    if (ok && (!v || v->type != NN_JSON_STRING)) {
        snprintf(err, sizeof err, "no eval_version: evaluate it with this gwae (gwae eval %s)", dir);
        ok = false;
    }
    if (ok) {
        snprintf(r->eval_version, sizeof r->eval_version, "%s", v->text);
        r->test_images = n && n->type == NN_JSON_NUMBER ? strtoll(n->text, NULL, 10) : -1;
        for (int m = 0; m < N_MEASURES; m++) {
            const struct nn_json_pair *p = nn_json_flat_get(&o, measures[m].key);
            r->value[m] = p && p->type == NN_JSON_NUMBER ? strtod(p->text, NULL) : NAN;
        }
    }
    nn_json_flat_free(&o);
    if (!ok) return tool_fail("compare", TOOL_EXIT_FAIL, "%s: %s", path, err);
    return 0;
}

/* refuses runs that eval did not measure alike; 0 or the exit code */
static int check_comparable(const struct run *runs, int n) {
    for (int i = 1; i < n; i++)
        if (strcmp(runs[i].eval_version, runs[0].eval_version) != 0)
            return tool_fail("compare", TOOL_EXIT_FAIL, "%s was measured by eval version %s and %s "
                             "by version %s: evaluate both with the same gwae", runs[0].dir,
                             runs[0].eval_version, runs[i].dir, runs[i].eval_version);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (strcmp(runs[i].s.dataset, runs[j].s.dataset) == 0 &&
                runs[i].test_images != runs[j].test_images)
                return tool_fail("compare", TOOL_EXIT_FAIL, "%s and %s were evaluated on %lld and "
                                 "%lld test images of %s: evaluate both alike (gwae eval --limit)",
                                 runs[i].dir, runs[j].dir, (long long)runs[i].test_images,
                                 (long long)runs[j].test_images, runs[i].s.dataset);
            if (strcmp(runs[i].key, runs[j].key) == 0 && runs[i].s.seed == runs[j].s.seed)
                return tool_fail("compare", TOOL_EXIT_FAIL, "%s and %s are the same run (same "
                                 "settings and seed %llu): give each seed once", runs[i].dir,
                                 runs[j].dir, (unsigned long long)runs[i].s.seed);
        }
    return 0;
}

/* the value of "name=value" pairs in key, "" when absent */
static void key_value(const char *key, const char *name, char *out, size_t size) {
    size_t k = strlen(name);
    out[0] = '\0';
    for (const char *p = key; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
        if (strncmp(p, name, k) == 0 && p[k] == '=') {
            snprintf(out, size, "%.*s", (int)strcspn(p + k + 1, " "), p + k + 1);
            return;
        }
}

/* "model[/prior] dataset" and every other setting whose value differs between two groups that
 * both have it */
static void label_groups(struct group *g, int n_groups, const struct run *runs) {
    for (int a = 0; a < n_groups; a++) {
        const struct run *r = &runs[g[a].first];
        const struct gw_model_entry *e = gw_model_find(r->s.model.model);
        bool default_prior = e && strcmp(e->priors[0], r->s.model.prior) == 0;
        int used = snprintf(g[a].label, sizeof g[a].label, "%s%s%s %s", r->s.model.model,
                            default_prior ? "" : "/", default_prior ? "" : r->s.model.prior,
                            r->s.dataset);
        for (const char *p = r->key; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
            char name[64], mine[256], theirs[256];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(p, "="), p);
            if (!strcmp(name, "model") || !strcmp(name, "prior") || !strcmp(name, "dataset")) continue;
            key_value(r->key, name, mine, sizeof mine);
            bool differs = false;
            for (int b = 0; b < n_groups && !differs; b++) {
                key_value(runs[g[b].first].key, name, theirs, sizeof theirs);
                differs = theirs[0] && strcmp(mine, theirs) != 0; /* a group without it: no */
            }
            if (differs && used > 0 && (size_t)used < sizeof g[a].label)
                used += snprintf(g[a].label + used, sizeof g[a].label - (size_t)used, " %s=%s",
                                 name, mine);
        }
    }
}

/* groups the runs by key and computes each group's statistics; returns the group count */
static int group_runs(struct run *runs, int n, struct group *g) {
    int n_groups = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < n_groups && strcmp(runs[g[k].first].key, runs[i].key) != 0) k++;
        if (k == n_groups) {
            TN_CHECK(n_groups < GROUPS_MAX, "compare", "more than %d groups", GROUPS_MAX);
            memset(&g[k], 0, sizeof g[k]);
            g[k].first = i;
            n_groups++;
        }
        runs[i].group = k;
        g[k].n_runs++;
    }
    for (int k = 0; k < n_groups; k++)
        for (int m = 0; m < N_MEASURES; m++) {
            double sum = 0, sq = 0;
            int c = 0;
            for (int i = 0; i < n; i++)
                if (runs[i].group == k && isfinite(runs[i].value[m])) {
                    sum += runs[i].value[m];
                    c++;
                }
            double mean = c ? sum / c : NAN;
            for (int i = 0; i < n; i++)
                if (runs[i].group == k && isfinite(runs[i].value[m]))
                    sq += (runs[i].value[m] - mean) * (runs[i].value[m] - mean);
            g[k].n[m] = c;
            g[k].mean[m] = mean;
            g[k].sd[m] = c > 1 ? sqrt(sq / (c - 1)) : NAN;
        }
    label_groups(g, n_groups, runs);
    return n_groups;
}

/* true when some group has a value of measure m */
static bool shown(const struct group *g, int n_groups, int m) {
    for (int k = 0; k < n_groups; k++)
        if (g[k].n[m] > 0) return true;
    return false;
}

/* "mean +- sd" with digits that fit the measure */
static void cell(const struct group *g, int m, char *out, size_t size) {
    if (g->n[m] == 0) snprintf(out, size, "-");
    else if (isfinite(g->sd[m])) snprintf(out, size, "%.4g +- %.2g", g->mean[m], g->sd[m]);
    else snprintf(out, size, "%.4g", g->mean[m]);
}

/* the Markdown table into f */
static void write_markdown(FILE *f, const struct group *g, int n_groups) {
    fprintf(f, "| group | seeds |");
    for (int m = 0; m < N_MEASURES; m++)
        if (shown(g, n_groups, m)) fprintf(f, " %s |", measures[m].title);
    fprintf(f, "\n| --- | --- |");
    for (int m = 0; m < N_MEASURES; m++)
        if (shown(g, n_groups, m)) fprintf(f, " --- |");
    fprintf(f, "\n");
    for (int k = 0; k < n_groups; k++) {
        fprintf(f, "| %s | %d |", g[k].label, g[k].n_runs);
        for (int m = 0; m < N_MEASURES; m++) {
            if (!shown(g, n_groups, m)) continue;
            char c[64];
            cell(&g[k], m, c, sizeof c);
            fprintf(f, " %s |", c);
        }
        fprintf(f, "\n");
    }
}

/* comparison.csv: one row per group and measurement */
static void write_csv(FILE *f, const struct group *g, int n_groups) {
    fprintf(f, "group,seeds,measure,n,mean,sd\n");
    for (int k = 0; k < n_groups; k++)
        for (int m = 0; m < N_MEASURES; m++)
            if (g[k].n[m] > 0)
                fprintf(f, "\"%s\",%d,%s,%d,%.9g,%.9g\n", g[k].label, g[k].n_runs,
                        measures[m].key, g[k].n[m], g[k].mean[m], g[k].sd[m]);
}

/* the text files and figures into out; false with err */
static bool write_outputs(const char *out, const struct group *g, int n_groups,
                          const struct run *runs, char *err, size_t size) {
    bool created;
    if (!run_dir_writable(out, err, size) && !run_dir_prepare_new(out, &created, err, size))
        return false;
    char path[TOOL_PATH_MAX + 64];
    const char *names[] = {"comparison.md", "comparison.csv"};
    for (int i = 0; i < 2; i++) {
        settings_join(path, sizeof path, out, names[i]);
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f) {
            snprintf(err, size, "out of memory");
            return false;
        }
        if (i == 0) write_markdown(f, g, n_groups);
        else write_csv(f, g, n_groups);
        fclose(f);
        bool ok = run_dir_write_text(out, names[i], text, err, size);
        free(text);
        if (!ok) return false;
    }
    const char *labels[GROUPS_MAX];
    double mean[GROUPS_MAX], sd[GROUPS_MAX];
    for (int m = 0; m < N_MEASURES; m++) {
        if (!shown(g, n_groups, m)) continue;
        for (int k = 0; k < n_groups; k++) {
            labels[k] = g[k].label;
            mean[k] = g[k].mean[m];
            sd[k] = g[k].sd[m];
        }
        char file[96];
        snprintf(file, sizeof file, "bars_%s.png", measures[m].key);
        settings_join(path, sizeof path, out, file);
        struct plot_labels l = {.title = measures[m].long_title, .y_label = "mean +- sd over seeds",
                                .width = 120 + 48 * n_groups < 480 ? 480 : 120 + 48 * n_groups,
                                .height = 520};
        if (plot_bars(path, &l, labels, mean, sd, n_groups) != TN_OK) {
            snprintf(err, size, "%s", tn_last_error());
            return false;
        }
    }
    /* the isometry histogram of each group's first run that has one */
    const char *images[GROUPS_MAX];
    char image_paths[GROUPS_MAX][TOOL_PATH_MAX + 32];
    int n_images = 0;
    for (int k = 0; k < n_groups; k++)
        if (run_dir_has(runs[g[k].first].dir, "isometry.png")) {
            settings_join(image_paths[n_images], sizeof image_paths[n_images],
                          runs[g[k].first].dir, "isometry.png");
            images[n_images] = image_paths[n_images];
            labels[n_images++] = g[k].label;
        }
    if (n_images > 0) {
        settings_join(path, sizeof path, out, "isometry.png");
        if (plot_tiles(path, images, labels, n_images, 4) != TN_OK) {
            snprintf(err, size, "%s", tn_last_error());
            return false;
        }
    }
    return true;
}

int cmd_compare(int argc, char **argv) {
    struct compare_options o = {{0}};
    struct opt_table t = {compare_specs, 1, NULL};
    /* options first; every other argument is a run directory */
    char *opt_argv[8];
    const char *dirs[RUNS_MAX];
    int n_opt = 0, n_dirs = 0;
    for (int a = 0; a < argc; a++) {
        bool option = argv[a][0] == '-';
        if (option && n_opt < 7) {
            opt_argv[n_opt++] = argv[a];
            if (strcmp(argv[a], "--out") == 0 && a + 1 < argc && n_opt < 8) opt_argv[n_opt++] = argv[++a];
        } else if (!option && n_dirs < RUNS_MAX) {
            dirs[n_dirs++] = argv[a];
        } else {
            return tool_fail("compare", TOOL_EXIT_USAGE, "too many arguments (at most %d runs)",
                             RUNS_MAX);
        }
    }
    struct opt_result r;
    int rc = opt_parse("compare", &t, &o, n_opt, opt_argv, 0, &r);
    if (rc) return rc;
    if (r.help) {
        printf("%s", compare_usage);
        opt_print_help(&t, &o);
        return 0;
    }
    if (n_dirs == 0) return tool_fail("compare", TOOL_EXIT_USAGE, "RUN_DIR... is required (see gwae "
                                      "compare --help)");
    struct run *runs = calloc((size_t)n_dirs, sizeof *runs);
    struct group *g = calloc(GROUPS_MAX, sizeof *g);
    TN_CHECK(runs && g, "compare", "out of host memory");
    for (int i = 0; i < n_dirs && !rc; i++) rc = read_run(dirs[i], &runs[i]);
    if (!rc) rc = check_comparable(runs, n_dirs);
    if (!rc) {
        int n_groups = group_runs(runs, n_dirs, g);
        char err[TOOL_PATH_MAX + 512];
        if (o.out[0] && !write_outputs(o.out, g, n_groups, runs, err, sizeof err))
            rc = tool_fail("compare", TOOL_EXIT_FAIL, "%s", err);
        else
            write_markdown(stdout, g, n_groups);
    }
    free(runs);
    free(g);
    return rc;
}
