/* run_dir.h - a training run's directory and its checkpoints.
 *
 *   config.json                     resolved settings (settings.h)
 *   log.jsonl                       one JSON object per logged step, per epoch, per resume
 *   checkpoint_last.safetensors     model, its optimizers, generator, counters
 *   checkpoint_best.safetensors     the same at the lowest validation loss
 *   reconstructions.png samples.png figures, refreshed every epoch and at the end
 *   metrics.json                    test metrics and final loss terms
 *
 * Every file but log.jsonl is replaced atomically (temporary file + rename); log.jsonl gets
 * whole lines appended with one write each. A checkpoint carries the model's fingerprint as a
 * checked value, so loading one into a model of another configuration is refused before any
 * tensor is touched. Not here: what training does between saves (cmd_train.c).
 */
#ifndef TOOL_RUN_DIR_H
#define TOOL_RUN_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "gwae/model.h"
#include "nn/nn_checkpoint.h"
#include "settings.h"

/* Where a run stands: what a checkpoint restores besides the model and optimizers. */
struct run_state {
    struct tn_rng rng;        /* the training draws */
    int64_t step;             /* training iterations done */
    int64_t epoch;            /* epochs completed */
    int64_t epoch_batch;      /* batches done in the current epoch */
    int64_t since_best;       /* epochs since the best validation loss */
    int64_t elapsed_ms;       /* training wall time over every session */
    double best_val;          /* lowest validation loss so far (inf before the first) */
};

/* Makes dir ready for a new run: refuses one that is not a directory or already holds any
 * file of a run (config.json, log.jsonl, a checkpoint, metrics.json), creates it (and its
 * parents) if missing, and checks a file can be written in it. *created says whether dir was
 * made here. false with the reason in err. */
bool run_dir_prepare_new(const char *dir, bool *created, char *err, size_t size);

/* Removes what a new run wrote in dir before it could start (config.json, checkpoint_last),
 * and dir itself when it was created for the run and is left empty. */
void run_dir_remove_new(const char *dir, bool created);

/* Removes the temporary files ("<name>.tmp.<pid>") that saves of processes no longer running
 * left in dir when they were killed; returns how many. */
int run_dir_remove_stale(const char *dir);

/* Checks before any work that a command can write its outputs names[] (NULL-terminated) in
 * dir: dir takes a new file, and each name is absent or a regular file. false with err. */
bool run_dir_check_outputs(const char *dir, const char *const *names, char *err, size_t size);

/* Checks that a file can be created in dir (and removes it again). */
bool run_dir_writable(const char *dir, char *err, size_t size);

/* Writes text to dir/name atomically; false with the reason in err. */
bool run_dir_write_text(const char *dir, const char *name, const char *text, char *err, size_t size);

/* Appends one line of text (ending in a newline) to dir/name with a single write; a symbolic
 * link or anything but a regular file there is refused. */
bool run_dir_append(const char *dir, const char *name, const char *line, char *err, size_t size);

/* Merges the flat JSON object `update` into dir/name (keys of update replace the file's,
 * other keys stay) and writes it atomically; a missing file counts as {}. */
bool run_dir_merge_json(const char *dir, const char *name, const char *update, char *err,
                        size_t size);

/* True when dir/name exists. */
bool run_dir_has(const char *dir, const char *name);

/* The checkpoint list of a training run: the model (parameters and buffers), each parameter
 * group's optimizer with its state ("optim.<group>"), the generator, the counters of st and
 * the fingerprint of s's model. */
struct nn_ckpt *run_ckpt_full(const struct tool_settings *s, struct gw_model *m,
                              struct run_state *st);

/* The list for using a trained model: its tensors and fingerprint; the rest is skipped. */
struct nn_ckpt *run_ckpt_model(const struct tool_settings *s, struct gw_model *m);

/* Saves list c (with st's best validation loss) to path atomically. */
enum tn_status run_ckpt_save(struct nn_ckpt *c, const struct run_state *st, const char *path);

/* Loads path into the listed tensors and counters (st may be NULL for a model-only list) of
 * c, made for the model of s; a checkpoint of another configuration is refused with a message
 * naming the first setting that differs (fingerprints are compared key by key). */
enum tn_status run_ckpt_load(struct nn_ckpt *c, const struct tool_settings *s,
                             struct run_state *st, const char *path);

#endif
