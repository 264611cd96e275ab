/* op_cases.c - joins the family tables and builds a case's inputs. */
#include "op_cases.h"

#include <stdlib.h>
#include <string.h>

const struct op_case *op_cases_all(int *n) {
    static struct op_case *all;
    static int count;
    if (!all) {
        const struct op_case_table *tables[] = {&cases_elementwise, &cases_reduce, &cases_shape,
                                                &cases_conv, &cases_index, &cases_distance};
        int total = 0;
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) total += tables[t]->n;
        all = calloc((size_t)total, sizeof *all);
        cr_assert(all);
        for (size_t t = 0; t < sizeof tables / sizeof *tables; t++) {
            memcpy(all + count, tables[t]->cases, (size_t)tables[t]->n * sizeof *all);
            count += tables[t]->n;
        }
    }
    *n = count;
    return all;
}

int *op_case_indices(size_t *n) {
    int count;
    op_cases_all(&count);
    int *index = cr_malloc(sizeof *index * (size_t)count);
    for (int i = 0; i < count; i++) index[i] = i;
    *n = (size_t)count;
    return index;
}

const struct op_case *op_case_at(const int *index) {
    int n;
    return &op_cases_all(&n)[*index];
}

void op_case_free_indices(struct criterion_test_params *p) { cr_free(p->params); }

void op_case_inputs(const struct op_case *c, struct tn_rng *rng, struct tn_tensor **in) {
    for (int i = 0; i < c->n_inputs; i++) {
        const struct input_spec *s = &c->in[i];
        struct tn_tensor *t;
        if (s->kind == IN_TRANSPOSED) {
            t = make_random_transposed(rng, s->ndim, s->shape, s->lo, s->hi);
        } else {
            t = make_random(rng, s->ndim, s->shape, 0.0f, 1.0f);
            float *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
            cr_assert(v);
            tn_to_host(t, v);
            for (int64_t k = 0; k < t->numel; k++) {
                switch (s->kind) {
                case IN_INDEX: v[k] = (float)(int64_t)(v[k] * s->hi); break;
                case IN_MASK: v[k] = v[k] < 0.5f ? 0.0f : 1.0f; break;
                case IN_AWAY: {
                    float x = s->lo + (s->hi - s->lo) * v[k];
                    v[k] = (x >= 0 ? 1.0f : -1.0f) * (0.1f + 0.9f * (x >= 0 ? x : -x));
                    break;
                }
                default: v[k] = s->lo + (s->hi - s->lo) * v[k];
                }
            }
            tn_write_host(t, v);
            free(v);
        }
        in[i] = tn_set_requires_grad(t, s->grad);
    }
}

float broadcast_at(const float *src, int src_ndim, const int64_t *src_shape, int ndim,
                   const int64_t *shape, int64_t e) {
    int64_t off = 0, stride = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        int64_t coord = e % shape[d];
        e /= shape[d];
        int ds = d - (ndim - src_ndim);
        if (ds < 0) continue;
        if (src_shape[ds] != 1) off += coord * stride;
        stride *= src_shape[ds];
    }
    return src[off];
}

int64_t op_case_out_numel(const struct op_case *c) {
    return tn_numel_of(c->out_ndim, c->out_shape);
}
