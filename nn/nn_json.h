/* nn_json.h - a small strict JSON pull reader, a growable text buffer with a JSON string
 * writer, and the safetensors header parser built on them: what nn_checkpoint.c needs.
 *
 * The reader walks the text token by token with no tree and no recursion, so the caller's
 * code is the schema and a hostile input cannot exhaust the stack. It reads strings (all
 * escapes, surrogate pairs to UTF-8) and non-negative integers; it has no floats, no true,
 * false or null, because a safetensors header has none. Every read checks the remaining
 * length first; on failure the reader says why and where in error[] and returns false.
 * The header parser checks grammar and field types only; what the numbers mean (offsets,
 * sizes, names against a model) is checked by nn_checkpoint.c.
 */
#ifndef NN_JSON_H
#define NN_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../tensor/tn_tensor.h"

struct nn_json {
    const char *text;
    size_t len, pos;  /* pos: the next byte to read */
    char error[160];  /* why the last failed call failed, with the byte position */
};

/* Starts reading text[0..len). */
void nn_json_init(struct nn_json *j, const char *text, size_t len);

/* Skips whitespace; returns the next byte, or -1 at the end of the text. */
int nn_json_peek(struct nn_json *j);

/* Consumes the byte c after whitespace; false (with an error) when the next byte is not c. */
bool nn_json_expect(struct nn_json *j, char c);

/* Consumes c if it comes next after whitespace; returns whether it did. */
bool nn_json_accept(struct nn_json *j, char c);

/* Reads a string into a new NUL-terminated malloc'ed buffer (*out, freed by the caller) of
 * *len bytes; the bytes may hold an escaped NUL, which *len counts. */
bool nn_json_string(struct nn_json *j, char **out, size_t *len);

/* Reads a non-negative integer (no sign, fraction, exponent or leading zero) that fits in 64
 * bits. */
bool nn_json_uint64(struct nn_json *j, uint64_t *out);

/* True when only whitespace is left. */
bool nn_json_at_end(struct nn_json *j);

/* A growable text buffer; after an allocation failure it keeps failed set and stops growing. */
struct nn_buf {
    char *data;
    size_t len, cap;
    bool failed;
};

/* Appends n bytes. */
void nn_buf_put(struct nn_buf *b, const char *s, size_t n);

/* Appends a NUL-terminated string. */
void nn_buf_puts(struct nn_buf *b, const char *s);

/* Appends printf-formatted text. */
void nn_buf_printf(struct nn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends s as a quoted JSON string, escaping quotes, backslashes and control bytes. */
void nn_buf_put_json_string(struct nn_buf *b, const char *s);

/* Frees the buffer's memory and zeroes it. */
void nn_buf_free(struct nn_buf *b);

/* ---- the safetensors header: {"<name>": {"dtype", "shape", "data_offsets"}, ...,
 *      "__metadata__": {"<key>": "<text>", ...}} ---- */

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
