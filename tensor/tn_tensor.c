/* tn_tensor.c - tensor handles, storages, scopes, host transfers and copies between
 * tensors and devices.
 *
 * Holds no math: the only computation here is copying, through the backend's copy or the
 * CONTIGUOUS kernel on the tensor's own device, and through the host only between devices.
 */
#include "tn_tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_backend.h"

static void (*node_release)(struct ag_node *node);
static uint64_t next_tensor_id = 1;

void tn_set_node_release(void (*release)(struct ag_node *node)) { node_release = release; }

/* ---- shapes ---- */

int64_t tn_numel_of(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

void tn_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        strides[d] = s;
        s *= shape[d];
    }
}

bool tn_is_contiguous(const struct tn_tensor *t) {
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->strides[d] != s) return false;
        s *= t->shape[d];
    }
    return true;
}

bool tn_same_shape(const struct tn_tensor *a, const struct tn_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return false;
    return true;
}

const char *tn_shape_str(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, d ? ", %lld" : "%lld",
                                 (long long)shape[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
    return buf;
}

bool tn_device_equal(struct tn_device a, struct tn_device b) {
    return a.type == b.type && a.index == b.index;
}

float *tn_data(const struct tn_tensor *t) { return t->storage->data + t->offset; }

void tn_bump_version(struct tn_tensor *t) { t->storage->version++; }

/* ---- lifetime ---- */

struct tn_tensor *tn_retain(struct tn_tensor *t) {
    t->refcount++;
    return t;
}

static void storage_release(struct tn_storage *s) {
    if (--s->refcount > 0) return;
    tn_alloc_release(s->device, s->data, s->bytes);
    free(s);
}

void tn_release(struct tn_tensor *t) {
    if (!t) return;
    TN_CHECK(t->refcount > 0, "tn_release", "tensor %llu released more often than retained",
             (unsigned long long)t->id);
    if (--t->refcount > 0) return;
    storage_release(t->storage);
    tn_release(t->grad);
    if (t->grad_fn) node_release(t->grad_fn);
    free(t);
    tn_mem_count_tensor(-1);
}

/* Scopes: a stack of growable arrays of references. */
struct scope {
    struct tn_tensor **items;
    int64_t n, cap;
};

static _Thread_local struct scope *scopes;
static _Thread_local int n_scopes, cap_scopes;

void tn_scope_begin(void) {
    if (n_scopes == cap_scopes) {
        int cap = cap_scopes ? 2 * cap_scopes : 16;
        struct scope *grown = realloc(scopes, (size_t)cap * sizeof *grown);
        TN_CHECK(grown, "tn_scope_begin", "out of host memory");
        memset(grown + cap_scopes, 0, (size_t)(cap - cap_scopes) * sizeof *grown);
        scopes = grown;
        cap_scopes = cap;
    }
    scopes[n_scopes++].n = 0;
}

void tn_scope_end(void) {
    TN_CHECK(n_scopes > 0, "tn_scope_end", "no scope is open");
    struct scope *s = &scopes[n_scopes - 1];
    /* Release newest first, so a tensor dies before the tensors it was made from. */
    for (int64_t i = s->n - 1; i >= 0; i--) tn_release(s->items[i]);
    s->n = 0;
    n_scopes--;
    if (n_scopes == 0) { /* the outermost scope closed: give the arrays back */
        for (int i = 0; i < cap_scopes; i++) free(scopes[i].items);
        free(scopes);
        scopes = NULL;
        cap_scopes = 0;
    }
}

struct tn_tensor *tn_scope_adopt(struct tn_tensor *t) {
    TN_CHECK(n_scopes > 0, "tensor",
             "no scope is open: call tn_scope_begin() before making tensors (every result "
             "belongs to the innermost scope; tn_keep() one to hold it longer)");
    struct scope *s = &scopes[n_scopes - 1];
    if (s->n == s->cap) {
        int64_t cap = s->cap ? 2 * s->cap : 64;
        struct tn_tensor **grown = realloc(s->items, (size_t)cap * sizeof *grown);
        TN_CHECK(grown, "tn_scope_adopt", "out of host memory");
        s->items = grown;
        s->cap = cap;
    }
    s->items[s->n++] = t;
    return t;
}

struct tn_tensor *tn_keep(struct tn_tensor *t) { return tn_retain(t); }

/* ---- creation ---- */

static struct tn_tensor *handle_new(struct tn_storage *storage, int ndim, const int64_t *shape,
                                    const int64_t *strides, int64_t offset) {
    TN_CHECK(ndim >= 0 && ndim <= TN_MAX_DIMS, "tensor", "%d dims (at most %d)", ndim,
             TN_MAX_DIMS);
    struct tn_tensor *t = calloc(1, sizeof *t);
    TN_CHECK(t, "tensor", "out of host memory");
    t->refcount = 1;
    t->storage = storage;
    storage->refcount++;
    t->offset = offset;
    t->ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        TN_CHECK(shape[d] >= 0, "tensor", "negative size %lld in dim %d", (long long)shape[d], d);
        t->shape[d] = shape[d];
        t->strides[d] = strides[d];
    }
    t->numel = tn_numel_of(ndim, shape);
    t->id = next_tensor_id++;
    tn_mem_count_tensor(+1);
    return t;
}

enum tn_status tn_try_empty(struct tn_device device, int ndim, const int64_t *shape,
                            struct tn_tensor **out) {
    int64_t numel = tn_numel_of(ndim, shape);
    struct tn_storage *s = calloc(1, sizeof *s);
    if (!s) return tn_error(TN_ERR_OOM, "out of host memory for a storage");
    void *data;
    size_t bytes;
    enum tn_status status = tn_alloc(device, (size_t)numel * sizeof(float), &data, &bytes);
    if (status != TN_OK) {
        free(s);
        return status;
    }
    *s = (struct tn_storage){.refcount = 0, .device = device, .data = data, .bytes = bytes,
                             .numel = numel};
    int64_t strides[TN_MAX_DIMS];
    tn_contiguous_strides(ndim, shape, strides);
    *out = tn_scope_adopt(handle_new(s, ndim, shape, strides, 0));
    return TN_OK;
}

struct tn_tensor *tn_empty(struct tn_device device, int ndim, const int64_t *shape) {
    struct tn_tensor *t;
    enum tn_status status = tn_try_empty(device, ndim, shape, &t);
    if (status != TN_OK) TN_FATAL("tn_empty", "%s", tn_last_error());
    return t;
}

struct tn_tensor *tn_full(struct tn_device device, int ndim, const int64_t *shape, float value) {
    struct tn_tensor *t = tn_empty(device, ndim, shape);
    tn_backend_of(device.type)->fill(device.index, tn_data(t), value, t->numel);
    return t;
}

struct tn_tensor *tn_zeros(struct tn_device device, int ndim, const int64_t *shape) {
    return tn_full(device, ndim, shape, 0.0f);
}

struct tn_tensor *tn_scalar(struct tn_device device, float value) {
    return tn_full(device, 0, NULL, value);
}

struct tn_tensor *tn_full_like(const struct tn_tensor *like, float value) {
    return tn_full(like->storage->device, like->ndim, like->shape, value);
}

struct tn_tensor *tn_from_host(struct tn_device device, int ndim, const int64_t *shape,
                               const float *values) {
    struct tn_tensor *t = tn_empty(device, ndim, shape);
    tn_backend_of(device.type)->copy_from_host(device.index, tn_data(t), values,
                                               (size_t)t->numel * sizeof(float));
    return t;
}

struct tn_tensor *tn_view(const struct tn_tensor *t, int ndim, const int64_t *shape,
                          const int64_t *strides, int64_t offset) {
    return tn_scope_adopt(handle_new(t->storage, ndim, shape, strides, offset));
}

enum tn_status tn_move_to_device(struct tn_tensor *t, struct tn_device device) {
    TN_CHECK(t->grad_fn == NULL, "tn_move_to_device", "only leaf tensors move in place");
    if (tn_device_equal(t->storage->device, device) && tn_is_contiguous(t)) return TN_OK;
    tn_scope_begin();
    struct tn_tensor *moved;
    enum tn_status st = tn_try_empty(device, t->ndim, t->shape, &moved);
    if (st == TN_OK) {
        tn_copy_into(moved, t);
        struct tn_storage *old = t->storage;
        t->storage = moved->storage;
        t->storage->refcount++;
        t->storage->version = old->version + 1; /* graphs that saved the old data are stale */
        t->offset = 0;
        tn_contiguous_strides(t->ndim, t->shape, t->strides);
        storage_release(old);
    }
    tn_scope_end();
    return st;
}

struct tn_tensor *tn_set_requires_grad(struct tn_tensor *t, bool requires_grad) {
    TN_CHECK(!t->grad_fn || requires_grad, "tn_set_requires_grad",
             "cannot stop gradients of a non-leaf tensor in place; use ag_detach");
    t->requires_grad = requires_grad;
    return t;
}

/* ---- host transfers ---- */

void tn_to_host(const struct tn_tensor *t, float *out) {
    const struct tn_backend *b = tn_backend_of(t->storage->device.type);
    size_t bytes = (size_t)t->numel * sizeof(float);
    if (tn_is_contiguous(t)) {
        b->copy_to_host(t->storage->device.index, out, tn_data(t), bytes);
        return;
    }
    struct tn_tensor *in[1] = {(struct tn_tensor *)t};
    struct tn_op_params p = {0};
    tn_scope_begin();
    struct tn_tensor *dense = tn_op_run(TN_OP_CONTIGUOUS, 1, in, &p);
    b->copy_to_host(t->storage->device.index, out, tn_data(dense), bytes);
    tn_scope_end();
}

float tn_item(const struct tn_tensor *t) {
    TN_CHECK(t->numel == 1, "tn_item", "tensor has %lld elements, not 1", (long long)t->numel);
    float value;
    tn_to_host(t, &value);
    return value;
}

void tn_write_host(struct tn_tensor *t, const float *values) {
    const struct tn_backend *b = tn_backend_of(t->storage->device.type);
    size_t bytes = (size_t)t->numel * sizeof(float);
    if (tn_is_contiguous(t)) {
        b->copy_from_host(t->storage->device.index, tn_data(t), values, bytes);
    } else if (t->storage->device.type != TN_DEVICE_CPU) {
        /* A strided device tensor: a dense copy on the device, then the backend's copy. */
        tn_scope_begin();
        b->copy(t, tn_from_host(t->storage->device, t->ndim, t->shape, values));
        tn_scope_end();
    } else {
        /* A strided CPU tensor is written element by element, in row-major order. */
        int64_t idx[TN_MAX_DIMS] = {0};
        float *base = tn_data(t);
        for (int64_t i = 0; i < t->numel; i++) {
            int64_t off = 0;
            for (int d = 0; d < t->ndim; d++) off += idx[d] * t->strides[d];
            base[off] = values[i];
            for (int d = t->ndim - 1; d >= 0; d--) {
                if (++idx[d] < t->shape[d]) break;
                idx[d] = 0;
            }
        }
    }
    tn_bump_version(t);
}

void tn_copy_into(struct tn_tensor *dst, const struct tn_tensor *src) {
    char a[96], b[96];
    TN_CHECK(tn_same_shape(dst, src), "tn_copy_into", "shapes %s and %s differ",
             tn_shape_str(dst->ndim, dst->shape, a, sizeof a),
             tn_shape_str(src->ndim, src->shape, b, sizeof b));
    if (dst->numel == 0) return;
    struct tn_device to = dst->storage->device;
    if (tn_device_equal(to, src->storage->device)) {
        tn_backend_of(to.type)->copy(dst, src);
        tn_bump_version(dst);
        return;
    }
    /* across devices, through a host buffer; tn_write_host bumps the version */
    float *host = malloc((size_t)src->numel * sizeof(float));
    TN_CHECK(host, "tn_copy_into", "out of host memory");
    tn_to_host(src, host);
    tn_write_host(dst, host);
    free(host);
}

void tn_kernel_to_device(const struct tn_kernel_args *args) { tn_copy_into(args->out, args->in[0]); }

struct tn_tensor *tn_to_device(struct tn_tensor *t, struct tn_device device) {
    if (tn_device_equal(t->storage->device, device)) return t;
    struct tn_tensor *out = tn_empty(device, t->ndim, t->shape);
    tn_copy_into(out, t);
    return out;
}
