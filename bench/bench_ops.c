/* bench_ops.c - median time of forward and forward + backward of the GWAE's hot ops at the
 * paper's shapes (batch 64), and of one gradient-penalty double backward through the critic's
 * x-branch; bench/torch_ops.py times the same cases in PyTorch.
 *
 * Cases (names shared with torch_ops.py, so bench/run_bench.sh can pair the lines):
 *   conv2d_fwd / conv2d_fwd_bwd          x[64,3,64,64] -> 32 ch, k4 s2 p1, bias
 *   conv_transpose2d_fwd / _fwd_bwd      x[64,32,32,32] -> [64,3,64,64], w[32,3,4,4], bias
 *   linear_fwd / linear_fwd_bwd          x[64,4096] @ W^T + b, W [256,4096] (nn.Linear layout)
 *   critic_x_gp_double_backward          6 convs 3->8->...->256 (k4 s2 p1, bias, LeakyReLU
 *                                        0.2) + linear 256->64, no spectral norm; f = sum;
 *                                        g = ag_grad(f, xhat, AG_CREATE_GRAPH);
 *                                        P = 10 mean_n (sqrt(sum_chw g^2 + 1e-12) - 1)^2;
 *                                        ag_backward(P) to every weight (and xhat)
 * "fwd" runs with grad mode off (torch.no_grad()); "fwd_bwd" runs with grad mode on and gets
 * dX, dW, db from ag_grad seeded with a fixed random upstream gradient. Each repetition runs
 * in its own tn_scope, so its tensors go back to the caching allocator before the next one.
 *
 * Usage: bench_ops [--reps N] [--warmup N] [--case NAME|SUBSTRING] [--json]
 * Threads come from OMP_NUM_THREADS (printed as omp_get_max_threads()). The JSON lines also
 * carry peak_mib (the allocator's peak since the first timed run, the inputs included) and
 * live_tensors; the program fails if the repetitions leave tensors behind.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "autograd/ag.h"
#include "tensor/tn_random.h"

#define BATCH 64
#define CRITIC_LAYERS 6

/* Options from the command line. */
struct options {
    int reps, warmup;
    const char *only; /* a case's exact name, or a substring of the names; NULL: all */
    bool json;
};

/* Shared state of the cases: inputs and parameters, made once in main's outer scope. */
struct bench {
    struct tn_rng rng;
    struct tn_conv_geom geom; /* k4 s2 p1 everywhere */
    /* conv2d */
    struct tn_tensor *cx, *cw, *cb, *cgo;
    /* conv_transpose2d */
    struct tn_tensor *tx, *tw, *tb, *tgo;
    /* linear */
    struct tn_tensor *lx, *lw, *lb, *lgo;
    /* critic x-branch */
    struct tn_tensor *xhat, *kw[CRITIC_LAYERS], *kb[CRITIC_LAYERS], *fw, *fb;
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

/* A tensor (owned by the open scope) of the given shape, uniform in [-bound, bound). */
static struct tn_tensor *uniform(struct bench *b, int ndim, const int64_t *shape, float bound,
                                 bool requires_grad) {
    struct tn_tensor *t = tn_rand_uniform(TN_CPU, ndim, shape, &b->rng, -bound, bound);
    return tn_set_requires_grad(t, requires_grad);
}

/* A standard normal tensor (owned by the open scope) (inputs and upstream gradients). */
static struct tn_tensor *normal(struct bench *b, int ndim, const int64_t *shape,
                                bool requires_grad) {
    return tn_set_requires_grad(tn_randn(TN_CPU, ndim, shape, &b->rng), requires_grad);
}

/* Parameters of a conv-like layer with PyTorch's default bound 1/sqrt(fan_in). */
static void layer_params(struct bench *b, int ndim, const int64_t *wshape, int64_t fan_in,
                         int64_t nbias, struct tn_tensor **w, struct tn_tensor **bias) {
    float bound = 1.0f / sqrtf((float)fan_in);
    *w = uniform(b, ndim, wshape, bound, true);
    *bias = uniform(b, 1, &nbias, bound, true);
}

static void bench_init(struct bench *b) {
    b->rng = tn_rng_new(0);
    b->geom = ag_conv_geom(2, 1);
    int64_t cx[4] = {BATCH, 3, 64, 64}, cw[4] = {32, 3, 4, 4}, cgo[4] = {BATCH, 32, 32, 32};
    b->cx = normal(b, 4, cx, true);
    layer_params(b, 4, cw, 3 * 16, 32, &b->cw, &b->cb);
    b->cgo = normal(b, 4, cgo, false);

    int64_t tx[4] = {BATCH, 32, 32, 32}, tw[4] = {32, 3, 4, 4}, tgo[4] = {BATCH, 3, 64, 64};
    b->tx = normal(b, 4, tx, true);
    layer_params(b, 4, tw, 3 * 16, 3, &b->tw, &b->tb); /* PyTorch: fan_in = w.shape[1]*k*k */
    b->tgo = normal(b, 4, tgo, false);

    int64_t lx[2] = {BATCH, 4096}, lw[2] = {256, 4096}, lgo[2] = {BATCH, 256};
    b->lx = normal(b, 2, lx, true);
    layer_params(b, 2, lw, 4096, 256, &b->lw, &b->lb);
    b->lgo = normal(b, 2, lgo, false);

    int64_t xs[4] = {BATCH, 3, 64, 64};
    b->xhat = uniform(b, 4, xs, 1.0f, true);
    int64_t ch[CRITIC_LAYERS + 1] = {3, 8, 16, 32, 64, 128, 256};
    for (int i = 0; i < CRITIC_LAYERS; i++) {
        int64_t ws[4] = {ch[i + 1], ch[i], 4, 4};
        layer_params(b, 4, ws, ch[i] * 16, ch[i + 1], &b->kw[i], &b->kb[i]);
    }
    int64_t fw[2] = {64, 256};
    layer_params(b, 2, fw, 256, 64, &b->fw, &b->fb);
}

/* Drops the .grad of every leaf (the critic case leaves them set until its next run). */
static void bench_zero_grads(struct bench *b) {
    struct tn_tensor *all[] = {b->cx, b->cw, b->cb, b->tx, b->tw, b->tb,
                               b->lx, b->lw, b->lb, b->xhat, b->fw, b->fb};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) ag_zero_grad(all[i]);
    for (int i = 0; i < CRITIC_LAYERS; i++) {
        ag_zero_grad(b->kw[i]);
        ag_zero_grad(b->kb[i]);
    }
}

/* ---- the cases: each runs one repetition inside the caller's scope ---- */

/* x @ w^T + b with w stored [out, in] (a transposed view, no copy). */
static struct tn_tensor *linear(struct tn_tensor *x, struct tn_tensor *w, struct tn_tensor *b) {
    return ag_add(ag_matmul(x, ag_transpose(w, 0, 1)), b);
}

static void run_conv_fwd(struct bench *b) {
    bool mode = ag_set_grad_enabled(false);
    ag_conv2d(b->cx, b->cw, b->cb, b->geom);
    ag_set_grad_enabled(mode);
}

static void run_conv_fwd_bwd(struct bench *b) {
    struct tn_tensor *y = ag_conv2d(b->cx, b->cw, b->cb, b->geom);
    struct tn_tensor *in[3] = {b->cx, b->cw, b->cb}, *grads[3];
    ag_grad(1, &y, &b->cgo, 3, in, grads, 0);
}

static void run_convt_fwd(struct bench *b) {
    bool mode = ag_set_grad_enabled(false);
    ag_conv_transpose2d(b->tx, b->tw, b->tb, b->geom, 0);
    ag_set_grad_enabled(mode);
}

static void run_convt_fwd_bwd(struct bench *b) {
    struct tn_tensor *y = ag_conv_transpose2d(b->tx, b->tw, b->tb, b->geom, 0);
    struct tn_tensor *in[3] = {b->tx, b->tw, b->tb}, *grads[3];
    ag_grad(1, &y, &b->tgo, 3, in, grads, 0);
}

static void run_linear_fwd(struct bench *b) {
    bool mode = ag_set_grad_enabled(false);
    linear(b->lx, b->lw, b->lb);
    ag_set_grad_enabled(mode);
}

static void run_linear_fwd_bwd(struct bench *b) {
    struct tn_tensor *y = linear(b->lx, b->lw, b->lb);
    struct tn_tensor *in[3] = {b->lx, b->lw, b->lb}, *grads[3];
    ag_grad(1, &y, &b->lgo, 3, in, grads, 0);
}

/* The critic's x-branch without spectral norm: [N,3,64,64] -> [N,64]. */
static struct tn_tensor *critic_x(struct bench *b, struct tn_tensor *x) {
    for (int i = 0; i < CRITIC_LAYERS; i++)
        x = ag_leaky_relu(ag_conv2d(x, b->kw[i], b->kb[i], b->geom), 0.2f);
    return linear(ag_flatten(x, 1), b->fw, b->fb);
}

static void run_critic_gp(struct bench *b) {
    for (int i = 0; i < CRITIC_LAYERS; i++) {
        ag_zero_grad(b->kw[i]);
        ag_zero_grad(b->kb[i]);
    }
    ag_zero_grad(b->fw);
    ag_zero_grad(b->fb);
    ag_zero_grad(b->xhat);
    struct tn_tensor *f = ag_sum_all(critic_x(b, b->xhat)), *g;
    ag_grad(1, &f, NULL, 1, &b->xhat, &g, AG_CREATE_GRAPH);
    struct tn_tensor *sq = ag_sum(ag_square(g), AG_AXIS(1) | AG_AXIS(2) | AG_AXIS(3), false);
    struct tn_tensor *dev = ag_sub_scalar(ag_sqrt(ag_add_scalar(sq, 1e-12f)), 1.0f);
    struct tn_tensor *penalty = ag_mul_scalar(ag_mean_all(ag_square(dev)), 10.0f);
    ag_backward(penalty, 0);
}

struct bench_case {
    const char *name, *shape;
    void (*run)(struct bench *b);
};

static const struct bench_case cases[] = {
    {"conv2d_fwd", "x[64,3,64,64] w[32,3,4,4] s2p1 +b", run_conv_fwd},
    {"conv2d_fwd_bwd", "x[64,3,64,64] w[32,3,4,4] s2p1 +b; dX,dW,db", run_conv_fwd_bwd},
    {"conv_transpose2d_fwd", "x[64,32,32,32] w[32,3,4,4] s2p1 +b -> [64,3,64,64]",
     run_convt_fwd},
    {"conv_transpose2d_fwd_bwd", "x[64,32,32,32] w[32,3,4,4] s2p1 +b; dX,dW,db",
     run_convt_fwd_bwd},
    {"linear_fwd", "x[64,4096] W[256,4096]^T +b", run_linear_fwd},
    {"linear_fwd_bwd", "x[64,4096] W[256,4096]^T +b; dX,dW,db", run_linear_fwd_bwd},
    {"critic_x_gp_double_backward",
     "x[64,3,64,64] 6 conv 3->..->256 +lin 256->64, no SN", run_critic_gp},
};

/* Times one case: warm-up runs, then reps timed runs, each in a scope of its own. */
static void time_case(struct bench *b, const struct bench_case *c, const struct options *o) {
    double *ms = malloc(sizeof(double) * (size_t)o->reps);
    if (!ms) {
        fprintf(stderr, "bench_ops: out of memory\n");
        exit(1);
    }
    for (int r = -o->warmup; r < o->reps; r++) {
        if (r == 0) tn_mem_reset_peak(TN_CPU);
        tn_scope_begin();
        double t0 = now();
        c->run(b);
        tn_scope_end(); /* freeing is part of the op's cost, as in PyTorch */
        double t1 = now();
        if (r >= 0) ms[r] = 1e3 * (t1 - t0);
    }
    struct tn_mem_stats st = tn_mem_stats(TN_CPU);
    qsort(ms, (size_t)o->reps, sizeof(double), cmp_double);
    double median = o->reps % 2 ? ms[o->reps / 2] : 0.5 * (ms[o->reps / 2 - 1] + ms[o->reps / 2]);
    int threads = omp_get_max_threads();
    double peak_mib = (double)st.peak_bytes / (1024.0 * 1024.0);
    if (o->json)
        printf("{\"impl\": \"gwae-c\", \"case\": \"%s\", \"shape\": \"%s\", \"ms_median\": %.3f, "
               "\"ms_min\": %.3f, \"threads\": %d, \"reps\": %d, \"warmup\": %d, "
               "\"peak_mib\": %.1f, \"live_tensors\": %lld}\n",
               c->name, c->shape, median, ms[0], threads, o->reps, o->warmup, peak_mib,
               (long long)st.live_tensors);
    else
        printf("%-28s %-52s median %9.3f ms  min %9.3f ms  threads %d\n", c->name, c->shape,
               median, ms[0], threads);
    fflush(stdout);
    free(ms);
}

static void usage(const char *prog) {
    fprintf(stderr, "usage: %s [--reps N] [--warmup N] [--case NAME|SUBSTRING] [--json]\n", prog);
    exit(2);
}

int main(int argc, char **argv) {
    struct options o = {.reps = 20, .warmup = 3, .only = NULL, .json = false};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) o.json = true;
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) o.reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) o.warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--case") && i + 1 < argc) o.only = argv[++i];
        else usage(argv[0]);
    }
    if (o.reps < 1 || o.warmup < 0) usage(argv[0]);

    struct bench b;
    tn_scope_begin(); /* owns the inputs and parameters; each repetition opens its own */
    bench_init(&b);
    int64_t live_before = tn_mem_stats(TN_CPU).live_tensors;
    bool exact = false; /* a --case that names a case exactly selects only that one */
    for (size_t i = 0; o.only && i < sizeof cases / sizeof *cases; i++)
        exact = exact || !strcmp(cases[i].name, o.only);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (!o.only || (exact ? !strcmp(cases[i].name, o.only) : !!strstr(cases[i].name, o.only)))
            time_case(&b, &cases[i], &o);
    bench_zero_grads(&b);
    int64_t live_after = tn_mem_stats(TN_CPU).live_tensors;
    tn_scope_end();
    if (live_after != live_before) {
        fprintf(stderr, "bench_ops: %lld tensors leaked across the repetitions\n",
                (long long)(live_after - live_before));
        return 1;
    }
    return 0;
}
