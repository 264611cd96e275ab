/* bench_gw_solver.c - the engine's entropic GW solver (gwae/gw_entropic.h) on given problems:
 * its plan, values and median time, for bench/gw_solver_reference.py to set beside POT's
 * entropic_gromov_wasserstein2 on the same matrices.
 *
 * Usage: bench_gw_solver FILE EPS0 [--reps N] [--training]
 *   FILE holds problems one after another: int32 n, int32 m, float32 A[n, n], float32 B[m, m]
 *   (little-endian). eps = EPS0 mean|A| mean|B|, as the Gromov-Monge gap sets it.
 *   Default stopping: tight (rows' marginal L1 error 1e-5, float32's floor being near 2e-6; E
 *   settled to 1e-9 of its scale, up to 1000 linearisations), for agreement; --training: the
 *   solver's defaults (gw_entropic_defaults) as GMG runs it in training.
 * Prints one JSON object per problem: n, m, eps, value (E, the 1/2 square loss), value_sq (2 E,
 * POT's unhalved square loss), reg (E + eps KL(P || a b^T)), outer and inner iterations, the
 * marginal error, the median milliseconds over the repetitions and the thread count; writes
 * the plans (float32 [n, m] each) to FILE.plans.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autograd/ag.h"
#include "gwae/gw_entropic.h"

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return 1e3 * (double)t.tv_sec + 1e-6 * (double)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* one matrix [n, n] from f, or NULL at the end of the file */
static struct tn_tensor *read_matrix(FILE *f, int32_t n) {
    float *v = malloc((size_t)n * (size_t)n * sizeof *v);
    if (!v || fread(v, sizeof *v, (size_t)n * (size_t)n, f) != (size_t)n * (size_t)n) {
        free(v);
        return NULL;
    }
    struct tn_tensor *t = tn_from_host(TN_CPU, 2, (int64_t[]){n, n}, v);
    free(v);
    return t;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_gw_solver FILE EPS0 [--reps N] [--training]\n");
        return 2;
    }
    int reps = 5;
    bool training = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = atoi(argv[++i]);
        else if (strcmp(argv[i], "--training") == 0) training = true;
    }
    if (reps < 1 || reps > 1000) reps = 5;
    struct gw_entropic_options o = gw_entropic_defaults();
    o.epsilon = atof(argv[2]);
    if (!training) {
        o.inner_tol = 1e-5;
        o.outer_tol = 1e-9;
        o.outer_max = 1000;
    }
    FILE *f = fopen(argv[1], "rb");
    char plans_path[4096];
    snprintf(plans_path, sizeof plans_path, "%s.plans", argv[1]);
    FILE *plans = fopen(plans_path, "wb");
    if (!f || !plans) {
        fprintf(stderr, "bench_gw_solver: cannot open %s or %s\n", argv[1], plans_path);
        return 1;
    }
    double *ms = malloc((size_t)reps * sizeof *ms);
    int32_t nm[2];
    for (int problem = 0; ms && fread(nm, sizeof nm[0], 2, f) == 2; problem++) {
        tn_scope_begin();
        struct tn_tensor *A = read_matrix(f, nm[0]), *B = A ? read_matrix(f, nm[1]) : NULL;
        if (!B) {
            fprintf(stderr, "bench_gw_solver: %s: problem %d is cut short\n", argv[1], problem);
            return 1;
        }
        struct gw_entropic_plan plan;
        for (int r = 0; r < reps; r++) {
            tn_scope_begin();
            double t0 = now_ms();
            gw_entropic_solve(A, B, &o, &plan);
            ms[r] = now_ms() - t0;
            tn_scope_end();
        }
        gw_entropic_solve(A, B, &o, &plan);
        double e = tn_item(gw_entropic_value(A, B, &plan, false));
        double reg = tn_item(gw_entropic_value(A, B, &plan, true));
        float *p = malloc((size_t)nm[0] * (size_t)nm[1] * sizeof *p);
        tn_to_host(plan.plan, p);
        fwrite(p, sizeof *p, (size_t)nm[0] * (size_t)nm[1], plans);
        free(p);
        qsort(ms, (size_t)reps, sizeof *ms, compare);
        printf("{\"problem\": %d, \"n\": %d, \"m\": %d, \"eps\": %.9g, \"value\": %.9g, "
               "\"value_sq\": %.9g, \"reg\": %.9g, \"outer\": %d, \"inner\": %d, "
               "\"marginal_error\": %.3g, \"ms_median\": %.4g, \"reps\": %d, \"threads\": %d}\n",
               problem, nm[0], nm[1], plan.epsilon, e, 2 * e, reg, plan.outer, plan.inner,
               plan.marginal_error, ms[reps / 2], reps, omp_get_max_threads());
        tn_scope_end();
    }
    free(ms);
    fclose(f);
    fclose(plans);
    return 0;
}
