/* bench_sphere.c - median time of the sphere samplers of gwae/models/sphere.h against the
 * dimension: von Mises-Fisher (Wood's rejection) beside the power spherical (no rejection
 * loop) and the uniform law, for d in {8, 64, 512, 4096} and kappa in {10, 100};
 * bench/torch_rae.py --samplers times the same samplers written in PyTorch, with the same case
 * names, so that the two can be paired in one sitting.
 *
 * A case draws n directions around a random location (n = 550 by default: the (T + 1) L draws
 * of one SSFG iteration at T = 10, L = 50): the marginal, the uniform tangent part and the
 * Householder map, in one tn_scope. The vMF lines also give Wood's acceptance rate and the
 * rejection rounds per call. On cuda the clock is read after the device finished its work.
 *
 * Usage: bench_sphere [--n N] [--reps N] [--warmup N] [--dims 8,64,512,4096]
 *                     [--device cpu|cuda] [--json]
 * Threads come from OMP_NUM_THREADS (printed as omp_get_max_threads()). A benchmark only:
 * it prints figures and never fails on them.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gwae/models/sphere.h"
#include "tensor/tn_cuda.h"

struct options {
    int64_t n;
    int reps, warmup, n_dims;
    int64_t dims[16];
    struct tn_device device;
    bool json;
};

/* Seconds on a monotonic clock, after the device's queued work. */
static double now(struct tn_device device) {
    if (device.type == TN_DEVICE_CUDA && tn_cuda_synchronize(device.index) != TN_OK) {
        fprintf(stderr, "bench_sphere: %s\n", tn_last_error());
        exit(1);
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static const char *law_name(enum gw_sphere_law law) {
    return law == GW_SPHERE_VMF ? "vmf" : law == GW_SPHERE_POWER ? "power" : "uniform";
}

/* times n draws of law in dimension d and prints one line */
static void time_case(const struct options *o, enum gw_sphere_law law, int64_t d, double kappa) {
    double *ms = malloc(sizeof(double) * (size_t)o->reps);
    if (!ms) {
        fprintf(stderr, "bench_sphere: out of memory\n");
        exit(1);
    }
    struct tn_rng rng = tn_rng_new(1);
    tn_scope_begin();
    struct tn_tensor *mu = gw_sphere_uniform(o->device, 1, d, &rng);
    struct gw_sphere_stats st = {0};
    for (int r = -o->warmup; r < o->reps; r++) {
        if (r == 0) st = (struct gw_sphere_stats){0};
        double t0 = now(o->device);
        tn_scope_begin();
        gw_sphere_sample(law, mu, o->n, kappa, &rng, law == GW_SPHERE_VMF ? &st : NULL);
        tn_scope_end();
        double t1 = now(o->device);
        if (r >= 0) ms[r] = 1e3 * (t1 - t0);
    }
    tn_scope_end();
    qsort(ms, (size_t)o->reps, sizeof(double), cmp_double);
    double median = o->reps % 2 ? ms[o->reps / 2] : 0.5 * (ms[o->reps / 2 - 1] + ms[o->reps / 2]);
    char name[64];
    if (law == GW_SPHERE_UNIFORM)
        snprintf(name, sizeof name, "uniform_d%lld", (long long)d);
    else
        snprintf(name, sizeof name, "%s_d%lld_k%g", law_name(law), (long long)d, kappa);
    double accept = st.candidates ? (double)st.accepted / (double)st.candidates : 1.0;
    double rounds = (double)st.rounds / o->reps;
    const char *device = o->device.type == TN_DEVICE_CUDA ? "cuda" : "cpu";
    if (o->json)
        printf("{\"impl\": \"gwae-c\", \"case\": \"%s\", \"law\": \"%s\", \"d\": %lld, "
               "\"kappa\": %g, \"n\": %lld, \"device\": \"%s\", \"ms_median\": %.4f, "
               "\"ms_min\": %.4f, \"accept\": %.4f, \"rounds\": %.2f, \"threads\": %d, "
               "\"reps\": %d}\n",
               name, law_name(law), (long long)d, law == GW_SPHERE_UNIFORM ? 0.0 : kappa,
               (long long)o->n, device, median, ms[0], accept, rounds, omp_get_max_threads(),
               o->reps);
    else
        printf("%-20s n %-6lld %-4s median %9.4f ms  min %9.4f ms  accept %.3f  rounds %5.2f  "
               "threads %d\n",
               name, (long long)o->n, device, median, ms[0], accept, rounds, omp_get_max_threads());
    fflush(stdout);
    free(ms);
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [--n N] [--reps N] [--warmup N] [--dims D,D,...] "
                    "[--device cpu|cuda] [--json]\n", prog);
    exit(2);
}

/* "8,64,512" into o->dims */
static void parse_dims(struct options *o, const char *text, const char *prog) {
    o->n_dims = 0;
    for (const char *p = text; *p;) {
        char *end;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 2 || o->n_dims == 16) usage(prog);
        o->dims[o->n_dims++] = d;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') usage(prog);
    }
}

int main(int argc, char **argv) {
    struct options o = {.n = 550, .reps = 20, .warmup = 3, .n_dims = 4, .dims = {8, 64, 512, 4096},
                        .device = TN_CPU};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) o.json = true;
        else if (!strcmp(argv[i], "--n") && i + 1 < argc) o.n = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) o.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) o.warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--dims") && i + 1 < argc) parse_dims(&o, argv[++i], argv[0]);
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            const char *d = argv[++i];
            if (!strcmp(d, "cuda")) o.device = TN_CUDA(0);
            else if (strcmp(d, "cpu") != 0) usage(argv[0]);
        } else usage(argv[0]);
    }
    if (o.reps < 1 || o.warmup < 0 || o.n < 1) usage(argv[0]);
    if (o.device.type == TN_DEVICE_CUDA && !tn_cuda_available()) {
        fprintf(stderr, "bench_sphere: no CUDA device: %s\n", tn_cuda_unavailable_reason());
        return 1;
    }
    const double kappas[2] = {10, 100};
    for (int k = 0; k < o.n_dims; k++) {
        for (int c = 0; c < 2; c++) {
            time_case(&o, GW_SPHERE_VMF, o.dims[k], kappas[c]);
            time_case(&o, GW_SPHERE_POWER, o.dims[k], kappas[c]);
        }
        time_case(&o, GW_SPHERE_UNIFORM, o.dims[k], 0.0);
    }
    return 0;
}
