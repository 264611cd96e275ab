/* session.c - loading data, building models and opening run directories for the commands.
 *
 * A run's model is rebuilt from its config.json with the run's seed (the initial draws are
 * then overwritten by the checkpoint), and the checkpoint's fingerprint must match the model
 * that config.json describes, so an edited config.json or a checkpoint copied from another
 * run is refused before any tensor is written.
 */
#include "session.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_dir.h"
#include "tool.h"

#define U(field) offsetof(struct use_options, field), sizeof(((struct use_options *)0)->field)

static const char *const splits[] = {"train", "valid", "test", NULL};
static const char *const use_devices[] = {"cpu", "cuda", NULL};

static const struct gw_option use_specs[] = {
    {"checkpoint", GW_OPT_STRING, U(checkpoint), 1, 0, NULL, GW_OPT_LOCAL, "Options", "WHICH",
     "best, last, or a checkpoint file of this run's configuration", NULL},
    {"data", GW_OPT_STRING, U(data), 1, 0, NULL, GW_OPT_LOCAL, "Options", "PATH",
     "the dataset's folder, when it moved since training", NULL},
    {"out", GW_OPT_STRING, U(out), 1, 0, NULL, GW_OPT_LOCAL, "Options", "FILE", "the file to write", NULL},
    {"split", GW_OPT_STRING, U(split), 1, 0, splits, GW_OPT_LOCAL, "Options", "NAME",
     "train, valid or test", NULL},
    {"n", GW_OPT_I64, U(n), 1, 4096, NULL, GW_OPT_LOCAL, "Options", "N", "number of images", NULL},
    {"limit", GW_OPT_I64, U(limit), 0, 1e12, NULL, GW_OPT_LOCAL, "Options", "N",
     "use the first N images of the split (0: all)", NULL},
    {"cols", GW_OPT_INT, U(cols), 0, 4096, NULL, GW_OPT_LOCAL, "Options", "C",
     "columns of the grid (0: a square grid)", NULL},
    {"threads", GW_OPT_INT, U(threads), 0, 1024, NULL, GW_OPT_LOCAL, "Options", "N",
     "OpenMP threads (0: OMP_NUM_THREADS or all cores)", NULL},
    {"device", GW_OPT_STRING, U(device), 1, 0, use_devices, GW_OPT_LOCAL, "Options", "NAME",
     "cpu, or cuda (GPU 0; needs a CUDA build and a device); default: the run's", NULL},
    {"max-data-memory", GW_OPT_DOUBLE, U(max_data_gib), 0, 1e6, NULL, GW_OPT_LOCAL, "Options",
     "GIB", "host memory the dataset may take before it is loaded (0: 8 GiB)", NULL},
    {"seed", GW_OPT_U64, U(seed), 0, 0, NULL, GW_OPT_LOCAL, "Options", "S", "seeds the draws", NULL},
};

void use_defaults(struct use_options *o) {
    memset(o, 0, sizeof *o);
    snprintf(o->checkpoint, sizeof o->checkpoint, "best");
    snprintf(o->split, sizeof o->split, "test");
    o->seed = 1;
}

void use_table(const char *const *names, struct gw_option *specs, struct opt_table *t) {
    t->specs = specs;
    t->n = 0;
    t->unknown_hint = NULL;
    for (const char *const *name = names; *name; name++)
        for (size_t i = 0; i < sizeof use_specs / sizeof use_specs[0]; i++)
            if (strcmp(use_specs[i].name, *name) == 0) specs[t->n++] = use_specs[i];
}

int use_parse(const char *cmd, const char *usage_text, const char *const *names, int argc,
              char **argv, struct use_options *o, const char **dir) {
    return use_parse_extra(cmd, usage_text, names, NULL, 0, argc, argv, o, sizeof *o, dir);
}

int use_parse_extra(const char *cmd, const char *usage_text, const char *const *names,
                    const struct gw_option *extra, int n_extra, int argc, char **argv, void *o,
                    size_t o_size, const char **dir) {
    enum { N_USE = sizeof use_specs / sizeof use_specs[0] };
    TN_CHECK(n_extra >= 0 && n_extra <= USE_EXTRA_MAX, "use_parse_extra", "%d extra options "
             "(at most %d)", n_extra, USE_EXTRA_MAX);
    struct gw_option specs[N_USE + USE_EXTRA_MAX];
    struct opt_table t;
    use_table(names, specs, &t);
    for (int i = 0; i < n_extra; i++) specs[t.n++] = extra[i];
    struct opt_result r;
    void *defaults = malloc(o_size); /* --help shows the values before the parse */
    TN_CHECK(defaults, "use_parse", "out of host memory");
    memcpy(defaults, o, o_size);
    int rc = opt_parse(cmd, &t, o, argc, argv, 1, &r);
    if (!rc && r.help) {
        printf("%s", usage_text);
        opt_print_help(&t, defaults);
        rc = -1;
    }
    free(defaults);
    if (rc) return rc;
    if (r.n_positional != 1)
        return tool_fail(cmd, TOOL_EXIT_USAGE, "RUN_DIR is required (see gwae %s --help)", cmd);
    *dir = r.positional[0];
    return 0;
}

int session_load_data(const char *cmd, const struct tool_settings *s, struct gw_splits *out) {
    struct gw_data_options o = settings_data_options(s);
    memset(out, 0, sizeof *out);
    if (gw_data_load(&o, out) != TN_OK) return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
    if (out->train.count < 2 || out->valid.count < 2 || out->test.count < 1) {
        int rc = tool_fail(cmd, TOOL_EXIT_FAIL, "dataset %s (%s) is too small: %lld training, %lld "
                           "validation and %lld test images (need 2, 2 and 1)", s->dataset, s->data,
                           (long long)out->train.count, (long long)out->valid.count,
                           (long long)out->test.count);
        gw_splits_free(out);
        return rc;
    }
    return 0;
}

int session_build_model(const char *cmd, const struct tool_settings *s, struct tn_rng *rng,
                        struct gw_model **out) {
    if (gw_model_new(&s->model, s->model_options, s->prior_options, rng, out) != TN_OK)
        return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
    char err[512];
    if (!settings_place_model(s->device, *out, err, sizeof err)) {
        gw_model_free(*out);
        *out = NULL;
        return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", err);
    }
    return 0;
}

/* the checkpoint file opts asks for, into ses */
static void choose_checkpoint(const char *cmd, const struct use_options *opts, struct session *ses) {
    const char *want = opts->checkpoint[0] ? opts->checkpoint : "best";
    if (strcmp(want, "best") == 0 || strcmp(want, "last") == 0) {
        char name[64];
        snprintf(name, sizeof name, "checkpoint_%s.safetensors", want[0] == 'b' ? "best" : "last");
        if (strcmp(want, "best") == 0 && !run_dir_has(ses->dir, name) &&
            run_dir_has(ses->dir, "checkpoint_last.safetensors")) {
            fprintf(stderr, "gwae %s: %s has no checkpoint_best yet; using checkpoint_last\n", cmd,
                    ses->dir);
            want = "last";
            snprintf(name, sizeof name, "checkpoint_last.safetensors");
        }
        settings_join(ses->checkpoint, sizeof ses->checkpoint, ses->dir, name);
        ses->checkpoint_name = strcmp(want, "best") == 0 ? "best" : "last";
    } else {
        snprintf(ses->checkpoint, sizeof ses->checkpoint, "%s", want);
        ses->checkpoint_name = opts->checkpoint;
    }
}

int session_open(const char *cmd, const char *dir, const struct use_options *opts, bool need_data,
                 struct session *ses) {
    memset(ses, 0, sizeof *ses);
    if (strlen(dir) >= sizeof ses->dir) return tool_fail(cmd, TOOL_EXIT_USAGE, "%s: path too long", dir);
    snprintf(ses->dir, sizeof ses->dir, "%s", dir);
    char err[TOOL_PATH_MAX + 512];
    settings_defaults(&ses->s);
    if (!settings_load_run(dir, &ses->s, err, sizeof err)) return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", err);
    if (opts->data[0]) snprintf(ses->s.data, sizeof ses->s.data, "%s", opts->data);
    ses->s.max_data_gib = opts->max_data_gib;
    if (opts->device[0]) snprintf(ses->s.device, sizeof ses->s.device, "%s", opts->device);
    struct tn_device device;
    if (!settings_device(ses->s.device, &device, err, sizeof err))
        return tool_fail(cmd, TOOL_EXIT_USAGE, "%s", err);
    ses->s.threads = opts->threads;
    settings_apply_threads(&ses->s);
    choose_checkpoint(cmd, opts, ses);
    int rc;
    if (need_data) {
        if ((rc = session_load_data(cmd, &ses->s, &ses->data))) return rc;
        ses->has_data = true;
        ses->s.model.train_size = ses->data.train.count;
    }
    struct tn_rng rng = tn_rng_new(ses->s.seed);
    if ((rc = session_build_model(cmd, &ses->s, &rng, &ses->model))) {
        session_close(ses);
        return rc;
    }
    struct nn_ckpt *c = run_ckpt_model(&ses->s, ses->model);
    enum tn_status status = run_ckpt_load(c, &ses->s, NULL, ses->checkpoint);
    nn_ckpt_free(c);
    char bad[256];
    if (status == TN_OK && nn_module_find_nonfinite(&ses->model->base, "", bad, sizeof bad))
        status = tn_error(TN_ERR_INVALID, "%s: %s holds a non-finite value: this model cannot be "
                          "used (take another checkpoint, or train again)", ses->checkpoint, bad);
    if (status != TN_OK) {
        rc = tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
        session_close(ses);
        return rc;
    }
    return 0;
}

void session_close(struct session *ses) {
    gw_model_free(ses->model);
    ses->model = NULL;
    if (ses->has_data) gw_splits_free(&ses->data);
    ses->has_data = false;
}

const struct gw_dataset *session_split(struct session *ses, const char *name) {
    if (strcmp(name, "train") == 0) return &ses->data.train;
    if (strcmp(name, "valid") == 0) return &ses->data.valid;
    return &ses->data.test;
}
