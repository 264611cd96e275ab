/* cmd_bench.c - `gwae bench`: milliseconds per training iteration of a model (--model, or
 * every model with --model all) in the paper's configuration (64x64x3, batch 64, L = 16, the
 * model's official options, full width) and in the small default (32x32, width 0.25, the
 * model's small changes), on a random batch.
 *
 * Each configuration: one warm-up iteration, then the median of --iters timed
 * gw_model_train_step calls (the main step and the adversary's steps); then, as many
 * iterations again, the main step and the adversary's steps timed apart (gw_model_main_step
 * and gw_model_adversary_steps, the two halves of gw_model_train_step). The thread count
 * printed is OpenMP's (omp_get_max_threads) after --threads. With --device cuda the model is
 * built on the CPU with the same draws, then moved to GPU 0, and every clock read waits for
 * the GPU's queued work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_json.h"
#include "settings.h"
#include "tensor/tn_cuda.h"
#include "tool.h"

struct bench_options {
    char model[32];  /* a registry name or all */
    char config[16]; /* paper, small or all */
    char device[16]; /* cpu or cuda */
    int iters, threads;
    bool json;
    uint64_t seed;
};

#define B(field) offsetof(struct bench_options, field), sizeof(((struct bench_options *)0)->field)

static const char *const configs[] = {"paper", "small", "all", NULL};
static const char *const devices[] = {"cpu", "cuda", NULL};

static const struct gw_option bench_specs[] = {
    {"model", GW_OPT_STRING, B(model), 1, 0, NULL, GW_OPT_LOCAL, "Options", "NAME",
     "the model (gwae models lists them), or all", NULL},
    {"config", GW_OPT_STRING, B(config), 1, 0, configs, GW_OPT_LOCAL, "Options", "NAME",
     "paper (64x64, batch 64, L 16, width 1, official options), small (the train default) "
     "or all", NULL},
    {"iters", GW_OPT_INT, B(iters), 1, 10000, NULL, GW_OPT_LOCAL, "Options", "N", "timed iterations", NULL},
    {"device", GW_OPT_STRING, B(device), 1, 0, devices, GW_OPT_LOCAL, "Options", "NAME",
     "cpu, or cuda (GPU 0; needs a CUDA build and a device)", NULL},
    {"threads", GW_OPT_INT, B(threads), 0, 1024, NULL, GW_OPT_LOCAL, "Options", "N",
     "OpenMP threads (0: OMP_NUM_THREADS or all cores)", NULL},
    {"json", GW_OPT_BOOL, B(json), 0, 0, NULL, GW_OPT_LOCAL, "Options", NULL,
     "one JSON object per line instead of a table", NULL},
    {"seed", GW_OPT_U64, B(seed), 0, 0, NULL, GW_OPT_LOCAL, "Options", "S", "seeds weights and data", NULL},
};

static const struct opt_table bench_table = {
    bench_specs, (int)(sizeof bench_specs / sizeof bench_specs[0]), NULL};

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, compare);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The clock after the model's device has finished its queued work (a GPU runs behind the
 * host; the CPU has nothing queued). */
static double now_after(const struct gw_model *m) {
    struct tn_device d = m->device;
    if (d.type == TN_DEVICE_CUDA && tn_cuda_synchronize(d.index) != TN_OK)
        TN_FATAL("bench", "%s", tn_last_error());
    return tool_now();
}

/* gw_model_train_step with the clock read after the main step */
static void split_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                       struct gw_terms *t, double *main_s, double *adversary_s) {
    double t0 = now_after(m);
    gw_model_main_step(m, x, rng, t);
    double t1 = now_after(m);
    gw_model_adversary_steps(m, x, rng, t);
    *main_s = t1 - t0;
    *adversary_s = now_after(m) - t1;
}

/* times one configuration of s's model and prints its line */
static int bench_one(const char *name, const struct tool_settings *s, const struct bench_options *o,
                     int threads) {
    const struct gw_common *cfg = &s->model;
    struct tn_rng rng = tn_rng_new(o->seed);
    struct gw_model *m;
    if (gw_model_new(cfg, s->model_options, s->prior_options, &rng, &m) != TN_OK)
        return tool_fail("bench", TOOL_EXIT_FAIL, "%s", tn_last_error());
    char err[512];
    if (!settings_place_model(o->device, m, err, sizeof err)) {
        gw_model_free(m);
        return tool_fail("bench", TOOL_EXIT_FAIL, "%s", err);
    }
    double *whole = malloc((size_t)o->iters * 3 * sizeof *whole), *mains = whole + o->iters,
           *adversaries = whole + 2 * o->iters;
    TN_CHECK(whole, "bench", "out of host memory");
    struct gw_terms t;
    gw_model_terms(m, &t);
    tn_scope_begin();
    int64_t shape[4] = {cfg->batch, cfg->channels, cfg->image_size, cfg->image_size};
    struct tn_tensor *x = tn_to_device(tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.0f, 1.0f),
                                       m->device);
    gw_model_train_step(m, x, &rng, &t); /* warm-up: allocator cache, lazily made optimizer state */
    for (int i = 0; i < o->iters; i++) {
        double t0 = now_after(m);
        gw_model_train_step(m, x, &rng, &t);
        whole[i] = now_after(m) - t0;
    }
    for (int i = 0; i < o->iters; i++) split_step(m, x, &rng, &t, &mains[i], &adversaries[i]);
    tn_scope_end();
    gw_terms_free(&t);
    double ms_iter = 1e3 * median(whole, o->iters), ms_main = 1e3 * median(mains, o->iters),
           ms_adversary = 1e3 * median(adversaries, o->iters);
    if (o->json) {
        struct nn_json_writer w;
        nn_json_begin(&w, false);
        nn_json_put_string(&w, "model", cfg->model);
        nn_json_put_string(&w, "config", name);
        nn_json_put_string(&w, "device", o->device);
        nn_json_put_int(&w, "image_size", cfg->image_size);
        nn_json_put_int(&w, "batch", cfg->batch);
        nn_json_put_int(&w, "latent", cfg->latent);
        nn_json_put_string(&w, "prior", cfg->prior);
        nn_json_put_number(&w, "width", cfg->width);
        nn_json_put_int(&w, "threads", threads);
        nn_json_put_int(&w, "iters", o->iters);
        nn_json_put_number(&w, "ms_per_iter_median", ms_iter);
        nn_json_put_number(&w, "ms_main_step", ms_main);
        nn_json_put_number(&w, "ms_adversary_steps", ms_adversary);
        char *line = nn_json_end(&w);
        if (line) fputs(line, stdout);
        free(line);
    } else {
        printf("%-11s %-6s %6s %5d %6d %6lld %-8s %6.3g %8d %14.1f %10.1f %12.1f\n", cfg->model,
               name, o->device, cfg->image_size, cfg->batch, (long long)cfg->latent, cfg->prior,
               cfg->width, threads, ms_iter, ms_main, ms_adversary);
    }
    fflush(stdout);
    free(whole);
    gw_model_free(m);
    return 0;
}

/* the paper's and the small configuration of the model called name: 0 or the exit code */
static int bench_model(const char *name, const struct bench_options *o, int threads) {
    struct tool_settings small, paper;
    settings_defaults(&small);
    char err[512];
    if (!settings_select(&small, name, NULL, true, err, sizeof err))
        return tool_fail("bench", TOOL_EXIT_USAGE, "%s", err);
    paper = small;
    paper.model = gw_common_defaults();
    if (!settings_select(&paper, name, NULL, false, err, sizeof err))
        return tool_fail("bench", TOOL_EXIT_USAGE, "%s", err);
    int rc = 0;
    if (strcmp(o->config, "small") != 0) rc = bench_one("paper", &paper, o, threads);
    if (!rc && strcmp(o->config, "paper") != 0) rc = bench_one("small", &small, o, threads);
    return rc;
}

int cmd_bench(int argc, char **argv) {
    struct bench_options o = {.iters = 5, .seed = 1};
    snprintf(o.model, sizeof o.model, "gwae");
    snprintf(o.config, sizeof o.config, "all");
    snprintf(o.device, sizeof o.device, "cpu");
    struct bench_options defaults = o;
    struct opt_result r;
    int rc = opt_parse("bench", &bench_table, &o, argc, argv, 0, &r);
    if (rc) return rc;
    if (r.help) {
        printf("usage: gwae bench [--model NAME|all] [--config paper|small|all]\n"
               "                  [--device cpu|cuda] [--iters N] [--threads N] [--json]\n\n"
               "Median milliseconds per training iteration (the main step and the adversary's\n"
               "steps: GWAE's critic, FactorVAE's discriminator) and per main step and per set of\n"
               "adversary steps, on a random batch, after one warm-up iteration, for the paper's\n"
               "configuration and the small default. On cuda the clock is read after the GPU has\n"
               "finished the work queued. --json prints one object per line with the fields\n"
               "model, config, device, image_size, batch, latent, prior, width, threads, iters,\n"
               "ms_per_iter_median, ms_main_step, ms_adversary_steps.\n");
        opt_print_help(&bench_table, &defaults);
        return 0;
    }
    char err[512];
    struct tn_device device;
    if (!settings_device(o.device, &device, err, sizeof err))
        return tool_fail("bench", TOOL_EXIT_USAGE, "%s", err);
    struct tool_settings s;
    settings_defaults(&s);
    s.threads = o.threads;
    int threads = settings_apply_threads(&s);
    if (strcmp(o.model, "all") != 0 && !gw_model_find(o.model))
        return tool_fail("bench", TOOL_EXIT_USAGE, "--model: unknown model '%s' (gwae models "
                         "lists them)", o.model);
    if (!o.json)
        printf("model       config device  size  batch latent prior     width  threads  "
               "ms/iter(med)  ms main  ms adversary\n");
    tn_scope_begin();
    for (const struct gw_model_entry *const *e = gw_models; *e && !rc; e++)
        if (strcmp(o.model, "all") == 0 || strcmp(o.model, (*e)->name) == 0)
            rc = bench_model((*e)->name, &o, threads);
    tn_scope_end();
    return rc;
}
