/* cmd_bench.c - `gwae bench`: milliseconds per training iteration of the paper's
 * configuration (64x64x3, batch 64, L = 16, neural prior, full width) and of the small default
 * (32x32, width 0.25), on a random batch.
 *
 * Each configuration: one warm-up iteration, then the median of --iters timed gw_train_step
 * calls (one main step and n_critic critic steps); then, as many iterations again, the main
 * step and the critic steps timed apart. model.h has no call for half an iteration, so the
 * split timing repeats gw_train_step's body (models/gwae_loss.c) with a clock read between the halves
 * (split_step below must follow gw_train_step when that changes). The thread count printed
 * is OpenMP's (omp_get_max_threads) after --threads. With --device cuda the model is built
 * on the CPU with the same draws, then moved to GPU 0, and every clock read waits for the
 * GPU's queued work.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "settings.h"
#include "tensor/tn_cuda.h"
#include "tool.h"

struct bench_options {
    char config[16]; /* paper, small or all */
    char device[16]; /* cpu or cuda */
    int iters, threads;
    bool json;
    uint64_t seed;
};

#define B(field) offsetof(struct bench_options, field), sizeof(((struct bench_options *)0)->field)

static const char *const configs[] = {"paper", "small", "all", NULL};
static const char *const devices[] = {"cpu", "cuda", NULL};

static const struct opt_spec bench_specs[] = {
    {"config", OPT_STRING, B(config), 1, 0, configs, OPT_LOCAL, "Options", "NAME",
     "paper (64x64, batch 64, L 16, np, width 1), small (the train default) or all"},
    {"iters", OPT_INT, B(iters), 1, 10000, NULL, OPT_LOCAL, "Options", "N", "timed iterations"},
    {"device", OPT_STRING, B(device), 1, 0, devices, OPT_LOCAL, "Options", "NAME",
     "cpu, or cuda (GPU 0; needs a CUDA build and a device)"},
    {"threads", OPT_INT, B(threads), 0, 1024, NULL, OPT_LOCAL, "Options", "N",
     "OpenMP threads (0: OMP_NUM_THREADS or all cores)"},
    {"json", OPT_BOOL, B(json), 0, 0, NULL, OPT_LOCAL, "Options", NULL,
     "one JSON object per line instead of a table"},
    {"seed", OPT_U64, B(seed), 0, 0, NULL, OPT_LOCAL, "Options", "S", "seeds weights and data"},
};

static const struct opt_table bench_table = {bench_specs,
                                             (int)(sizeof bench_specs / sizeof bench_specs[0])};

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
    struct tn_device d = gw_model_device(m);
    if (d.type == TN_DEVICE_CUDA && tn_cuda_synchronize(d.index) != TN_OK)
        TN_FATAL("bench", "%s", tn_last_error());
    return tool_now();
}

/* gw_train_step (models/gwae_loss.c) with the clock read after the main step */
static void split_step(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng, double *main_s,
                       double *critic_s) {
    struct gw_losses t;
    double t0 = now_after(m);
    gw_main_step(m, x, rng, &t);
    double t1 = now_after(m);
    gw_critic_steps(m, x, rng, &t);
    *main_s = t1 - t0;
    *critic_s = now_after(m) - t1;
}

/* times one configuration and prints its line */
static int bench_one(const char *name, const struct gw_config *cfg, const struct bench_options *o,
                     int threads) {
    struct tn_rng rng = tn_rng_new(o->seed);
    struct gw_model *m;
    if (gw_model_new(cfg, &rng, &m) != TN_OK) return tool_fail("bench", TOOL_EXIT_FAIL, "%s", tn_last_error());
    char err[512];
    if (!settings_place_model(o->device, m, err, sizeof err)) {
        gw_model_free(m);
        return tool_fail("bench", TOOL_EXIT_FAIL, "%s", err);
    }
    double *whole = malloc((size_t)o->iters * 3 * sizeof *whole), *mains = whole + o->iters,
           *critics = whole + 2 * o->iters;
    TN_CHECK(whole, "bench", "out of host memory");
    tn_scope_begin();
    int64_t shape[4] = {cfg->batch, cfg->channels, cfg->image_size, cfg->image_size};
    struct tn_tensor *x = tn_to_device(tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.0f, 1.0f),
                                       gw_model_device(m));
    struct gw_losses t;
    gw_train_step(m, x, &rng, &t); /* warm-up: allocator cache, lazily made optimizer state */
    for (int i = 0; i < o->iters; i++) {
        double t0 = now_after(m);
        gw_train_step(m, x, &rng, &t);
        whole[i] = now_after(m) - t0;
    }
    for (int i = 0; i < o->iters; i++) split_step(m, x, &rng, &mains[i], &critics[i]);
    tn_scope_end();
    double ms_iter = 1e3 * median(whole, o->iters), ms_main = 1e3 * median(mains, o->iters),
           ms_critic = 1e3 * median(critics, o->iters);
    if (o->json) {
        struct json_writer w;
        json_begin(&w, false);
        json_string(&w, "config", name);
        json_string(&w, "device", o->device);
        json_int(&w, "image_size", cfg->image_size);
        json_int(&w, "batch", cfg->batch);
        json_int(&w, "latent", cfg->latent);
        json_string(&w, "prior", cfg->prior);
        json_number(&w, "width", cfg->width);
        json_int(&w, "n_critic", cfg->n_critic);
        json_int(&w, "threads", threads);
        json_int(&w, "iters", o->iters);
        json_number(&w, "ms_per_iter_median", ms_iter);
        json_number(&w, "ms_main_step", ms_main);
        json_number(&w, "ms_critic_steps", ms_critic);
        char *line = json_end(&w);
        if (line) fputs(line, stdout);
        free(line);
    } else {
        printf("%-6s %6s %5d %6d %6lld %6s %6.3g %8d %14.1f %10.1f %12.1f\n", name, o->device,
               cfg->image_size, cfg->batch, (long long)cfg->latent, cfg->prior, cfg->width, threads,
               ms_iter, ms_main, ms_critic);
    }
    fflush(stdout);
    free(whole);
    gw_model_free(m);
    return 0;
}

int cmd_bench(int argc, char **argv) {
    struct bench_options o = {.iters = 5, .seed = 1};
    snprintf(o.config, sizeof o.config, "all");
    snprintf(o.device, sizeof o.device, "cpu");
    struct bench_options defaults = o;
    struct opt_result r;
    int rc = opt_parse("bench", &bench_table, &o, argc, argv, 0, &r);
    if (rc) return rc;
    if (r.help) {
        printf("usage: gwae bench [--config paper|small|all] [--device cpu|cuda] [--iters N]\n"
               "                  [--threads N] [--json]\n\n"
               "Median milliseconds per training iteration (one main step and the critic steps)\n"
               "and per main step and per set of critic steps, on a random batch, after one\n"
               "warm-up iteration, for the paper's configuration and the small default.\n"
               "On cuda the clock is read after the GPU has finished the work queued.\n"
               "--json prints one object per line with the fields config, device, image_size,\n"
               "batch, latent, prior, width, n_critic, threads, iters, ms_per_iter_median,\n"
               "ms_main_step, ms_critic_steps.\n");
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
    struct gw_config paper = gw_config_defaults(), small = s.cfg;
    paper.image_size = 64;
    paper.batch = 64;
    paper.latent = 16;
    paper.width = 1.0f;
    if (!o.json)
        printf("config device  size  batch latent  prior  width  threads  ms/iter(med)  ms main  "
               "ms critic\n");
    tn_scope_begin();
    if (strcmp(o.config, "small") != 0) rc = bench_one("paper", &paper, &o, threads);
    if (!rc && strcmp(o.config, "paper") != 0) rc = bench_one("small", &small, &o, threads);
    tn_scope_end();
    return rc;
}
