/* nn_checkpoint.c - the checkpoint list, the atomic safetensors writer and the checked reader.
 *
 * File layout (safetensors): 8-byte little-endian header length N, N bytes of JSON header,
 * then the data section; each tensor's data_offsets are relative to the data section. The
 * reader never trusts a number from the file: the header length is bounded by the file, every
 * offset by the data section, every shape product is computed with overflow checks, and all
 * of it is checked (names, dtypes, shapes, coverage of the data section without gaps or
 * overlaps) before the first byte of a tensor is written. The metadata carries a CRC-32C of the
 * tensor data (NN_CKPT_CHECKSUM_KEY), checked, when present, before anything is written too.
 * Not here: the JSON tokenizer (nn_json.c), the CRC (nn_crc32c.c) and the optimizer state
 * itself (nn_optim.c).
 */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64

#include "nn_checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_crc32c.h"
#include "nn_file.h"
#include "nn_json.h"
#include "nn_safetensors.h"

#define HEADER_MAX ((uint64_t)100 << 20) /* the limit of the safetensors reference reader */
#define NAME_MAX_LEN 1024

enum item_kind { ITEM_TENSOR, ITEM_U64, ITEM_I64, ITEM_CHECK };

struct item {
    enum item_kind kind;
    char *name;
    struct tn_tensor *tensor; /* ITEM_TENSOR: a reference held by the list */
    uint64_t *u64;            /* ITEM_U64 */
    int64_t *i64;             /* ITEM_I64 */
    char *text;               /* ITEM_CHECK: the value required */
};

struct nn_ckpt {
    struct item *items;
    int n_items, cap_items;
    struct nn_st_pair *meta; /* free metadata: set by the caller, or read by the last load */
    int n_meta, cap_meta;
    bool allow_extra;
};

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    TN_CHECK(d, "nn_ckpt", "out of host memory");
    memcpy(d, s, n);
    return d;
}

/* ---- the list ---- */

struct nn_ckpt *nn_ckpt_new(void) {
    struct nn_ckpt *c = calloc(1, sizeof *c);
    TN_CHECK(c, "nn_ckpt_new", "out of host memory");
    return c;
}

void nn_ckpt_free(struct nn_ckpt *c) {
    if (!c) return;
    for (int i = 0; i < c->n_items; i++) {
        free(c->items[i].name);
        free(c->items[i].text);
        tn_release(c->items[i].tensor);
    }
    free(c->items);
    nn_st_pairs_free(c->meta, c->n_meta);
    free(c);
}

static struct item *add_item(struct nn_ckpt *c, enum item_kind kind, const char *name) {
    size_t len = strlen(name);
    TN_CHECK(len > 0 && len < NAME_MAX_LEN, "nn_ckpt", "bad checkpoint name \"%s\"", name);
    TN_CHECK(strcmp(name, "__metadata__") != 0 && strcmp(name, NN_CKPT_CHECKSUM_KEY) != 0,
             "nn_ckpt", "%s is a reserved name", name);
    bool is_tensor = kind == ITEM_TENSOR;
    for (int i = 0; i < c->n_items; i++)
        TN_CHECK((c->items[i].kind == ITEM_TENSOR) != is_tensor ||
                     strcmp(c->items[i].name, name) != 0,
                 "nn_ckpt", "%s added twice", name);
    nn_st_grow((void **)&c->items, &c->cap_items, c->n_items, sizeof *c->items);
    struct item *it = &c->items[c->n_items++];
    *it = (struct item){.kind = kind, .name = dup_str(name)};
    return it;
}

void nn_ckpt_add_tensor(struct nn_ckpt *c, const char *name, struct tn_tensor *t) {
    add_item(c, ITEM_TENSOR, name)->tensor = tn_retain(t);
}

void nn_ckpt_add_module(struct nn_ckpt *c, const char *prefix, struct nn_module *m) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, prefix, true, &list);
    for (int i = 0; i < list.n; i++)
        nn_ckpt_add_tensor(c, list.items[i].name, list.items[i].tensor);
    nn_entry_list_free(&list);
}

/* "<prefix>.<rest>", or rest alone when prefix is "", in a new string. */
static char *join(const char *prefix, const char *rest) {
    size_t n = strlen(prefix) + strlen(rest) + 2;
    char *s = malloc(n);
    TN_CHECK(s, "nn_ckpt", "out of host memory");
    snprintf(s, n, "%s%s%s", prefix, *prefix ? "." : "", rest);
    return s;
}

void nn_ckpt_add_optim(struct nn_ckpt *c, const char *prefix, struct nn_optim *o) {
    struct nn_entry_list list = {0};
    nn_optim_collect_state(o, prefix, &list);
    for (int i = 0; i < list.n; i++)
        nn_ckpt_add_tensor(c, list.items[i].name, list.items[i].tensor);
    nn_entry_list_free(&list);
    for (int i = 0; i < o->n_params; i++) {
        char *param = join(prefix, o->params[i].name), *name = join(param, "step");
        nn_ckpt_add_i64(c, name, &o->params[i].step);
        free(param);
        free(name);
    }
    char *kind = join(prefix, "kind");
    nn_ckpt_add_check(c, kind, nn_optim_kind_name(o->opts.kind));
    free(kind);
}

void nn_ckpt_add_rng(struct nn_ckpt *c, const char *name, struct tn_rng *rng) {
    char *seed = join(name, "seed"), *offset = join(name, "offset");
    nn_ckpt_add_u64(c, seed, &rng->seed);
    nn_ckpt_add_u64(c, offset, &rng->offset);
    free(seed);
    free(offset);
}

void nn_ckpt_add_u64(struct nn_ckpt *c, const char *name, uint64_t *value) {
    add_item(c, ITEM_U64, name)->u64 = value;
}

void nn_ckpt_add_i64(struct nn_ckpt *c, const char *name, int64_t *value) {
    add_item(c, ITEM_I64, name)->i64 = value;
}

void nn_ckpt_add_check(struct nn_ckpt *c, const char *name, const char *value) {
    add_item(c, ITEM_CHECK, name)->text = dup_str(value);
}

void nn_ckpt_set_meta(struct nn_ckpt *c, const char *key, const char *value) {
    TN_CHECK(strcmp(key, NN_CKPT_CHECKSUM_KEY) != 0, "nn_ckpt_set_meta",
             "%s is written by the save itself", key);
    for (int i = 0; i < c->n_meta; i++)
        if (strcmp(c->meta[i].key, key) == 0) {
            free(c->meta[i].value);
            c->meta[i].value = dup_str(value);
            return;
        }
    nn_st_grow((void **)&c->meta, &c->cap_meta, c->n_meta, sizeof *c->meta);
    c->meta[c->n_meta++] = (struct nn_st_pair){dup_str(key), dup_str(value)};
}

const char *nn_ckpt_meta(const struct nn_ckpt *c, const char *key) {
    for (int i = 0; i < c->n_meta; i++)
        if (strcmp(c->meta[i].key, key) == 0) return c->meta[i].value;
    return NULL;
}

void nn_ckpt_allow_extra(struct nn_ckpt *c, bool allow) { c->allow_extra = allow; }

/* ---- little-endian float32, in place ---- */

static void encode_f32(void *buf, int64_t n) {
    unsigned char *b = buf;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, b + 4 * i, 4);
        for (int k = 0; k < 4; k++) b[4 * i + k] = (unsigned char)(u >> (8 * k));
    }
}

static void decode_f32(void *buf, int64_t n) {
    unsigned char *b = buf;
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 |
                     (uint32_t)b[4 * i + 2] << 16 | (uint32_t)b[4 * i + 3] << 24;
        memcpy(b + 4 * i, &u, 4);
    }
}

/* ---- save ---- */

static bool is_item_meta(const struct nn_ckpt *c, const char *key) {
    for (int i = 0; i < c->n_items; i++)
        if (c->items[i].kind != ITEM_TENSOR && strcmp(c->items[i].name, key) == 0) return true;
    return false;
}

static void put_meta(struct nn_buf *h, bool *first, const char *key, const char *value) {
    nn_buf_puts(h, *first ? "{" : ",");
    *first = false;
    nn_buf_put_json_string(h, key);
    nn_buf_puts(h, ":");
    nn_buf_put_json_string(h, value);
}

/* t's values as the file holds them (little-endian float32), in a new buffer; NULL when host
 * memory runs out. */
static float *file_values(struct tn_tensor *t) {
    float *buf = malloc((size_t)(t->numel > 0 ? t->numel : 1) * sizeof(float));
    if (!buf) return NULL;
    tn_to_host(t, buf);
    encode_f32(buf, t->numel);
    return buf;
}

static int item_by_name(const void *a, const void *b) {
    return strcmp((*(const struct item *const *)a)->name, (*(const struct item *const *)b)->name);
}

/* The CRC-32C of the listed tensors' data as the file holds it (little-endian float32), the
 * tensors taken in the order of their names: then the checksum does not depend on where in
 * the data section each tensor lies, and a file that another writer laid out anew still
 * matches. false when host memory runs out. */
static bool list_checksum(const struct nn_ckpt *c, uint32_t *crc) {
    const struct item **sorted = malloc((size_t)(c->n_items ? c->n_items : 1) * sizeof *sorted);
    if (!sorted) return false;
    int n = 0;
    for (int i = 0; i < c->n_items; i++)
        if (c->items[i].kind == ITEM_TENSOR) sorted[n++] = &c->items[i];
    qsort(sorted, (size_t)n, sizeof *sorted, item_by_name);
    bool ok = true;
    *crc = 0;
    for (int i = 0; i < n && ok; i++) {
        struct tn_tensor *t = sorted[i]->tensor;
        if (t->numel == 0) continue;
        float *buf = file_values(t);
        ok = buf != NULL;
        if (ok) *crc = nn_crc32c(*crc, buf, (size_t)t->numel * sizeof(float));
        free(buf);
    }
    free(sorted);
    return ok;
}

/* The JSON header, padded with spaces so the data section starts 8-byte aligned; the metadata
 * starts with the data's checksum. */
static void build_header(const struct nn_ckpt *c, uint32_t crc, struct nn_buf *h) {
    char hex[16];
    snprintf(hex, sizeof hex, "%08" PRIx32, crc);
    nn_buf_puts(h, "{\"__metadata__\":");
    bool first = true;
    put_meta(h, &first, NN_CKPT_CHECKSUM_KEY, hex);
    for (int i = 0; i < c->n_items; i++) {
        const struct item *it = &c->items[i];
        char num[32];
        if (it->kind == ITEM_TENSOR) continue;
        if (it->kind == ITEM_U64) snprintf(num, sizeof num, "%" PRIu64, *it->u64);
        if (it->kind == ITEM_I64) snprintf(num, sizeof num, "%" PRId64, *it->i64);
        put_meta(h, &first, it->name, it->kind == ITEM_CHECK ? it->text : num);
    }
    for (int i = 0; i < c->n_meta; i++) {
        /* a loaded file's checksum is stale: the one above is of the data written now */
        if (is_item_meta(c, c->meta[i].key) || strcmp(c->meta[i].key, NN_CKPT_CHECKSUM_KEY) == 0)
            continue;
        put_meta(h, &first, c->meta[i].key, c->meta[i].value);
    }
    nn_buf_puts(h, "}");
    uint64_t offset = 0;
    for (int i = 0; i < c->n_items; i++) {
        const struct tn_tensor *t = c->items[i].tensor;
        if (c->items[i].kind != ITEM_TENSOR) continue;
        nn_buf_puts(h, ",");
        nn_buf_put_json_string(h, c->items[i].name);
        nn_buf_puts(h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++)
            nn_buf_printf(h, d ? ",%" PRId64 : "%" PRId64, t->shape[d]);
        uint64_t bytes = (uint64_t)t->numel * sizeof(float);
        nn_buf_printf(h, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", offset, offset + bytes);
        offset += bytes;
    }
    nn_buf_puts(h, "}");
    while (h->len % 8 != 0) nn_buf_puts(h, " ");
}

/* Writes the header and every tensor to fd; false with errno set on failure. */
static bool write_file(const struct nn_ckpt *c, int fd, const struct nn_buf *h) {
    unsigned char len[8];
    for (int k = 0; k < 8; k++) len[k] = (unsigned char)((uint64_t)h->len >> (8 * k));
    if (!nn_write_all(fd, len, 8) || !nn_write_all(fd, h->data, h->len)) return false;
    for (int i = 0; i < c->n_items; i++) {
        struct tn_tensor *t = c->items[i].tensor;
        if (c->items[i].kind != ITEM_TENSOR || t->numel == 0) continue;
        float *buf = file_values(t);
        if (!buf) {
            errno = ENOMEM;
            return false;
        }
        bool ok = nn_write_all(fd, buf, (size_t)t->numel * sizeof(float));
        free(buf);
        if (!ok) return false;
    }
    return true;
}

struct save_args {
    const struct nn_ckpt *c;
    const struct nn_buf *h;
};

static bool fill_file(int fd, void *p) {
    struct save_args *a = p;
    return write_file(a->c, fd, a->h);
}

enum tn_status nn_ckpt_save(struct nn_ckpt *c, const char *path) {
    struct nn_buf h = {0};
    uint32_t crc;
    bool ok = list_checksum(c, &crc);
    if (ok) build_header(c, crc, &h);
    if (!ok || h.failed) {
        char shown[TN_QUOTE_SIZE];
        nn_buf_free(&h);
        return tn_error(TN_ERR_OOM, "checkpoint %s: out of host memory for the header",
                        tn_quote(path, shown, sizeof shown));
    }
    struct save_args args = {c, &h};
    enum tn_status status = nn_write_atomic(path, "checkpoint", fill_file, &args);
    nn_buf_free(&h);
    return status;
}

/* ---- load: checks, all made before anything is written ---- */

struct source {
    const unsigned char *mem; /* the whole file, or NULL to read fd */
    int fd;
    uint64_t size;
    const char *label; /* the path, for messages */
};

/* TN_ERR_INVALID with "checkpoint <label>: <message>". */
static enum tn_status invalid(const struct source *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum tn_status invalid(const struct source *s, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tn_error(TN_ERR_INVALID, "checkpoint %s: %s", s->label, msg);
}

static const char *shape_str(int ndim, const uint64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %" PRIu64 : "%" PRIu64,
                                 shape[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

/* qsort and bsearch orders: tensors (by pointer) by name or by offsets, pairs by key. */
static int by_name(const void *a, const void *b) {
    const struct nn_st_tensor *x = *(struct nn_st_tensor *const *)a;
    const struct nn_st_tensor *y = *(struct nn_st_tensor *const *)b;
    return strcmp(x->name, y->name);
}

static int by_offsets(const void *a, const void *b) {
    const struct nn_st_tensor *x = *(struct nn_st_tensor *const *)a;
    const struct nn_st_tensor *y = *(struct nn_st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

static int by_key(const void *a, const void *b) {
    return strcmp(((const struct nn_st_pair *)a)->key, ((const struct nn_st_pair *)b)->key);
}

/* One tensor's offsets lie in the data section and hold exactly its shape's bytes. */
static enum tn_status check_size(const struct source *s, const struct nn_st_tensor *e,
                                 uint64_t data_size) {
    char who[NN_ST_SHOW_MAX + 4], shape[256];
    if (e->begin > e->end || e->end > data_size)
        return invalid(s, "%s: data_offsets [%" PRIu64 ", %" PRIu64 "] outside the data "
                       "section of %" PRIu64 " bytes", nn_st_show(e->name, who), e->begin,
                       e->end, data_size);
    uint64_t numel = 1, limit = UINT64_MAX / e->dtype->size;
    bool zero = false, overflow = false;
    for (int d = 0; d < e->ndim; d++) {
        if (e->shape[d] == 0) zero = true;
        else if (numel > limit / e->shape[d]) overflow = true;
        else numel *= e->shape[d];
    }
    shape_str(e->ndim, e->shape, shape, sizeof shape);
    if (overflow && !zero)
        return invalid(s, "%s: shape %s has too many elements", nn_st_show(e->name, who), shape);
    uint64_t bytes = zero ? 0 : numel * e->dtype->size;
    if (bytes != e->end - e->begin)
        return invalid(s, "%s: shape %s of %s needs %" PRIu64 " bytes, data_offsets [%" PRIu64
                       ", %" PRIu64 "] hold %" PRIu64, nn_st_show(e->name, who), shape,
                       e->dtype->name, bytes, e->begin, e->end, e->end - e->begin);
    return TN_OK;
}

/* Every tensor's size; no name or key twice; the tensors tile the data section with no gap
 * or overlap. Leaves sorted[] ordered by name and the metadata by key, for the lookups. */
static enum tn_status check_layout(const struct source *s, struct nn_st_header *h,
                                   uint64_t data_size, struct nn_st_tensor **sorted) {
    char who[NN_ST_SHOW_MAX + 4], other[NN_ST_SHOW_MAX + 4];
    for (int i = 0; i < h->n; i++) {
        enum tn_status st = check_size(s, &h->t[i], data_size);
        if (st != TN_OK) return st;
        sorted[i] = &h->t[i];
    }
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_name);
    for (int i = 1; i < h->n; i++)
        if (strcmp(sorted[i]->name, sorted[i - 1]->name) == 0)
            return invalid(s, "%s: the name appears twice in the header",
                           nn_st_show(sorted[i]->name, who));
    if (h->n_meta > 1) qsort(h->meta, (size_t)h->n_meta, sizeof *h->meta, by_key);
    for (int i = 1; i < h->n_meta; i++)
        if (strcmp(h->meta[i].key, h->meta[i - 1].key) == 0)
            return invalid(s, "metadata %s: the key appears twice",
                           nn_st_show(h->meta[i].key, who));
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_offsets);
    uint64_t at = 0;
    for (int i = 0; i < h->n; i++) {
        const struct nn_st_tensor *e = sorted[i];
        if (e->begin < at)
            return invalid(s, "%s: data_offsets [%" PRIu64 ", %" PRIu64 "] overlap those of %s",
                           nn_st_show(e->name, who), e->begin, e->end,
                           nn_st_show(sorted[i - 1]->name, other));
        if (e->begin > at)
            return invalid(s, "%s: data_offsets start at %" PRIu64 ", leaving a gap after "
                           "byte %" PRIu64, nn_st_show(e->name, who), e->begin, at);
        at = e->end;
    }
    if (at != data_size)
        return invalid(s, "the data section has %" PRIu64 " bytes but its tensors cover %"
                       PRIu64, data_size, at);
    qsort(sorted, (size_t)h->n, sizeof *sorted, by_name);
    return TN_OK;
}

static struct nn_st_tensor *find_tensor(struct nn_st_tensor **sorted, int n, const char *name) {
    struct nn_st_tensor key = {.name = (char *)name}, *k = &key;
    struct nn_st_tensor **hit = bsearch(&k, sorted, (size_t)n, sizeof *sorted, by_name);
    return hit ? *hit : NULL;
}

static const char *find_meta(const struct nn_st_header *h, const char *key) {
    if (h->n_meta == 0) return NULL; /* bsearch may not be given a NULL array */
    struct nn_st_pair k = {.key = (char *)key};
    const struct nn_st_pair *hit = bsearch(&k, h->meta, (size_t)h->n_meta, sizeof *h->meta,
                                           by_key);
    return hit ? hit->value : NULL;
}

/* Strict decimal: optional '-' when negative_ok, 1-20 digits, no overflow. */
static bool parse_decimal(const char *text, bool negative_ok, uint64_t *magnitude,
                          bool *negative) {
    *negative = negative_ok && *text == '-';
    const char *p = text + *negative;
    if (!*p) return false;
    uint64_t v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return false;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *magnitude = v;
    return true;
}

/* Every listed value's text is present and well formed (nothing is written yet). */
static enum tn_status check_values(const struct nn_ckpt *c, const struct source *s,
                                   const struct nn_st_header *h) {
    char shown[NN_ST_SHOW_MAX + 4];
    for (int i = 0; i < c->n_items; i++) {
        const struct item *it = &c->items[i];
        if (it->kind == ITEM_TENSOR) continue;
        const char *text = find_meta(h, it->name);
        if (!text) return invalid(s, "metadata %s: missing from the file", it->name);
        uint64_t mag;
        bool neg;
        if (it->kind == ITEM_CHECK && strcmp(text, it->text) != 0)
            return invalid(s, "metadata %s: \"%s\" in file, \"%s\" expected", it->name,
                           nn_st_show(text, shown), it->text);
        if (it->kind == ITEM_U64 && !parse_decimal(text, false, &mag, &neg))
            return invalid(s, "metadata %s: \"%s\" is not an unsigned 64-bit decimal", it->name,
                           nn_st_show(text, shown));
        if (it->kind == ITEM_I64 && (!parse_decimal(text, true, &mag, &neg) ||
                                     mag > (uint64_t)INT64_MAX + neg))
            return invalid(s, "metadata %s: \"%s\" is not a signed 64-bit decimal", it->name,
                           nn_st_show(text, shown));
    }
    return TN_OK;
}

/* Every listed tensor is in the file as F32 with its shape; extras only if allowed. */
static enum tn_status check_tensors(const struct nn_ckpt *c, const struct source *s,
                                    struct nn_st_tensor **sorted, int n) {
    char a[256], b[256], who[NN_ST_SHOW_MAX + 4];
    for (int i = 0; i < c->n_items; i++) {
        const struct item *it = &c->items[i];
        if (it->kind != ITEM_TENSOR) continue;
        struct nn_st_tensor *e = find_tensor(sorted, n, it->name);
        if (!e) return invalid(s, "%s: missing from the file", it->name);
        if (strcmp(e->dtype->name, "F32") != 0)
            return invalid(s, "%s: dtype %s in file, F32 expected", it->name, e->dtype->name);
        bool same = e->ndim == it->tensor->ndim;
        for (int d = 0; same && d < e->ndim; d++)
            same = e->shape[d] == (uint64_t)it->tensor->shape[d];
        if (!same)
            return invalid(s, "%s: shape %s in file, %s expected", it->name,
                           shape_str(e->ndim, e->shape, a, sizeof a),
                           tn_shape_str(it->tensor->ndim, it->tensor->shape, b, sizeof b));
        e->used = true;
    }
    if (c->allow_extra) return TN_OK;
    int extra = 0, first = -1;
    for (int i = 0; i < n; i++)
        if (!sorted[i]->used && extra++ == 0) first = i;
    if (extra)
        return invalid(s, "%s: in the file but not expected (%d unexpected tensor%s; "
                       "nn_ckpt_allow_extra skips them)", nn_st_show(sorted[first]->name, who),
                       extra, extra == 1 ? "" : "s");
    return TN_OK;
}

/* ---- load: reading ---- */

static enum tn_status source_read(const struct source *s, uint64_t offset, void *dst, size_t n) {
    if (s->mem) {
        memcpy(dst, s->mem + offset, n);
        return TN_OK;
    }
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(s->fd, (char *)dst + done, n - done, (off_t)(offset + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return tn_error(TN_ERR_IO, "checkpoint %s: read failed: %s", s->label,
                            strerror(errno));
        if (r == 0)
            return tn_error(TN_ERR_IO, "checkpoint %s: the file ended early (changed while "
                            "being read?)", s->label);
        done += (size_t)r;
    }
    return TN_OK;
}

/* Exactly 8 lowercase hex digits, as the writer puts them. */
static bool parse_hex32(const char *text, uint32_t *out) {
    if (strlen(text) != 8) return false;
    uint32_t v = 0;
    for (int k = 0; k < 8; k++) {
        char ch = text[k];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return false;
        v = v << 4 | (uint32_t)d;
    }
    *out = v;
    return true;
}

/* Checks the data against the checksum in the metadata, when there is one (files written
 * before checksums have none): the CRC-32C of every tensor's bytes in the order of their
 * names (sorted[] is in that order), read in pieces of at most 1 MiB. */
static enum tn_status check_checksum(const struct source *s, const struct nn_st_header *h,
                                     struct nn_st_tensor **sorted, uint64_t data_start) {
    const char *text = find_meta(h, NN_CKPT_CHECKSUM_KEY);
    if (!text) return TN_OK;
    uint32_t want;
    char shown[NN_ST_SHOW_MAX + 4];
    if (!parse_hex32(text, &want))
        return invalid(s, "metadata %s: \"%s\" is not 8 lowercase hex digits",
                       NN_CKPT_CHECKSUM_KEY, nn_st_show(text, shown));
    enum { PIECE = 1 << 20 };
    unsigned char *buf = s->mem ? NULL : malloc(PIECE);
    if (!s->mem && !buf) return tn_error(TN_ERR_OOM, "checkpoint %s: out of host memory", s->label);
    uint32_t crc = 0;
    enum tn_status st = TN_OK;
    for (int i = 0; i < h->n && st == TN_OK; i++)
        for (uint64_t at = sorted[i]->begin; at < sorted[i]->end && st == TN_OK; at += PIECE) {
            size_t n = sorted[i]->end - at < PIECE ? (size_t)(sorted[i]->end - at) : PIECE;
            if (s->mem) {
                crc = nn_crc32c(crc, s->mem + data_start + at, n);
            } else if ((st = source_read(s, data_start + at, buf, n)) == TN_OK) {
                crc = nn_crc32c(crc, buf, n);
            }
        }
    free(buf);
    if (st == TN_OK && crc != want)
        st = invalid(s, "data checksum mismatch: the file is corrupt (%s %08" PRIx32 " in the "
                     "header, %08" PRIx32 " computed from the data)", NN_CKPT_CHECKSUM_KEY, want,
                     crc);
    return st;
}

/* Writes the checked file into the listed tensors and values. */
static enum tn_status apply(struct nn_ckpt *c, const struct source *s, struct nn_st_header *h,
                            struct nn_st_tensor **sorted, uint64_t data_start) {
    for (int i = 0; i < c->n_items; i++) {
        struct item *it = &c->items[i];
        if (it->kind != ITEM_TENSOR) continue;
        struct nn_st_tensor *e = find_tensor(sorted, h->n, it->name);
        int64_t numel = it->tensor->numel;
        float *buf = malloc((size_t)(numel > 0 ? numel : 1) * sizeof(float));
        if (!buf)
            return tn_error(TN_ERR_OOM, "checkpoint %s: %s: out of host memory", s->label,
                            it->name);
        enum tn_status st = source_read(s, data_start + e->begin, buf, (size_t)(e->end - e->begin));
        if (st == TN_OK) {
            decode_f32(buf, numel);
            tn_write_host(it->tensor, buf);
        }
        free(buf);
        if (st != TN_OK) return st;
    }
    for (int i = 0; i < c->n_items; i++) {
        struct item *it = &c->items[i];
        uint64_t mag;
        bool neg;
        if (it->kind == ITEM_U64) parse_decimal(find_meta(h, it->name), false, it->u64, &neg);
        if (it->kind == ITEM_I64 && parse_decimal(find_meta(h, it->name), true, &mag, &neg))
            *it->i64 = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    }
    nn_st_pairs_free(c->meta, c->n_meta); /* the file's metadata replaces the caller's */
    c->meta = h->meta;
    c->n_meta = c->cap_meta = h->n_meta;
    h->meta = NULL;
    h->n_meta = 0;
    return TN_OK;
}

static enum tn_status load(struct nn_ckpt *c, const struct source *s) {
    unsigned char len_bytes[8];
    if (s->size < 8)
        return invalid(s, "%" PRIu64 " bytes, too short for the 8-byte header length", s->size);
    enum tn_status st = source_read(s, 0, len_bytes, 8);
    if (st != TN_OK) return st;
    uint64_t n = 0;
    for (int k = 7; k >= 0; k--) n = n << 8 | len_bytes[k];
    if (n > s->size - 8)
        return invalid(s, "header length %" PRIu64 " exceeds the %" PRIu64 " bytes after it", n,
                       s->size - 8);
    if (n > HEADER_MAX)
        return invalid(s, "header length %" PRIu64 " exceeds the limit of %" PRIu64, n,
                       HEADER_MAX);
    char *text = malloc((size_t)n + 1);
    if (!text) return tn_error(TN_ERR_OOM, "checkpoint %s: out of host memory", s->label);
    st = source_read(s, 8, text, (size_t)n);
    struct nn_st_header h = {0};
    struct nn_st_tensor **sorted = NULL;
    char why[768];
    if (st == TN_OK && !nn_st_parse(text, (size_t)n, &h, why, sizeof why))
        st = invalid(s, "%s", why);
    free(text);
    if (st == TN_OK) {
        sorted = malloc((size_t)(h.n > 0 ? h.n : 1) * sizeof *sorted);
        if (!sorted) st = tn_error(TN_ERR_OOM, "checkpoint %s: out of host memory", s->label);
    }
    if (st == TN_OK) st = check_layout(s, &h, s->size - 8 - n, sorted);
    if (st == TN_OK) st = check_values(c, s, &h);
    if (st == TN_OK) st = check_tensors(c, s, sorted, h.n);
    if (st == TN_OK) st = check_checksum(s, &h, sorted, 8 + n);
    if (st == TN_OK) st = apply(c, s, &h, sorted, 8 + n);
    free(sorted);
    nn_st_header_free(&h);
    return st;
}

enum tn_status nn_ckpt_load(struct nn_ckpt *c, const char *path) {
    char shown[TN_QUOTE_SIZE];
    struct source s = {.label = tn_quote(path, shown, sizeof shown)};
    enum tn_status st = nn_open_regular(path, "checkpoint", &s.fd, &s.size);
    if (st != TN_OK) return st;
    st = load(c, &s);
    close(s.fd);
    return st;
}

enum tn_status nn_ckpt_load_memory(struct nn_ckpt *c, const void *data, size_t size) {
    static const unsigned char empty[1] = {0};
    struct source s = {.mem = data ? data : empty, .fd = -1, .size = size, .label = "<memory>"};
    return load(c, &s);
}

const char *nn_ckpt_first_nonfinite(const struct nn_ckpt *c) {
    for (int i = 0; i < c->n_items; i++)
        if (c->items[i].kind == ITEM_TENSOR && !nn_tensor_all_finite(c->items[i].tensor))
            return c->items[i].name;
    return NULL;
}
