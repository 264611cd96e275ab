/* gmg.c - the Gromov-Monge gap regulariser of gmg.h: cost matrices, distortion, the gap
 * through the entropic GW solver, and its place in the VAE-family losses.
 *
 * The squared Euclidean costs use the Gram form |p|^2 + |q|^2 - 2 <p, q> (a flattened 64x64
 * image has 12288 values: the [n, n, d] differences would not fit), clamped at 0 against
 * rounding, and every cost matrix has its diagonal set to exactly 0 by a mask, so that rounding
 * on the diagonal never reaches DST or the plan.
 *
 * The GW term is the smaller of the solver's value and that of the map's own coupling I/n:
 * the solver is a local method on a non-convex problem, and from a b^T it can settle on a plan
 * worse than I/n (seen on random maps at eps0 0.01); without the floor GMG would then drop
 * below -eps log n and its gradient would push the map by that failure. Where the floor wins,
 * GMG is -eps log n (regularised) or 0 (primal) with no gradient.
 */
#include "gmg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const gw_gmg_costs[] = {"sqeuclidean", "scaled-sqeuclidean", "cosine", NULL};
const char *const gw_gmg_maps[] = {"encoder", "decoder", NULL};
const char *const gw_gmg_values[] = {"regularised", "primal", NULL};

struct gw_gmg_options gw_gmg_defaults(void) {
    return (struct gw_gmg_options){
        .lambda = 0.0f, .cost = "cosine", .map = "decoder", .epsilon = 0.01f,
        .value = "regularised",
    };
}

/* the index of name in a NULL-terminated list, or -1 */
static int index_of(const char *const *list, const char *name) {
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], name) == 0) return i;
    return -1;
}

enum tn_status gw_gmg_check(const struct gw_gmg_options *o) {
    if (index_of(gw_gmg_costs, o->cost) < 0)
        return tn_error(TN_ERR_INVALID, "unknown GMG cost '%s' (sqeuclidean, scaled-sqeuclidean or "
                        "cosine)", o->cost);
    if (index_of(gw_gmg_maps, o->map) < 0)
        return tn_error(TN_ERR_INVALID, "unknown GMG map '%s' (encoder or decoder)", o->map);
    if (index_of(gw_gmg_values, o->value) < 0)
        return tn_error(TN_ERR_INVALID, "unknown GMG value '%s' (regularised or primal)", o->value);
    if (!(o->epsilon > 0) || !(o->lambda >= 0))
        return tn_error(TN_ERR_INVALID, "GMG eps0 must be positive and its weight not negative");
    return TN_OK;
}

/* 1 - I [n, n] on device */
static struct tn_tensor *off_diagonal(struct tn_device device, int64_t n) {
    float *v = malloc((size_t)(n * n) * sizeof *v);
    TN_CHECK(v, "gw_gmg", "out of host memory");
    for (int64_t i = 0; i < n * n; i++) v[i] = i % (n + 1) == 0 ? 0.0f : 1.0f;
    struct tn_tensor *t = tn_from_host(device, 2, (int64_t[]){n, n}, v);
    free(v);
    return t;
}

struct tn_tensor *gw_gmg_cost_matrix(struct tn_tensor *p, enum gw_gmg_cost cost) {
    struct tn_tensor *x = ag_flatten(p, 1);
    int64_t n = x->shape[0];
    struct tn_tensor *sq = ag_sum(ag_square(x), AG_AXIS(1), true); /* [n, 1] */
    struct tn_tensor *c;
    if (cost == GW_GMG_COSINE) {
        struct tn_tensor *unit = ag_div(x, ag_sqrt(ag_add_scalar(sq, 1e-12f)));
        c = ag_rsub_scalar(1.0f, ag_matmul(unit, ag_transpose(unit, 0, 1)));
    } else {
        struct tn_tensor *gram = ag_matmul(x, ag_transpose(x, 0, 1));
        c = ag_relu(ag_sub(ag_add(sq, ag_transpose(sq, 0, 1)), ag_mul_scalar(gram, 2.0f)));
    }
    c = ag_mul(c, off_diagonal(x->storage->device, n));
    if (cost == GW_GMG_SCALED_SQEUCLIDEAN) c = ag_div(c, ag_add_scalar(ag_mean_all(c), 1e-12f));
    return c;
}

struct tn_tensor *gw_distortion(struct tn_tensor *A, struct tn_tensor *B) {
    return ag_mul_scalar(ag_mean_all(ag_square(ag_sub(A, B))), 0.5f);
}

void gw_gmg(struct tn_tensor *r, struct tn_tensor *y, const struct gw_gmg_options *o,
            struct gw_gmg_result *out) {
    memset(out, 0, sizeof *out);
    int cost = index_of(gw_gmg_costs, o->cost);
    TN_CHECK(cost >= 0, "gw_gmg", "unknown cost '%s'", o->cost);
    TN_CHECK(r->shape[0] == y->shape[0], "gw_gmg", "%lld reference points, %lld images",
             (long long)r->shape[0], (long long)y->shape[0]);
    struct tn_tensor *A = gw_gmg_cost_matrix(r, (enum gw_gmg_cost)cost);
    struct tn_tensor *B = gw_gmg_cost_matrix(y, (enum gw_gmg_cost)cost);
    out->dst = gw_distortion(A, B);
    if (o->dst_only) {
        out->value = out->dst;
        return;
    }
    struct gw_entropic_options eo = gw_entropic_defaults();
    eo.epsilon = o->epsilon;
    gw_entropic_solve(A, B, &eo, &out->plan);
    bool regularised = strcmp(o->value, "regularised") == 0;
    struct tn_tensor *solved = gw_entropic_value(A, B, &out->plan, regularised);
    /* the map's own coupling I/n is feasible too: its value is DST, plus eps KL(I/n || a b^T) =
     * eps log n when regularised; the better of the two bounds GW (on the device, no read) */
    double log_n = log((double)r->shape[0]);
    float bias = (float)(out->plan.epsilon * log_n);
    struct tn_tensor *own = regularised ? ag_add_scalar(out->dst, bias) : out->dst;
    out->gw = ag_where(ag_lt(solved, own), solved, own);
    out->value = ag_sub(out->dst, out->gw);
}

struct tn_tensor *gw_gmg_recon(struct gw_vae_base *v, const struct gw_gmg_options *o,
                               struct tn_tensor *x, struct tn_tensor *z,
                               struct tn_tensor **decoded) {
    *decoded = NULL;
    if (!(o->lambda > 0) || strcmp(o->map, "decoder") != 0) return gw_vae_recon_per_image(v, x, z);
    if (v->bernoulli) {
        struct tn_tensor *logits = gw_decoder_logits(v->decoder, z);
        *decoded = ag_sigmoid(logits);
        return gw_bernoulli_nll_per_image(x, logits);
    }
    *decoded = nn_sequential_forward(v->decoder, z);
    return gw_gaussian_nll_per_image(x, *decoded);
}

struct tn_tensor *gw_gmg_add(const struct gw_gmg_options *o, struct tn_tensor *loss,
                             struct tn_tensor *x, struct tn_tensor *mu, struct tn_tensor *z,
                             struct tn_tensor *decoded, struct gw_terms *t, int first) {
    if (!(o->lambda > 0)) return loss;
    bool decoder = strcmp(o->map, "decoder") == 0;
    TN_CHECK(!decoder || decoded, "gw_gmg_add", "the decoder map needs the decoded images");
    struct gw_gmg_result g;
    gw_gmg(decoder ? ag_detach(z) : x, decoder ? decoded : mu, o, &g);
    gw_terms_put(t, first, g.value);
    gw_terms_put(t, first + 1, g.dst);
    if (g.gw) gw_terms_put(t, first + 2, g.gw);
    return ag_add(loss, ag_mul_scalar(g.value, o->lambda));
}
