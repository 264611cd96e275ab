/* nn_json.h - the project's one JSON module: a small strict pull reader, a growable text
 * buffer with a JSON string writer (what the safetensors header of nn_safetensors.h is read
 * and written with), and the flat objects of strings, numbers and booleans that the tool
 * writes and reads back (config.json, metrics.json, the lines of log.jsonl, bench --json).
 *
 * The reader walks the text token by token with no tree and no recursion, so the caller's
 * code is the schema and a hostile input cannot exhaust the stack. It reads strings (all
 * escapes, surrogate pairs to UTF-8) and non-negative integers; it has no floats, no true,
 * false or null, because a safetensors header has none. Every read checks the remaining
 * length first; on failure the reader says why and where in error[] and returns false.
 * Flat objects: the writer appends "key": value pairs to a buffer, a non-finite number
 * becoming null (JSON has no NaN); the reader takes one flat object and keeps each value's
 * text (strings unescaped), so the caller parses numbers with its own strict checks. Nested
 * objects and arrays are refused: the tool never writes them.
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

/* ---- flat objects ---- */

/* An object being written: {"a": 1, "b": "x"} */
struct nn_json_writer {
    struct nn_buf buf;
    int n;            /* pairs written so far */
    bool multiline;   /* one pair per line (files people read) or all on one line */
};

/* Starts an object. */
void nn_json_begin(struct nn_json_writer *w, bool multiline);

/* Appends "key": "value". */
void nn_json_put_string(struct nn_json_writer *w, const char *key, const char *value);

/* Appends "key": v with the fewest digits that read back as v, as a float32 when v is one
 * (the engine's values are), and null when v is not finite. */
void nn_json_put_number(struct nn_json_writer *w, const char *key, double v);

/* Appends "key": v. */
void nn_json_put_int(struct nn_json_writer *w, const char *key, int64_t v);

/* Appends "key": true or false. */
void nn_json_put_bool(struct nn_json_writer *w, const char *key, bool v);

/* Appends "key": raw, where raw is already JSON (a number or literal). */
void nn_json_put_raw(struct nn_json_writer *w, const char *key, const char *raw);

/* Closes the object (plus a newline) and returns its malloc'ed text (NULL when out of memory);
 * the writer is then empty. */
char *nn_json_end(struct nn_json_writer *w);

enum nn_json_type { NN_JSON_STRING, NN_JSON_NUMBER, NN_JSON_BOOL, NN_JSON_NULL };

struct nn_json_pair {
    char *key;
    char *text;       /* the string's value, the number's text, "true"/"false" or "null" */
    enum nn_json_type type;
};

struct nn_json_flat {
    struct nn_json_pair *pairs;
    int n, cap;
};

/* Parses a flat object from text[0..len); false with the reason and byte position in err.
 * out is freed with nn_json_flat_free whatever the result. */
bool nn_json_flat_parse(const char *text, size_t len, struct nn_json_flat *out, char *err, size_t size);

/* The pair called key, or NULL. */
const struct nn_json_pair *nn_json_flat_get(const struct nn_json_flat *o, const char *key);

/* Frees the pairs. */
void nn_json_flat_free(struct nn_json_flat *o);

/* The fewest of 6..17 significant digits that read back as v. */
void nn_json_format_double(double v, char *out, size_t size);

/* Reads a whole regular file (at most 64 MiB) into a NUL-terminated malloc'ed buffer; NULL
 * with errno set. A FIFO, socket, device or folder is refused at once, never waited on
 * (EINVAL, EISDIR); when the file could not be opened tn_last_error() has a one-line reason
 * that names it ("<path>: not a regular file (a FIFO)"). */
char *nn_json_read_file(const char *path, size_t *len);

#endif
