/* json.h - the JSON the tool writes and reads back: flat objects of strings, numbers and
 * booleans (config.json, metrics.json, the lines of log.jsonl, bench --json).
 *
 * The writer appends "key": value pairs to a nn_buf; a non-finite number becomes null, since
 * JSON has no NaN. The reader takes one flat object and keeps each value's text (strings
 * unescaped), so the caller parses numbers with its own strict checks. Nested objects and
 * arrays are refused: the tool never writes them. Not here: the safetensors header (nn_json.h).
 */
#ifndef TOOL_JSON_H
#define TOOL_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include "nn/nn_json.h"

/* An object being written: {"a": 1, "b": "x"} */
struct json_writer {
    struct nn_buf buf;
    int n;            /* pairs written so far */
    bool multiline;   /* one pair per line (files people read) or all on one line */
};

/* Starts an object. */
void json_begin(struct json_writer *w, bool multiline);

/* Appends "key": "value". */
void json_string(struct json_writer *w, const char *key, const char *value);

/* Appends "key": v with the fewest digits that read back as v, as a float32 when v is one
 * (the engine's values are), and null when v is not finite. */
void json_number(struct json_writer *w, const char *key, double v);

/* Appends "key": v. */
void json_int(struct json_writer *w, const char *key, int64_t v);

/* Appends "key": true or false. */
void json_bool(struct json_writer *w, const char *key, bool v);

/* Appends "key": raw, where raw is already JSON (a number or literal). */
void json_raw(struct json_writer *w, const char *key, const char *raw);

/* Closes the object (plus a newline) and returns its malloc'ed text (NULL when out of memory);
 * the writer is then empty. */
char *json_end(struct json_writer *w);

enum json_type { JSON_STRING, JSON_NUMBER, JSON_BOOL, JSON_NULL };

struct json_pair {
    char *key;
    char *text;       /* the string's value, the number's text, "true"/"false" or "null" */
    enum json_type type;
};

struct json_flat {
    struct json_pair *pairs;
    int n, cap;
};

/* Parses a flat object from text[0..len); false with the reason and byte position in err.
 * out is freed with json_flat_free whatever the result. */
bool json_flat_parse(const char *text, size_t len, struct json_flat *out, char *err, size_t size);

/* The pair called key, or NULL. */
const struct json_pair *json_flat_get(const struct json_flat *o, const char *key);

/* Frees the pairs. */
void json_flat_free(struct json_flat *o);

/* The fewest of 6..17 significant digits that read back as v. */
void json_format_double(double v, char *out, size_t size);

/* Reads a whole regular file (at most 64 MiB) into a NUL-terminated malloc'ed buffer; NULL
 * with errno set. A FIFO, socket, device or folder is refused at once, never waited on
 * (EINVAL, EISDIR); when the file could not be opened tn_last_error() has a one-line reason
 * that names it ("<path>: not a regular file (a FIFO)"). */
char *json_read_file(const char *path, size_t *len);

#endif
