/* sphere.h - draws on the unit sphere S^{d-1} for the spherical sliced discrepancies (SSFG,
 * MSSFG, PSSFG): uniform directions, von Mises-Fisher vMF(mu, kappa) by Wood's rejection
 * sampler, the power spherical PS(mu, kappa) of De Cao and Aziz, mixtures of either with
 * equal weights, the Gamma and Beta draws they rest on, and the Householder map that moves
 * a draw around e1 to a draw around mu (the one step with a gradient, in mu).
 *
 * Every sampler is written with the engine's ops and the counter-based generator, so it runs
 * on the CPU and on CUDA unchanged (the device is an argument) and draws the same numbers on
 * both. The rejection samplers (Gamma, Wood) are vectorised: each round draws a block of
 * candidates per lane still waiting, keeps the first accepted one of each lane and goes on
 * with the rejected lanes only, reading how many are left from the device once per round.
 * Not here: how the discrepancies use the draws (sliced_fgw.h).
 */
#ifndef GW_MODELS_SPHERE_H
#define GW_MODELS_SPHERE_H

#include "autograd/ag.h"
#include "tensor/tn_random.h"

/* The laws of a draw around its location. */
enum gw_sphere_law {
    GW_SPHERE_UNIFORM, /* uniform on the sphere (kappa and the location unused) */
    GW_SPHERE_VMF,     /* von Mises-Fisher: density prop. to exp(kappa <mu, x>) */
    GW_SPHERE_POWER,   /* power spherical: density prop. to (1 + <mu, x>)^kappa */
};

/* What a rejection sampler did: candidates tested, candidates that passed, rounds. */
struct gw_sphere_stats {
    int64_t candidates, accepted;
    int rounds;
};

/* n draws of Gamma(shape, 1) [n] on device (Marsaglia-Tsang; shape < 1 by the boost
 * Gamma(shape + 1) U^(1/shape)); stats (may be NULL) adds up the rejection's counts. */
struct tn_tensor *gw_gamma(struct tn_device device, int64_t n, double shape, struct tn_rng *rng,
                           struct gw_sphere_stats *stats);

/* n draws of Beta(a, b) [n] on device, as G_a / (G_a + G_b). */
struct tn_tensor *gw_beta(struct tn_device device, int64_t n, double a, double b,
                          struct tn_rng *rng);

/* n points uniform on S^{d-1}: [n, d], g / |g| with g ~ N(0, I_d). */
struct tn_tensor *gw_sphere_uniform(struct tn_device device, int64_t n, int64_t d,
                                    struct tn_rng *rng);

/* n draws of w = <x, mu> for x ~ vMF(mu, kappa) on S^{d-1}, d >= 2: [n] (Wood 1994, with the
 * acceptance test in the form of relatives-sources.md section 1.4); stats may be NULL. */
struct tn_tensor *gw_vmf_marginal(struct tn_device device, int64_t n, int64_t d, double kappa,
                                  struct tn_rng *rng, struct gw_sphere_stats *stats);

/* n draws of t = <x, mu> for x ~ PS(mu, kappa) on S^{d-1}, d >= 2: [n], t = 2 s - 1 with
 * s ~ Beta((d - 1) / 2 + kappa, (d - 1) / 2). */
struct tn_tensor *gw_power_marginal(struct tn_device device, int64_t n, int64_t d, double kappa,
                                    struct tn_rng *rng);

/* n draws of law around e1 on S^{d-1}: [n, d], rows (w, sqrt(1 - w^2) v) with w the law's
 * marginal and v uniform on S^{d-2} (uniform: plain uniform draws); stats may be NULL. */
struct tn_tensor *gw_sphere_base(enum gw_sphere_law law, struct tn_device device, int64_t n,
                                 int64_t d, double kappa, struct tn_rng *rng,
                                 struct gw_sphere_stats *stats);

/* H(mu) y = y - 2 <y, u> u, u = (e1 - mu) / sqrt(|e1 - mu|^2 + 1e-14): the reflection that takes
 * e1 to mu (the identity at mu = e1, where the guard keeps value and gradient finite), row by
 * row for mu [n, d] or [1, d] and y [n, d]; differentiable in mu and y. */
struct tn_tensor *gw_householder(struct tn_tensor *mu, struct tn_tensor *y);

/* n draws [n, d] of the equal-weight mixture of law around the unit rows of mu [k, d], draw i
 * from component i mod k (stratified: each component gets n / k draws, one more for the
 * first n mod k); differentiable in mu through the Householder map; stats may be NULL. */
struct tn_tensor *gw_sphere_sample(enum gw_sphere_law law, struct tn_tensor *mu, int64_t n,
                                   double kappa, struct tn_rng *rng, struct gw_sphere_stats *stats);

/* The mixture's draws [n, d] from base draws y [n, d] around e1 (gw_sphere_base) and the
 * locations mu [k, d]: row i is H(mu_{i mod k}) y_i. Differentiable in mu. */
struct tn_tensor *gw_sphere_place(struct tn_tensor *mu, struct tn_tensor *y);

#endif
