/* nn_json.c - the strict JSON pull reader and the text buffer of nn_json.h. */
#include "nn_json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- the safetensors header ---- */

static const struct nn_st_dtype dtypes[] = {
    {"F32", 4}, {"F64", 8}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
    {"I16", 2}, {"I8", 1},  {"U64", 8}, {"U32", 4},  {"U16", 2}, {"U8", 1},
    {"BOOL", 1}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
};

void nn_st_grow(void **items, int *cap, int n, size_t size) {
    if (n < *cap) return;
    TN_CHECK(*cap < INT32_MAX / 2, "nn_st_grow", "too many items");
    int next = *cap ? 2 * *cap : 16;
    void *grown = realloc(*items, (size_t)next * size);
    TN_CHECK(grown, "nn_st_grow", "out of host memory");
    *items = grown;
    *cap = next;
}

void nn_st_pairs_free(struct nn_st_pair *pairs, int n) {
    for (int i = 0; i < n; i++) {
        free(pairs[i].key);
        free(pairs[i].value);
    }
    free(pairs);
}

void nn_st_header_free(struct nn_st_header *h) {
    for (int i = 0; i < h->n; i++) free(h->t[i].name);
    free(h->t);
    nn_st_pairs_free(h->meta, h->n_meta);
    *h = (struct nn_st_header){0};
}

const char *nn_st_show(const char *name, char *out) {
    return tn_quote(name, out, NN_ST_SHOW_MAX + 4);
}

/* The parser's state: the reader and where the reason of a failure goes. */
struct st {
    struct nn_json j;
    char *error;
    size_t error_size;
};

static bool st_fail(struct st *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool st_fail(struct st *p, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->error, p->error_size, fmt, ap);
    va_end(ap);
    return false;
}

/* The reader's own error, after "<tensor>: " when there is a tensor. */
static bool st_json_fail(struct st *p, const char *who) {
    char shown[NN_ST_SHOW_MAX + 4];
    if (!who) return st_fail(p, "%s", p->j.error);
    return st_fail(p, "%s: %s", nn_st_show(who, shown), p->j.error);
}

/* A string that may not hold NUL; *out is the caller's on success. */
static bool st_text(struct st *p, char **out) {
    size_t len;
    if (!nn_json_string(&p->j, out, &len)) return false;
    if (strlen(*out) == len) return true;
    free(*out);
    *out = NULL;
    snprintf(p->j.error, sizeof p->j.error, "header byte %zu: string holds a NUL byte", p->j.pos);
    return false;
}

static bool st_shape(struct st *p, struct nn_st_tensor *e) {
    char who[NN_ST_SHOW_MAX + 4];
    if (!nn_json_expect(&p->j, '[')) return st_json_fail(p, e->name);
    if (nn_json_accept(&p->j, ']')) return true;
    do {
        if (e->ndim == TN_MAX_DIMS)
            return st_fail(p, "%s: shape has more than %d dims", nn_st_show(e->name, who),
                           TN_MAX_DIMS);
        if (!nn_json_uint64(&p->j, &e->shape[e->ndim++])) return st_json_fail(p, e->name);
    } while (nn_json_accept(&p->j, ','));
    return nn_json_expect(&p->j, ']') || st_json_fail(p, e->name);
}

static bool st_dtype(struct st *p, struct nn_st_tensor *e) {
    char *name, who[NN_ST_SHOW_MAX + 4], shown[NN_ST_SHOW_MAX + 4];
    if (!st_text(p, &name)) return st_json_fail(p, e->name);
    for (size_t k = 0; k < sizeof dtypes / sizeof *dtypes && !e->dtype; k++)
        if (strcmp(name, dtypes[k].name) == 0) e->dtype = &dtypes[k];
    bool ok = e->dtype || st_fail(p, "%s: unknown dtype \"%s\"", nn_st_show(e->name, who),
                                  nn_st_show(name, shown));
    free(name);
    return ok;
}

/* {"dtype": ..., "shape": [...], "data_offsets": [begin, end]} into e (whose name is set). */
static bool st_tensor(struct st *p, struct nn_st_tensor *e) {
    static const char *const fields[3] = {"dtype", "shape", "data_offsets"};
    char who[NN_ST_SHOW_MAX + 4];
    bool got[3] = {false, false, false};
    struct nn_json *j = &p->j;
    if (!nn_json_expect(j, '{')) return st_json_fail(p, e->name);
    bool empty = nn_json_accept(j, '}');
    for (bool more = !empty; more; more = nn_json_accept(j, ',')) {
        char *field;
        if (!st_text(p, &field)) return st_json_fail(p, e->name);
        int f = 0;
        while (f < 3 && strcmp(field, fields[f]) != 0) f++;
        free(field);
        if (f == 3) return st_fail(p, "%s: unknown field in its entry", nn_st_show(e->name, who));
        if (got[f]) return st_fail(p, "%s: a field appears twice", nn_st_show(e->name, who));
        got[f] = true;
        if (!nn_json_expect(j, ':')) return st_json_fail(p, e->name);
        bool ok = f == 0 ? st_dtype(p, e)
                : f == 1 ? st_shape(p, e)
                         : (nn_json_expect(j, '[') && nn_json_uint64(j, &e->begin) &&
                            nn_json_expect(j, ',') && nn_json_uint64(j, &e->end) &&
                            nn_json_expect(j, ']')) || st_json_fail(p, e->name);
        if (!ok) return false;
    }
    if (!empty && !nn_json_expect(j, '}')) return st_json_fail(p, e->name);
    for (int f = 0; f < 3; f++)
        if (!got[f])
            return st_fail(p, "%s: no %s in its entry", nn_st_show(e->name, who), fields[f]);
    return true;
}

static bool st_metadata(struct st *p, struct nn_st_header *h) {
    struct nn_json *j = &p->j;
    if (h->has_meta) return st_fail(p, "__metadata__ appears twice");
    h->has_meta = true;
    if (!nn_json_expect(j, '{')) return st_json_fail(p, "__metadata__");
    if (nn_json_accept(j, '}')) return true;
    for (bool more = true; more; more = nn_json_accept(j, ',')) {
        nn_st_grow((void **)&h->meta, &h->cap_meta, h->n_meta, sizeof *h->meta);
        struct nn_st_pair *pair = &h->meta[h->n_meta];
        *pair = (struct nn_st_pair){0};
        if (!st_text(p, &pair->key)) return st_json_fail(p, "__metadata__");
        h->n_meta++;
        if (!nn_json_expect(j, ':')) return st_json_fail(p, "__metadata__");
        if (nn_json_peek(j) != '"') {
            char who[NN_ST_SHOW_MAX + 4];
            return st_fail(p, "metadata %s: the value is not a string",
                           nn_st_show(pair->key, who));
        }
        if (!st_text(p, &pair->value)) return st_json_fail(p, "__metadata__");
    }
    return nn_json_expect(j, '}') || st_json_fail(p, "__metadata__");
}

bool nn_st_parse(const char *text, size_t len, struct nn_st_header *h, char *error,
                 size_t error_size) {
    struct st p = {.error = error, .error_size = error_size};
    nn_json_init(&p.j, text, len);
    if (!nn_json_expect(&p.j, '{'))
        return st_fail(&p, "header is not a JSON object: %s", p.j.error);
    bool empty = nn_json_accept(&p.j, '}');
    for (bool more = !empty; more; more = nn_json_accept(&p.j, ',')) {
        char *key;
        if (!st_text(&p, &key)) return st_json_fail(&p, NULL);
        if (!nn_json_expect(&p.j, ':')) {
            free(key);
            return st_json_fail(&p, NULL);
        }
        bool ok;
        if (strcmp(key, "__metadata__") == 0) {
            free(key);
            ok = st_metadata(&p, h);
        } else {
            nn_st_grow((void **)&h->t, &h->cap, h->n, sizeof *h->t);
            h->t[h->n] = (struct nn_st_tensor){.name = key};
            ok = st_tensor(&p, &h->t[h->n++]);
        }
        if (!ok) return false;
    }
    if (!empty && !nn_json_expect(&p.j, '}')) return st_json_fail(&p, NULL);
    if (!nn_json_at_end(&p.j))
        return st_fail(&p, "header byte %zu: text after the JSON object", p.j.pos);
    return true;
}
