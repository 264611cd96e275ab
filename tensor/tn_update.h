/* tn_update.h - fused in-place optimizer updates (SGD, Adam, RMSprop) on a tensor's device.
 *
 * One call reads a parameter's gradient and updates the parameter and its state slots in one
 * pass over device memory, instead of a dozen elementwise ops and their temporaries. The
 * scalars are computed once by the caller (nn_optim.c), which uses the same struct for its
 * host loops on the CPU, so both devices apply the same float operations in the same order
 * (no fused multiply-adds on either side). The CPU backend has no update entry: CPU tensors
 * are updated by nn_optim.c's loops in place.
 *
 * This header includes no engine header so that the CUDA .cu files can read the struct.
 */
#ifndef TN_UPDATE_H
#define TN_UPDATE_H

#include <stdbool.h>
#include <stdint.h>

struct tn_tensor;

enum tn_update_kind { TN_UPDATE_SGD = 0, TN_UPDATE_ADAM = 1, TN_UPDATE_RMSPROP = 2 };

/* The scalars of one step; each kind reads the fields its line names. With g the gradient,
 * p the parameter and s0, s1 the state slots:
 *  SGD:     with s0: s0 = first ? g : s0 momentum + g, d = s0; else d = g;  p = p + neg_lr d
 *  Adam:    s0 = small ? s0 + w (g - s0) : g - (g - s0) (1 - w);  s1 = s1 decay + rest g g;
 *           p = p + neg_lr s0 / (sqrt(s1) / bias2_sqrt + eps)
 *  RMSprop: s0 = s0 decay + rest g g;  a = sqrt(s0) + eps;
 *           with s1: s1 = s1 momentum + g / a, p = p + neg_lr s1; else p = p + neg_lr g / a */
struct tn_update {
    enum tn_update_kind kind;
    float neg_lr;     /* -lr (Adam: -lr / (1 - beta1^t)) */
    float momentum;   /* SGD, RMSprop */
    float decay;      /* Adam: beta2; RMSprop: alpha */
    float rest;       /* 1 - decay, rounded once in double then to float */
    float w;          /* Adam: 1 - beta1 */
    float bias2_sqrt; /* Adam: sqrt(1 - beta2^t) */
    float eps;        /* Adam, RMSprop */
    bool first;       /* SGD: the first step (the momentum buffer starts as g) */
    bool small;       /* Adam: |w| < 0.5 picks the first form of the lerp (PyTorch's choice) */
};

/* Applies u in place to p with gradient g and state slots s0, s1 (NULL when the kind does not
 * use them): all dense, of one shape, on one non-CPU device. Aborts on misuse or when the
 * device's backend has no fused update. */
void tn_update_apply(const struct tn_update *u, struct tn_tensor *p, const struct tn_tensor *g,
                     struct tn_tensor *s0, struct tn_tensor *s1);

#endif
