/* test_gwae.c - the GWAE objective and model: each loss term against hand computation on tiny
 * tensors, the gradient of C, the priors, gradchecks of the main loss and of the critic loss
 * with its penalty on a tiny model, training lowering the loss, and seeded reproducibility.
 */
#include <math.h>
#include <string.h>

#include "gwae/models/gwae.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(gwae);

/* a tiny model: 32x32 images, width 1/16, latent 2, batch 4 */
static struct gw_model *tiny_model(const char *prior, uint64_t seed) {
    struct gw_common cfg = gw_common_defaults();
    cfg.image_size = 32;
    cfg.width = 0.0625f;
    cfg.latent = 2;
    cfg.batch = 4;
    snprintf(cfg.prior, sizeof cfg.prior, "%s", prior);
    struct { int components; bool paper; } gmp = {3, false}; /* the gmp prior's options */
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&cfg, NULL, strcmp(prior, "gmp") == 0 ? &gmp : NULL, &rng, &m), TN_OK,
                 "%s", tn_last_error());
    return m;
}

static struct tn_tensor *tiny_images(uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    int64_t shape[4] = {4, 3, 32, 32};
    return tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.05f, 0.95f);
}

/* double reference of L_GW for zs [b, l], xs [b, d] */
static double ref_gw(const float *zs, const float *xs, int b, int l, int d, double c) {
    double s = 0;
    for (int j = 0; j < l; j++) {
        double mean = 0, var = 0;
        for (int i = 0; i < b; i++) mean += zs[i * l + j] / b;
        for (int i = 0; i < b; i++) var += pow(zs[i * l + j] - mean, 2) / (b - 1);
        s += sqrt(var) / l;
    }
    double total = 0;
    for (int i = 0; i < b; i++)
        for (int k = 0; k < b; k++) {
            double dz = 0, dx = 0;
            for (int j = 0; j < l; j++) dz += pow(zs[i * l + j] - zs[k * l + j], 2);
            for (int j = 0; j < d; j++) dx += pow(xs[i * d + j] - xs[k * d + j], 2);
            total += fabs(c / s * sqrt(dz) - sqrt(dx));
        }
    return total / (b * b);
}

Test(gwae, gw_term_matches_hand_computation) {
    float zs[6] = {0.5f, -1.0f, 1.5f, 0.25f, -0.75f, 2.0f}, xs[9] = {0.1f, 0.2f, 0.3f, 0.9f, 0.1f, 0.4f, 0.5f, 0.5f, 0.0f};
    int64_t zs_shape[2] = {3, 2}, xs_shape[2] = {3, 3};
    struct tn_tensor *log_c = tn_scalar(TN_CPU, logf(2.5f));
    struct tn_tensor *l = gwae_loss_gw(make_tensor(2, zs_shape, zs), make_tensor(2, xs_shape, xs), log_c);
    double expected = ref_gw(zs, xs, 3, 2, 3, 2.5);
    cr_assert_float_eq(tn_item(l), expected, 1e-5 * fabs(expected), "L_GW %g, expected %g", tn_item(l), expected);
}

/* dL_GW/dlog C = mean_ij sign(dz - dx) dz (the scale s does not depend on C) */
Test(gwae, gradient_of_c_matches_hand_computation) {
    float zs[6] = {0.5f, -1.0f, 1.5f, 0.25f, -0.75f, 2.0f}, xs[6] = {3.0f, 0.0f, 0.0f, 0.1f, 1.0f, 1.0f};
    int64_t shape[2] = {3, 2};
    struct tn_tensor *log_c = tn_set_requires_grad(tn_scalar(TN_CPU, logf(2.5f)), true);
    struct tn_tensor *l = gwae_loss_gw(make_tensor(2, shape, zs), make_tensor(2, shape, xs), log_c);
    struct tn_tensor *g;
    ag_grad(1, &l, NULL, 1, &log_c, &g, 0);
    double s = 0;
    for (int j = 0; j < 2; j++) {
        double mean = (zs[j] + zs[2 + j] + zs[4 + j]) / 3, var = 0;
        for (int i = 0; i < 3; i++) var += pow(zs[i * 2 + j] - mean, 2) / 2;
        s += sqrt(var) / 2;
    }
    double expected = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) {
            double dz = 2.5 / s * hypot(zs[i * 2] - zs[k * 2], zs[i * 2 + 1] - zs[k * 2 + 1]);
            double dx = hypot(xs[i * 2] - xs[k * 2], xs[i * 2 + 1] - xs[k * 2 + 1]);
            expected += (dz > dx ? 1 : (dz < dx ? -1 : 0)) * dz / 9;
        }
    cr_assert_float_eq(tn_item(g), expected, 1e-4 * fabs(expected), "dL/dlogC %g, expected %g", tn_item(g), expected);
}

Test(gwae, equal_samples_give_finite_gradients) {
    float zs[6] = {1, 2, 1, 2, 0, 1}, xs[6] = {0, 0, 0, 0, 1, 1}; /* rows 0 and 1 coincide */
    int64_t shape[2] = {3, 2};
    struct tn_tensor *z = tn_set_requires_grad(make_tensor(2, shape, zs), true);
    struct tn_tensor *x = tn_set_requires_grad(make_tensor(2, shape, xs), true);
    struct tn_tensor *l = gwae_loss_gw(z, x, tn_scalar(TN_CPU, 0.0f)), *targets[2] = {z, x}, *g[2];
    ag_grad(1, &l, NULL, 2, targets, g, 0);
    float values[6];
    for (int t = 0; t < 2; t++) {
        tn_to_host(g[t], values);
        for (int i = 0; i < 6; i++) cr_assert(isfinite(values[i]), "gradient %d[%d] = %g", t, i, values[i]);
    }
}

Test(gwae, reconstruction_entropy_and_penalty_terms_match_hand_values) {
    float x[4] = {0, 1, 0.5f, 0.5f}, xh[4] = {0.5f, 0.5f, 0.5f, 1.0f};
    int64_t shape[2] = {2, 2};
    /* 0.5 * (0.25 + 0.25 + 0 + 0.25) / 2 */
    cr_assert_float_eq(tn_item(gwae_loss_w(make_tensor(2, shape, x), make_tensor(2, shape, xh))), 0.1875, 1e-6);
    float lv[4] = {-1, 0.5f, 2, -3};
    cr_assert_float_eq(tn_item(gwae_loss_h(make_tensor(2, shape, lv))), 0.75, 1e-6); /* -(-1.5)/2 */
    float gx[4] = {3, 4, 0, 0.5f}, gz[2] = {0, 0};
    int64_t gz_shape[2] = {2, 1};
    /* norms 5 and 0.5: ((5-1)^2 + (0.5-1)^2) / 2 */
    cr_assert_float_eq(tn_item(gwae_loss_penalty(make_tensor(2, shape, gx), make_tensor(2, gz_shape, gz))), 8.125, 1e-5);
}

/* every prior draws [n, L]; its parameters get gradients except the official GMP's logits */
static void check_prior(const char *name, bool paper, int expect_grad_free) {
    struct { int components; bool paper; } gmp = {4, paper}; /* read by the gmp prior only */
    struct tn_rng rng = tn_rng_new(5);
    struct gw_prior *p;
    cr_assert_eq(gw_prior_new(name, 3, &gmp, &rng, &p), TN_OK, "%s", tn_last_error());
    struct tn_tensor *z = gw_prior_sample(p, 6, &rng);
    int64_t shape[2] = {6, 3};
    assert_shape(z, 2, shape);
    struct nn_entry_list list = {0};
    nn_module_collect(&p->base, "", false, &list);
    if (list.n > 0) {
        float w[18];
        for (int i = 0; i < 18; i++) w[i] = (float)sin(i + 1.0);
        ag_backward(ag_sum_all(ag_mul(z, make_tensor(2, shape, w))), 0);
        int without = 0;
        for (int i = 0; i < list.n; i++) {
            struct tn_tensor *g = list.items[i].tensor->grad;
            double norm = 0;
            if (g) {
                float *v = malloc((size_t)g->numel * sizeof(float));
                tn_to_host(g, v);
                for (int64_t k = 0; k < g->numel; k++) norm += fabs(v[k]);
                free(v);
            }
            if (norm == 0) without++;
        }
        cr_assert_eq(without, expect_grad_free, "prior %s: %d parameters without gradient, expected %d",
                     name, without, expect_grad_free);
    }
    nn_entry_list_free(&list);
    nn_module_free(&p->base);
}

Test(gwae, priors_sample_the_right_shape_and_train) {
    check_prior("gaussian", false, 0);
    check_prior("np", false, 0);
    check_prior("fnp", false, 0);
    check_prior("gmp", false, 1); /* the official hard choice leaves the logits untrained */
    check_prior("gmp", true, 0);  /* the paper variant trains them */
}

Test(gwae, unknown_prior_is_an_error) {
    struct tn_rng rng = tn_rng_new(5);
    struct gw_prior *p;
    cr_assert_eq(gw_prior_new("vamp", 3, NULL, &rng, &p), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "unknown prior 'vamp'"), "%s", tn_last_error());
}

struct loss_ctx {
    struct gw_model *m;
    struct tn_tensor *x;
    bool critic;
};

/* the main (or critic) loss with the same random draws every call */
static struct tn_tensor *loss_fn(struct tn_tensor *const *inputs, void *p) {
    (void)inputs; /* the inputs are the model's own parameters, perturbed in place */
    struct loss_ctx *c = p;
    struct tn_rng rng = tn_rng_new(99);
    struct gw_terms t;
    gw_model_terms(c->m, &t);
    struct tn_tensor *loss;
    if (!c->critic) {
        loss = c->m->ops->loss(c->m, c->x, &rng, &t);
    } else {
        struct tn_tensor *mu, *logvar;
        bool mode = ag_set_grad_enabled(false);
        gw_model_encode(c->m, c->x, &mu, &logvar);
        ag_set_grad_enabled(mode);
        loss = gwae_critic_loss(c->m, c->x, mu, logvar, &rng, &t);
    }
    gw_terms_free(&t);
    return loss;
}

/* Finite differences need a deterministic function: the critic runs in eval mode, so its
 * spectral-norm vectors do not move between calls; the prior's batch norm stays in train mode
 * (its output depends on the batch only). A few training-mode critic calls first let the
 * power iteration find sigma: the random initial u, v can give a tiny sigma and a critic
 * whose outputs (1e18) drown every other term in float32. */
static void gradcheck_loss(bool critic) {
    struct gw_model *m = tiny_model("np", 3);
    struct loss_ctx ctx = {m, tiny_images(4), critic};
    bool mode = ag_set_grad_enabled(false);
    struct tn_rng rng = tn_rng_new(1);
    int64_t z_shape[2] = {4, 2};
    for (int i = 0; i < 5; i++) gwae_critic(m, ctx.x, tn_randn(TN_CPU, 2, z_shape, &rng));
    ag_set_grad_enabled(mode);
    nn_module_train(m->groups[1].module, false); /* the critic */
    struct tn_tensor *inputs[4];
    int n = 0;
    if (critic) {
        /* The penalty is discontinuous in every weight that moves a LeakyReLU input across 0
         * (the input gradient's mask flips), and this critic has ~10^3 such inputs, so a
         * finite difference in an earlier layer's weight almost surely straddles a jump.
         * The last layer moves no kink, and the penalty depends on it only through the
         * double backward across every layer; the earlier layers are checked on a critic
         * whose kinks are kept away from the steps, and through a five-conv stack with smooth
         * activations (tests/test_penalty.c). */
        inputs[n++] = nn_module_find(&m->base, "critic.xz.fc2.weight_orig");
        inputs[n++] = nn_module_find(&m->base, "critic.xz.fc2.bias");
    } else {
        inputs[n++] = nn_module_find(&m->base, "log_c");
        inputs[n++] = nn_module_find(&m->base, "encoder.fc_logvar.weight");
        inputs[n++] = nn_module_find(&m->base, "decoder.0.weight");
        inputs[n++] = nn_module_find(&m->base, "prior.net.0.weight");
    }
    for (int i = 0; i < n; i++) cr_assert(inputs[i], "parameter %d not found", i);
    struct ag_check_opts opts = {.eps = 1e-3, .atol = 1e-2, .rtol = 2e-2, .max_directions = 8};
    struct ag_check_result r;
    ag_gradcheck(loss_fn, &ctx, n, inputs, &opts, &r);
    cr_assert(r.ok, "%s loss: %s", critic ? "critic" : "main", r.message);
    gw_model_free(m);
}

Test(gwae, gradcheck_of_the_main_loss) { gradcheck_loss(false); }

Test(gwae, gradcheck_of_the_critic_loss_with_its_penalty) { gradcheck_loss(true); }

Test(gwae, training_steps_lower_the_main_loss) {
    struct gw_model *m = tiny_model("np", 7);
    nn_optim_set_lr(m->groups[0].optim, 1e-3);
    struct tn_tensor *x = tiny_images(8);
    struct tn_rng rng = tn_rng_new(1);
    struct gw_terms t;
    gw_model_terms(m, &t);
    double first = NAN, last = NAN;
    for (int i = 0; i < 25; i++) {
        gw_model_train_step(m, x, &rng, &t);
        gw_terms_read(&t);
        if (i == 0) first = gw_terms_get(&t, "loss");
        last = gw_terms_get(&t, "loss");
    }
    cr_assert_lt(last, first, "loss %g after 25 steps, %g at the first", last, first);
    gw_terms_free(&t);
    gw_model_free(m);
}

Test(gwae, the_same_seed_gives_the_same_losses) {
    double a[GW_TERMS_MAX], b[GW_TERMS_MAX];
    for (int run = 0; run < 2; run++) {
        struct gw_model *m = tiny_model("gmp", 11);
        struct tn_tensor *x = tiny_images(12);
        struct tn_rng rng = tn_rng_new(2);
        struct gw_terms t;
        gw_model_terms(m, &t);
        for (int i = 0; i < 2; i++) gw_model_train_step(m, x, &rng, &t);
        gw_terms_read(&t);
        memcpy(run == 0 ? a : b, t.host, sizeof a);
        gw_terms_free(&t);
        gw_model_free(m);
    }
    for (int i = 0; i < GW_TERMS_MAX; i++)
        cr_assert((isnan(a[i]) && isnan(b[i])) || a[i] == b[i], "term %d differs between runs: "
                  "%.9g vs %.9g", i, a[i], b[i]);
}
