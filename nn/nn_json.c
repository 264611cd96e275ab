/* nn_json.c - the JSON of the project (nn_json.h): the strict pull reader, the text buffer,
 * and the flat objects of config.json, metrics.json and log.jsonl written and read on them.
 *
 * The flat reader leans on the pull reader for whitespace, punctuation and strings (every
 * escape is handled there) and adds what a safetensors header never needs: numbers, true,
 * false and null. A number is checked against JSON's grammar here, so "1e" or "01" is refused
 * even though strtod would read part of it.
 */
#define _POSIX_C_SOURCE 200809L

#include "nn_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_file.h"

void nn_json_init(struct nn_json *j, const char *text, size_t len) {
    *j = (struct nn_json){.text = text, .len = len, .pos = 0};
}

static bool fail(struct nn_json *j, const char *what) {
    snprintf(j->error, sizeof j->error, "header byte %zu: %s", j->pos, what);
    return false;
}

static void skip_ws(struct nn_json *j) {
    while (j->pos < j->len) {
        char c = j->text[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        j->pos++;
    }
}

int nn_json_peek(struct nn_json *j) {
    skip_ws(j);
    return j->pos < j->len ? (unsigned char)j->text[j->pos] : -1;
}

bool nn_json_expect(struct nn_json *j, char c) {
    if (nn_json_accept(j, c)) return true;
    char what[48];
    snprintf(what, sizeof what, "expected '%c'", c);
    return fail(j, what);
}

bool nn_json_accept(struct nn_json *j, char c) {
    if (nn_json_peek(j) != (unsigned char)c) return false;
    j->pos++;
    return true;
}

bool nn_json_at_end(struct nn_json *j) { return nn_json_peek(j) == -1; }

/* Four hex digits at text[pos..pos+4) into *out. */
static bool hex4(struct nn_json *j, unsigned *out) {
    if (j->len - j->pos < 4) return fail(j, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->text[j->pos + (size_t)i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') d = (unsigned)(c - 'A' + 10);
        else return fail(j, "bad hex digit in \\u escape");
        v = v * 16 + d;
    }
    j->pos += 4;
    *out = v;
    return true;
}

/* Writes code point cp as UTF-8 (at most 4 bytes) at out; returns the byte count. */
static size_t utf8(unsigned cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One escape after the backslash: the code point into *cp (a surrogate pair is combined). */
static bool escape(struct nn_json *j, unsigned *cp) {
    if (j->pos >= j->len) return fail(j, "unterminated string");
    char c = j->text[j->pos++];
    switch (c) {
    case '"': *cp = '"'; return true;
    case '\\': *cp = '\\'; return true;
    case '/': *cp = '/'; return true;
    case 'b': *cp = '\b'; return true;
    case 'f': *cp = '\f'; return true;
    case 'n': *cp = '\n'; return true;
    case 'r': *cp = '\r'; return true;
    case 't': *cp = '\t'; return true;
    case 'u': break;
    default: j->pos--; return fail(j, "unknown escape in string");
    }
    unsigned hi;
    if (!hex4(j, &hi)) return false;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return fail(j, "lone low surrogate in string");
    if (hi < 0xD800 || hi > 0xDBFF) {
        *cp = hi;
        return true;
    }
    if (j->len - j->pos < 2 || j->text[j->pos] != '\\' || j->text[j->pos + 1] != 'u')
        return fail(j, "high surrogate without its low half");
    j->pos += 2;
    unsigned lo;
    if (!hex4(j, &lo)) return false;
    if (lo < 0xDC00 || lo > 0xDFFF) return fail(j, "high surrogate without its low half");
    *cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    return true;
}

bool nn_json_string(struct nn_json *j, char **out, size_t *len) {
    *out = NULL;
    *len = 0;
    if (!nn_json_expect(j, '"')) return false;
    /* The decoded string is never longer than its source: every escape shrinks or keeps. */
    size_t start = j->pos, end = start;
    while (end < j->len && j->text[end] != '"') end += j->text[end] == '\\' ? 2 : 1;
    if (end >= j->len) return fail(j, "unterminated string");
    char *s = malloc(end - start + 1);
    if (!s) return fail(j, "out of host memory for a string");
    size_t n = 0;
    while (j->pos < end) {
        unsigned char c = (unsigned char)j->text[j->pos];
        if (c < 0x20) {
            free(s);
            return fail(j, "control character in string");
        }
        j->pos++;
        if (c != '\\') {
            s[n++] = (char)c;
            continue;
        }
        unsigned cp;
        if (!escape(j, &cp)) {
            free(s);
            return false;
        }
        if (j->pos > end) { /* an escape ran past the closing quote we found */
            free(s);
            return fail(j, "unterminated string");
        }
        n += utf8(cp, s + n);
    }
    j->pos = end + 1;
    s[n] = '\0';
    *out = s;
    *len = n;
    return true;
}

bool nn_json_uint64(struct nn_json *j, uint64_t *out) {
    int c = nn_json_peek(j);
    if (c == '-') return fail(j, "expected a non-negative integer");
    if (c < '0' || c > '9') return fail(j, "expected an integer");
    uint64_t v = 0;
    size_t start = j->pos;
    while (j->pos < j->len && j->text[j->pos] >= '0' && j->text[j->pos] <= '9') {
        unsigned d = (unsigned)(j->text[j->pos] - '0');
        if (v > (UINT64_MAX - d) / 10) return fail(j, "integer does not fit in 64 bits");
        v = v * 10 + d;
        j->pos++;
    }
    if (j->text[start] == '0' && j->pos - start > 1) {
        j->pos = start;
        return fail(j, "integer with a leading zero");
    }
    if (j->pos < j->len && (j->text[j->pos] == '.' || j->text[j->pos] == 'e' ||
                            j->text[j->pos] == 'E'))
        return fail(j, "expected an integer, not a fraction");
    *out = v;
    return true;
}

/* ---- the text buffer ---- */

static bool reserve(struct nn_buf *b, size_t extra) {
    if (b->failed) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->failed = true;
        return false;
    }
    b->data = grown;
    b->cap = cap;
    return true;
}

void nn_buf_put(struct nn_buf *b, const char *s, size_t n) {
    if (!reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void nn_buf_puts(struct nn_buf *b, const char *s) { nn_buf_put(b, s, strlen(s)); }

void nn_buf_printf(struct nn_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void nn_buf_put_json_string(struct nn_buf *b, const char *s) {
    nn_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            nn_buf_put(b, esc, 2);
        } else if (*p < 0x20) {
            nn_buf_printf(b, "\\u%04x", *p);
        } else {
            nn_buf_put(b, (const char *)p, 1);
        }
    }
    nn_buf_put(b, "\"", 1);
}

void nn_buf_free(struct nn_buf *b) {
    free(b->data);
    *b = (struct nn_buf){0};
}

/* ---- flat objects ---- */

void nn_json_format_double(double v, char *out, size_t size) {
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, v);
        if (strtod(out, NULL) == v) return;
    }
}

void nn_json_begin(struct nn_json_writer *w, bool multiline) {
    memset(w, 0, sizeof *w);
    w->multiline = multiline;
    nn_buf_puts(&w->buf, "{");
}

static void key(struct nn_json_writer *w, const char *k) {
    if (w->n++) nn_buf_puts(&w->buf, ",");
    nn_buf_puts(&w->buf, w->multiline ? "\n  " : (w->n > 1 ? " " : ""));
    nn_buf_put_json_string(&w->buf, k);
    nn_buf_puts(&w->buf, ": ");
}

void nn_json_put_string(struct nn_json_writer *w, const char *k, const char *value) {
    key(w, k);
    nn_buf_put_json_string(&w->buf, value);
}

void nn_json_put_number(struct nn_json_writer *w, const char *k, double v) {
    char text[40];
    if (!isfinite(v)) {
        snprintf(text, sizeof text, "null");
    } else if ((double)(float)v == v) { /* a float32 value: its own shortest digits */
        for (int digits = 6; digits <= 9; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, v);
            if (strtof(text, NULL) == (float)v) break;
        }
    } else {
        nn_json_format_double(v, text, sizeof text);
    }
    nn_json_put_raw(w, k, text);
}

void nn_json_put_int(struct nn_json_writer *w, const char *k, int64_t v) {
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, v);
    nn_json_put_raw(w, k, text);
}

void nn_json_put_bool(struct nn_json_writer *w, const char *k, bool v) { nn_json_put_raw(w, k, v ? "true" : "false"); }

void nn_json_put_raw(struct nn_json_writer *w, const char *k, const char *raw) {
    key(w, k);
    nn_buf_puts(&w->buf, raw);
}

char *nn_json_end(struct nn_json_writer *w) {
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

static bool add_pair(struct nn_json_flat *o, char *k, char *text, enum nn_json_type type) {
    if (o->n == o->cap) {
        int cap = o->cap ? 2 * o->cap : 16;
        struct nn_json_pair *p = realloc(o->pairs, (size_t)cap * sizeof *p);
        if (!p) return false;
        o->pairs = p;
        o->cap = cap;
    }
    o->pairs[o->n++] = (struct nn_json_pair){k, text, type};
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
static bool value(struct nn_json *j, char **text, enum nn_json_type *type, char *err, size_t size) {
    int c = nn_json_peek(j);
    size_t len;
    if (c == '"') {
        *type = NN_JSON_STRING;
        if (nn_json_string(j, text, &len)) return true;
        snprintf(err, size, "%s", j->error);
        return false;
    }
    if (c == '{' || c == '[') return failed(err, size, j, "nested objects and arrays are not read");
    static const struct { const char *word; enum nn_json_type type; } words[] = {
        {"true", NN_JSON_BOOL}, {"false", NN_JSON_BOOL}, {"null", NN_JSON_NULL}};
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
    *type = NN_JSON_NUMBER;
    *text = dup_n(j->text + j->pos, len);
    j->pos += len;
    return *text || failed(err, size, j, "out of memory");
}

bool nn_json_flat_parse(const char *text, size_t len, struct nn_json_flat *out, char *err, size_t size) {
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
        enum nn_json_type type;
        if (nn_json_peek(&j) != '"') return failed(err, size, &j, "expected a key");
        if (!nn_json_string(&j, &k, &klen)) {
            snprintf(err, size, "%s", j.error);
            return false;
        }
        if (nn_json_flat_get(out, k)) {
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

const struct nn_json_pair *nn_json_flat_get(const struct nn_json_flat *o, const char *k) {
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->pairs[i].key, k) == 0) return &o->pairs[i];
    return NULL;
}

void nn_json_flat_free(struct nn_json_flat *o) {
    for (int i = 0; i < o->n; i++) {
        free(o->pairs[i].key);
        free(o->pairs[i].text);
    }
    free(o->pairs);
    memset(o, 0, sizeof *o);
}

char *nn_json_read_file(const char *path, size_t *len) {
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
