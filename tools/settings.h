/* settings.h - everything a gwae command can be told, the option tables of the commands, and
 * the run's config.json (the resolved settings of a training run).
 *
 * One struct tool_settings holds the model's struct gw_config, the data source, how long to
 * train and the runtime choices. The option tables in settings.c map every flag onto it; the
 * FIXED and RUN options of the train table are what config.json holds, so a resumed run, an
 * eval or a sample rebuilds exactly the model and data the run trained on.
 * Not here: the run directory's files other than config.json (run_dir.h).
 */
#ifndef TOOL_SETTINGS_H
#define TOOL_SETTINGS_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"
#include "options.h"

#define TOOL_PATH_MAX 4096

struct tool_settings {
    struct gw_config cfg;      /* the model and its training */
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
    char out[TOOL_PATH_MAX];   /* train: the new run directory */
    char resume[TOOL_PATH_MAX];/* train: the run directory to continue */
};

/* The defaults of `gwae train`: the small Fashion-MNIST run that takes minutes on 2 cores. */
void settings_defaults(struct tool_settings *s);

/* The option table of `gwae train` (data, model, loss, optimisation, run, runtime). */
const struct opt_table *settings_train_table(void);

/* Checks what the tables cannot: the prior is known, the device exists, the model's settings
 * pass gw_config_check. false with the one-line reason in err. */
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

/* config.json text: every FIXED and RUN option of the train table, one per line (malloc'ed). */
char *settings_to_json(const struct tool_settings *s);

/* The value that a config.json or checkpoint written before option `name` existed means
 * (the old behaviour), or NULL for an option every run has. */
const char *settings_legacy_value(const char *name);

/* Reads dir/config.json into s (which holds the defaults first); every key must be a known
 * saved option with a valid value, and every saved option must be present, except the options
 * added later, which then take their legacy value (settings_legacy_value). false with err. */
bool settings_load_run(const char *dir, struct tool_settings *s, char *err, size_t size);

/* The model's identity for checkpoints: every gw_config field as "key=value" text, except
 * options added later while they hold their legacy value (settings_legacy_value). */
void settings_fingerprint(const struct gw_config *cfg, char *out, size_t size);

/* "dir/name" into out; false when it does not fit. */
bool settings_join(char *out, size_t size, const char *dir, const char *name);

#endif
