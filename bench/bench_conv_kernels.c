/* bench_conv_kernels.c - times the three CPU conv kernels (CONV2D, CONV2D_GRAD_INPUT,
 * CONV2D_GRAD_WEIGHT) on the GWAE's layer shapes and prints the median of each in ms.
 *
 * Every layer is k4 s2 p1 at batch 64. A transposed conv of the decoder is the input
 * gradient of the conv it mirrors, and its backward is that conv's forward and weight
 * gradient, so the encoder rows cover the decoder too. Usage: bench_conv_kernels [reps
 * [layer]] (layer: a row number, to time one); run with OMP_NUM_THREADS set.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "autograd/ag.h"

struct layer {
    const char *name;
    int64_t cin, cout, hw; /* x [64, cin, hw, hw] -> y [64, cout, hw/2, hw/2] */
};

static const struct layer layers[] = {
    {"first conv 3->32 @64 (convT 32->3)", 3, 32, 64},
    {"critic 3->8 @64", 3, 8, 64},
    {"critic 8->16 @32", 8, 16, 32},
    {"critic 16->32 @16", 16, 32, 16},
    {"critic 32->64 @8", 32, 64, 8},
    {"critic 64->128 @4", 64, 128, 4},
    {"critic 128->256 @2", 128, 256, 2},
    {"encoder 32->64 @32 (convT 64->32)", 32, 64, 32},
    {"encoder 64->128 @16 (convT 128->64)", 64, 128, 16},
    {"encoder 128->256 @8 (convT 256->128)", 128, 256, 8},
};

/* Seconds on a monotonic clock. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A tensor of shape with values uniform in [-1, 1). */
static struct tn_tensor *random_tensor(int64_t n, int64_t c, int64_t h, int64_t w) {
    int64_t shape[4] = {n, c, h, w}, count = n * c * h * w;
    float *v = malloc(sizeof(float) * (size_t)count);
    for (int64_t i = 0; i < count; i++) v[i] = 2.0f * (float)rand() / (float)RAND_MAX - 1.0f;
    struct tn_tensor *t = tn_from_host(TN_CPU, 4, shape, v);
    free(v);
    return t;
}

/* Median ms of one kernel (which: 0 conv2d, 1 grad input, 2 grad weight) over reps runs. */
static double time_kernel(int which, struct tn_tensor *x, struct tn_tensor *w,
                          struct tn_tensor *gy, struct tn_conv_geom geom, int reps) {
    double *ms = malloc(sizeof(double) * (size_t)reps);
    for (int r = -5; r < reps; r++) { /* five warm-up runs */
        tn_scope_begin();
        double t0 = now();
        if (which == 0) ag_conv2d(x, w, NULL, geom);
        else if (which == 1) ag_conv2d_grad_input(gy, w, x->shape, geom);
        else ag_conv2d_grad_weight(x, gy, w->shape, geom);
        double t1 = now();
        tn_scope_end();
        if (r >= 0) ms[r] = 1e3 * (t1 - t0);
    }
    qsort(ms, (size_t)reps, sizeof(double), cmp_double);
    double median = ms[reps / 2];
    free(ms);
    return median;
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 25;
    int only = argc > 2 ? atoi(argv[2]) : -1;
    if (reps < 1) reps = 1;
    const int64_t n = 64;
    struct tn_conv_geom geom = ag_conv_geom(2, 1);
    printf("conv kernels, batch %lld, k4 s2 p1, %d OpenMP threads, median of %d (ms)\n",
           (long long)n, omp_get_max_threads(), reps);
    printf("%-38s %9s %9s %9s %9s\n", "layer", "conv2d", "grad_in", "grad_w", "sum");
    double total = 0;
    for (size_t l = 0; l < sizeof layers / sizeof *layers; l++) {
        const struct layer *L = &layers[l];
        if (only >= 0 && (size_t)only != l) continue;
        tn_scope_begin();
        struct tn_tensor *x = random_tensor(n, L->cin, L->hw, L->hw);
        struct tn_tensor *w = random_tensor(L->cout, L->cin, 4, 4);
        struct tn_tensor *gy = random_tensor(n, L->cout, L->hw / 2, L->hw / 2);
        double t[3];
        for (int k = 0; k < 3; k++) t[k] = time_kernel(k, x, w, gy, geom, reps);
        double sum = t[0] + t[1] + t[2];
        total += sum;
        printf("%-38s %9.3f %9.3f %9.3f %9.3f\n", L->name, t[0], t[1], t[2], sum);
        tn_scope_end();
    }
    printf("%-38s %39.3f\n", "all layers", total);
    return 0;
}
