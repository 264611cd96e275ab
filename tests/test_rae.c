/* test_rae.c - the relational autoencoders: the sphere samplers (mean resultant length of the
 * vMF against the Bessel ratio A_d(kappa) and of the power spherical against its closed form,
 * for d in {3, 8, 64} and kappa in {1, 10, 100}, unit norms, kappa = 0, Wood's acceptance rate,
 * mixtures, Gamma and Beta moments, CPU/CUDA parity), the Householder map, the sliced fused GW
 * (equal batches, a reflection, row permutations, a hand-checked 3-point case, gradchecks in
 * both batches and the locations), the ascent, the rae-gmm prior, and each model's loss
 * against a double-precision reference built from the same draws.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/models/rae.h"
#include "gwae/models/sliced_fgw.h"
#include "helpers/test_support.h"
#include "tensor/tn_cuda.h"

LEAK_CHECKED_SUITE(rae);

/* ---- helpers ---- */

/* A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa) by the backward continued fraction */
static double bessel_ratio(int d, double kappa) {
    double nu = d / 2.0, r = 0.0;
    for (int j = 2000; j >= 0; j--) r = 1.0 / (2.0 * (nu + j) / kappa + r);
    return r;
}

/* the host copy of t (malloc'd) */
static float *host(const struct tn_tensor *t) {
    float *v = malloc((size_t)t->numel * sizeof *v);
    cr_assert(v);
    tn_to_host(t, v);
    return v;
}

/* a random unit vector of R^d (CPU, [1, d]) */
static struct tn_tensor *random_unit(int64_t d, uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    return gw_sphere_uniform(TN_CPU, 1, d, &rng);
}

/* draws [n, d] around mu [1, d]: asserts unit norms to 1e-6 and returns the mean of <x, mu>,
 * its standard error, and the norm of the mean's part orthogonal to mu */
static void moments(struct tn_tensor *x, struct tn_tensor *mu, double *mean, double *se,
                    double *orth) {
    int64_t n = x->shape[0], d = x->shape[1];
    float *v = host(x), *m = host(mu);
    double s = 0, s2 = 0, *avg = calloc((size_t)d, sizeof *avg);
    for (int64_t i = 0; i < n; i++) {
        double norm = 0, dot = 0;
        for (int64_t j = 0; j < d; j++) {
            norm += (double)v[i * d + j] * v[i * d + j];
            dot += (double)v[i * d + j] * m[j];
            avg[j] += v[i * d + j] / (double)n;
        }
        cr_assert(fabs(sqrt(norm) - 1) < 1e-6, "draw %lld has norm %.9f", (long long)i, sqrt(norm));
        s += dot;
        s2 += dot * dot;
    }
    *mean = s / n;
    *se = sqrt(fmax(s2 / n - *mean * *mean, 0) / n);
    double along = 0, o = 0;
    for (int64_t j = 0; j < d; j++) along += avg[j] * m[j];
    for (int64_t j = 0; j < d; j++) o += pow(avg[j] - along * m[j], 2);
    *orth = sqrt(o);
    free(v);
    free(m);
    free(avg);
}

static const int dims[3] = {3, 8, 64};
static const double kappas[3] = {1, 10, 100};

/* the mean resultant length of law against expected(d, kappa), 5 standard errors */
static void check_law(enum gw_sphere_law law, double (*expected)(int, double)) {
    const int64_t n = 20000;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            tn_scope_begin();
            int d = dims[a];
            struct tn_tensor *mu = random_unit(d, 100 + a);
            struct tn_rng rng = tn_rng_new(7 + a * 3 + b);
            struct gw_sphere_stats st = {0};
            struct tn_tensor *x = gw_sphere_sample(law, mu, n, kappas[b], &rng, &st);
            double mean, se, orth;
            moments(x, mu, &mean, &se, &orth);
            double want = expected(d, kappas[b]);
            cr_assert(
                fabs(mean - want) < 5 * se + 1e-4,
                "law %d, d %d, kappa %g: mean resultant length %.5f, closed form %.5f (se %.5f)",
                law, d, kappas[b], mean, want, se);
            cr_assert(orth < 5.0 / sqrt((double)n), "d %d, kappa %g: the mean leaves mu by %g", d,
                      kappas[b], orth);
            if (law == GW_SPHERE_VMF) {
                double rate = (double)st.accepted / (double)st.candidates;
                cr_assert(rate > 0.5, "d %d, kappa %g: Wood's acceptance rate %.3f", d, kappas[b],
                          rate);
            }
            tn_scope_end();
        }
}

static double power_mean(int d, double kappa) { return kappa / (d - 1 + kappa); }

/* ---- samplers ---- */

Test(rae, vmf_mean_resultant_length_is_the_bessel_ratio_and_wood_accepts_over_half) {
    check_law(GW_SPHERE_VMF, bessel_ratio);
}

Test(rae, power_spherical_mean_resultant_length_is_its_closed_form) {
    check_law(GW_SPHERE_POWER, power_mean);
}

Test(rae, kappa_zero_and_the_uniform_law_give_mean_zero) {
    const int64_t n = 20000;
    enum gw_sphere_law laws[3] = {GW_SPHERE_VMF, GW_SPHERE_POWER, GW_SPHERE_UNIFORM};
    for (int l = 0; l < 3; l++)
        for (int a = 0; a < 3; a++) {
            struct tn_tensor *mu = random_unit(dims[a], 5);
            struct tn_rng rng = tn_rng_new(30 + l * 3 + a);
            double mean, se, orth;
            moments(gw_sphere_sample(laws[l], mu, n, 0.0, &rng, NULL), mu, &mean, &se, &orth);
            double norm = sqrt(mean * mean + orth * orth);
            cr_assert(norm < 5.0 / sqrt((double)n), "law %d, d %d: |mean| %g", l, dims[a], norm);
        }
}

Test(rae, mixture_draws_gather_around_their_own_component) {
    const int64_t k = 3, d = 8, n = 3 * 6000;
    struct tn_rng rng = tn_rng_new(41);
    struct tn_tensor *mu = gw_sphere_uniform(TN_CPU, k, d, &rng);
    enum gw_sphere_law laws[2] = {GW_SPHERE_VMF, GW_SPHERE_POWER};
    for (int l = 0; l < 2; l++) {
        float *x = host(gw_sphere_sample(laws[l], mu, n, 10.0, &rng, NULL)), *m = host(mu);
        double want = l == 0 ? bessel_ratio((int)d, 10.0) : power_mean((int)d, 10.0);
        for (int64_t c = 0; c < k; c++) {
            double s = 0;
            for (int64_t i = c; i < n; i += k)
                for (int64_t j = 0; j < d; j++) s += (double)x[i * d + j] * m[c * d + j];
            s /= (double)(n / k);
            cr_assert(fabs(s - want) < 0.01, "law %d component %lld: %.4f, expected %.4f", l,
                      (long long)c, s, want);
        }
        free(x);
        free(m);
    }
}

Test(rae, gamma_and_beta_draws_have_their_moments) {
    const int64_t n = 100000;
    double shapes[4] = {0.5, 1.0, 3.5, 100.0};
    struct tn_rng rng = tn_rng_new(3);
    for (int s = 0; s < 4; s++) {
        float *g = host(gw_gamma(TN_CPU, n, shapes[s], &rng, NULL));
        double mean = 0, var = 0, k = shapes[s];
        for (int64_t i = 0; i < n; i++) mean += g[i] / (double)n;
        for (int64_t i = 0; i < n; i++) var += pow(g[i] - mean, 2) / (double)(n - 1);
        /* Gamma(k, 1): mean and variance k, excess kurtosis 6 / k */
        double se_mean = sqrt(k / n), se_var = k * sqrt((2 + 6 / k) / n);
        cr_assert(fabs(mean - k) < 5 * se_mean, "Gamma(%g): mean %g", k, mean);
        cr_assert(fabs(var - k) < 5 * se_var, "Gamma(%g): variance %g", k, var);
        free(g);
    }
    float *b = host(gw_beta(TN_CPU, n, 2.0, 5.0, &rng));
    double mean = 0;
    for (int64_t i = 0; i < n; i++) mean += b[i] / (double)n;
    cr_assert(fabs(mean - 2.0 / 7.0) < 0.005, "Beta(2, 5): mean %g", mean);
    free(b);
}

Test(rae, the_same_seed_draws_the_same_on_cpu_and_cuda) {
    if (!tn_cuda_available()) cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());
    enum gw_sphere_law laws[3] = {GW_SPHERE_VMF, GW_SPHERE_POWER, GW_SPHERE_UNIFORM};
    for (int l = 0; l < 3; l++) {
        struct tn_tensor *mu = random_unit(16, 9), *draws[2];
        struct tn_device devices[2] = {TN_CPU, TN_CUDA(0)};
        for (int k = 0; k < 2; k++) {
            struct tn_rng rng = tn_rng_new(12);
            draws[k] =
                gw_sphere_sample(laws[l], tn_to_device(mu, devices[k]), 2000, 20.0, &rng, NULL);
        }
        float *a = host(draws[0]), *c = host(draws[1]);
        for (int64_t i = 0; i < draws[0]->numel; i++)
            cr_assert(fabs(a[i] - c[i]) < 1e-5, "law %d element %lld: cpu %g, cuda %g", l,
                      (long long)i, a[i], c[i]);
        free(a);
        free(c);
    }
}

/* ---- Householder ---- */

Test(rae, householder_takes_e1_to_eps_and_is_orthogonal) {
    const int64_t d = 5;
    struct tn_tensor *eps = random_unit(d, 17);
    float eye[25] = {0};
    for (int i = 0; i < 5; i++) eye[i * 6] = 1;
    int64_t shape[2] = {d, d};
    float *h = host(gw_householder(eps, make_tensor(2, shape, eye))), *e = host(eps);
    for (int j = 0; j < d; j++)
        cr_assert(fabs(h[j] - e[j]) < 1e-6, "H e1 [%d] %g, eps %g", j, h[j], e[j]);
    for (int i = 0; i < d; i++) /* rows are H e_i; H^T H = I */
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += (double)h[i * d + k] * h[j * d + k];
            cr_assert(fabs(s - (i == j)) < 1e-6, "(H^T H)[%d][%d] = %g", i, j, s);
        }
    free(h);
    free(e);
}

Test(rae, householder_at_e1_is_the_identity_with_a_finite_gradient) {
    float one[3] = {1, 0, 0}, y[6] = {0.6f, 0.8f, 0, -0.48f, 0.6f, 0.64f};
    int64_t e_shape[2] = {1, 3}, y_shape[2] = {2, 3};
    struct tn_tensor *eps = tn_set_requires_grad(make_tensor(2, e_shape, one), true);
    struct tn_tensor *out = gw_householder(eps, make_tensor(2, y_shape, y)), *g;
    assert_close(out, y, 1e-7, 0);
    ag_grad(1, &out, NULL, 1, &eps, &g, 0);
    float *v = host(g);
    for (int j = 0; j < 3; j++) cr_assert(isfinite(v[j]), "gradient [%d] = %g", j, v[j]);
    free(v);
}

static struct tn_tensor *householder_fn(struct tn_tensor *const *in, void *ctx) {
    (void)ctx;
    return gw_householder(in[0], in[1]);
}

Test(rae, householder_gradient_matches_finite_differences) {
    struct tn_rng rng = tn_rng_new(23);
    int64_t e_shape[2] = {4, 5}, y_shape[2] = {4, 5};
    struct tn_tensor *in[2] = {tn_set_requires_grad(make_random(&rng, 2, e_shape, -1, 1), true),
                               tn_set_requires_grad(make_random(&rng, 2, y_shape, -1, 1), true)};
    struct ag_check_opts opts = {.eps = 1e-3, .atol = 1e-3, .rtol = 1e-2};
    struct ag_check_result r;
    cr_assert(ag_gradcheck(householder_fn, NULL, 2, in, &opts, &r), "%s", r.message);
}

/* ---- sliced fused GW ---- */

/* the RAE code's sliced FGW in double: z, y [n, d], theta [L, d] */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double ref_sfg(const float *z, const float *y, const double *theta, int n, int d, int l,
                      double p, double beta) {
    double *a = malloc(sizeof(double) * (size_t)n), *b = malloc(sizeof(double) * (size_t)n);
    double total = 0;
    for (int s = 0; s < l; s++) {
        for (int i = 0; i < n; i++) {
            a[i] = b[i] = 0;
            for (int j = 0; j < d; j++) {
                a[i] += (double)z[i * d + j] * theta[s * d + j];
                b[i] += (double)y[i * d + j] * theta[s * d + j];
            }
        }
        qsort(a, (size_t)n, sizeof *a, cmp_double);
        qsort(b, (size_t)n, sizeof *b, cmp_double);
        double f[2];
        for (int dir = 0; dir < 2; dir++) {
            double w = 0, gw = 0;
            for (int i = 0; i < n; i++) {
                double bi = dir ? b[n - 1 - i] : b[i];
                w += pow(fabs(a[i] - bi), p);
                for (int j = 0; j < n; j++) {
                    double bj = dir ? b[n - 1 - j] : b[j];
                    gw += pow(fabs(pow(fabs(a[i] - a[j]), p) - pow(fabs(bi - bj), p)), p);
                }
            }
            f[dir] = (1 - beta) * w + beta * gw / ((double)n * n);
        }
        total += fmin(f[0], f[1]);
    }
    free(a);
    free(b);
    return total;
}

Test(rae, equal_batches_give_zero_and_a_reflection_a_zero_gw_part) {
    struct tn_rng rng = tn_rng_new(5);
    int64_t shape[2] = {16, 4}, t_shape[2] = {20, 4};
    struct tn_tensor *z = make_random(&rng, 2, shape, -2, 2),
                     *theta = tn_randn(TN_CPU, 2, t_shape, &rng);
    cr_assert_eq(tn_item(gw_sliced_fgw(z, z, theta, 2, 0.1)), 0.0f, "Y = Z");
    cr_assert_eq(tn_item(gw_sliced_fgw(z, z, theta, 3, 0.7)), 0.0f, "Y = Z, p 3");
    float gw_only = tn_item(gw_sliced_fgw(z, ag_neg(z), theta, 2, 1.0));
    cr_assert(fabs(gw_only) < 1e-4, "Y = -Z, beta 1: %g", gw_only);
    cr_assert_gt(tn_item(gw_sliced_fgw(z, ag_neg(z), theta, 2, 0.0)), 1.0f,
                 "Y = -Z, beta 0: W > 0");
}

Test(rae, sliced_fgw_ignores_the_order_of_the_rows) {
    struct tn_rng rng = tn_rng_new(6);
    int64_t shape[2] = {12, 3}, t_shape[2] = {8, 3};
    struct tn_tensor *z = make_random(&rng, 2, shape, -1, 1),
                     *y = make_random(&rng, 2, shape, -1, 1);
    struct tn_tensor *theta = tn_randn(TN_CPU, 2, t_shape, &rng);
    float base = tn_item(gw_sliced_fgw(z, y, theta, 2, 0.1));
    float perm[12] = {3, 7, 0, 11, 5, 1, 9, 2, 10, 4, 8, 6};
    int64_t n = 12;
    struct tn_tensor *idx = make_tensor(1, &n, perm);
    float pz = tn_item(gw_sliced_fgw(ag_index_select(z, 0, idx), y, theta, 2, 0.1));
    float py = tn_item(gw_sliced_fgw(z, ag_index_select(y, 0, idx), theta, 2, 0.1));
    cr_assert(fabs(pz - base) < 1e-5 * fabs(base) && fabs(py - base) < 1e-5 * fabs(base),
              "%g, rows of z permuted %g, of y %g", base, pz, py);
}

/* z = {0, 1, 3}, y = {0.5, 2, 2.5} in one dimension, beta 0.1, slices theta = 1 and 2:
 * theta 1: W = 0.25 + 1 + 0.25 = 1.5 (ascending), 6.25 + 1 + 6.25 = 13.5 (descending);
 * pair costs a: 1, 9, 4; b: 2.25, 4, 0.25; reversed b: 0.25, 4, 2.25, so
 * GW = 2 (1.5625 + 25 + 14.0625) / 9 = 81.25 / 9 and 2 (0.5625 + 25 + 3.0625) / 9 = 57.25 / 9;
 * F = 0.9 * 1.5 + 0.1 * 81.25 / 9 = 2.2527... and 12.786...: min 2.25277...
 * theta 2 scales W by 4 and GW by 16: 5.4 + 14.4444... = 19.8444... (against 58.78): the sum
 * is 1.35 + 8.125 / 9 + 5.4 + 130 / 9 = 6.75 + 138.125 / 9 = 22.097222... */
Test(rae, a_three_point_case_matches_the_hand_computation) {
    float z[3] = {0, 1, 3}, y[3] = {0.5f, 2, 2.5f}, th[2] = {1, 2};
    int64_t shape[2] = {3, 1}, t_shape[2] = {2, 1};
    float v = tn_item(gw_sliced_fgw(make_tensor(2, shape, z), make_tensor(2, shape, y),
                                    make_tensor(2, t_shape, th), 2, 0.1));
    double expected = 6.75 + 138.125 / 9;
    cr_assert(fabs(v - expected) < 1e-5 * expected, "SFG %.7f, by hand %.7f", v, expected);
    double theta[2] = {1, 2};
    cr_assert(fabs(ref_sfg(z, y, theta, 3, 1, 2, 2, 0.1) - expected) < 1e-12,
              "the double reference");
}

Test(rae, sliced_fgw_matches_the_double_reference_for_other_powers) {
    struct tn_rng rng = tn_rng_new(8);
    int64_t shape[2] = {7, 3}, t_shape[2] = {5, 3};
    struct tn_tensor *z = make_random(&rng, 2, shape, -1, 1),
                     *y = make_random(&rng, 2, shape, -1, 1);
    struct tn_tensor *theta = tn_randn(TN_CPU, 2, t_shape, &rng);
    float *zh = host(z), *yh = host(y), *th = host(theta);
    double td[15];
    for (int i = 0; i < 15; i++) td[i] = th[i];
    double powers[3] = {1, 1.5, 3};
    for (int k = 0; k < 3; k++) {
        double want = ref_sfg(zh, yh, td, 7, 3, 5, powers[k], 0.3);
        float got = tn_item(gw_sliced_fgw(z, y, theta, powers[k], 0.3));
        cr_assert(fabs(got - want) < 1e-4 * want, "p %g: %g, reference %g", powers[k], got, want);
    }
    free(zh);
    free(yh);
    free(th);
}

struct objective_ctx {
    struct gw_slicing s;
    struct tn_tensor *base; /* [L, d] or NULL */
};

static struct tn_tensor *objective_fn(struct tn_tensor *const *in, void *ctx) {
    struct objective_ctx *c = ctx;
    return gw_slicing_objective(&c->s, in[0], in[1], in[2], c->base);
}

/* the smallest gap between two projections of the rows of x [n, d] on a row of theta */
static double min_gap(struct tn_tensor *x, struct tn_tensor *theta) {
    int64_t n = x->shape[0], d = x->shape[1], l = theta->shape[0];
    float *xh = host(x), *th = host(theta);
    double gap = INFINITY;
    for (int64_t s = 0; s < l; s++)
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = i + 1; k < n; k++) {
                double diff = 0;
                for (int64_t j = 0; j < d; j++)
                    diff += ((double)xh[i * d + j] - xh[k * d + j]) * th[s * d + j];
                gap = fmin(gap, fabs(diff));
            }
    free(xh);
    free(th);
    return gap;
}

/* The distance is smooth only between the points where two projections swap places: the
 * first seed whose projections are 0.02 apart keeps every finite difference on one piece. */
static void gradcheck_objective(enum gw_slicing_kind kind, int k) {
    const int64_t d = 3, l = 6;
    int64_t shape[2] = {6, d};
    struct objective_ctx c = {.s = {.kind = kind, .projections = l, .p = 2, .beta = 0.3,
                                    .kappa = 5, .components = k}};
    struct tn_tensor *in[3];
    for (uint64_t seed = 0;; seed++) {
        cr_assert(seed < 1000, "no seed keeps the projections apart");
        struct tn_rng rng = tn_rng_new(seed);
        if (kind != GW_SLICE_MAX)
            c.base = gw_sphere_base(kind == GW_SLICE_VMF ? GW_SPHERE_VMF : GW_SPHERE_POWER, TN_CPU,
                                    l, d, 5.0, &rng, NULL);
        in[0] = tn_set_requires_grad(make_random(&rng, 2, shape, -1, 1), true);
        in[1] = tn_set_requires_grad(make_random(&rng, 2, shape, -1, 1), true);
        in[2] = tn_set_requires_grad(gw_sphere_uniform(TN_CPU, k, d, &rng), true);
        struct tn_tensor *theta = gw_slicing_directions(&c.s, in[2], c.base);
        if (min_gap(in[0], theta) > 0.02 && min_gap(in[1], theta) > 0.02) break;
    }
    struct ag_check_opts opts = {.eps = 1e-3, .atol = 2e-3, .rtol = 1e-2};
    struct ag_check_result r;
    cr_assert(ag_gradcheck(objective_fn, &c, 3, in, &opts, &r), "kind %d: %s", kind, r.message);
}

Test(rae, gradcheck_in_both_batches_and_the_locations) {
    gradcheck_objective(GW_SLICE_VMF, 1);
    gradcheck_objective(GW_SLICE_VMF, 2);
    gradcheck_objective(GW_SLICE_POWER, 1);
    gradcheck_objective(GW_SLICE_MAX, 1);
}

/* ---- the ascent ---- */

/* the prior draws spread three times wider along e2: the best directions lie near +-e2 */
static void ascent_increases(enum gw_slicing_kind kind, int k) {
    struct tn_rng rng = tn_rng_new(50 + kind);
    const int64_t n = 32, d = 4, l = 16, steps = 40;
    int64_t shape[2] = {n, d};
    struct tn_tensor *z = tn_randn(TN_CPU, 2, shape, &rng);
    float stretch[4] = {1, 3, 1, 1};
    int64_t s_shape[2] = {1, d};
    struct tn_tensor *y =
        ag_mul(tn_randn(TN_CPU, 2, shape, &rng), make_tensor(2, s_shape, stretch));
    struct gw_slicing s = {.kind = kind, .projections = l, .p = 2, .beta = 0.1, .kappa = 20,
                           .components = k, .steps = (int)steps, .lr = 0.05};
    struct tn_tensor *fixed = NULL, *base = NULL;
    if (kind != GW_SLICE_MAX) { /* the same draws at every step: a deterministic objective */
        fixed = gw_sphere_base(kind == GW_SLICE_VMF ? GW_SPHERE_VMF : GW_SPHERE_POWER, TN_CPU, l,
                               d, s.kappa, &rng, NULL);
        int64_t b_shape[3] = {steps, l, d};
        base = ag_expand(ag_unsqueeze(fixed, 0), 3, b_shape);
    }
    struct tn_tensor *eps0 = gw_sphere_uniform(TN_CPU, k, d, &rng);
    struct tn_tensor *eps = gw_slicing_ascent(&s, z, y, eps0, base);
    float before = tn_item(gw_slicing_objective(&s, z, y, eps0, fixed));
    float after = tn_item(gw_slicing_objective(&s, z, y, eps, fixed));
    cr_assert_gt(after, before * 1.05f, "kind %d, k %d: %g before the ascent, %g after", kind, k,
                 before, after);
    float *e = host(eps);
    for (int c = 0; c < k; c++) {
        double norm = 0;
        for (int j = 0; j < d; j++) norm += (double)e[c * d + j] * e[c * d + j];
        cr_assert(fabs(sqrt(norm) - 1) < 1e-6, "location %d has norm %g", c, sqrt(norm));
    }
    free(e);
    cr_assert(!eps->requires_grad && !eps->grad_fn, "the locations come back without a graph");
}

Test(rae, the_ascent_increases_the_distance_it_maximises) {
    ascent_increases(GW_SLICE_VMF, 1);
    ascent_increases(GW_SLICE_VMF, 3);
    ascent_increases(GW_SLICE_POWER, 1);
    ascent_increases(GW_SLICE_MAX, 1);
}

/* ---- the rae-gmm prior ---- */

Test(rae, the_prior_draws_its_components_round_robin_and_trains_both_parameters) {
    struct { int components; } o = {3};
    struct tn_rng rng = tn_rng_new(2);
    struct gw_prior *p;
    cr_assert_eq(gw_prior_new("rae-gmm", 2, &o, &rng, &p), TN_OK, "%s", tn_last_error());
    struct tn_tensor *mu = nn_module_find(&p->base, "mu"), *lv = nn_module_find(&p->base, "logvar");
    cr_assert(mu && lv && mu->shape[0] == 3 && mu->shape[1] == 2);
    float tiny[6] = {-60, -60, -60, -60, -60, -60}; /* sigma e^-30: the draws sit on the means */
    tn_write_host(lv, tiny);
    float *z = host(gw_prior_sample(p, 7, &rng)), *m = host(mu);
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 2; j++)
            cr_assert(fabs(z[i * 2 + j] - m[(i % 3) * 2 + j]) < 1e-6,
                      "draw %d is not from component %d", i, i % 3);
    free(z);
    free(m);
    float zero[6] = {0};
    tn_write_host(lv, zero);
    ag_backward(ag_sum_all(ag_square(gw_prior_sample(p, 6, &rng))), 0);
    float *gm = host(mu->grad), *gl = host(lv->grad);
    double nm = 0, nl = 0;
    for (int i = 0; i < 6; i++) nm += fabs(gm[i]), nl += fabs(gl[i]);
    cr_assert(nm > 0 && nl > 0, "gradients |d mu| %g, |d logvar| %g", nm, nl);
    free(gm);
    free(gl);
    nn_module_free(&p->base);
}

/* ---- the models ---- */

#define TINY_B 4
#define TINY_L 3

static struct gw_model *tiny_rae(const struct gw_model_entry *e, const struct rae_options *o) {
    struct gw_common cfg = gw_common_defaults();
    cfg.image_size = 32;
    cfg.width = 0.0625f;
    cfg.latent = TINY_L;
    cfg.batch = TINY_B;
    snprintf(cfg.model, sizeof cfg.model, "%s", e->name);
    snprintf(cfg.prior, sizeof cfg.prior, "rae-gmm");
    struct { int components; } prior = {2};
    struct tn_rng rng = tn_rng_new(3);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&cfg, o, &prior, &rng, &m), TN_OK, "%s", tn_last_error());
    return m;
}

static struct tn_tensor *tiny_images(uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    int64_t shape[4] = {TINY_B, 3, 32, 32};
    return tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.05f, 0.95f);
}

static struct rae_options options_of(const struct gw_model_entry *e, const char *encoder,
                                     int steps) {
    struct rae_options o;
    e->defaults(&o);
    snprintf(o.encoder, sizeof o.encoder, "%s", encoder);
    o.projections = 6;
    o.search_steps = steps;
    o.search_lr = 0.1;
    o.kappa = 5;
    if (e == &gw_model_rae_mssfg) o.mixture = 3;
    return o;
}

/* the slicing of model e with options o (as rae.c builds it) */
static struct gw_slicing slicing_of(const struct gw_model_entry *e, const struct rae_options *o) {
    enum gw_slicing_kind kind = e == &gw_model_rae_ssfg || e == &gw_model_rae_mssfg ? GW_SLICE_VMF
                                : e == &gw_model_rae_pssfg                         ? GW_SLICE_POWER
                                                                                   : GW_SLICE_MAX;
    return (struct gw_slicing){.kind = kind,
                               .projections = kind == GW_SLICE_MAX ? 1 : o->projections,
                               .p = o->power,
                               .beta = o->beta,
                               .kappa = o->kappa,
                               .components = kind == GW_SLICE_MAX ? 1 : o->mixture,
                               .steps = o->search_steps,
                               .lr = o->search_lr};
}

/* H(mu) y in double for one row */
static void householder_double(const float *mu, const float *y, int d, double *out) {
    double u[64], norm = 1e-14, dot = 0;
    for (int j = 0; j < d; j++) norm += pow((j == 0) - (double)mu[j], 2);
    for (int j = 0; j < d; j++) u[j] = ((j == 0) - (double)mu[j]) / sqrt(norm);
    for (int j = 0; j < d; j++) dot += y[j] * u[j];
    for (int j = 0; j < d; j++) out[j] = y[j] - 2 * dot * u[j];
}

/* The loss of model e against the reference from the same draws: the codes and the prior draws
 * from the model's own ops, the directions rebuilt from the generator (the searched kinds'
 * ascent by gw_slicing_ascent, tested above), the sliced FGW and the sum in double. */
static void check_loss(const struct gw_model_entry *e, const char *encoder, int steps,
                       const char *directions) {
    struct rae_options o = options_of(e, encoder, steps);
    if (directions) snprintf(o.directions, sizeof o.directions, "%s", directions);
    struct gw_model *m = tiny_rae(e, &o);
    struct tn_tensor *x = tiny_images(4);
    struct gw_terms t;
    gw_model_terms(m, &t);
    struct tn_rng r1 = tn_rng_new(77), r2 = r1;
    float loss = tn_item(m->ops->loss(m, x, &r1, &t));
    bool mode = ag_set_grad_enabled(false);
    struct tn_tensor *mu, *logvar;
    gw_model_encode(m, x, &mu, &logvar);
    cr_assert_eq(logvar != NULL, strcmp(encoder, "gaussian") == 0, "%s: the encoder's heads",
                 e->name);
    struct tn_tensor *z = logvar ? gw_reparameterize(mu, logvar, &r2) : mu;
    float *xh = host(x), *rh = host(gw_model_decode(m, z));
    double rec = 0;
    for (int64_t i = 0; i < x->numel; i++) rec += 0.5 * pow((double)xh[i] - rh[i], 2) / TINY_B;
    struct tn_tensor *y = gw_model_sample(m, TINY_B, &r2);
    int64_t l = o.projections, d = TINY_L;
    double theta[64 * TINY_L];
    if (e == &gw_model_rae_sfg) {
        int64_t shape[2] = {l, d};
        bool uniform = strcmp(o.directions, "uniform") == 0;
        float *th =
            host(uniform ? gw_sphere_uniform(TN_CPU, l, d, &r2) : tn_randn(TN_CPU, 2, shape, &r2));
        for (int64_t i = 0; i < l * d; i++) theta[i] = th[i];
        free(th);
    } else {
        struct gw_slicing s = slicing_of(e, &o);
        l = s.projections;
        struct tn_tensor *eps0 = gw_sphere_uniform(TN_CPU, s.components, d, &r2), *base = NULL,
                         *ab = NULL;
        if (s.kind != GW_SLICE_MAX) {
            enum gw_sphere_law law = s.kind == GW_SLICE_VMF ? GW_SPHERE_VMF : GW_SPHERE_POWER;
            base = gw_sphere_base(law, TN_CPU, (steps + 1) * l, d, s.kappa, &r2, NULL);
            int64_t a_shape[3] = {steps, l, d};
            if (steps > 0) ab = ag_reshape(ag_slice(base, 0, 0, steps * l), 3, a_shape);
        }
        float *eps = host(gw_slicing_ascent(&s, z, y, eps0, ab));
        float *bh = base ? host(base) : NULL;
        for (int64_t i = 0; i < l; i++) {
            if (!bh) {
                for (int64_t j = 0; j < d; j++) theta[i * d + j] = eps[j];
                continue;
            }
            householder_double(eps + (i % s.components) * d, bh + (steps * l + i) * d, (int)d,
                               theta + i * d);
        }
        free(eps);
        free(bh);
    }
    float *zh = host(z), *yh = host(y);
    double sfg = ref_sfg(zh, yh, theta, TINY_B, (int)d, (int)l, o.power, o.beta);
    double want = rec + o.gamma / (2.0 * TINY_B) * sfg;
    cr_assert(fabs(loss - want) < 1e-4 * fabs(want),
              "%s (%s encoder, T %d): loss %.6f, reference %.6f", e->name, encoder, steps, loss,
              want);
    gw_terms_read(&t);
    double got_sfg = gw_terms_get(&t, "loss_sfg");
    cr_assert(fabs(got_sfg - sfg) < 1e-4 * fabs(sfg) + 1e-5, "%s: loss_sfg %g, reference %g",
              e->name, got_sfg, sfg);
    ag_set_grad_enabled(mode);
    free(xh);
    free(rh);
    free(zh);
    free(yh);
    gw_terms_free(&t);
    gw_model_free(m);
}

Test(rae, each_model_loss_matches_the_double_reference) {
    check_loss(&gw_model_rae_sfg, "deterministic", 0, NULL);
    check_loss(&gw_model_rae_sfg, "gaussian", 0, "uniform");
    check_loss(&gw_model_rae_ssfg, "deterministic", 2, NULL);
    check_loss(&gw_model_rae_ssfg, "gaussian", 0, NULL);
    check_loss(&gw_model_rae_mssfg, "deterministic", 2, NULL);
    check_loss(&gw_model_rae_pssfg, "deterministic", 2, NULL);
    check_loss(&gw_model_rae_max_sfg, "deterministic", 3, NULL);
}

struct loss_ctx {
    struct gw_model *m;
    struct tn_tensor *x;
};

/* the main loss with the same draws every call */
static struct tn_tensor *loss_fn(struct tn_tensor *const *inputs, void *p) {
    (void)inputs; /* the model's own parameters, perturbed in place */
    struct loss_ctx *c = p;
    struct tn_rng rng = tn_rng_new(99);
    struct gw_terms t;
    gw_model_terms(c->m, &t);
    struct tn_tensor *loss = c->m->ops->loss(c->m, c->x, &rng, &t);
    gw_terms_free(&t);
    return loss;
}

/* With T = 0 the loss is a function of the parameters alone (with T > 0 the locations move
 * with the codes, a dependence the detached search leaves out by design). */
Test(rae, gradcheck_of_the_main_loss) {
    const struct gw_model_entry *entries[2] = {&gw_model_rae_sfg, &gw_model_rae_pssfg};
    for (int k = 0; k < 2; k++) {
        struct rae_options o = options_of(entries[k], "gaussian", 0);
        struct gw_model *m = tiny_rae(entries[k], &o);
        struct loss_ctx ctx = {m, tiny_images(5)};
        const char *names[4] = {"encoder.fc.weight", "encoder.fc_logvar.bias", "prior.mu",
                                "prior.logvar"};
        struct tn_tensor *inputs[4];
        for (int i = 0; i < 4; i++) {
            inputs[i] = nn_module_find(&m->base, names[i]);
            cr_assert(inputs[i], "%s not found", names[i]);
        }
        struct ag_check_opts opts = {.eps = 1e-3, .atol = 1e-2, .rtol = 2e-2, .max_directions = 8};
        struct ag_check_result r;
        cr_assert(ag_gradcheck(loss_fn, &ctx, 4, inputs, &opts, &r), "%s: %s", entries[k]->name,
                  r.message);
        gw_model_free(m);
    }
}

Test(rae, warm_start_keeps_the_locations_found_in_training_only) {
    struct rae_options o = options_of(&gw_model_rae_mssfg, "deterministic", 2);
    o.warm_start = true;
    struct gw_model *m = tiny_rae(&gw_model_rae_mssfg, &o);
    struct tn_tensor *x = tiny_images(6);
    struct gw_terms t;
    gw_model_terms(m, &t);
    struct tn_rng rng = tn_rng_new(8);
    float *before = host(nn_module_find(&m->base, "slice_location"));
    gw_model_train_step(m, x, &rng, &t);
    float *trained = host(nn_module_find(&m->base, "slice_location"));
    gw_model_eval_step(m, x, &rng, &t);
    float *evaluated = host(nn_module_find(&m->base, "slice_location"));
    double moved = 0, kept = 0;
    for (int i = 0; i < 3 * TINY_L; i++) {
        moved += fabs(trained[i] - before[i]);
        kept += fabs(evaluated[i] - trained[i]);
    }
    cr_assert(moved > 0 && kept == 0, "moved %g by training, %g by evaluation", moved, kept);
    free(before);
    free(trained);
    free(evaluated);
    gw_terms_free(&t);
    gw_model_free(m);
}

Test(rae, impossible_settings_are_refused) {
    struct gw_common cfg = gw_common_defaults();
    cfg.latent = 1;
    snprintf(cfg.model, sizeof cfg.model, "rae-ssfg");
    snprintf(cfg.prior, sizeof cfg.prior, "rae-gmm");
    struct tn_rng rng = tn_rng_new(1);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&cfg, NULL, NULL, &rng, &m), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "latent size"), "%s", tn_last_error());
    cfg.latent = 4;
    snprintf(cfg.model, sizeof cfg.model, "rae-mssfg");
    struct rae_options o = options_of(&gw_model_rae_mssfg, "deterministic", 1);
    o.mixture = 7;
    cr_assert_eq(gw_model_new(&cfg, &o, NULL, &rng, &m), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "mixture"), "%s", tn_last_error());
}
