/* gw_entropic.h - entropic Gromov-Wasserstein between two cost matrices, written with the
 * engine's ops (so it runs wherever the matrices live, CPU or CUDA), for training-time
 * regularisers such as the Gromov-Monge gap (gwae/models/gmg.h).
 *
 * The problem, with the square loss halved as the Gromov-Monge gap's distortion:
 *   E(P) = sum_{i,j,k,l} 1/2 (A_ik - B_jl)^2 P_ij P_kl,  A [n, n], B [m, m] symmetric,
 *   GW_eps = min over couplings P of uniform a = 1/n, b = 1/m of E(P) + eps KL(P || a b^T).
 * The solver (Peyre, Cuturi & Solomon 2016, as OTT's GromovWasserstein and POT's
 * entropic_gromov_wasserstein) starts from P = a b^T and repeats: linearise E at P (its
 * gradient, up to row and column constants that the potentials absorb: -2 A P B), then solve
 * that linear problem by Sinkhorn in the log domain; it is mirror descent on E - eps H, whose
 * fixed points are the stationary points of the entropic problem. POT with the unhalved
 * square loss and 2 eps runs the same iterations (its value is twice E); OTT's with eps too.
 *
 * The plan is computed without recording a graph; gw_quadratic_cost then evaluates E at that
 * constant plan with the graph recorded, so its gradient reaches A and B: by the envelope
 * theorem that is the gradient of GW_eps (eps being a constant). Nothing is differentiated
 * through the iterations. float32 throughout; the log domain keeps small eps finite.
 * Not here: which cost matrices (gmg.h), the host solver used by evaluation (eval/metrics.h).
 */
#ifndef GW_ENTROPIC_H
#define GW_ENTROPIC_H

#include <stdbool.h>

#include "tensor/tn_tensor.h"

struct gw_entropic_options {
    double epsilon;     /* eps0 when relative, else eps itself */
    bool relative;      /* eps = eps0 mean(A) mean(B) (the Gromov-Monge gap's scaling) */
    int outer_min;      /* linearisations at least (5, as OTT) */
    int outer_max;      /* and at most (50, as OTT) */
    double outer_tol;   /* stop when E changes by at most outer_tol mean|A| mean|B| (1e-4) */
    int inner_max;      /* Sinkhorn iterations per linearisation at most (2000, as OTT) */
    double inner_tol;   /* stop when the L1 error of the rows' marginal is below (1e-3, OTT) */
    int check_every;    /* read that error from the device every this many iterations (10) */
    bool warm_start;    /* start each Sinkhorn from the previous potentials (on) */
};

/* The defaults above: relative eps0 0.01. */
struct gw_entropic_options gw_entropic_defaults(void);

struct gw_entropic_plan {
    struct tn_tensor *plan;     /* P [n, m] on A's device, no graph, in the caller's scope */
    struct tn_tensor *kl;       /* KL(P || a b^T), 0-dim, no graph, in the caller's scope */
    double epsilon;             /* the eps used (absolute) */
    double marginal_error;      /* L1 error of the rows' marginal at the last check (the
                                   columns' is exact after each iteration) */
    double cost;                /* E at the plan, as the last convergence check read it */
    int outer, inner;           /* linearisations done, Sinkhorn iterations in all */
    bool converged;             /* the outer loop stopped by outer_tol, not by outer_max */
};

/* Solves entropic GW between the symmetric cost matrices A [n, n] and B [m, m] (same device;
 * any graph they carry is ignored). opts NULL: defaults. */
void gw_entropic_solve(struct tn_tensor *A, struct tn_tensor *B,
                       const struct gw_entropic_options *opts, struct gw_entropic_plan *out);

/* E(P) = 1/2 r^T (A o A) r + 1/2 c^T (B o B) c - <A P B^T, P>, r and c the marginals of P,
 * as a 0-dim tensor with the graph recorded through A and B (P a constant). At P = I/n it is
 * the distortion 1/2 mean (A - B)^2. */
struct tn_tensor *gw_quadratic_cost(struct tn_tensor *A, struct tn_tensor *B,
                                    struct tn_tensor *P);

/* The GW value at a solved plan: E(P), plus eps KL(P || a b^T) when regularised (the
 * entropic objective, OTT's reg_gw_cost); graph through A and B, the plan constant. */
struct tn_tensor *gw_entropic_value(struct tn_tensor *A, struct tn_tensor *B,
                                    const struct gw_entropic_plan *plan, bool regularised);

#endif
