/* test_metrics.c - known answers for the evaluation routines of metrics.h: PSNR and the
 * mean / standard error, exact uniform transport against brute force and the 1-D quantile
 * formula, the GW objective against a quadruple loop, both GW solvers on isometric clouds and
 * on a hand-solved pair, correlation and the 2-D histogram, the random forest on a step and a
 * linear function, DCI on perfect, mixed and uninformative codes, ROC/AUC, mean / covariance,
 * the Jacobi eigendecomposition and the Frechet distance against closed forms.
 *
 * The plotting code is tests/test_plot.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/data/dataset.h"
#include "gwae/eval/metrics.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(metrics);

/* ---- helpers ---- */

static double *alloc_doubles(int64_t n) {
    double *p = calloc((size_t)n, sizeof *p);
    cr_assert(p);
    return p;
}

/* n seeded floats, standard normal or uniform in [0, 1). */
static float *random_floats(uint64_t seed, int64_t n, bool normal) {
    float *p = malloc((size_t)n * sizeof *p);
    cr_assert(p);
    struct tn_rng rng = tn_rng_new(seed);
    if (normal)
        tn_rng_normal_host(&rng, p, n);
    else
        tn_rng_uniform_host(&rng, p, n);
    return p;
}

static float *normal_floats(uint64_t seed, int64_t n) { return random_floats(seed, n, true); }

static float *uniform_floats(uint64_t seed, int64_t n) { return random_floats(seed, n, false); }

/* A seeded permutation of 0..n-1 into perm. */
static void permutation(uint64_t seed, int64_t n, int64_t *perm) {
    struct tn_rng rng = tn_rng_new(seed);
    gw_permutation(&rng, n, perm);
}

/* Row and column sums of plan[n, m] are 1/n and 1/m. */
static void assert_uniform_marginals(const double *plan, int64_t n, int64_t m, double tol) {
    for (int64_t i = 0; i < n; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < m; j++) s += plan[i * m + j];
        cr_assert(fabs(s - 1.0 / n) < tol, "row %lld sums to %g", (long long)i, s);
    }
    for (int64_t j = 0; j < m; j++) {
        double s = 0.0;
        for (int64_t i = 0; i < n; i++) s += plan[i * m + j];
        cr_assert(fabs(s - 1.0 / m) < tol, "column %lld sums to %g", (long long)j, s);
    }
}

/* ---- PSNR ---- */

Test(metrics, psnr_of_a_constant_offset_of_0_1_is_20_db) {
    float a[300], b[300];
    for (int i = 0; i < 300; i++) {
        a[i] = (float)(i % 7) / 10.0f;
        b[i] = a[i] + 0.1f;
    }
    cr_assert(fabs(gw_psnr(a, b, 300) - 20.0) < 1e-4, "got %g", gw_psnr(a, b, 300));
    /* offset 0.01 -> MSE 1e-4 -> 40 dB */
    for (int i = 0; i < 300; i++) b[i] = a[i] - 0.01f;
    cr_assert(fabs(gw_psnr(a, b, 300) - 40.0) < 1e-3);
}

Test(metrics, psnr_of_equal_images_is_infinite) {
    float a[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    cr_assert(isinf(gw_psnr(a, a, 4)) && gw_psnr(a, a, 4) > 0);
}

Test(metrics, mean_and_standard_error_of_1_2_3_4) {
    double v[4] = {1, 2, 3, 4}, mean, se;
    gw_mean_stderr(v, 4, &mean, &se);
    /* sample variance 5/3, sd / sqrt(4) = 0.6454972 */
    cr_assert(fabs(mean - 2.5) < 1e-12 && fabs(se - sqrt(5.0 / 3.0) / 2.0) < 1e-12);
    gw_mean_stderr(v, 1, &mean, &se);
    cr_assert(mean == 1.0 && se == 0.0);
}

/* ---- exact transport ---- */

Test(metrics, transport_of_a_square_cost_equals_the_best_of_all_permutations) {
    enum { N = 6 };
    float *u = uniform_floats(11, N * N);
    double cost[N * N], plan[N * N];
    for (int k = 0; k < N * N; k++) cost[k] = u[k] - 0.3; /* negative costs too */
    free(u);
    double got = gw_emd_uniform(cost, N, N, plan);
    /* brute force over the 720 permutations (Heap's algorithm) */
    int p[N], c[N] = {0};
    for (int i = 0; i < N; i++) p[i] = i;
    double best = 0.0;
    for (int i = 0; i < N; i++) best += cost[i * N + p[i]] / N;
    for (int i = 0; i < N;) {
        if (c[i] < i) {
            int a = i % 2 == 0 ? 0 : c[i], t = p[a];
            p[a] = p[i];
            p[i] = t;
            double s = 0.0;
            for (int k = 0; k < N; k++) s += cost[k * N + p[k]] / N;
            best = fmin(best, s);
            c[i]++;
            i = 0;
        } else {
            c[i++] = 0;
        }
    }
    cr_assert(fabs(got - best) < 1e-12, "transport %g, best permutation %g", got, best);
    assert_uniform_marginals(plan, N, N, 1e-12);
    for (int k = 0; k < N * N; k++) /* a vertex: every entry 0 or 1/N */
        cr_assert(plan[k] == 0.0 || fabs(plan[k] - 1.0 / N) < 1e-15);
}

/* The exact 1-D transport cost with |x - y| between uniform points: the integral over t of
 * |F^-1(t) - G^-1(t)| for the sorted points, piecewise constant between k/n and l/m. */
static double quantile_cost(const double *x, int n, const double *y, int m) {
    double total = 0.0, t = 0.0;
    int i = 0, j = 0;
    while (i < n && j < m) {
        double next = fmin((double)(i + 1) / n, (double)(j + 1) / m);
        total += (next - t) * fabs(x[i] - y[j]);
        t = next;
        if (fabs(t - (double)(i + 1) / n) < 1e-15) i++;
        if (fabs(t - (double)(j + 1) / m) < 1e-15) j++;
    }
    return total;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(metrics, transport_between_4_and_6_points_on_a_line_matches_the_quantile_formula) {
    enum { N = 4, M = 6 };
    float *u = uniform_floats(21, N + M);
    double x[N], y[M], cost[N * M], plan[N * M];
    for (int i = 0; i < N; i++) x[i] = u[i];
    for (int j = 0; j < M; j++) y[j] = 2.0 * u[N + j];
    free(u);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < M; j++) cost[i * M + j] = fabs(x[i] - y[j]);
    double got = gw_emd_uniform(cost, N, M, plan);
    qsort(x, N, sizeof *x, cmp_double);
    qsort(y, M, sizeof *y, cmp_double);
    double want = quantile_cost(x, N, y, M);
    cr_assert(fabs(got - want) < 1e-12, "transport %.15g, quantile formula %.15g", got, want);
    assert_uniform_marginals(plan, N, M, 1e-12);
}

Test(metrics, transport_of_2_to_4_points_splits_each_source_in_two) {
    /* sources at 0 and 1, sinks at 0, 0.1, 0.9, 1: each source feeds its two near sinks, cost
     * (0 + 0.1 + 0.1 + 0) / 4 = 0.05 */
    double x[2] = {0, 1}, y[4] = {0, 0.1, 0.9, 1}, cost[8], plan[8];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) cost[i * 4 + j] = fabs(x[i] - y[j]);
    cr_assert(fabs(gw_emd_uniform(cost, 2, 4, plan) - 0.05) < 1e-15);
    cr_assert(plan[0] == 0.25 && plan[1] == 0.25 && plan[6] == 0.25 && plan[7] == 0.25);
}

/* ---- Gromov-Wasserstein ---- */

Test(metrics, distance_matrix_of_a_3_4_5_triangle) {
    float pts[6] = {0, 0, 3, 0, 0, 4};
    double d[9];
    gw_distance_matrix(pts, 3, 2, d);
    double want[9] = {0, 3, 4, 3, 0, 5, 4, 5, 0};
    for (int k = 0; k < 9; k++) cr_assert(fabs(d[k] - want[k]) < 1e-12);
}

/* loss(a, b) for the brute-force checks. */
static double loss_value(enum gw_gw_loss loss, double a, double b) {
    return loss == GW_GW_SQUARE ? (a - b) * (a - b) : fabs(a - b);
}

Test(metrics, gw_objective_equals_the_quadruple_loop_for_both_losses) {
    enum { N = 5, M = 4, DIM = 3 };
    float *p1 = normal_floats(31, N * DIM), *p2 = normal_floats(32, M * 2);
    float *w = uniform_floats(33, N * M);
    double c1[N * N], c2[M * M], plan[N * M];
    gw_distance_matrix(p1, N, DIM, c1);
    gw_distance_matrix(p2, M, 2, c2);
    for (int k = 0; k < N * M; k++) plan[k] = w[k]; /* any non-negative matrix will do */
    free(p1);
    free(p2);
    free(w);
    /* dense plan first (|a - b| takes the sorted-merge path), then one with 4 non-zeros
     * (the direct sum over them) */
    for (int round = 0; round < 4; round++) {
        enum gw_gw_loss loss = round % 2 ? GW_GW_ABS : GW_GW_SQUARE;
        if (round == 2)
            for (int k = 0; k < N * M; k++)
                if (k % 6) plan[k] = 0.0;
        double want = 0.0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
                for (int k = 0; k < N; k++)
                    for (int l = 0; l < M; l++)
                        want += loss_value(loss, c1[i * N + k], c2[j * M + l]) * plan[i * M + j] *
                                plan[k * M + l];
        double got = gw_gw_objective(c1, N, c2, M, loss, plan);
        cr_assert(fabs(got - want) < 1e-12 * fabs(want), "round %d: %.15g vs %.15g", round, got,
                  want);
    }
}

/* Distances of a seeded cloud [n, 3] and of a rotated and permuted copy. */
static void isometric_pair(int64_t n, double *c1, double *c2) {
    float *p = normal_floats(41, n * 3), *q = malloc((size_t)n * 3 * sizeof *q);
    int64_t *perm = malloc((size_t)n * sizeof *perm);
    cr_assert(q && perm);
    permutation(42, n, perm);
    double a = 0.7, b = -1.1; /* rotation about z by a, then about x by b */
    for (int64_t i = 0; i < n; i++) {
        const float *s = p + perm[i] * 3;
        double x = cos(a) * s[0] - sin(a) * s[1], y = sin(a) * s[0] + cos(a) * s[1], z = s[2];
        q[i * 3 + 0] = (float)x;
        q[i * 3 + 1] = (float)(cos(b) * y - sin(b) * z);
        q[i * 3 + 2] = (float)(sin(b) * y + cos(b) * z);
    }
    gw_distance_matrix(p, n, 3, c1);
    gw_distance_matrix(q, n, 3, c2);
    free(p);
    free(q);
    free(perm);
}

/* Both solvers and both losses bring a cloud and its isometric copy near 0, far below the
 * product coupling. */
static void check_isometric(double epsilon, enum gw_gw_loss loss, double rel_tol) {
    enum { N = 30 };
    double *c1 = alloc_doubles(N * N), *c2 = alloc_doubles(N * N), *plan = alloc_doubles(N * N);
    isometric_pair(N, c1, c2);
    struct gw_gw_options o = gw_gw_defaults();
    o.loss = loss;
    o.epsilon = epsilon;
    double got = gw_gromov_wasserstein(c1, N, c2, N, &o, plan);
    for (int k = 0; k < N * N; k++) plan[k] = 1.0 / (N * N);
    double product = gw_gw_objective(c1, N, c2, N, loss, plan);
    cr_assert(got >= -1e-12 && got < rel_tol * product, "eps %g loss %d: GW %g, product %g",
              epsilon, (int)loss, got, product);
    free(c1);
    free(c2);
    free(plan);
}

Test(metrics, gw_cg_square_loss_of_isometric_clouds_is_zero) {
    check_isometric(0.0, GW_GW_SQUARE, 1e-9);
}

Test(metrics, gw_cg_abs_loss_of_isometric_clouds_is_zero) {
    /* the copy's distances differ from the original's by float round-off (~1e-7), which
     * |a - b| keeps to first order where (a - b)^2 squares it away */
    check_isometric(0.0, GW_GW_ABS, 1e-6);
}

Test(metrics, gw_entropic_square_loss_of_isometric_clouds_is_near_zero) {
    check_isometric(1e-2, GW_GW_SQUARE, 1e-2);
}

Test(metrics, gw_entropic_abs_loss_of_isometric_clouds_is_near_zero) {
    check_isometric(1e-2, GW_GW_ABS, 1e-2);
}

Test(metrics, gw_cg_of_two_point_spaces_matches_the_hand_value) {
    /* X = two points 1 apart, Z = two points 3 apart. Every coupling is [[a, b], [b, a]] with
     * a + b = 1/2. Square loss: pairs (i = k, j != l) cost 9, (i != k, j = l) cost 1,
     * (i != k, j != l) cost 4, so E = 36ab + 4ab + 8(a^2 + b^2) = 2 + 24ab, least (2) at a
     * permutation, 3.5 at the product coupling. |a - b|: E = 12ab + 4ab + 4(a^2 + b^2)
     * = 1 + 8ab, least 1. */
    double c1[4] = {0, 1, 1, 0}, c2[4] = {0, 3, 3, 0}, plan[4];
    struct gw_gw_options o = gw_gw_defaults();
    cr_assert(fabs(gw_gromov_wasserstein(c1, 2, c2, 2, &o, plan) - 2.0) < 1e-12);
    cr_assert(fabs(plan[0] * plan[1]) < 1e-15, "the optimum is a permutation");
    o.loss = GW_GW_ABS;
    cr_assert(fabs(gw_gromov_wasserstein(c1, 2, c2, 2, &o, plan) - 1.0) < 1e-12);
    double product[4] = {0.25, 0.25, 0.25, 0.25};
    cr_assert(fabs(gw_gw_objective(c1, 2, c2, 2, GW_GW_SQUARE, product) - 3.5) < 1e-12);
}

Test(metrics, gw_solvers_are_never_worse_than_the_product_coupling_and_keep_marginals) {
    enum { N = 14, M = 9 };
    float *p1 = normal_floats(51, N * 4), *p2 = uniform_floats(52, M * 2);
    double c1[N * N], c2[M * M], plan[N * M], product[N * M];
    gw_distance_matrix(p1, N, 4, c1);
    gw_distance_matrix(p2, M, 2, c2);
    free(p1);
    free(p2);
    for (int k = 0; k < N * M; k++) product[k] = 1.0 / (N * M);
    for (int li = 0; li < 2; li++)
        for (int si = 0; si < 2; si++) {
            struct gw_gw_options o = gw_gw_defaults();
            o.loss = li ? GW_GW_ABS : GW_GW_SQUARE;
            o.epsilon = si ? 5e-2 : 0.0;
            double got = gw_gromov_wasserstein(c1, N, c2, M, &o, plan);
            double base = gw_gw_objective(c1, N, c2, M, o.loss, product);
            cr_assert(got <= base + 1e-12, "loss %d eps %g: %g > product %g", li, o.epsilon, got,
                      base);
            cr_assert(fabs(got - gw_gw_objective(c1, N, c2, M, o.loss, plan)) < 1e-12);
            assert_uniform_marginals(plan, N, M, si ? 1e-6 : 1e-12);
        }
}

/* ---- isometry ---- */

Test(metrics, correlation_of_a_linear_relation_is_one_and_of_a_constant_zero) {
    double a[50], b[50], c[50];
    for (int i = 0; i < 50; i++) {
        a[i] = 1e6 + i * 0.5; /* a large mean must not cost digits */
        b[i] = 3.0 - 2.0 * a[i];
        c[i] = 7.0;
    }
    cr_assert(fabs(gw_correlation(a, b, 50) + 1.0) < 1e-12);
    cr_assert(fabs(gw_correlation(a, a, 50) - 1.0) < 1e-12);
    cr_assert(gw_correlation(a, c, 50) == 0.0);
}

Test(metrics, histogram2d_counts_known_pairs_and_drops_those_outside) {
    double a[6] = {0.1, 0.6, 0.6, 1.5, -0.1, 0.99};
    double b[6] = {0.1, 0.1, 1.9, 0.5, 0.5, 1.0};
    int64_t counts[4];
    /* a in [0, 1) x b in [0, 2), 2 x 2 bins; (1.5, .) and (-0.1, .) fall outside */
    cr_assert_eq(gw_histogram2d(a, b, 6, 0, 1, 0, 2, 2, 2, counts), 4);
    cr_assert(counts[0] == 1 && counts[1] == 1 && counts[2] == 0 && counts[3] == 2,
              "%lld %lld %lld %lld", (long long)counts[0], (long long)counts[1],
              (long long)counts[2], (long long)counts[3]);
}

/* ---- random forest ---- */

/* Fits y on x[n, dim] (first n_train rows) and returns the MSE on the rest. */
static double forest_test_mse(const float *x, const double *y, int64_t n, int64_t n_train,
                              int64_t dim, int depth, double *importance) {
    struct gw_forest_options o = {.n_trees = 10, .max_depth = depth, .min_leaf = 1, .seed = 5};
    struct gw_forest *f = gw_forest_fit(x, y, n_train, dim, &o);
    cr_assert(f);
    double *pred = alloc_doubles(n - n_train), mse = 0.0;
    gw_forest_predict(f, x + n_train * dim, n - n_train, pred);
    for (int64_t r = n_train; r < n; r++) mse += pow(pred[r - n_train] - y[r], 2);
    gw_forest_importances(f, importance);
    gw_forest_free(f);
    free(pred);
    return mse / (double)(n - n_train);
}

Test(metrics, forest_fits_a_step_function_of_one_feature) {
    enum { N = 600, DIM = 4 };
    float *x = uniform_floats(61, N * DIM);
    double y[N], imp[DIM];
    for (int r = 0; r < N; r++) y[r] = x[r * DIM + 2] > 0.4f ? 1.0 : 0.0;
    double mse = forest_test_mse(x, y, N, 400, DIM, 4, imp);
    free(x);
    cr_assert(mse < 5e-3, "step MSE %g", mse);
    cr_assert(imp[2] > 0.99, "importance of the step's feature %g", imp[2]);
    double sum = imp[0] + imp[1] + imp[2] + imp[3];
    cr_assert(fabs(sum - 1.0) < 1e-12);
}

Test(metrics, forest_fits_a_linear_function_of_one_feature) {
    enum { N = 1500, DIM = 3 };
    float *x = uniform_floats(62, N * DIM);
    double y[N], imp[DIM];
    for (int r = 0; r < N; r++) y[r] = 2.0 * x[r * DIM + 1] - 1.0;
    double mse = forest_test_mse(x, y, N, 1000, DIM, 8, imp);
    free(x);
    /* the variance of y is 1/3; a depth-8 forest leaves about (2 / 256)^2 / 12 per tree */
    cr_assert(mse < 1e-3, "linear MSE %g", mse);
    cr_assert(imp[1] > 0.98, "importance of the informative feature %g", imp[1]);
}

Test(metrics, forest_is_repeatable_from_its_seed) {
    enum { N = 200, DIM = 3 };
    float *x = uniform_floats(63, N * DIM);
    double y[N], a[DIM], b[DIM];
    for (int r = 0; r < N; r++) y[r] = sin(6.0 * x[r * DIM]) + x[r * DIM + 1];
    double m1 = forest_test_mse(x, y, N, 150, DIM, 6, a);
    double m2 = forest_test_mse(x, y, N, 150, DIM, 6, b);
    free(x);
    cr_assert(m1 == m2 && memcmp(a, b, sizeof a) == 0);
}

/* ---- DCI ---- */

/* n rows of n_factors factors, each uniform over levels values in [0, 1]. */
static float *discrete_factors(uint64_t seed, int64_t n, int n_factors, int levels) {
    float *f = uniform_floats(seed, n * n_factors);
    for (int64_t k = 0; k < n * n_factors; k++)
        f[k] = floorf(f[k] * (float)levels) / (float)(levels - 1);
    return f;
}

Test(metrics, dci_of_a_perfect_code_is_one_one_one) {
    enum { N = 600, K = 3 };
    float *fac = discrete_factors(71, N, K, 8);
    struct gw_dci d = gw_dci_score(fac, N, K, fac, K, 1); /* each latent is one factor */
    free(fac);
    cr_assert(d.disentanglement > 0.99 && d.completeness > 0.99 && d.informativeness > 0.99,
              "D %g C %g I %g", d.disentanglement, d.completeness, d.informativeness);
    for (int i = 0; i < K; i++) cr_assert(d.importance[i * K + i] > 0.99);
    gw_dci_free(&d);
}

Test(metrics, dci_of_copies_of_one_mixture_is_near_zero_for_d_and_c) {
    enum { N = 600, K = 3, DIM = 4 };
    float *fac = discrete_factors(72, N, K, 8), *codes = malloc(N * DIM * sizeof *codes);
    cr_assert(codes);
    for (int r = 0; r < N; r++) {
        float mix = fac[r * K] + 2.0f * fac[r * K + 1] + 4.0f * fac[r * K + 2];
        for (int i = 0; i < DIM; i++) codes[r * DIM + i] = mix; /* every latent the same */
    }
    struct gw_dci d = gw_dci_score(codes, N, DIM, fac, K, 2);
    free(fac);
    free(codes);
    cr_assert(d.disentanglement < 0.15 && d.completeness < 0.1, "D %g C %g", d.disentanglement,
              d.completeness);
    gw_dci_free(&d);
}

/* Importances fitted to noise are themselves noise: shallow trees make a few splits on
 * whichever latent fits the sample best, so D and C scatter between 0 and about 0.4 with the
 * seed rather than sitting at 0 (12 seeds: D 0.02..0.38, C 0.03..0.21); I is exactly 0 for
 * binary factors, whose best constant prediction has MSE 1/4 > 1/6. */
Test(metrics, dci_of_a_code_unrelated_to_the_factors_is_low) {
    enum { N = 600, K = 2, DIM = 4 };
    float *fac = discrete_factors(73, N, K, 2); /* binary: predicting the mean gives I = 0 */
    float *codes = normal_floats(74, N * DIM);
    struct gw_dci d = gw_dci_score(codes, N, DIM, fac, K, 3);
    free(fac);
    free(codes);
    cr_assert(d.disentanglement < 0.5 && d.completeness < 0.5 && d.informativeness < 0.05,
              "D %g C %g I %g", d.disentanglement, d.completeness, d.informativeness);
    cr_assert(d.max_depth == 2, "cross-validation should pick the shallowest forest, got %d",
              d.max_depth);
    gw_dci_free(&d);
}

/* ---- ROC ---- */

Test(metrics, roc_auc_is_one_for_separable_zero_reversed_and_half_for_identical) {
    double lo[3] = {0.1, 0.2, 0.3}, hi[2] = {0.8, 0.9}, fpr[6], tpr[6];
    int64_t points;
    cr_assert_eq(gw_roc(lo, 3, hi, 2, fpr, tpr, &points), 1.0);
    cr_assert(points == 6 && fpr[0] == 0 && tpr[0] == 0 && fpr[5] == 1 && tpr[5] == 1);
    cr_assert(tpr[2] == 1.0 && fpr[2] == 0.0, "both positives first");
    cr_assert_eq(gw_roc(hi, 2, lo, 3, NULL, NULL, NULL), 0.0);
    double same[4] = {0.5, 0.5, 0.5, 0.5};
    cr_assert_eq(gw_roc(same, 2, same, 2, fpr, tpr, &points), 0.5);
    cr_assert(points == 2, "one block of ties is one straight segment");
}

Test(metrics, roc_auc_counts_ordered_pairs_with_ties_as_half) {
    double neg[3] = {0.1, 0.4, 0.6}, pos[2] = {0.35, 0.6};
    /* pairs (pos > neg): 0.35 beats 0.1; 0.6 beats 0.1 and 0.4 and ties 0.6 -> 3.5 / 6 */
    cr_assert(fabs(gw_roc(neg, 3, pos, 2, NULL, NULL, NULL) - 3.5 / 6.0) < 1e-15);
}

/* ---- mean, covariance, eigendecomposition, Frechet ---- */

Test(metrics, mean_and_unbiased_covariance_of_three_rows) {
    float feat[6] = {1, 2, 3, 6, 5, 10};
    double mean[2], cov[4];
    gw_mean_cov(feat, 3, 2, mean, cov);
    cr_assert(mean[0] == 3 && mean[1] == 6);
    cr_assert(fabs(cov[0] - 4) < 1e-12 && fabs(cov[1] - 8) < 1e-12 && fabs(cov[2] - 8) < 1e-12 &&
              fabs(cov[3] - 16) < 1e-12);
}

Test(metrics, eigendecomposition_reconstructs_a_random_symmetric_matrix) {
    enum { D = 17 };
    float *r = normal_floats(81, D * D);
    double a[D * D], vals[D], vecs[D * D];
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) a[i * D + j] = (double)r[i * D + j] + (double)r[j * D + i];
    free(r);
    gw_symmetric_eigen(a, D, vals, vecs);
    for (int k = 1; k < D; k++) cr_assert(vals[k - 1] <= vals[k], "ascending");
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double back = 0.0, gram = 0.0;
            for (int k = 0; k < D; k++) {
                back += vecs[i * D + k] * vals[k] * vecs[j * D + k];
                gram += vecs[k * D + i] * vecs[k * D + j];
            }
            cr_assert(fabs(back - a[i * D + j]) < 1e-10, "A[%d,%d] %g vs %g", i, j, back,
                      a[i * D + j]);
            cr_assert(fabs(gram - (i == j)) < 1e-10, "V^T V is not the identity");
        }
}

Test(metrics, frechet_of_a_feature_set_with_itself_is_zero) {
    enum { N = 300, D = 6 };
    float *f = normal_floats(91, N * D);
    for (int k = 0; k < N * D; k++) f[k] = f[k] * (1.0f + (float)(k % D)) + (float)(k % 3);
    double mean[D], cov[D * D];
    gw_mean_cov(f, N, D, mean, cov);
    free(f);
    double got = gw_frechet(mean, cov, mean, cov, D);
    cr_assert(fabs(got) < 1e-9, "got %g", got);
}

Test(metrics, frechet_of_commuting_gaussians_is_the_closed_form) {
    /* c1 = Q diag(a) Q^T, c2 = Q diag(b) Q^T share eigenvectors, so the distance is
     * |m1 - m2|^2 + sum (sqrt a - sqrt b)^2; Q = I is the diagonal case */
    enum { D = 5 };
    double a[D] = {1, 4, 0.25, 2, 9}, b[D] = {4, 1, 0.25, 0.5, 0}, m1[D] = {0, 1, 2, 3, 4};
    double m2[D] = {1, 1, 0, 3, 4}, want = 1 + 4;
    for (int k = 0; k < D; k++) want += pow(sqrt(a[k]) - sqrt(b[k]), 2);
    float *r = normal_floats(92, D * D);
    double sym[D * D], vals[D], q[D * D], c1[D * D], c2[D * D];
    for (int i = 0; i < D * D; i++) sym[i] = (double)r[i] + (double)r[(i % D) * D + i / D];
    free(r);
    gw_symmetric_eigen(sym, D, vals, q); /* an orthonormal Q */
    for (int rot = 0; rot < 2; rot++) {
        for (int i = 0; i < D; i++)
            for (int j = 0; j < D; j++) {
                c1[i * D + j] = c2[i * D + j] = 0.0;
                for (int k = 0; k < D; k++) {
                    double qi = rot ? q[i * D + k] : (i == k), qj = rot ? q[j * D + k] : (j == k);
                    c1[i * D + j] += qi * a[k] * qj;
                    c2[i * D + j] += qi * b[k] * qj;
                }
            }
        double got = gw_frechet(m1, c1, m2, c2, D);
        /* b's zero eigenvalue comes back as round-off ~1e-16, whose root is ~1e-8 */
        cr_assert(fabs(got - want) < 1e-6, "rotated %d: %.12g vs %.12g", rot, got, want);
    }
}
