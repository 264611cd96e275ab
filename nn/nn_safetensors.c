/* nn_safetensors.c - the safetensors header parser of nn_safetensors.h, over nn_json.h's
 * strict pull reader. */
#include "nn_safetensors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_json.h"

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
