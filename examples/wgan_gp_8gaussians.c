/* wgan_gp_8gaussians.c - a WGAN-GP that learns the 2-D mixture of 8 Gaussians.
 *
 * The target: 8 Gaussians with centres on a circle of radius 2 and std 0.02. The generator
 * maps 2-D standard normal noise through an MLP 2 -> 128 -> 128 -> 2 (ReLU); the critic is
 * CRITIC_SCALE times an MLP 2 -> 128 -> 128 -> 1 (LeakyReLU 0.2) with spectral norm on every
 * linear layer. Each generator step follows N_CRITIC critic steps on the WGAN-GP loss
 *
 *   L_critic = mean f(fake) - mean f(real) + 10 * mean_i (||grad_x f(x_hat_i)|| - 1)^2,
 *   x_hat_i = a_i real_i + (1 - a_i) fake_i,  a_i ~ U(0, 1) per sample,
 *
 * where grad_x f comes from ag_grad(..., AG_CREATE_GRAPH), so that the penalty can itself be
 * differentiated (double backward through the spectrally normalised critic). The generator
 * minimises -mean f(G(z)). Both use Adam with betas (0.5, 0.9), the critic with a larger
 * learning rate than the generator.
 *
 * Why CRITIC_SCALE: spectral norm bounds the critic's Lipschitz constant by the product of
 * its layers' spectral norms, 1, a bound far from tight here (the 2 -> 128 layer alone would
 * need a norm near sqrt(128 / 2) to give a radial function slope 1). With scale 1 the
 * penalty's target norm 1 is the bound itself, which only near-linear critics reach: the
 * penalty then flattens the critic and the generator never finds the modes (0 of 8 in our
 * runs; try --critic-scale 1). Scaled, spectral norm still conditions every layer and the
 * penalty sets the slope.
 *
 * At the end it prints, for 1024 generated and 1024 target samples, the sliced Wasserstein
 * distance (128 random directions; per direction the mean squared difference of the sorted
 * projections; the square root of their mean), the same distance for the untrained
 * generator, the fraction of generated points near a centre and the modes covered.
 *
 *   wgan_gp_8gaussians [--steps N] [--seed S] [--log-every N] [--critic-scale C] [--quick]
 *
 * --quick is a short run for the tests. docs/nn.md ("Examples") lists measured results.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/nn_layers.h"
#include "nn/nn_optim.h"

#define M(layer) (&(layer)->base) /* a layer as its module */

#define PI 3.14159265358979323846
#define N_MODES 8
#define MODE_RADIUS 2.0f
#define MODE_STD 0.02f
#define HIDDEN 128
#define BATCH 256
#define N_CRITIC 5
#define GP_WEIGHT 10.0f
#define GP_NORM_EPS 1e-12f
#define LEAKY_SLOPE 0.2f
#define CRITIC_SCALE 20.0f /* f(x) = CRITIC_SCALE * SN-MLP(x); see the header comment */
#define CRITIC_LR 1e-3
#define GENERATOR_LR 2e-4
#define ADAM_BETA1 0.5
#define ADAM_BETA2 0.9
#define DEFAULT_STEPS 3000
#define QUICK_STEPS 300
#define EVAL_SAMPLES 1024
#define SW_PROJECTIONS 128
#define NEAR_RADIUS 0.1f   /* "near a centre": within 5 std */
#define TIGHT_RADIUS 0.06f /* within 3 std */

struct options {
    int steps, log_every;
    uint64_t seed;
    float critic_scale;
};

static const char *usage =
    "usage: %s [--steps N] [--seed S] [--log-every N] [--critic-scale C] [--quick]\n";

static bool parse_int(const char *text, long long min, long long *out) {
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min) return false;
    *out = v;
    return true;
}

/* Fills opts from argv; false on a bad argument. */
static bool parse_options(int argc, char **argv, struct options *opts) {
    opts->steps = DEFAULT_STEPS;
    opts->seed = 1;
    opts->log_every = 0; /* 0: steps / 10 */
    opts->critic_scale = CRITIC_SCALE;
    for (int i = 1; i < argc; i++) {
        long long v;
        if (strcmp(argv[i], "--quick") == 0) {
            opts->steps = QUICK_STEPS;
        } else if (i + 1 < argc && strcmp(argv[i], "--steps") == 0) {
            if (!parse_int(argv[++i], 1, &v) || v > 10000000) return false;
            opts->steps = (int)v;
        } else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0) {
            if (!parse_int(argv[++i], 0, &v)) return false;
            opts->seed = (uint64_t)v;
        } else if (i + 1 < argc && strcmp(argv[i], "--log-every") == 0) {
            if (!parse_int(argv[++i], 1, &v) || v > 10000000) return false;
            opts->log_every = (int)v;
        } else if (i + 1 < argc && strcmp(argv[i], "--critic-scale") == 0) {
            char *end;
            opts->critic_scale = strtof(argv[++i], &end);
            if (*end != '\0' || !(opts->critic_scale > 0.0f && opts->critic_scale < 1e6f))
                return false;
        } else {
            return false;
        }
    }
    if (opts->log_every == 0) opts->log_every = opts->steps >= 10 ? opts->steps / 10 : 1;
    return true;
}

/* ---- data ---- */

static void mode_centre(int k, float *x, float *y) {
    double angle = 2.0 * PI * k / N_MODES;
    *x = MODE_RADIUS * (float)cos(angle);
    *y = MODE_RADIUS * (float)sin(angle);
}

/* n points of the mixture, [n, 2] row-major, into out. */
static void sample_target_host(struct tn_rng *rng, int n, float *out) {
    float *pick = malloc(sizeof(float) * (size_t)n);
    if (!pick) abort();
    tn_rng_uniform_host(rng, pick, n);
    tn_rng_normal_host(rng, out, 2 * (int64_t)n);
    for (int i = 0; i < n; i++) {
        int k = (int)(pick[i] * N_MODES) % N_MODES;
        float cx, cy;
        mode_centre(k, &cx, &cy);
        out[2 * i] = cx + MODE_STD * out[2 * i];
        out[2 * i + 1] = cy + MODE_STD * out[2 * i + 1];
    }
    free(pick);
}

static struct tn_tensor *sample_target(struct tn_rng *rng, int n) {
    float *host = malloc(sizeof(float) * 2 * (size_t)n);
    if (!host) abort();
    sample_target_host(rng, n, host);
    struct tn_tensor *t = tn_from_host(TN_CPU, 2, (int64_t[]){n, 2}, host);
    free(host);
    return t;
}

static struct tn_tensor *sample_noise(struct tn_rng *rng, int n) {
    return tn_randn(TN_CPU, 2, (int64_t[]){n, 2}, rng);
}

/* ---- models ---- */

static struct nn_module *generator_new(struct tn_rng *rng) {
    return M(nn_sequential_of("generator", M(nn_linear_new("", 2, HIDDEN, true, rng)),
                              M(nn_relu_new("")), M(nn_linear_new("", HIDDEN, HIDDEN, true, rng)),
                              M(nn_relu_new("")), M(nn_linear_new("", HIDDEN, 2, true, rng)),
                              NULL));
}

static struct nn_module *sn_linear(int64_t in, int64_t out, struct tn_rng *rng) {
    return nn_spectral_norm(M(nn_linear_new("", in, out, true, rng)), 1, rng);
}

static struct nn_module *critic_new(struct tn_rng *rng) {
    return M(nn_sequential_of("critic", sn_linear(2, HIDDEN, rng),
                              M(nn_leaky_relu_new("", LEAKY_SLOPE)),
                              sn_linear(HIDDEN, HIDDEN, rng),
                              M(nn_leaky_relu_new("", LEAKY_SLOPE)), sn_linear(HIDDEN, 1, rng),
                              NULL));
}

static struct nn_optim *adam_new(struct nn_module *m, double lr) {
    struct nn_entry_list list = {0};
    nn_module_collect(m, "", false, &list);
    struct nn_optim_opts opts = nn_optim_defaults(NN_OPTIM_ADAM, lr);
    opts.beta1 = ADAM_BETA1;
    opts.beta2 = ADAM_BETA2;
    struct nn_optim *o = nn_optim_new(&opts, list.n, list.items);
    nn_entry_list_free(&list);
    return o;
}

/* The two networks, their optimizers and the critic's output scale. */
struct wgan {
    struct nn_module *generator, *critic;
    struct nn_optim *generator_opt, *critic_opt;
    float critic_scale;
};

static void wgan_init(struct wgan *w, float critic_scale, struct tn_rng *rng) {
    w->generator = generator_new(rng);
    w->critic = critic_new(rng);
    w->generator_opt = adam_new(w->generator, GENERATOR_LR);
    w->critic_opt = adam_new(w->critic, CRITIC_LR);
    w->critic_scale = critic_scale;
}

static void wgan_free(struct wgan *w) {
    nn_optim_free(w->generator_opt);
    nn_optim_free(w->critic_opt);
    nn_module_free(w->generator);
    nn_module_free(w->critic);
}

/* f(x) [n, 1]: the scaled critic (a power step of each spectral norm in training mode). */
static struct tn_tensor *critic_score(const struct wgan *w, struct tn_tensor *x) {
    return ag_mul_scalar(nn_forward(w->critic, x), w->critic_scale);
}

/* ---- training ---- */

struct critic_stats {
    float wasserstein; /* mean f(real) - mean f(fake): the critic's distance estimate */
    float penalty;     /* 10 * mean (||grad|| - 1)^2 */
};

/* 10 * mean_i (||grad_x f(x_hat_i)|| - 1)^2, differentiable in the critic's parameters. */
static struct tn_tensor *gradient_penalty(const struct wgan *w, struct tn_tensor *real,
                                          struct tn_tensor *fake, struct tn_rng *rng) {
    int64_t n = real->shape[0];
    struct tn_tensor *alpha = tn_rand_uniform(TN_CPU, 2, (int64_t[]){n, 1}, rng, 0.0f, 1.0f);
    struct tn_tensor *mix = ag_add(ag_mul(alpha, real), ag_mul(ag_rsub_scalar(1.0f, alpha), fake));
    struct tn_tensor *x_hat = tn_set_requires_grad(ag_detach(mix), true);
    struct tn_tensor *score = ag_sum_all(critic_score(w, x_hat));
    struct tn_tensor *grad; /* [n, 2], itself differentiable */
    ag_grad(1, &score, NULL, 1, &x_hat, &grad, AG_CREATE_GRAPH);
    struct tn_tensor *norm = ag_sqrt(ag_add_scalar(ag_sum(ag_square(grad), AG_AXIS(1), false),
                                                   GP_NORM_EPS));
    return ag_mul_scalar(ag_mean_all(ag_square(ag_sub_scalar(norm, 1.0f))), GP_WEIGHT);
}

static struct critic_stats critic_step(struct wgan *w, struct tn_rng *rng) {
    tn_scope_begin();
    struct tn_tensor *real = sample_target(rng, BATCH);
    bool grad_mode = ag_set_grad_enabled(false); /* the generator is not trained here */
    struct tn_tensor *fake = nn_forward(w->generator, sample_noise(rng, BATCH));
    ag_set_grad_enabled(grad_mode);

    struct tn_tensor *f_real = ag_mean_all(critic_score(w, real));
    struct tn_tensor *f_fake = ag_mean_all(critic_score(w, fake));
    struct tn_tensor *penalty = gradient_penalty(w, real, fake, rng);
    struct tn_tensor *loss = ag_add(ag_sub(f_fake, f_real), penalty);

    nn_optim_zero_grad(w->critic_opt);
    ag_backward(loss, 0); /* through the penalty's backward graph: the double backward */
    nn_optim_step(w->critic_opt);
    struct critic_stats stats = {tn_item(f_real) - tn_item(f_fake), tn_item(penalty)};
    tn_scope_end();
    return stats;
}

static float generator_step(struct wgan *w, struct tn_rng *rng) {
    tn_scope_begin();
    nn_module_set_requires_grad(w->critic, false); /* gradients reach the samples only */
    struct tn_tensor *fake = nn_forward(w->generator, sample_noise(rng, BATCH));
    struct tn_tensor *loss = ag_neg(ag_mean_all(critic_score(w, fake)));
    nn_optim_zero_grad(w->generator_opt);
    ag_backward(loss, 0);
    nn_optim_step(w->generator_opt);
    nn_module_set_requires_grad(w->critic, true);
    float value = tn_item(loss);
    tn_scope_end();
    return value;
}

/* ---- evaluation ---- */

struct eval_result {
    double sliced_w;      /* sliced Wasserstein distance to target samples */
    double near, tight;   /* fractions within NEAR_RADIUS and TIGHT_RADIUS of a centre */
    int modes_covered;    /* modes with a quarter of their share (32 of 1024) of the
                             samples within NEAR_RADIUS */
};

static int compare_floats(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* sqrt(mean over directions of mean_i (sorted(a.theta)_i - sorted(b.theta)_i)^2), with
 * a, b [n, 2] and the directions drawn uniformly on the circle from rng. */
static double sliced_wasserstein(const float *a, const float *b, int n, struct tn_rng *rng) {
    float *pa = malloc(sizeof(float) * (size_t)n), *pb = malloc(sizeof(float) * (size_t)n);
    if (!pa || !pb) abort();
    double total = 0.0;
    for (int p = 0; p < SW_PROJECTIONS; p++) {
        float dir[2];
        tn_rng_normal_host(rng, dir, 2);
        float len = sqrtf(dir[0] * dir[0] + dir[1] * dir[1]) + 1e-12f;
        for (int i = 0; i < n; i++) {
            pa[i] = (a[2 * i] * dir[0] + a[2 * i + 1] * dir[1]) / len;
            pb[i] = (b[2 * i] * dir[0] + b[2 * i + 1] * dir[1]) / len;
        }
        qsort(pa, (size_t)n, sizeof(float), compare_floats);
        qsort(pb, (size_t)n, sizeof(float), compare_floats);
        double sq = 0.0;
        for (int i = 0; i < n; i++) sq += ((double)pa[i] - pb[i]) * ((double)pa[i] - pb[i]);
        total += sq / n;
    }
    free(pa);
    free(pb);
    return sqrt(total / SW_PROJECTIONS);
}

/* Draws EVAL_SAMPLES from the generator and the target with a generator seeded by seed (the
 * same noise, targets and directions on every call) and measures them. */
static struct eval_result evaluate(struct nn_module *generator, uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    float *target = malloc(sizeof(float) * 2 * EVAL_SAMPLES);
    float *fake = malloc(sizeof(float) * 2 * EVAL_SAMPLES);
    if (!target || !fake) abort();
    sample_target_host(&rng, EVAL_SAMPLES, target);
    tn_scope_begin();
    bool grad_mode = ag_set_grad_enabled(false);
    tn_to_host(nn_forward(generator, sample_noise(&rng, EVAL_SAMPLES)), fake);
    ag_set_grad_enabled(grad_mode);
    tn_scope_end();

    struct eval_result r = {0};
    r.sliced_w = sliced_wasserstein(fake, target, EVAL_SAMPLES, &rng);
    int per_mode[N_MODES] = {0}, near = 0, tight = 0;
    for (int i = 0; i < EVAL_SAMPLES; i++) {
        int best = 0;
        float best_dist = INFINITY;
        for (int k = 0; k < N_MODES; k++) {
            float cx, cy;
            mode_centre(k, &cx, &cy);
            float d = hypotf(fake[2 * i] - cx, fake[2 * i + 1] - cy);
            if (d < best_dist) best_dist = d, best = k;
        }
        if (best_dist < NEAR_RADIUS) near++, per_mode[best]++;
        if (best_dist < TIGHT_RADIUS) tight++;
    }
    for (int k = 0; k < N_MODES; k++)
        if (per_mode[k] >= EVAL_SAMPLES / N_MODES / 4) r.modes_covered++;
    r.near = (double)near / EVAL_SAMPLES;
    r.tight = (double)tight / EVAL_SAMPLES;
    free(target);
    free(fake);
    return r;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

int main(int argc, char **argv) {
    struct options opts;
    if (!parse_options(argc, argv, &opts)) {
        fprintf(stderr, usage, argv[0]);
        return 2;
    }
    struct tn_rng rng = tn_rng_new(opts.seed);
    struct wgan w;
    wgan_init(&w, opts.critic_scale, &rng);
    uint64_t eval_seed = opts.seed + 0x9e3779b97f4a7c15ull;
    struct eval_result untrained = evaluate(w.generator, eval_seed);

    printf("WGAN-GP on 8 Gaussians: %d generator steps of %d critic steps, batch %d, "
           "critic scale %g, seed %llu\n",
           opts.steps, N_CRITIC, BATCH, (double)opts.critic_scale, (unsigned long long)opts.seed);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int step = 1; step <= opts.steps; step++) {
        struct critic_stats cs = {0};
        for (int c = 0; c < N_CRITIC; c++) cs = critic_step(&w, &rng);
        float g_loss = generator_step(&w, &rng);
        if (step % opts.log_every == 0 || step == opts.steps)
            printf("step %5d  critic W estimate %7.4f  penalty %7.4f  generator loss %8.4f  "
                   "(%.1f s)\n",
                   step, (double)cs.wasserstein, (double)cs.penalty, (double)g_loss,
                   seconds_since(&start));
    }
    double train_seconds = seconds_since(&start);

    struct eval_result trained = evaluate(w.generator, eval_seed);
    printf("training time: %.1f s\n", train_seconds);
    printf("sliced Wasserstein distance (untrained generator): %.4f\n", untrained.sliced_w);
    printf("sliced Wasserstein distance (trained generator): %.4f\n", trained.sliced_w);
    printf("fraction within %.2f of a centre (3 std): %.3f\n", (double)TIGHT_RADIUS, trained.tight);
    printf("fraction within %.2f of a centre: %.3f\n", (double)NEAR_RADIUS, trained.near);
    printf("modes covered: %d of %d\n", trained.modes_covered, N_MODES);
    wgan_free(&w);
    return 0;
}
