/* gmg.h - the Gromov-Monge gap (Uscidda, Eyring, Roth, Theis, Akata, Cuturi, ICLR 2025) as a
 * regulariser of the baselines (--gmg on beta-vae and beta-tcvae) and of the decoder-free
 * model gmg-encoder: its cost matrices, the distortion, the gap, the options every model that
 * takes it shares and the helper that adds it to a VAE-family loss.
 *
 * On a batch of reference points r_1..r_n and their images y_i = T(r_i) under a map T:
 *   A = [c(r_i, r_j)], B = [c(y_i, y_j)]                 (n x n, the same cost on both sides)
 *   DST = 1/n^2 sum_ij 1/2 (A_ij - B_ij)^2               (the distortion, with its 1/2)
 *   GW  = the entropic GW value of (A, B) (gw_entropic.h), the same 1/2 (.)^2 loss, or that
 *         of the identity coupling I/n when it is lower (the solver is local; gmg.c)
 *   GMG = DST - GW.
 * DST is GW's objective at the identity coupling I/n, so GMG >= 0 up to the entropic bias
 * (GW_eps exceeds GW by at most eps log n): GMG is 0 exactly when T moves the batch with the
 * least distortion any map onto its image could have. The plan is a constant (envelope
 * theorem) and eps = eps0 mean(A) mean(B) is too, so --gmg-value (regularised or primal GW)
 * changes the value reported, never the gradient. docs/models.md gives each default's source.
 */
#ifndef GW_MODELS_GMG_H
#define GW_MODELS_GMG_H

#include "gwae/gw_entropic.h"
#include "vae_family.h"

/* The costs c of both sides. */
enum gw_gmg_cost {
    GW_GMG_SQEUCLIDEAN,        /* |p - q|^2 */
    GW_GMG_SCALED_SQEUCLIDEAN, /* |p - q|^2 / mean over the batch's pairs (scale-free) */
    GW_GMG_COSINE,             /* 1 - cos(p, q) (same gap as cos; keeps mean(A) > 0 for eps) */
};

/* The options of the regulariser as the models embed them. */
struct gw_gmg_options {
    float lambda;     /* --gmg: weight in the loss; 0 turns the regulariser off */
    char cost[24];    /* sqeuclidean, scaled-sqeuclidean or cosine */
    char map[8];      /* encoder (x -> mu) or decoder (z -> Dec(z)) */
    float epsilon;    /* eps0 */
    char value[12];   /* regularised or primal */
    bool dst_only;    /* the baseline: DST alone instead of DST - GW */
};

/* The defaults: off (lambda 0), decoder map, cosine cost, eps0 0.01, regularised value. */
struct gw_gmg_options gw_gmg_defaults(void);

/* Checks the names; TN_ERR_INVALID with the reason. */
enum tn_status gw_gmg_check(const struct gw_gmg_options *o);

extern const char *const gw_gmg_costs[], *const gw_gmg_maps[], *const gw_gmg_values[];

/* The option rows of the regulariser for an options struct `type` with the field `field` of
 * type struct gw_gmg_options, under the --help heading group, the weight's default explained
 * by lambda_source (5 rows: weight, cost, eps0, value, DST alone). */
#define GW_GMG_OPTION_ROWS(type, field, group, lambda_source)                                      \
    {"gmg", GW_OPT_FLOAT, GW_FIELD(type, field.lambda), 0, 1e6, NULL, GW_OPT_FIXED, group, "X",    \
     "weight of the Gromov-Monge gap regulariser (0: off)", lambda_source},                        \
    {"gmg-cost", GW_OPT_STRING, GW_FIELD(type, field.cost), 1, 0, gw_gmg_costs, GW_OPT_FIXED,      \
     group, "NAME", "sqeuclidean, scaled-sqeuclidean (divided by its mean) or cosine (1 - cos)",   \
     "paper's ranking: angles beat distances (reviews, project page; [R])"},                       \
    {"gmg-epsilon", GW_OPT_FLOAT, GW_FIELD(type, field.epsilon), 1e-6, 1e3, NULL, GW_OPT_FIXED,    \
     group, "X", "eps0: entropic GW's eps = eps0 mean(C_X) mean(C_Y)",                             \
     "scaling: Algorithm 1 per summaries [R]; 0.01: smallest of the suggested grid [?]"},          \
    {"gmg-value", GW_OPT_STRING, GW_FIELD(type, field.value), 1, 0, gw_gmg_values, GW_OPT_FIXED,   \
     group, "NAME", "the GW subtracted: regularised (+ eps KL) or primal (at the plan)",           \
     "regularised: as OTT's Monge gap by the same author (relatives-sources 2.3, [A])"},           \
    {"gmg-dst-only", GW_OPT_BOOL, GW_FIELD(type, field.dst_only), 0, 0, NULL, GW_OPT_FIXED,        \
     group, NULL, "the baseline regulariser: DST alone (no GW term)",                              \
     "the paper's DST baseline (reviews, [R])"}

/* The --gmg-map row of a model that has both maps (1 row). */
#define GW_GMG_MAP_ROW(type, field, group)                                                         \
    {"gmg-map", GW_OPT_STRING, GW_FIELD(type, field.map), 1, 0, gw_gmg_maps, GW_OPT_FIXED, group,  \
     "NAME", "encoder: x -> mu, reference the images; decoder: z -> Dec(z), reference z",          \
     "paper's ranking: the decoder beats the encoder (reviews, project page; [R])"}

/* The weight's source where --gmg is an addition to a model (off by default). */
#define GW_GMG_LAMBDA_SOURCE "off; no published weight: the paper tunes it (seed-systems 2.5, [?])"

/* ---- the pieces ---- */

/* The cost matrix [n, n] of the rows of p [n, d] (graph recorded); the diagonal is 0. */
struct tn_tensor *gw_gmg_cost_matrix(struct tn_tensor *p, enum gw_gmg_cost cost);

/* DST = 1/2 mean (A - B)^2 over the n x n pairs, 0-dim. */
struct tn_tensor *gw_distortion(struct tn_tensor *A, struct tn_tensor *B);

/* What one evaluation of the regulariser gives: every tensor 0-dim with the graph recorded
 * (gw NULL for DST alone). */
struct gw_gmg_result {
    struct tn_tensor *value; /* GMG, or DST with dst_only */
    struct tn_tensor *dst, *gw;
    struct gw_entropic_plan plan; /* the solved plan (plan.plan NULL with dst_only) */
};

/* The regulariser of the map r -> y: reference points r [n, ...] (flattened; the caller
 * detaches them when they must not be trained) and their images y [n, ...]. */
void gw_gmg(struct tn_tensor *r, struct tn_tensor *y, const struct gw_gmg_options *o,
            struct gw_gmg_result *out);

/* ---- in a VAE-family loss ---- */

/* The reconstruction term per image of x decoded from z (gw_vae_recon_per_image) and, when
 * the regulariser is on with the decoder map, the decoded images (means in (0, 1)) in
 * *decoded (else NULL), so that the decoder runs once. */
struct tn_tensor *gw_gmg_recon(struct gw_vae_base *v, const struct gw_gmg_options *o,
                               struct tn_tensor *x, struct tn_tensor *z,
                               struct tn_tensor **decoded);

/* loss + lambda GMG of the map the options choose (encoder: x -> mu; decoder: z -> decoded,
 * z detached), putting the terms terms[first] (loss_gmg), [first + 1] (gmg_dst) and
 * [first + 2] (gmg_gw); loss itself when lambda is 0. */
struct tn_tensor *gw_gmg_add(const struct gw_gmg_options *o, struct tn_tensor *loss,
                             struct tn_tensor *x, struct tn_tensor *mu, struct tn_tensor *z,
                             struct tn_tensor *decoded, struct gw_terms *t, int first);

/* The three terms' table rows, for a model's terms table. */
#define GW_GMG_TERMS {"loss_gmg", "gmg"}, {"gmg_dst", NULL}, {"gmg_gw", NULL}

#endif
