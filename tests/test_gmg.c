/* test_gmg.c - the entropic Gromov-Wasserstein solver (gwae/gw_entropic.h) and the
 * Gromov-Monge gap (gwae/models/gmg.h): the GW value at the plan I/n equals the distortion;
 * Sinkhorn's marginals are within its threshold; a 5x5 problem against a dense double-precision
 * run of the same iterations; the cost matrices against hand values; the gap of the identity
 * map and of orthogonal maps is 0 within the entropic bias eps log n (squared Euclidean,
 * scaled, cosine); the gap is never below minus that bias; its gradient in the map's
 * parameters with the plan fixed passes a gradcheck; the same plan on CUDA as on the CPU
 * (skipped without a GPU). The regulariser inside beta-vae is exercised by test_cli.c.
 */
#include <math.h>
#include <string.h>

#include "gwae/models/gmg.h"
#include "helpers/test_support.h"
#include "tensor/tn_cuda.h"

LEAK_CHECKED_SUITE(gmg);

static const enum gw_gmg_cost costs[3] = {GW_GMG_SQEUCLIDEAN, GW_GMG_SCALED_SQEUCLIDEAN,
                                          GW_GMG_COSINE};
static const char *const cost_names[3] = {"sqeuclidean", "scaled-sqeuclidean", "cosine"};

/* random points [n, d] in [-1, 1) */
static struct tn_tensor *points(uint64_t seed, int64_t n, int64_t d) {
    struct tn_rng rng = tn_rng_new(seed);
    return make_random(&rng, 2, (int64_t[]){n, d}, -1.0f, 1.0f);
}

static void host(struct tn_tensor *t, double *out) {
    float buf[4096];
    cr_assert(t->numel <= 4096);
    tn_to_host(t, buf);
    for (int64_t i = 0; i < t->numel; i++) out[i] = buf[i];
}

/* E(P) with the 1/2 square loss in double, by its definition */
static double ref_cost(const double *a, int n, const double *b, int m, const double *p) {
    double e = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++)
            for (int k = 0; k < n; k++)
                for (int l = 0; l < m; l++)
                    e += 0.5 * pow(a[i * n + k] - b[j * m + l], 2) * p[i * m + j] * p[k * m + l];
    return e;
}

Test(gmg, cost_matrices_match_hand_values) {
    float v[6] = {1, 0, 0, 2, 3, 4};
    struct tn_tensor *p = make_tensor(2, (int64_t[]){3, 2}, v);
    /* |p_i - p_j|^2: (0,1) 1 + 4 = 5, (0,2) 4 + 16 = 20, (1,2) 9 + 4 = 13; mean 76 / 9 */
    float sq[9] = {0, 5, 20, 5, 0, 13, 20, 13, 0};
    assert_close(gw_gmg_cost_matrix(p, GW_GMG_SQEUCLIDEAN), sq, 1e-5, 1e-6);
    float scaled[9];
    for (int i = 0; i < 9; i++) scaled[i] = sq[i] * 9.0f / 76.0f;
    assert_close(gw_gmg_cost_matrix(p, GW_GMG_SCALED_SQEUCLIDEAN), scaled, 1e-5, 1e-5);
    /* 1 - cos: (0,1) 1 - 0, (0,2) 1 - 3/5, (1,2) 1 - 8/10 */
    float cosine[9] = {0, 1, 0.4f, 1, 0, 0.2f, 0.4f, 0.2f, 0};
    assert_close(gw_gmg_cost_matrix(p, GW_GMG_COSINE), cosine, 1e-6, 1e-5);
}

Test(gmg, gw_value_at_the_plan_i_over_n_equals_the_distortion) {
    int n = 7;
    for (int c = 0; c < 3; c++) {
        struct tn_tensor *A = gw_gmg_cost_matrix(points(1, n, 4), costs[c]);
        struct tn_tensor *B = gw_gmg_cost_matrix(points(2, n, 3), costs[c]);
        float eye[49] = {0};
        for (int i = 0; i < n; i++) eye[i * n + i] = 1.0f / (float)n;
        struct tn_tensor *P = make_tensor(2, (int64_t[]){n, n}, eye);
        double a[49], b[49], p[49] = {0}, dst = 0;
        host(A, a);
        host(B, b);
        for (int i = 0; i < n; i++) p[i * n + i] = 1.0 / n;
        for (int i = 0; i < n * n; i++) dst += 0.5 * pow(a[i] - b[i], 2) / (n * n);
        double e = tn_item(gw_quadratic_cost(A, B, P)), d = tn_item(gw_distortion(A, B));
        cr_assert(fabs(d - dst) <= 1e-5 * dst, "%s: DST %g, reference %g", cost_names[c], d, dst);
        cr_assert(fabs(e - dst) <= 1e-5 * dst, "%s: E(I/n) %g, DST %g", cost_names[c], e, dst);
        cr_assert(fabs(ref_cost(a, n, b, n, p) - dst) <= 1e-9 * dst, "the definition disagrees");
    }
}

Test(gmg, sinkhorn_marginals_are_within_the_threshold) {
    int n = 12, m = 9;
    struct tn_tensor *A = gw_gmg_cost_matrix(points(3, n, 4), GW_GMG_SQEUCLIDEAN);
    struct tn_tensor *B = gw_gmg_cost_matrix(points(4, m, 2), GW_GMG_SQEUCLIDEAN);
    const double tols[2] = {1e-3, 1e-5};
    for (int k = 0; k < 2; k++) {
        struct gw_entropic_options o = gw_entropic_defaults();
        o.epsilon = 0.1; /* Sinkhorn reaches 1e-5 well within its 2000 iterations */
        o.inner_tol = tols[k];
        struct gw_entropic_plan plan;
        gw_entropic_solve(A, B, &o, &plan);
        double p[108], rows = 0, cols = 0;
        host(plan.plan, p);
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < m; j++) s += p[i * m + j];
            rows += fabs(s - 1.0 / n);
        }
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int i = 0; i < n; i++) s += p[i * m + j];
            cols += fabs(s - 1.0 / m);
        }
        cr_assert(plan.marginal_error <= tols[k], "reported error %g", plan.marginal_error);
        /* the rows' error as measured in double, float rounding of 108 entries aside */
        cr_assert(rows <= tols[k] + 1e-6, "rows' L1 error %g > %g", rows, tols[k]);
        cr_assert(cols <= 1e-5, "columns' L1 error %g (exact after each iteration)", cols);
        cr_assert(plan.outer >= o.outer_min && plan.inner > 0);
    }
}

/* The same iterations in double: P = a b^T; repeat: C = -2 A P B / eps, Sinkhorn in the log
 * domain to a 1e-13 marginal error, until P stops moving. */
static void ref_solve(const double *a, const double *b, int n, double eps, double *p) {
    double u[8] = {0}, v[8] = {0}, k[64];
    for (int i = 0; i < n * n; i++) p[i] = 1.0 / (n * n);
    for (int outer = 0; outer < 2000; outer++) {
        for (int i = 0; i < n; i++)
            for (int l = 0; l < n; l++) {
                double s = 0;
                for (int j = 0; j < n; j++)
                    for (int q = 0; q < n; q++) s += a[i * n + j] * p[j * n + q] * b[q * n + l];
                k[i * n + l] = -2.0 * s / eps;
            }
        for (int it = 0; it < 100000; it++) {
            double err = 0;
            for (int i = 0; i < n; i++) {
                double mx = -INFINITY, s = 0;
                for (int j = 0; j < n; j++) mx = fmax(mx, v[j] - k[i * n + j]);
                for (int j = 0; j < n; j++) s += exp(v[j] - k[i * n + j] - mx);
                double lse = mx + log(s);
                err += fabs(exp(u[i] + lse) - 1.0 / n);
                u[i] = -log((double)n) - lse;
            }
            for (int j = 0; j < n; j++) {
                double mx = -INFINITY, s = 0;
                for (int i = 0; i < n; i++) mx = fmax(mx, u[i] - k[i * n + j]);
                for (int i = 0; i < n; i++) s += exp(u[i] - k[i * n + j] - mx);
                v[j] = -log((double)n) - (mx + log(s));
            }
            if (it > 0 && err < 1e-13) break;
        }
        double moved = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) {
                double q = exp(u[i] + v[j] - k[i * n + j]);
                moved = fmax(moved, fabs(q - p[i * n + j]));
                p[i * n + j] = q;
            }
        if (moved < 1e-14) break;
    }
}

Test(gmg, five_by_five_matches_a_dense_double_reference) {
    int n = 5;
    struct tn_tensor *A = gw_gmg_cost_matrix(points(5, n, 3), GW_GMG_SQEUCLIDEAN);
    struct tn_tensor *B = gw_gmg_cost_matrix(points(6, n, 2), GW_GMG_SQEUCLIDEAN);
    double a[25], b[25], ref[25], got[25];
    host(A, a);
    host(B, b);
    struct gw_entropic_options o = gw_entropic_defaults();
    o.epsilon = 0.2;
    o.inner_tol = 1e-6;
    o.outer_tol = 1e-9;
    o.outer_max = 500;
    o.warm_start = false; /* as the reference: each Sinkhorn from zero potentials */
    struct gw_entropic_plan plan;
    gw_entropic_solve(A, B, &o, &plan);
    double ma = 0, mb = 0;
    for (int i = 0; i < 25; i++) {
        ma += a[i] / 25;
        mb += b[i] / 25;
    }
    cr_assert(fabs(plan.epsilon - 0.2 * ma * mb) <= 1e-5 * plan.epsilon, "eps %g", plan.epsilon);
    ref_solve(a, b, n, plan.epsilon, ref);
    host(plan.plan, got);
    for (int i = 0; i < 25; i++)
        cr_assert(fabs(got[i] - ref[i]) <= 2e-5, "P[%d] = %g, reference %g", i, got[i], ref[i]);
    double e_ref = ref_cost(a, n, b, n, ref), kl_ref = 0;
    for (int i = 0; i < 25; i++) kl_ref += ref[i] * log(ref[i] * 25);
    double e = tn_item(gw_entropic_value(A, B, &plan, false));
    double reg = tn_item(gw_entropic_value(A, B, &plan, true));
    cr_assert(fabs(e - e_ref) <= 1e-4 * e_ref, "E %g, reference %g", e, e_ref);
    double reg_ref = e_ref + plan.epsilon * kl_ref;
    cr_assert(fabs(reg - reg_ref) <= 1e-4 * e_ref, "GW_eps %g, reference %g", reg, reg_ref);
    cr_assert(plan.converged, "the outer loop did not settle in %d linearisations", plan.outer);
}

/* gmg of the map r -> y for cost c and value kind; *bias gets eps log n */
static double gap(struct tn_tensor *r, struct tn_tensor *y, int c, const char *value,
                  double *bias, double *scale) {
    struct gw_gmg_options o = gw_gmg_defaults();
    snprintf(o.cost, sizeof o.cost, "%s", cost_names[c]);
    snprintf(o.value, sizeof o.value, "%s", value);
    struct gw_gmg_result g;
    gw_gmg(r, y, &o, &g);
    *bias = g.plan.epsilon * log((double)r->shape[0]);
    *scale = g.plan.epsilon / o.epsilon; /* mean(A) mean(B) */
    return tn_item(g.value);
}

/* an orthogonal d x d matrix by Gram-Schmidt on random columns */
static struct tn_tensor *orthogonal(uint64_t seed, int d) {
    struct tn_rng rng = tn_rng_new(seed);
    float q[64];
    tn_rng_normal_host(&rng, q, d * d);
    for (int j = 0; j < d; j++) {
        for (int k = 0; k < j; k++) {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += (double)q[i * d + j] * q[i * d + k];
            for (int i = 0; i < d; i++) q[i * d + j] -= (float)dot * q[i * d + k];
        }
        double norm = 0;
        for (int i = 0; i < d; i++) norm += (double)q[i * d + j] * q[i * d + j];
        for (int i = 0; i < d; i++) q[i * d + j] /= (float)sqrt(norm);
    }
    return make_tensor(2, (int64_t[]){d, d}, q);
}

Test(gmg, gap_of_the_identity_and_of_orthogonal_maps_is_zero_within_the_entropic_bias) {
    int n = 16, d = 5;
    struct tn_tensor *r = points(7, n, d);
    struct tn_tensor *maps[3] = {r, ag_matmul(r, orthogonal(8, d)), ag_matmul(r, orthogonal(9, d))};
    const char *const values[2] = {"regularised", "primal"};
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 3; c++)
            for (int v = 0; v < 2; v++) {
                double bias, scale, g = gap(r, maps[k], c, values[v], &bias, &scale);
                /* DST = 0; GW_eps (or E at the plan) lies in [0, eps log n] */
                cr_assert(g <= 1e-5 * scale && g >= -bias - 1e-5 * scale,
                          "map %d, %s, %s: GMG %g outside [-%g, 0]", k, cost_names[c], values[v], g,
                          bias);
            }
}

Test(gmg, gap_is_never_below_minus_the_entropic_bias) {
    int n = 16, d = 4;
    for (uint64_t seed = 10; seed < 14; seed++) {
        struct tn_tensor *r = points(seed, n, d);
        struct tn_tensor *y = ag_tanh(ag_matmul(r, points(seed + 100, d, 3)));
        for (int c = 0; c < 3; c++) {
            double bias, scale, g = gap(r, y, c, "regularised", &bias, &scale);
            cr_assert(g >= -bias - 1e-5 * scale, "seed %d, %s: GMG %g < -%g", (int)seed,
                      cost_names[c], g, bias);
            double p = gap(r, y, c, "primal", &bias, &scale);
            cr_assert(p >= -bias - 1e-5 * scale, "primal: GMG %g < -%g", p, bias);
        }
    }
}

/* A map that sends each point to where another point of the batch is: the image is the batch
 * again, so GW is 0 (the permutation matches it) and the gap is the whole distortion. */
Test(gmg, gap_of_a_map_that_scrambles_the_batch_is_its_distortion) {
    int n = 10, d = 3, perm[10] = {3, 7, 0, 9, 1, 8, 2, 5, 4, 6};
    struct tn_tensor *r = points(50, n, d);
    float rv[30], yv[30];
    tn_to_host(r, rv);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < d; k++) yv[i * d + k] = rv[perm[i] * d + k];
    struct tn_tensor *y = make_tensor(2, (int64_t[]){n, d}, yv);
    for (int c = 0; c < 3; c++) {
        struct gw_gmg_options o = gw_gmg_defaults();
        snprintf(o.cost, sizeof o.cost, "%s", cost_names[c]);
        struct gw_gmg_result g;
        gw_gmg(r, y, &o, &g);
        double dst = tn_item(g.dst), bias = g.plan.epsilon * log((double)n);
        double value = tn_item(g.value);
        /* GW_eps <= eps log n at the permutation; 5% for the stopping tolerances */
        cr_assert(value >= dst - 1.05 * bias && value <= dst, "%s: GMG %g, DST %g, bias %g",
                  cost_names[c], value, dst, bias);
        float p[100];
        tn_to_host(g.plan.plan, p);
        for (int i = 0; i < n; i++) /* y_j = r_perm[j] matches r_i where perm[j] = i */
            for (int j = 0; j < n; j++)
                if (perm[j] == i)
                    cr_assert(p[i * n + j] > 0.5f / n, "%s: P[%d, %d] = %g", cost_names[c], i, j,
                              p[i * n + j]);
    }
}

Test(gmg, dst_alone_is_the_distortion) {
    struct tn_tensor *r = points(20, 8, 3), *y = ag_tanh(r);
    struct gw_gmg_options o = gw_gmg_defaults();
    o.dst_only = true;
    struct gw_gmg_result g;
    gw_gmg(r, y, &o, &g);
    cr_assert(g.gw == NULL && g.plan.plan == NULL);
    double want = tn_item(gw_distortion(gw_gmg_cost_matrix(r, GW_GMG_COSINE),
                                        gw_gmg_cost_matrix(y, GW_GMG_COSINE)));
    cr_assert_float_eq(tn_item(g.value), want, 1e-7);
}

/* GMG of r -> tanh(r W) at a fixed plan, as a function of W (inputs[0]) */
struct fixed_plan {
    struct tn_tensor *r, *A, *P;
    enum gw_gmg_cost cost;
};

static struct tn_tensor *gmg_at_plan(struct tn_tensor *const *inputs, void *ctx) {
    struct fixed_plan *f = ctx;
    struct tn_tensor *B = gw_gmg_cost_matrix(ag_tanh(ag_matmul(f->r, inputs[0])), f->cost);
    return ag_sub(gw_distortion(f->A, B), gw_quadratic_cost(f->A, B, f->P));
}

Test(gmg, gradient_in_the_map_parameters_with_the_plan_fixed_passes_gradcheck) {
    int n = 6, d = 4;
    for (int c = 0; c < 3; c++) {
        struct fixed_plan f = {.r = points(30, n, d), .cost = costs[c]};
        struct tn_tensor *w = tn_set_requires_grad(points(31, d, 3), true);
        f.A = gw_gmg_cost_matrix(f.r, costs[c]);
        struct gw_entropic_plan plan;
        struct tn_tensor *B = gw_gmg_cost_matrix(ag_tanh(ag_matmul(f.r, w)), costs[c]);
        gw_entropic_solve(f.A, B, NULL, &plan);
        f.P = plan.plan;
        struct ag_check_result res;
        bool ok = ag_gradcheck(gmg_at_plan, &f, 1, &w, NULL, &res);
        cr_assert(ok, "%s: %s", cost_names[c], res.message);
    }
}

Test(gmg, the_plan_is_the_same_on_cuda) {
    if (!tn_cuda_available()) cr_skip_test("no CUDA device: %s", tn_cuda_unavailable_reason());
    struct tn_tensor *A = gw_gmg_cost_matrix(points(40, 32, 6), GW_GMG_COSINE);
    struct tn_tensor *B = gw_gmg_cost_matrix(points(41, 32, 3), GW_GMG_COSINE);
    struct gw_entropic_plan cpu, gpu;
    gw_entropic_solve(A, B, NULL, &cpu);
    gw_entropic_solve(tn_to_device(A, TN_CUDA(0)), tn_to_device(B, TN_CUDA(0)), NULL, &gpu);
    cr_assert_eq(cpu.outer, gpu.outer);
    float p[1024];
    tn_to_host(cpu.plan, p);
    assert_close(tn_to_device(gpu.plan, TN_CPU), p, 1e-6, 1e-3);
    double e_cpu = tn_item(gw_entropic_value(A, B, &cpu, true));
    struct tn_tensor *ga = tn_to_device(A, TN_CUDA(0)), *gb = tn_to_device(B, TN_CUDA(0));
    double e_gpu = tn_item(gw_entropic_value(ga, gb, &gpu, true));
    cr_assert(fabs(e_cpu - e_gpu) <= 1e-4 * fabs(e_cpu), "GW_eps %g on the CPU, %g on CUDA", e_cpu,
              e_gpu);
}
