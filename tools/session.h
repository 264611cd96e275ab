/* session.h - opening what a command works on: the dataset of a settings struct, a model
 * built from it, and a finished run directory's model with one of its checkpoints.
 *
 * Each function reports its own failure as the command's one error line and returns the
 * exit code, so a command can `if ((rc = session_open(...))) return rc;`.
 * Not here: training (cmd_train.c) and what is computed with the model (evaluate.h).
 */
#ifndef TOOL_SESSION_H
#define TOOL_SESSION_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"
#include "settings.h"

/* A run directory opened for use (eval, sample, reconstruct, encode). */
struct session {
    char dir[TOOL_PATH_MAX];
    struct tool_settings s;      /* from dir/config.json */
    struct gw_model *model;
    struct gw_splits data;
    bool has_data;
    char checkpoint[TOOL_PATH_MAX + 64]; /* the file loaded */
    const char *checkpoint_name; /* "best", "last" or the path given */
};

/* Options the commands that use a run share (each command's table picks some). */
struct use_options {
    char checkpoint[TOOL_PATH_MAX]; /* best, last or a file */
    char data[TOOL_PATH_MAX];       /* replaces the run's data path when set */
    char out[TOOL_PATH_MAX];
    char split[16];                 /* train, valid or test */
    char device[16];                /* cpu or cuda; "" for the run's own device */
    double max_data_gib;            /* host memory the data may take, GiB (0: the default) */
    int64_t n, limit;
    int cols, threads;
    uint64_t seed;
};

/* Zeroes o and sets the shared defaults: checkpoint best, split test, seed 1. */
void use_defaults(struct use_options *o);

/* The options called names[] (NULL-terminated: checkpoint, data, out, split, n, limit, cols,
 * threads, device, max-data-memory, seed) into specs (room for all eleven), as the table *t. */
void use_table(const char *const *names, struct gw_option *specs, struct opt_table *t);

/* Parses a command that takes RUN_DIR and the use options of names; prints usage (the text,
 * then the options) on --help. Returns 0, -1 after --help, or the exit code. */
int use_parse(const char *cmd, const char *usage_text, const char *const *names, int argc,
              char **argv, struct use_options *o, const char **dir);

#define USE_EXTRA_MAX 24

/* use_parse for a command with options of its own: o is that command's struct (o_size bytes)
 * whose first member is a struct use_options, and extra[0..n_extra) (at most USE_EXTRA_MAX)
 * are its own options, with offsets into it. */
int use_parse_extra(const char *cmd, const char *usage_text, const char *const *names,
                    const struct gw_option *extra, int n_extra, int argc, char **argv, void *o,
                    size_t o_size, const char **dir);

/* Loads the dataset s describes; the error names the file or folder. */
int session_load_data(const char *cmd, const struct tool_settings *s, struct gw_splits *out);

/* Builds the model of s with its initial weights drawn from rng. */
int session_build_model(const char *cmd, const struct tool_settings *s, struct tn_rng *rng,
                        struct gw_model **out);

/* Opens the run in dir: its settings, the model with the checkpoint chosen by opts (best
 * falls back to last, saying so, when the run has no best yet) and, if need_data, its data. */
int session_open(const char *cmd, const char *dir, const struct use_options *opts, bool need_data,
                 struct session *ses);

/* Frees what session_open made. */
void session_close(struct session *ses);

/* The split called name ("train", "valid" or "test") of ses's data. */
const struct gw_dataset *session_split(struct session *ses, const char *name);

#endif
