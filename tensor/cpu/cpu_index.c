/* cpu_index.c - CPU kernels that move elements without arithmetic beyond adds: UNSLICE,
 * CONCAT, PAD, PAD_ADJOINT, GATHER, SCATTER_ADD and ARGSORT.
 *
 * Placement ops (unslice, concat) write through views of the output with cpu_copy_strided.
 * Indices arrive as float32 holding integers; an index out of range is a programmer error
 * and aborts with the op name, never a read or write out of bounds.
 */
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

static void fill_zero(struct tn_tensor *t) { memset(tn_data(t), 0, (size_t)t->numel * sizeof(float)); }

/* A view of out covering [start, start + length) along axis. */
static struct tn_tensor *band(struct tn_tensor *out, int axis, int64_t start, int64_t length) {
    int64_t shape[TN_MAX_DIMS];
    memcpy(shape, out->shape, sizeof shape);
    shape[axis] = length;
    return tn_view(out, out->ndim, shape, out->strides, out->offset + start * out->strides[axis]);
}

void cpu_kernel_unslice(const struct tn_kernel_args *a) {
    fill_zero(a->out);
    tn_scope_begin();
    cpu_copy_strided(band(a->out, a->params->axis, a->params->start, a->in[0]->shape[a->params->axis]),
                     a->in[0]);
    tn_scope_end();
}

void cpu_kernel_concat(const struct tn_kernel_args *a) {
    int axis = a->params->axis;
    int64_t start = 0;
    tn_scope_begin();
    for (int i = 0; i < a->n_inputs; i++) {
        int64_t len = a->in[i]->shape[axis];
        if (len > 0) cpu_copy_strided(band(a->out, axis, start, len), a->in[i]);
        start += len;
    }
    tn_scope_end();
}

/* Source coordinate of padded coordinate i for replicate padding (clamped into [0, n)). */
static inline int64_t clamp_index(int64_t i, int64_t n) { return i < 0 ? 0 : (i >= n ? n - 1 : i); }

/* PAD: out [.., H + top + bottom, W + left + right] from x [.., H, W]. */
void cpu_kernel_pad(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0];
    struct tn_tensor *out = a->out;
    const int64_t *pads = a->params->pads;
    bool replicate = a->params->pad_mode == TN_PAD_REPLICATE;
    int nd = x->ndim;
    int64_t h = x->shape[nd - 2], w = x->shape[nd - 1];
    int64_t oh = out->shape[nd - 2], ow = out->shape[nd - 1];
    int64_t planes = x->numel / (h * w);
    int64_t sh = x->strides[nd - 2], sw = x->strides[nd - 1];
    const float *src = tn_data(x);
    float *dst = tn_data(out);
#pragma omp parallel for if (out->numel >= CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++) {
        /* offset of plane p in x: walk the leading dims */
        int64_t off = 0, rem = p;
        for (int d = nd - 3; d >= 0; d--) {
            off += (rem % x->shape[d]) * x->strides[d];
            rem /= x->shape[d];
        }
        const float *xp = src + off;
        float *op = dst + p * oh * ow;
        for (int64_t i = 0; i < oh; i++) {
            int64_t si = i - pads[0];
            bool row_inside = si >= 0 && si < h;
            if (!row_inside && !replicate) {
                memset(op + i * ow, 0, (size_t)ow * sizeof(float));
                continue;
            }
            const float *row = xp + clamp_index(si, h) * sh;
            for (int64_t j = 0; j < ow; j++) {
                int64_t sj = j - pads[2];
                bool inside = sj >= 0 && sj < w;
                op[i * ow + j] = inside ? row[sj * sw] : (replicate ? row[clamp_index(sj, w) * sw] : 0.0f);
            }
        }
    }
}

/* PAD_ADJOINT: the transpose of PAD. Each padded cell sends its value back to the cell it
 * was copied from (the border for replicate, nowhere for zeros). */
void cpu_kernel_pad_adjoint(const struct tn_kernel_args *a) {
    const struct tn_tensor *g = a->in[0];
    struct tn_tensor *out = a->out;
    const int64_t *pads = a->params->pads;
    bool replicate = a->params->pad_mode == TN_PAD_REPLICATE;
    int nd = g->ndim;
    int64_t gh = g->shape[nd - 2], gw = g->shape[nd - 1];
    int64_t h = out->shape[nd - 2], w = out->shape[nd - 1];
    int64_t planes = out->numel / (h * w);
    int64_t sh = g->strides[nd - 2], sw = g->strides[nd - 1];
    const float *src = tn_data(g);
    float *dst = tn_data(out);
#pragma omp parallel for if (g->numel >= CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++) {
        int64_t off = 0, rem = p;
        for (int d = nd - 3; d >= 0; d--) {
            off += (rem % g->shape[d]) * g->strides[d];
            rem /= g->shape[d];
        }
        const float *gp = src + off;
        float *op = dst + p * h * w;
        memset(op, 0, (size_t)(h * w) * sizeof(float));
        for (int64_t i = 0; i < gh; i++) {
            int64_t si = i - pads[0];
            if (!replicate && (si < 0 || si >= h)) continue;
            float *row = op + clamp_index(si, h) * w;
            for (int64_t j = 0; j < gw; j++) {
                int64_t sj = j - pads[2];
                if (!replicate && (sj < 0 || sj >= w)) continue;
                row[clamp_index(sj, w)] += gp[i * sh + j * sw];
            }
        }
    }
}

/* Integer value of an index element, checked against the axis length. */
static inline int64_t checked_index(float v, int64_t n, const char *op) {
    int64_t k = (int64_t)v;
    TN_CHECK((float)k == v && k >= 0 && k < n, op, "index %g out of range [0, %lld)", (double)v,
             (long long)n);
    return k;
}

/* Offsets of element e (row-major over shape) in a tensor with the given strides. */
static inline int64_t offset_of(int64_t e, int ndim, const int64_t *shape, const int64_t *strides,
                                int skip_axis, int64_t *axis_coord) {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t c = e % shape[d];
        e /= shape[d];
        if (d == skip_axis) *axis_coord = c;
        else off += c * strides[d];
    }
    return off;
}

void cpu_kernel_gather(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0], *idx = a->in[1];
    struct tn_tensor *out = a->out;
    int axis = a->params->axis;
    const float *xd = tn_data(x), *id = tn_data(idx);
    float *od = tn_data(out);
    int64_t n_axis = x->shape[axis];
#pragma omp parallel for if (out->numel >= CPU_PARALLEL_MIN)
    for (int64_t e = 0; e < out->numel; e++) {
        int64_t coord, io = offset_of(e, idx->ndim, idx->shape, idx->strides, -1, &coord);
        int64_t xo = offset_of(e, idx->ndim, idx->shape, x->strides, axis, &coord);
        int64_t k = checked_index(id[io], n_axis, "GATHER");
        od[e] = xd[xo + k * x->strides[axis]];
    }
}

/* Serial on purpose: two source elements may add into one target, and the order of float
 * additions must not depend on threads (runs are reproducible bit for bit). */
void cpu_kernel_scatter_add(const struct tn_kernel_args *a) {
    const struct tn_tensor *idx = a->in[0], *src = a->in[1];
    struct tn_tensor *out = a->out;
    int axis = a->params->axis;
    fill_zero(out);
    const float *id = tn_data(idx), *sd = tn_data(src);
    float *od = tn_data(out);
    int64_t n_axis = out->shape[axis];
    for (int64_t e = 0; e < src->numel; e++) {
        int64_t coord;
        int64_t io = offset_of(e, idx->ndim, idx->shape, idx->strides, -1, &coord);
        int64_t so = offset_of(e, src->ndim, src->shape, src->strides, -1, &coord);
        int64_t oo = offset_of(e, idx->ndim, idx->shape, out->strides, axis, &coord);
        int64_t k = checked_index(id[io], n_axis, "SCATTER_ADD");
        od[oo + k * out->strides[axis]] += sd[so];
    }
}

struct sort_item {
    float value;
    int64_t index;
};

/* NaN sorts last, as in NumPy; equal values keep their order (the index breaks ties). */
static int ascending(const void *pa, const void *pb) {
    const struct sort_item *a = pa, *b = pb;
    bool na = a->value != a->value, nb = b->value != b->value;
    if (na != nb) return na ? 1 : -1;
    if (!na && a->value != b->value) return a->value < b->value ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

static int descending(const void *pa, const void *pb) {
    const struct sort_item *a = pa, *b = pb;
    bool na = a->value != a->value, nb = b->value != b->value;
    if (na != nb) return na ? 1 : -1;
    if (!na && a->value != b->value) return a->value > b->value ? -1 : 1;
    return a->index < b->index ? -1 : (a->index > b->index);
}

void cpu_kernel_argsort(const struct tn_kernel_args *a) {
    const struct tn_tensor *x = a->in[0];
    struct tn_tensor *out = a->out;
    int axis = a->params->axis;
    int64_t len = x->shape[axis], lines = x->numel / len;
    int64_t xs = x->strides[axis], os = out->strides[axis];
    const float *xd = tn_data(x);
    float *od = tn_data(out);
#pragma omp parallel
    {
        struct sort_item *items = malloc((size_t)len * sizeof *items);
        TN_CHECK(items, "ARGSORT", "out of host memory");
#pragma omp for
        for (int64_t l = 0; l < lines; l++) {
            /* line l: the element whose axis coordinate is 0 and other coordinates enumerate l */
            int64_t xo = 0, oo = 0, rem = l;
            for (int d = x->ndim - 1; d >= 0; d--) {
                if (d == axis) continue;
                int64_t c = rem % x->shape[d];
                rem /= x->shape[d];
                xo += c * x->strides[d];
                oo += c * out->strides[d];
            }
            for (int64_t j = 0; j < len; j++) items[j] = (struct sort_item){xd[xo + j * xs], j};
            qsort(items, (size_t)len, sizeof *items, a->params->descending ? descending : ascending);
            for (int64_t j = 0; j < len; j++) od[oo + j * os] = (float)items[j].index;
        }
        free(items);
    }
}
