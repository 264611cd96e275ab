/* test_support.c - the leak-checking fixture, tensor helpers and scratch-folder removal of
 * test_support.h. */
#define _POSIX_C_SOURCE 200809L /* rmdir */

#include "test_support.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tensor/tn_cuda.h"

static struct tn_mem_stats baseline, device_baseline;

void leak_check_begin(void) {
    baseline = tn_mem_stats(TN_CPU);
    device_baseline = tn_mem_stats(TN_CUDA(0));
    tn_scope_begin();
}

void leak_check_end(void) {
    tn_scope_end();
    struct tn_mem_stats now = tn_mem_stats(TN_CPU);
    cr_assert_eq(now.live_tensors, baseline.live_tensors,
                 "leak: %lld tensors alive after the test, %lld before",
                 (long long)now.live_tensors, (long long)baseline.live_tensors);
    cr_assert_eq(now.bytes_in_use, baseline.bytes_in_use,
                 "leak: %lld bytes in use after the test, %lld before",
                 (long long)now.bytes_in_use, (long long)baseline.bytes_in_use);
    int64_t device_now = tn_mem_stats(TN_CUDA(0)).bytes_in_use;
    cr_assert_eq(device_now, device_baseline.bytes_in_use,
                 "leak: %lld bytes in use on cuda:0 after the test, %lld before",
                 (long long)device_now, (long long)device_baseline.bytes_in_use);
}

struct tn_tensor *make_tensor(int ndim, const int64_t *shape, const float *values) {
    return tn_from_host(TN_CPU, ndim, shape, values);
}

struct tn_tensor *make_random(struct tn_rng *rng, int ndim, const int64_t *shape, float lo,
                              float hi) {
    return tn_rand_uniform(TN_CPU, ndim, shape, rng, lo, hi);
}

struct tn_tensor *make_random_transposed(struct tn_rng *rng, int ndim, const int64_t *shape,
                                         float lo, float hi) {
    cr_assert(ndim >= 2, "a transposed layout needs 2+ dims");
    int64_t swapped[TN_MAX_DIMS];
    for (int d = 0; d < ndim; d++) swapped[d] = shape[d];
    swapped[ndim - 2] = shape[ndim - 1];
    swapped[ndim - 1] = shape[ndim - 2];
    struct tn_tensor *base = tn_rand_uniform(TN_CPU, ndim, swapped, rng, lo, hi);
    int64_t strides[TN_MAX_DIMS];
    for (int d = 0; d < ndim; d++) strides[d] = base->strides[d];
    strides[ndim - 2] = base->strides[ndim - 1];
    strides[ndim - 1] = base->strides[ndim - 2];
    return tn_view(base, ndim, shape, strides, base->offset);
}

void assert_close(const struct tn_tensor *t, const float *expected, double atol, double rtol) {
    float *got = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    cr_assert(got);
    tn_to_host(t, got);
    for (int64_t i = 0; i < t->numel; i++) {
        double tol = atol + rtol * fabs((double)expected[i]);
        bool same_nan = isnan(got[i]) && isnan(expected[i]);
        bool same_inf = isinf(got[i]) && got[i] == expected[i];
        if (!same_nan && !same_inf && !(fabs((double)got[i] - (double)expected[i]) <= tol)) {
            float g = got[i];
            free(got);
            cr_assert_fail("element %lld: got %.7g, expected %.7g", (long long)i, (double)g,
                           (double)expected[i]);
        }
    }
    free(got);
}

void assert_shape(const struct tn_tensor *t, int ndim, const int64_t *shape) {
    char a[96], b[96];
    bool same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    cr_assert(same, "shape %s, expected %s", tn_shape_str(t->ndim, t->shape, a, sizeof a),
              tn_shape_str(ndim, shape, b, sizeof b));
}

void remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        remove(path);
        return;
    }
    struct dirent *e;
    char child[4096];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            remove_tree(child);
        }
    closedir(d);
    rmdir(path);
}
