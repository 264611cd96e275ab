/* terms.c - the device-side slots of a step's named terms (terms.h).
 *
 * The slots are one vector [GW_TERMS_MAX] on the model's device; a term is written by copying
 * a 0-dim tensor into a one-element view of it, and sums for validation means are elementwise
 * ops on the whole vector, all without reading the device.
 */
#include "terms.h"

#include <math.h>
#include <string.h>

#include "autograd/ag.h"

void gw_terms_init(struct gw_terms *t, const struct gw_term_info *info, int n,
                   struct tn_device device) {
    TN_CHECK(n >= 0 && n <= GW_TERMS_MAX, "gw_terms_init", "%d terms (at most %d)", n,
             GW_TERMS_MAX);
    memset(t, 0, sizeof *t);
    t->info = info;
    t->n = n;
    int64_t shape[1] = {GW_TERMS_MAX};
    tn_scope_begin();
    t->values = tn_keep(tn_zeros(device, 1, shape));
    tn_scope_end();
    for (int i = 0; i < GW_TERMS_MAX; i++) t->host[i] = NAN;
}

void gw_terms_free(struct gw_terms *t) {
    tn_release(t->values);
    t->values = NULL;
}

void gw_terms_clear(struct gw_terms *t) {
    memset(t->set, 0, sizeof t->set);
    tn_scope_begin();
    tn_copy_into(t->values, tn_full_like(t->values, 0.0f)); /* sums then see 0 in unset slots */
    tn_scope_end();
}

void gw_terms_put(struct gw_terms *t, int index, struct tn_tensor *value) {
    TN_CHECK(index >= 0 && index < t->n, "gw_terms_put", "term %d of %d", index, t->n);
    TN_CHECK(value->numel == 1, "gw_terms_put", "term %s: %lld values, not one",
             t->info[index].name, (long long)value->numel);
    tn_scope_begin();
    struct tn_tensor *slot = tn_view(t->values, 0, NULL, NULL, t->values->offset + index);
    tn_copy_into(slot, tn_to_device(ag_detach(value), t->values->storage->device));
    tn_scope_end();
    t->set[index] = true;
}

void gw_terms_accumulate(struct gw_terms *sum, const struct gw_terms *t, double weight) {
    bool mode = ag_set_grad_enabled(false);
    tn_scope_begin();
    tn_copy_into(sum->values, ag_add(sum->values, ag_mul_scalar(t->values, (float)weight)));
    tn_scope_end();
    ag_set_grad_enabled(mode);
    for (int i = 0; i < t->n; i++) sum->set[i] = sum->set[i] || t->set[i];
}

void gw_terms_scale(struct gw_terms *sum, double factor) {
    bool mode = ag_set_grad_enabled(false);
    tn_scope_begin();
    tn_copy_into(sum->values, ag_mul_scalar(sum->values, (float)factor));
    tn_scope_end();
    ag_set_grad_enabled(mode);
}

void gw_terms_read(struct gw_terms *t) {
    float v[GW_TERMS_MAX];
    tn_to_host(t->values, v);
    for (int i = 0; i < GW_TERMS_MAX; i++) t->host[i] = i < t->n && t->set[i] ? (double)v[i] : NAN;
}

const char *gw_terms_first_bad(const struct gw_terms *t, double *value) {
    for (int i = 0; i < t->n; i++)
        if (t->set[i] && !isfinite(t->host[i])) {
            *value = t->host[i];
            return t->info[i].name;
        }
    return NULL;
}

double gw_terms_get(const struct gw_terms *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (strcmp(t->info[i].name, name) == 0) return t->host[i];
    return NAN;
}
