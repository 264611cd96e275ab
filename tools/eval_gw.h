/* eval_gw.h - the Gromov-Wasserstein side of the evaluation: the model's estimate L_GW beside
 * the empirical GW of the project's solver (gw_gromov_wasserstein) on the same points, and
 * the isometry of generated pairs (the paper's Fig. 1a and 1b).
 *
 * The pairing, for one batch of B data images x (docs/evaluation.md explains the choice):
 *   zs = B prior samples, xs = Dec(zs), both in evaluation mode;
 *   d_X(x) = ||x_i - x_j||, d_Z = (C/s) ||zs_i - zs_j|| with s the mean unbiased per-dim std
 *   of zs and C = exp(log C), exactly the distances of L_GW (gwae-spec.md 4.1); a model
 *   without a scale C (every one but GWAE) gets the C that makes the mean of d_Z over the
 *   batch's pairs equal that of d_X over the data's, so that its values are on the data's
 *   scale and comparable between models;
 *   estimate   = L_GW(zs, xs) = mean_ij |d_Z(zs) - d_X(xs)|: GWAE's loss term, the GW
 *                objective at the decoder's coupling (computed in double on the host);
 *   solver     = GW_1 (|.| loss, rho = 1) between (x, d_X) and (zs, d_Z): the paper's Fig. 1a
 *                compares the data (validation images) with the latent space, so does this;
 *   solver_sq  = the same with POT's square loss (a value on the squared scale);
 *   solver_gen = GW_1 between (xs, d_X) and (zs, d_Z): over the couplings of the very points
 *                L_GW uses (estimate is the objective at the decoder's one), so the optimum
 *                is <= estimate; the solver, a local method, may stop slightly above;
 *   solver_enc = GW_1 between (x, d_X) and the data's own codes (z ~ q(z|x), d_Z with the
 *                same C/s): the latent side drawn from q(z) instead of the prior.
 * Not here: files (the commands write them) and plotting.
 */
#ifndef TOOL_EVAL_GW_H
#define TOOL_EVAL_GW_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"

/* The four GW values of one batch (see the top of this file). */
struct eval_gw_point {
    double estimate, solver, solver_sq, solver_gen, solver_enc;
};

/* The values for the data batch x [B, C, S, S] with B fresh prior samples drawn from rng. */
void eval_gw_batch(struct gw_model *m, struct tn_tensor *x, struct tn_rng *rng,
                   struct eval_gw_point *out);

/* Mean and standard error over the batches of B = the model's batch size of the first
 * batches * B images of d (batches <= 0: all whole batches). Returns the batches used. */
int64_t eval_gw_split(struct gw_model *m, const struct gw_dataset *d, int64_t batches,
                      struct tn_rng *rng, struct eval_gw_point *mean, struct eval_gw_point *se);

/* Distances of n pairs of generated samples (2n prior draws decoded, pair k = draws 2k and
 * 2k+1): dz[k], dx[k]. squared: ||dz||^2 and ||dx||^2 without C/s (the official vis.py);
 * otherwise (C/s)||dz|| and ||dx||, the distances of L_GW, s taken over all 2n draws (for a
 * model without C: the scale that makes the mean of dz that of dx). */
void eval_isometry(struct gw_model *m, int64_t n, bool squared, struct tn_rng *rng, double *dz,
                   double *dx);

#endif
