/* nn_safetensors.h - the safetensors header of a checkpoint file: its grammar and field types
 * parsed by the strict pull reader of nn_json.h, what the numbers mean (offsets, sizes, names
 * against a model) being checked by nn_checkpoint.c. Split from the JSON module because it is
 * the checkpoint format, not JSON.
 */
#ifndef NN_SAFETENSORS_H
#define NN_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../tensor/tn_tensor.h"

/* The header: {"<name>": {"dtype", "shape", "data_offsets"}, ...,
 *      "__metadata__": {"<key>": "<text>", ...}} */

#define NN_ST_SHOW_MAX 200 /* characters of a name from a file that a message shows */

struct nn_st_dtype {
    const char *name; /* "F32", "F16", "I64", ... */
    unsigned size;    /* bytes per element */
};

struct nn_st_tensor {
    char *name;
    const struct nn_st_dtype *dtype;
    int ndim;
    uint64_t shape[TN_MAX_DIMS];
    uint64_t begin, end; /* data_offsets, relative to the data section */
    bool used;           /* free for the caller's bookkeeping */
};

struct nn_st_pair {
    char *key, *value;
};

struct nn_st_header {
    struct nn_st_tensor *t;
    int n, cap;
    struct nn_st_pair *meta; /* __metadata__, in file order */
    int n_meta, cap_meta;
    bool has_meta;
};

/* Parses a header into h (zeroed by the caller, freed with nn_st_header_free whatever the
 * result); false with the reason, naming the tensor when there is one, in error. */
bool nn_st_parse(const char *text, size_t len, struct nn_st_header *h, char *error,
                 size_t error_size);

/* Frees what nn_st_parse stored in h. */
void nn_st_header_free(struct nn_st_header *h);

/* Frees n pairs and their array. */
void nn_st_pairs_free(struct nn_st_pair *pairs, int n);

/* Grows an array of n items of size bytes with capacity *cap to hold one more (aborts when
 * host memory runs out). */
void nn_st_grow(void **items, int *cap, int n, size_t size);

/* name made safe to print into out (NN_ST_SHOW_MAX + 4 bytes) by tn_quote: control bytes and
 * bytes that are not UTF-8 as \xNN, cut with "..." when long. Returns out. */
const char *nn_st_show(const char *name, char *out);

#endif
