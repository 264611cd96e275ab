/* swae.h - what the Symmetric WAE (gwae/models/swae.c) shows beyond the model interface, for
 * its tests: the nearest pseudo-input of each image, the pseudo-inputs themselves, and the
 * objective as a function of its parts.
 */
#ifndef GW_MODELS_SWAE_H
#define GW_MODELS_SWAE_H

#include "gwae/model.h"

/* The objectives of the authors' code (--obj): with x-loss, z-loss and reconstruction
 * each summed over values and averaged over the batch,
 *   xzrec: beta x-loss + (1 - beta) rec + lambda z-loss   (their final model)
 *   xz:    beta x-loss + lambda z-loss
 *   zrec:  beta rec + lambda z-loss */
enum gw_swae_objective { GW_SWAE_XZREC, GW_SWAE_XZ, GW_SWAE_ZREC };

/* The index [B] (floats holding integers) of the row of u [K, ...] nearest to each row of x
 * [B, ...] in Euclidean distance (the first on ties), computed without a graph. */
struct tn_tensor *gw_swae_nearest(struct tn_tensor *x, struct tn_tensor *u);

/* The loss of x [B, ...] from its reconstruction x_rec = Dec(z_e), the decoding x_d = Dec(z_d)
 * of the prior's draw and the codes z_e, z_d [B, L]; *rec, *x_loss, *z_loss get the parts. */
struct tn_tensor *gw_swae_objective(enum gw_swae_objective objective, float beta, float lambda,
                                    struct tn_tensor *x, struct tn_tensor *x_rec,
                                    struct tn_tensor *x_d, struct tn_tensor *z_e,
                                    struct tn_tensor *z_d, struct tn_tensor **rec,
                                    struct tn_tensor **x_loss, struct tn_tensor **z_loss);

/* The pseudo-input parameter [K, C, S, S] of a swae model (before the clamp to [0, 1]). */
struct tn_tensor *gw_swae_pseudo_inputs(struct gw_model *m);

#endif
