/* sliced_fgw.h - the sliced fused Gromov-Wasserstein discrepancy of the relational
 * autoencoders (RAE, Xu et al. ICML 2020) and the search for its slicing directions (SSFG,
 * MSSFG, PSSFG and max-SFG, Nguyen et al. ICLR 2021).
 *
 * The distance is the RAE code's (drae.py: sliced_fgw_distance; seed-systems.md section 1.2):
 * for each direction theta_l, project both batches, sort, and with a = the sorted codes, b the
 * sorted prior draws and b' = b reversed,
 *   W = sum_i |a_i - b_i|^p,   GW = mean_ij (|a_i - a_j|^p - |b_i - b_j|^p)^p (abs for odd p),
 *   F = (1 - beta) W + beta GW for the ascending (b) and the descending (b') pairing,
 *   f_l = min(F_asc, F_desc),   SFG = sum_l f_l   (no 1/L, no 1/p root).
 * Differentiable in both batches through the sorted values and in the directions. For p = 2
 * the GW part is computed in O(n) per slice by an exact expansion (sliced_fgw.c).
 *
 * The search (seed-systems.md section 1.4, relatives-sources.md section 1.3): the locations
 * eps [k, d] of the slicing law are moved by T steps of Adam ascent on the distance between the
 * detached batches, each step with fresh base draws (which do not depend on eps; the
 * Householder map carries the gradient), and renormalised after each step. The main loss then
 * uses L new directions drawn around the found locations, as constants.
 * Not here: the samplers (sphere.h) and the models (rae.c).
 */
#ifndef GW_MODELS_SLICED_FGW_H
#define GW_MODELS_SLICED_FGW_H

#include "sphere.h"

/* How the directions are chosen. */
enum gw_slicing_kind {
    GW_SLICE_GAUSSIAN, /* L directions N(0, I_d), not normalised: the RAE code's SFG */
    GW_SLICE_UNIFORM,  /* L unit directions, uniform: SFG as the papers define it */
    GW_SLICE_VMF,      /* L draws of the vMF mixture around the searched locations: (M)SSFG */
    GW_SLICE_POWER,    /* the same with the power spherical law: PSSFG */
    GW_SLICE_MAX,      /* the one searched direction (the kappa -> infinity limit): max-SFG */
};

struct gw_slicing {
    enum gw_slicing_kind kind;
    int64_t projections; /* L (max-SFG: unused, one direction) */
    double p, beta;      /* the power and the fused weight */
    double kappa;        /* concentration of the vMF / power spherical law */
    int components;      /* k locations (an equal-weight mixture when k > 1) */
    int steps;           /* T ascent steps */
    double lr;           /* Adam's learning rate in the ascent */
};

/* Whether kind searches locations (vMF, power, max). */
bool gw_slicing_searches(enum gw_slicing_kind kind);

/* SFG between z [n, d] and y [n, d] along the rows of theta [L, d]: a 0-dim tensor. */
struct tn_tensor *gw_sliced_fgw(struct tn_tensor *z, struct tn_tensor *y, struct tn_tensor *theta,
                                double p, double beta);

/* The directions [L, d] of the searched kinds for locations eps [k, d] from base draws y
 * [L, d] around e1 (max-SFG: eps itself, y unused); differentiable in eps. */
struct tn_tensor *gw_slicing_directions(const struct gw_slicing *s, struct tn_tensor *eps,
                                        struct tn_tensor *y);

/* The ascent's objective: SFG between z and y along gw_slicing_directions(s, eps, base). */
struct tn_tensor *gw_slicing_objective(const struct gw_slicing *s, struct tn_tensor *z,
                                       struct tn_tensor *y, struct tn_tensor *eps,
                                       struct tn_tensor *base);

/* The locations after s->steps Adam steps of ascent on gw_slicing_objective from the unit rows
 * eps0 [k, d], z and y detached, step t with base draws base[t] ([T, L, d]; NULL for max-SFG):
 * unit rows [k, d] without a graph. Runs with gradients on even where the caller has them off. */
struct tn_tensor *gw_slicing_ascent(const struct gw_slicing *s, struct tn_tensor *z,
                                    struct tn_tensor *y, struct tn_tensor *eps0,
                                    struct tn_tensor *base);

/* The discrepancy of s between codes z [n, d] and prior draws y [n, d] (0-dim, differentiable in
 * both): plain kinds draw their L directions; searched kinds search from eps0 [k, d] (NULL: a
 * uniform start drawn from rng), then draw L directions around the locations found, which
 * *found (may be NULL) receives. Every draw is on z's device, in one sampler call. */
struct tn_tensor *gw_sliced_discrepancy(const struct gw_slicing *s, struct tn_tensor *z,
                                        struct tn_tensor *y, struct tn_tensor *eps0,
                                        struct tn_rng *rng, struct tn_tensor **found);

#endif
