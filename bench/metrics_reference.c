/* metrics_reference.c - the C side of bench/metrics_reference.py: reads raw arrays the
 * script wrote, runs one routine of eval/metrics.h on them and prints the result as numbers on
 * one line, so that the script can set them beside POT and scikit-learn.
 *
 * Not part of the CMake build (the bench_* programs link only nn); the script compiles it
 * against the static libraries of a build folder. Usage:
 *   metrics_reference gw N M EPSILON LOSS C1.f64 C2.f64         -> objective
 *   metrics_reference dci N DIM K SEED CODES.f32 FACTORS.f32     -> D C I depth R...
 *   metrics_reference forest N NT DIM DEPTH X.f32 Y.f64 XT.f32    -> importances..., predictions...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/eval/metrics.h"

/* Reads count items of size bytes from path; exits on failure (a script helper). */
static void *load(const char *path, size_t count, size_t size) {
    void *p = malloc(count * size);
    FILE *f = fopen(path, "rb");
    if (!p || !f || fread(p, size, count, f) != count) {
        fprintf(stderr, "cannot read %zu items from %s\n", count, path);
        exit(1);
    }
    fclose(f);
    return p;
}

static int run_gw(char **a) {
    int64_t n = atoll(a[0]), m = atoll(a[1]);
    struct gw_gw_options o = gw_gw_defaults();
    o.epsilon = atof(a[2]);
    o.loss = strcmp(a[3], "abs") == 0 ? GW_GW_ABS : GW_GW_SQUARE;
    double *c1 = load(a[4], (size_t)(n * n), sizeof *c1), *c2 = load(a[5], (size_t)(m * m), sizeof *c2);
    printf("%.17g\n", gw_gromov_wasserstein(c1, n, c2, m, &o, NULL));
    free(c1);
    free(c2);
    return 0;
}

static int run_dci(char **a) {
    int64_t n = atoll(a[0]), dim = atoll(a[1]);
    int k = atoi(a[2]);
    float *codes = load(a[4], (size_t)(n * dim), sizeof *codes);
    float *factors = load(a[5], (size_t)n * (size_t)k, sizeof *factors);
    struct gw_dci d = gw_dci_score(codes, n, dim, factors, k, strtoull(a[3], NULL, 10));
    printf("%.17g %.17g %.17g %d", d.disentanglement, d.completeness, d.informativeness,
           d.max_depth);
    for (int64_t i = 0; i < dim * k; i++) printf(" %.17g", d.importance[i]);
    printf("\n");
    gw_dci_free(&d);
    free(codes);
    free(factors);
    return 0;
}

static int run_forest(char **a) {
    int64_t n = atoll(a[0]), nt = atoll(a[1]), dim = atoll(a[2]);
    struct gw_forest_options o = {.n_trees = 10, .max_depth = atoi(a[3]), .min_leaf = 1, .seed = 1};
    float *x = load(a[4], (size_t)(n * dim), sizeof *x), *xt = load(a[6], (size_t)(nt * dim), sizeof *xt);
    double *y = load(a[5], (size_t)n, sizeof *y), *imp = malloc((size_t)dim * sizeof *imp);
    double *pred = malloc((size_t)nt * sizeof *pred);
    struct gw_forest *f = gw_forest_fit(x, y, n, dim, &o);
    if (!f || !imp || !pred) return 1;
    gw_forest_importances(f, imp);
    gw_forest_predict(f, xt, nt, pred);
    for (int64_t i = 0; i < dim; i++) printf("%.17g ", imp[i]);
    for (int64_t i = 0; i < nt; i++) printf("%.17g ", pred[i]);
    printf("\n");
    gw_forest_free(f);
    free(x);
    free(xt);
    free(y);
    free(imp);
    free(pred);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 8 && strcmp(argv[1], "gw") == 0) return run_gw(argv + 2);
    if (argc == 8 && strcmp(argv[1], "dci") == 0) return run_dci(argv + 2);
    if (argc == 9 && strcmp(argv[1], "forest") == 0) return run_forest(argv + 2);
    fprintf(stderr, "usage: see the comment at the top of bench/metrics_reference.c\n");
    return 2;
}
