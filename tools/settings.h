/* settings.h - everything a gwae command can be told, the option table of `gwae train`, and
 * the run's config.json (the resolved settings of a training run).
 *
 * One struct tool_settings holds the shared model settings (struct gw_common, with the names
 * of the model and the prior), the chosen model's and prior's own options (copies of their
 * option structs, filled through the rows their registry entries declare), the data source,
 * how long to train and the runtime choices. The train table is assembled from the tool's own
 * rows, the shared model rows and the chosen model's and prior's rows, so --help, the parser,
 * config.json and the checkpoint fingerprint all come from the registries; config.json holds
 * the FIXED and RUN rows of that table, so a resumed run, an eval or a sample rebuilds exactly
 * the model and data the run trained on.
 * Not here: the run directory's files other than config.json (run_dir.h).
 */
#ifndef TOOL_SETTINGS_H
#define TOOL_SETTINGS_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"
#include "options.h"

#define TOOL_PATH_MAX 4096

struct tool_settings {
    struct gw_common model;    /* model and prior names, shared model settings */
    _Alignas(max_align_t) unsigned char model_options[GW_OPTIONS_MAX]; /* the model's own */
    _Alignas(max_align_t) unsigned char prior_options[GW_OPTIONS_MAX]; /* the prior's own */
    char dataset[32];          /* fashion-mnist, shapes or folder */
    char data[TOOL_PATH_MAX];  /* folder of the dataset's files */
    int64_t limit;             /* training images used (0: all) */
    int64_t shapes_count;      /* scenes generated for the shapes dataset */
    double valid_fraction, test_fraction;
    char holdout[64];          /* held-out classes, "5,7,9" ("" for none; fashion-mnist) */
    uint64_t seed;
    int epochs;                /* at most this many epochs */
    int64_t steps;             /* at most this many training iterations (0: no cap) */
    int patience;              /* early stopping after this many epochs without a new best (0: off) */
    int log_every;             /* steps between log.jsonl lines and plain progress lines */
    int64_t checkpoint_every;  /* steps between checkpoint_last saves besides epoch ends (0: none) */
    int64_t eval_limit;        /* test images for the end-of-training metrics (0: all) */
    char device[16];           /* cpu, or cuda (device 0) when one can be used */
    int threads;               /* OpenMP threads (0: the OpenMP default) */
    double max_data_gib;       /* host memory one dataset may take, in GiB (0: the default) */
    char out[TOOL_PATH_MAX];   /* train: the new run directory */
    char resume[TOOL_PATH_MAX];/* train: the run directory to continue */
};

/* The defaults of `gwae train`: the small GWAE run on Fashion-MNIST that takes minutes on
 * 2 cores (settings_select's small changes for the model). */
void settings_defaults(struct tool_settings *s);

/* Chooses the model and prior (prior NULL or "": the model's default prior) with their
 * defaults: the official values with the small default's changes (the entry's small list) when
 * small is true. false with the reason in err (an unknown model or prior, or a prior the model
 * does not take). */
bool settings_select(struct tool_settings *s, const char *model, const char *prior, bool small,
                     char *err, size_t size);

#define SETTINGS_ROWS_MAX 128

/* Room for a train table (the rows are copies with offsets into struct tool_settings). */
struct settings_table {
    struct gw_option rows[SETTINGS_ROWS_MAX];
    struct opt_table table;
};

/* The option table of `gwae train` for s's model and prior, built in *room: data, model,
 * optimisation, the model's and the prior's own rows, run, run directory, runtime. */
const struct opt_table *settings_train_table(const struct tool_settings *s,
                                             struct settings_table *room);

/* Checks what the tables cannot: the device exists, the held-out classes fit the data, the
 * model's settings pass gw_common_check. false with the one-line reason in err. */
bool settings_check(const struct tool_settings *s, char *err, size_t size);

/* The device --device NAME names: "cpu", or "cuda" (CUDA device 0). false with a one-line
 * reason in err ("--device cuda: no CUDA device: ...") when the build has no CUDA backend or
 * no device can be used at run time. */
bool settings_device(const char *name, struct tn_device *out, char *err, size_t size);

/* Moves a freshly built model to the device --device NAME names (nothing for "cpu");
 * false with the one-line reason in err. */
bool settings_place_model(const char *name, struct gw_model *m, char *err, size_t size);

/* Applies --threads (when set) and returns the thread count in use. */
int settings_apply_threads(const struct tool_settings *s);

/* The classes of a --holdout-classes list ("5,7,9": distinct labels 0..9, at most 8 of them,
 * "" for none) as a bit mask; false with the reason in err. */
bool settings_holdout_mask(const char *list, uint32_t *mask, char *err, size_t size);

/* The data loader options of s (pointing into s). */
struct gw_data_options settings_data_options(const struct tool_settings *s);

/* config.json text: every FIXED and RUN row of s's train table, one per line (malloc'ed). */
char *settings_to_json(const struct tool_settings *s);

/* The value that a config.json or checkpoint written before option `name` existed means
 * (the old behaviour), or NULL for an option every run has. */
const char *settings_legacy_value(const char *name);

/* True for a key that runs written before the model registry recorded whatever their prior
 * ("components", "gmp-paper"); such a key is ignored where the prior does not take it. */
bool settings_retired_key(const char *name);

/* Reads dir/config.json into s: its model and prior (a config without "model" is a GWAE run
 * from before the registry), then every key through the strict rows of their table; every
 * saved row must be present, except rows added later, which take their legacy value
 * (settings_legacy_value). false with err. */
bool settings_load_run(const char *dir, struct tool_settings *s, char *err, size_t size);

/* settings_load_run from the text of a config.json (what the fuzz target calls). */
bool settings_load_text(const char *text, size_t len, struct tool_settings *s, char *err,
                        size_t size);

/* The model's identity for checkpoints: "channels=3" and "name=value" for every FIXED row of
 * s's table that belongs to the model (shared model rows, the model's and the prior's), except
 * rows added later while they hold their legacy value (settings_legacy_value). */
void settings_fingerprint(const struct tool_settings *s, char *out, size_t size);

/* "dir/name" into out; false when it does not fit. */
bool settings_join(char *out, size_t size, const char *dir, const char *name);

#endif
