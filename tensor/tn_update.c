/* tn_update.c - tn_update_apply: checks a fused optimizer update and hands it to the backend
 * of the tensors' device. The arithmetic lives in the backend (tensor/cuda/cuda_update.cu). */
#include "tn_update.h"

#include "tn_backend.h"

/* Aborts unless t is dense, shaped like p and on p's device. */
static void check_operand(const struct tn_tensor *p, const struct tn_tensor *t, const char *what) {
    TN_CHECK(t != NULL, "tn_update_apply", "%s is missing", what);
    TN_CHECK(tn_same_shape(p, t), "tn_update_apply", "%s is not shaped like the parameter", what);
    TN_CHECK(tn_device_equal(p->storage->device, t->storage->device), "tn_update_apply",
             "%s is on another device than the parameter", what);
    TN_CHECK(tn_is_contiguous(t), "tn_update_apply", "%s is not dense", what);
}

void tn_update_apply(const struct tn_update *u, struct tn_tensor *p, const struct tn_tensor *g,
                     struct tn_tensor *s0, struct tn_tensor *s1) {
    check_operand(p, p, "the parameter");
    check_operand(p, g, "the gradient");
    bool needs_s0 = u->kind != TN_UPDATE_SGD || s0 != NULL;
    bool needs_s1 = u->kind == TN_UPDATE_ADAM || (u->kind == TN_UPDATE_RMSPROP && s1 != NULL);
    if (needs_s0) check_operand(p, s0, "state slot 0");
    if (needs_s1) check_operand(p, s1, "state slot 1");
    struct tn_device device = p->storage->device;
    const struct tn_backend *b = tn_backend_of(device.type);
    TN_CHECK(b->update != NULL, "tn_update_apply", "backend %s has no fused update", b->name);
    if (p->numel > 0)
        b->update(device.index, u, p->numel, tn_data(p), tn_data(g), needs_s0 ? tn_data(s0) : NULL,
                  needs_s1 ? tn_data(s1) : NULL);
    tn_bump_version(p);
    if (needs_s0) tn_bump_version(s0);
    if (needs_s1) tn_bump_version(s1);
}
