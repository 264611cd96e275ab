/* nn_checkpoint.h - checkpoints as safetensors files: save and verified load of named tensors
 * (module parameters and buffers, optimizer state) and integer metadata (step, generators).
 *
 * A struct nn_ckpt is a list of what a checkpoint holds, by name: the caller adds the model's
 * modules, its optimizers, its generators and counters, then saves or loads that list. Save
 * writes "<path>.tmp.<pid>", fsyncs it and renames it over path, so path always holds either
 * the old file or the whole new one. Load checks the file against the list before it writes
 * anything: every length, offset, dtype, shape and name; a file that does not match returns
 * TN_ERR_INVALID (TN_ERR_IO when it cannot be read) with a message naming the tensor and the
 * reason, and leaves the model untouched (only a read error after the checks, e.g. a file
 * shrinking under the reader, can leave it half loaded). Values go into the existing tensors with
 * tn_write_host, so the model keeps its structure. Tensors in the file that the list does not
 * name are refused unless nn_ckpt_allow_extra was called. The metadata carries a checksum of
 * the tensor data, written on save and checked on load, so that flipped bytes are refused
 * instead of loaded. docs/checkpoints.md has the format, the names and the rules. Not here:
 * dtypes other than F32 for the listed tensors, or mmap.
 */
#ifndef NN_CHECKPOINT_H
#define NN_CHECKPOINT_H

#include <stddef.h>

#include "../tensor/tn_random.h"
#include "nn_optim.h"

struct nn_ckpt;

/* The metadata key of the data's checksum: 8 lowercase hex digits of the CRC-32C of every
 * tensor's bytes, tensors in the order of their names. A save writes it; a load checks it when
 * the file has it (files written before have not). Reserved: not a name to add or set. */
#define NN_CKPT_CHECKSUM_KEY "data.crc32c"

/* An empty list. Tensors added keep a reference; integers added are pointers that must stay
 * valid until nn_ckpt_free. */
struct nn_ckpt *nn_ckpt_new(void);

/* Frees the list and its references to tensors. NULL is fine. */
void nn_ckpt_free(struct nn_ckpt *c);

/* Adds tensor t under name (the list keeps a reference). Aborts on a duplicate name. */
void nn_ckpt_add_tensor(struct nn_ckpt *c, const char *name, struct tn_tensor *t);

/* Adds m's parameters and buffers under "<prefix>.<dotted name>" (no dot for prefix ""). */
void nn_ckpt_add_module(struct nn_ckpt *c, const char *prefix, struct nn_module *m);

/* Adds o's state: "<prefix>.<param>.<slot>" tensors (created now if o has not stepped yet),
 * each parameter's step as metadata "<prefix>.<param>.step", and the kind as metadata
 * "<prefix>.kind", which a load checks. */
void nn_ckpt_add_optim(struct nn_ckpt *c, const char *prefix, struct nn_optim *o);

/* Adds the generator's state as metadata "<name>.seed" and "<name>.offset" (decimal). */
void nn_ckpt_add_rng(struct nn_ckpt *c, const char *name, struct tn_rng *rng);

/* Adds *value as metadata name (decimal text); a load sets *value. */
void nn_ckpt_add_u64(struct nn_ckpt *c, const char *name, uint64_t *value);

/* Adds *value as metadata name (decimal text, may be negative); a load sets *value. */
void nn_ckpt_add_i64(struct nn_ckpt *c, const char *name, int64_t *value);

/* Adds metadata name with a fixed text that a load requires to be the same. */
void nn_ckpt_add_check(struct nn_ckpt *c, const char *name, const char *value);

/* Sets free metadata key = value for the next save (replacing an earlier value). A load
 * neither requires nor checks free metadata. */
void nn_ckpt_set_meta(struct nn_ckpt *c, const char *key, const char *value);

/* The value of metadata key: after a successful load the file's (every key it holds), before
 * one what nn_ckpt_set_meta set; NULL when there is none. Valid until the next call on c. */
const char *nn_ckpt_meta(const struct nn_ckpt *c, const char *key);

/* Lets a load skip (after checking their offsets) tensors in the file that the list does not
 * name, to load part of a checkpoint: e.g. the model without its optimizers. Off by default. */
void nn_ckpt_allow_extra(struct nn_ckpt *c, bool allow);

/* Writes every listed tensor and metadata value to path atomically (temporary file, fsync,
 * rename). TN_ERR_IO with the reason when writing fails; path is then left as it was. */
enum tn_status nn_ckpt_save(struct nn_ckpt *c, const char *path);

/* Checks path against the list and, only if everything matches, loads it into the listed
 * tensors and values. TN_ERR_IO when the file cannot be read, TN_ERR_INVALID when it is not a
 * safetensors file matching the list; the message names the tensor or key and the reason. */
enum tn_status nn_ckpt_load(struct nn_ckpt *c, const char *path);

/* nn_ckpt_load from the bytes of a file in memory (what the fuzz target calls). */
enum tn_status nn_ckpt_load_memory(struct nn_ckpt *c, const void *data, size_t size);

/* The name of the first listed tensor, in the order added, that holds a NaN or an infinity,
 * or NULL when all are finite: a model, or its optimizer state, that a run must not use.
 * The name is the list's, valid until nn_ckpt_free. */
const char *nn_ckpt_first_nonfinite(const struct nn_ckpt *c);

#endif
