/* json.c - the flat-object JSON writer and reader of json.h.
 *
 * The reader leans on nn_json.h for whitespace, punctuation and strings (every escape is
 * handled there) and adds what a safetensors header never needs: numbers, true, false and
 * null. A number is checked against JSON's grammar here, so "1e" or "01" is refused even
 * though strtod would read part of it.
 */
#define _POSIX_C_SOURCE 200809L

#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/nn_file.h"

void json_format_double(double v, char *out, size_t size) {
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, v);
        if (strtod(out, NULL) == v) return;
    }
}

void json_begin(struct json_writer *w, bool multiline) {
    memset(w, 0, sizeof *w);
    w->multiline = multiline;
    nn_buf_puts(&w->buf, "{");
}

static void key(struct json_writer *w, const char *k) {
    if (w->n++) nn_buf_puts(&w->buf, ",");
    nn_buf_puts(&w->buf, w->multiline ? "\n  " : (w->n > 1 ? " " : ""));
    nn_buf_put_json_string(&w->buf, k);
    nn_buf_puts(&w->buf, ": ");
}

void json_string(struct json_writer *w, const char *k, const char *value) {
    key(w, k);
    nn_buf_put_json_string(&w->buf, value);
}

void json_number(struct json_writer *w, const char *k, double v) {
    char text[40];
    if (!isfinite(v)) {
        snprintf(text, sizeof text, "null");
    } else if ((double)(float)v == v) { /* a float32 value: its own shortest digits */
        for (int digits = 6; digits <= 9; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, v);
            if (strtof(text, NULL) == (float)v) break;
        }
    } else {
        json_format_double(v, text, sizeof text);
    }
    json_raw(w, k, text);
}

void json_int(struct json_writer *w, const char *k, int64_t v) {
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, v);
    json_raw(w, k, text);
}

void json_bool(struct json_writer *w, const char *k, bool v) { json_raw(w, k, v ? "true" : "false"); }

void json_raw(struct json_writer *w, const char *k, const char *raw) {
    key(w, k);
    nn_buf_puts(&w->buf, raw);
}

char *json_end(struct json_writer *w) {
    nn_buf_puts(&w->buf, w->multiline && w->n ? "\n}\n" : "}\n");
    char *text = w->buf.failed ? NULL : w->buf.data;
    if (!text) nn_buf_free(&w->buf);
    memset(w, 0, sizeof *w);
    return text;
}

/* ---- the reader ---- */

static bool failed(char *err, size_t size, const struct nn_json *j, const char *why) {
    snprintf(err, size, "%s at byte %zu", why, j->pos);
    return false;
}

/* the length of a JSON number at s (0 if there is none): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t number_length(const char *s, size_t left) {
    size_t i = 0;
#define AT(k) ((k) < left ? s[k] : '\0')
    if (AT(i) == '-') i++;
    if (AT(i) == '0') {
        i++;
    } else if (isdigit((unsigned char)AT(i))) {
        while (isdigit((unsigned char)AT(i))) i++;
    } else {
        return 0;
    }
    if (AT(i) == '.') {
        if (!isdigit((unsigned char)AT(i + 1))) return 0;
        i++;
        while (isdigit((unsigned char)AT(i))) i++;
    }
    if (AT(i) == 'e' || AT(i) == 'E') {
        i++;
        if (AT(i) == '+' || AT(i) == '-') i++;
        if (!isdigit((unsigned char)AT(i))) return 0;
        while (isdigit((unsigned char)AT(i))) i++;
    }
#undef AT
    return i;
}

static bool add_pair(struct json_flat *o, char *k, char *text, enum json_type type) {
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 16;
        struct json_pair *p = realloc(o->pairs, (size_t)cap * sizeof *p);
        if (!p) return false;
        o->pairs = p;
        o->cap = cap;
    }
    o->pairs[o->n++] = (struct json_pair){k, text, type};
    return true;
}

static char *dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* reads one value after the colon into *text and *type */
static bool value(struct nn_json *j, char **text, enum json_type *type, char *err, size_t size) {
    int c = nn_json_peek(j);
    size_t len;
    if (c == '"') {
        *type = JSON_STRING;
        if (nn_json_string(j, text, &len)) return true;
        snprintf(err, size, "%s", j->error);
        return false;
    }
    if (c == '{' || c == '[') return failed(err, size, j, "nested objects and arrays are not read");
    static const struct { const char *word; enum json_type type; } words[] = {
        {"true", JSON_BOOL}, {"false", JSON_BOOL}, {"null", JSON_NULL}};
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
        size_t n = strlen(words[w].word);
        if (j->len - j->pos >= n && memcmp(j->text + j->pos, words[w].word, n) == 0) {
            j->pos += n;
            *type = words[w].type;
            *text = dup_n(words[w].word, n);
            return *text || failed(err, size, j, "out of memory");
        }
    }
    len = number_length(j->text + j->pos, j->len - j->pos);
    if (len == 0) return failed(err, size, j, "expected a value");
    *type = JSON_NUMBER;
    *text = dup_n(j->text + j->pos, len);
    j->pos += len;
    return *text || failed(err, size, j, "out of memory");
}

bool json_flat_parse(const char *text, size_t len, struct json_flat *out, char *err, size_t size) {
    memset(out, 0, sizeof *out);
    struct nn_json j;
    nn_json_init(&j, text, len);
    if (!nn_json_expect(&j, '{')) return failed(err, size, &j, "expected '{'");
    bool first = true;
    while (!nn_json_accept(&j, '}')) {
        if (!first && !nn_json_expect(&j, ',')) return failed(err, size, &j, "expected ',' or '}'");
        first = false;
        char *k, *v;
        size_t klen;
        enum json_type type;
        if (nn_json_peek(&j) != '"') return failed(err, size, &j, "expected a key");
        if (!nn_json_string(&j, &k, &klen)) {
            snprintf(err, size, "%s", j.error);
            return false;
        }
        if (json_flat_get(out, k)) {
            free(k);
            return failed(err, size, &j, "duplicate key");
        }
        if (!nn_json_expect(&j, ':')) {
            free(k);
            return failed(err, size, &j, "expected ':'");
        }
        if (!value(&j, &v, &type, err, size)) {
            free(k);
            return false;
        }
        if (!add_pair(out, k, v, type)) {
            free(k);
            free(v);
            return failed(err, size, &j, "out of memory");
        }
    }
    if (!nn_json_at_end(&j)) return failed(err, size, &j, "text after the object");
    return true;
}

const struct json_pair *json_flat_get(const struct json_flat *o, const char *k) {
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->pairs[i].key, k) == 0) return &o->pairs[i];
    return NULL;
}

void json_flat_free(struct json_flat *o) {
    for (int i = 0; i < o->n; i++) {
        free(o->pairs[i].key);
        free(o->pairs[i].text);
    }
    free(o->pairs);
    memset(o, 0, sizeof *o);
}

char *json_read_file(const char *path, size_t *len) {
    int fd;
    uint64_t size;
    if (nn_open_regular(path, "", &fd, &size) != TN_OK) return NULL; /* errno set */
    char shown[TN_QUOTE_SIZE];
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        int err = errno;
        close(fd);
        tn_error(TN_ERR_IO, "%s: cannot read: %s", tn_quote(path, shown, sizeof shown), strerror(err));
        errno = err;
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *data = malloc(cap);
    while (data) {
        n += fread(data + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *bigger = cap < ((size_t)64 << 20) ? realloc(data, 2 * cap) : NULL;
        if (!bigger) {
            free(data);
            data = NULL;
            tn_error(TN_ERR_IO, "%s: larger than 64 MiB", tn_quote(path, shown, sizeof shown));
            errno = EFBIG;
            break;
        }
        data = bigger;
        cap *= 2;
    }
    if (data && ferror(f)) {
        free(data);
        data = NULL;
        tn_error(TN_ERR_IO, "%s: read error", tn_quote(path, shown, sizeof shown));
        errno = EIO;
    }
    fclose(f);
    if (data) {
        data[n] = '\0';
        *len = n;
    }
    return data;
}
