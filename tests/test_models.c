/* test_models.c - the baselines of the model family (ae, vae, beta-vae, beta-tcvae, factorvae,
 * wae-mmd): each model's loss terms against a double-precision reference computed here from
 * the model's own encodings and decodings on a tiny batch (the random draws replayed from a
 * copy of the generator), the terms' definitions on hand values, gradchecks of each loss in a
 * few parameters, the registry's contract (every entry builds, its defaults pass its own
 * ranges, its terms are written), and the interface's generic steps.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/models/vae_family.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(models);

#define B 4 /* batch */
#define L 3 /* latent */
#define PIXELS (3 * 32 * 32)

/* the options struct of a baseline, set row by row */
struct opts {
    _Alignas(max_align_t) unsigned char bytes[GW_OPTIONS_MAX];
};

/* the entry's official options with the row called name set to value (numbers and strings) */
static void set_option(const struct gw_model_entry *e, struct opts *o, const char *name,
                       const char *value) {
    for (int i = 0; i < e->n_options; i++) {
        const struct gw_option *r = &e->options[i];
        if (strcmp(r->name, name) != 0) continue;
        void *p = o->bytes + r->offset;
        switch (r->kind) {
        case GW_OPT_FLOAT: *(float *)p = strtof(value, NULL); return;
        case GW_OPT_DOUBLE: *(double *)p = strtod(value, NULL); return;
        case GW_OPT_INT: *(int *)p = atoi(value); return;
        case GW_OPT_STRING: snprintf(p, r->size, "%s", value); return;
        default: cr_assert_fail("option %s: kind not handled here", name);
        }
    }
    cr_assert_fail("%s has no option %s", e->name, name);
}

static struct gw_model *tiny(const char *name, const struct opts *o, uint64_t seed) {
    struct gw_common c = gw_common_defaults();
    c.image_size = 32;
    c.width = 0.0625f;
    c.latent = L;
    c.batch = B;
    c.train_size = 1000;
    snprintf(c.model, sizeof c.model, "%s", name);
    snprintf(c.prior, sizeof c.prior, "gaussian");
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&c, o ? o->bytes : NULL, NULL, &rng, &m), TN_OK, "%s: %s", name,
                 tn_last_error());
    return m;
}

static struct opts defaults_of(const char *name) {
    struct opts o = {{0}};
    gw_model_find(name)->defaults(o.bytes);
    return o;
}

static struct tn_tensor *images(uint64_t seed) {
    struct tn_rng rng = tn_rng_new(seed);
    int64_t shape[4] = {B, 3, 32, 32};
    return tn_rand_uniform(TN_CPU, 4, shape, &rng, 0.05f, 0.95f);
}

/* the model's child module called name */
static struct nn_module *child(struct gw_model *m, const char *name) {
    for (int i = 0; i < m->base.n_children; i++)
        if (strcmp(m->base.children[i]->name, name) == 0) return m->base.children[i];
    cr_assert_fail("%s has no child %s", m->entry->name, name);
    return NULL;
}

/* ---- the model's intermediate values, replayed ---- */

struct replay {
    float x[B * PIXELS], mu[B * L], lv[B * L], z[B * L], xh[B * PIXELS], logits[B * PIXELS];
    float zp[B * L]; /* the next prior draws after the reparameterisation */
};

/* encodes x, draws z as the loss does from a copy of rng, decodes; deterministic: z = mu */
static void replay_of(struct gw_model *m, struct tn_tensor *x, struct tn_rng rng, bool deterministic,
                      struct replay *r) {
    struct gw_vae_base *v = (struct gw_vae_base *)m;
    bool grad = ag_set_grad_enabled(false);
    tn_to_host(x, r->x);
    struct tn_tensor *mu, *logvar;
    gw_model_encode(m, x, &mu, &logvar);
    struct tn_tensor *z = deterministic ? mu : gw_reparameterize(mu, logvar, &rng);
    tn_to_host(mu, r->mu);
    if (logvar) tn_to_host(logvar, r->lv);
    tn_to_host(z, r->z);
    tn_to_host(gw_model_decode(m, z), r->xh);
    tn_to_host(gw_decoder_logits(v->decoder, z), r->logits);
    tn_to_host(gw_model_sample(m, B, &rng), r->zp);
    ag_set_grad_enabled(grad);
}

static double ref_gaussian_rec(const struct replay *r) {
    double s = 0;
    for (int i = 0; i < B * PIXELS; i++) s += 0.5 * pow((double)r->x[i] - r->xh[i], 2);
    return s / B;
}

static double ref_bernoulli_rec(const struct replay *r) {
    double s = 0;
    for (int i = 0; i < B * PIXELS; i++) {
        double l = r->logits[i];
        s += log1p(exp(-fabs(l))) + (l > 0 ? l : 0) - r->x[i] * l;
    }
    return s / B;
}

static double ref_kl(const struct replay *r) {
    double s = 0;
    for (int i = 0; i < B * L; i++)
        s += 0.5 * ((double)r->mu[i] * r->mu[i] + exp(r->lv[i]) - r->lv[i] - 1);
    return s / B;
}

/* log N(z_ik; mu_jk, exp(lv_jk)) */
static double log_normal(const struct replay *r, int i, int j, int k) {
    double d = (double)r->z[i * L + k] - r->mu[j * L + k];
    return -0.5 * (d * d * exp(-(double)r->lv[j * L + k]) + r->lv[j * L + k] + 1.8378770664093453 /* log 2 pi */);
}

static double logsumexp(const double *v, int n) {
    double m = v[0], s = 0;
    for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
    for (int i = 0; i < n; i++) s += exp(v[i] - m);
    return m + log(s);
}

static double ref_tc(const struct replay *r, double log_norm) {
    double tc = 0, joint[B], marg[B];
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < B; j++) {
            joint[j] = 0;
            for (int k = 0; k < L; k++) joint[j] += log_normal(r, i, j, k);
        }
        double sum_marginals = 0;
        for (int k = 0; k < L; k++) {
            for (int j = 0; j < B; j++) marg[j] = log_normal(r, i, j, k);
            sum_marginals += logsumexp(marg, B) - log_norm;
        }
        tc += logsumexp(joint, B) - log_norm - sum_marginals;
    }
    return tc / B;
}

static double kernel(const float *a, const float *b, bool imq) {
    double sq = 0;
    for (int k = 0; k < L; k++) sq += pow((double)a[k] - b[k], 2);
    return imq ? 2.0 * L / (2.0 * L + sq) : exp(-sq / (L * L));
}

static double ref_mmd(const float *x, const float *y, bool imq) {
    double xx = 0, yy = 0, xy = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) {
            xx += kernel(x + i * L, x + j * L, imq);
            yy += kernel(y + i * L, y + j * L, imq);
            xy += kernel(x + i * L, y + j * L, imq);
        }
    return (xx + yy - 2 * xy) / (B * B);
}

/* the model's loss on x with rng seeded `seed`, its terms read */
static void loss_terms(struct gw_model *m, struct tn_tensor *x, uint64_t seed, struct gw_terms *t) {
    struct tn_rng rng = tn_rng_new(seed);
    gw_model_terms(m, t);
    bool grad = ag_set_grad_enabled(false);
    m->ops->loss(m, x, &rng, t);
    ag_set_grad_enabled(grad);
    gw_terms_read(t);
}

/* float32 sums of a few thousand terms against double: 1e-4 relative, 1e-5 absolute */
static void assert_near(double got, double want, const char *what) {
    cr_assert(fabs(got - want) <= 1e-4 * fabs(want) + 1e-5, "%s: %.9g, reference %.9g", what, got,
              want);
}

/* the loss minus the reconstruction term (both as the model reports them) against the
 * reference of the rest, so that a small weighted term is checked at its own scale */
static void assert_rest(const struct gw_terms *t, double want, const char *what) {
    double rest = gw_terms_get(t, "loss") - gw_terms_get(t, "loss_rec");
    double rounding = 4 * FLT_EPSILON * fabs(gw_terms_get(t, "loss_rec")); /* of loss = rec + rest */
    cr_assert(fabs(rest - want) <= 1e-4 * fabs(want) + rounding + 1e-6,
              "%s: loss - rec = %.9g, reference %.9g", what, rest, want);
}

/* ---- each model's terms against the double reference ---- */

Test(models, ae_loss_is_the_reconstruction_from_the_code) {
    struct gw_model *m = tiny("ae", NULL, 1);
    struct tn_tensor *x = images(2);
    struct replay r;
    replay_of(m, x, tn_rng_new(3), true, &r);
    struct gw_terms t;
    loss_terms(m, x, 3, &t);
    assert_near(gw_terms_get(&t, "loss"), ref_gaussian_rec(&r), "ae loss");
    gw_terms_free(&t);
    gw_model_free(m);
}

static void check_vae(const char *name, float beta, const char *reconstruction) {
    struct opts o = defaults_of(name);
    set_option(gw_model_find(name), &o, "reconstruction", reconstruction);
    if (strcmp(name, "beta-vae") == 0) {
        char text[32];
        snprintf(text, sizeof text, "%g", beta);
        set_option(gw_model_find(name), &o, "beta", text);
    }
    struct gw_model *m = tiny(name, &o, 4);
    struct tn_tensor *x = images(5);
    struct replay r;
    replay_of(m, x, tn_rng_new(6), false, &r);
    struct gw_terms t;
    loss_terms(m, x, 6, &t);
    double rec = strcmp(reconstruction, "bernoulli") == 0 ? ref_bernoulli_rec(&r) : ref_gaussian_rec(&r);
    double kl = ref_kl(&r);
    assert_near(gw_terms_get(&t, "loss_rec"), rec, "reconstruction");
    assert_near(gw_terms_get(&t, "loss_kl"), kl, "KL");
    assert_rest(&t, beta * kl, "beta KL");
    gw_terms_free(&t);
    gw_model_free(m);
}

Test(models, vae_loss_is_reconstruction_plus_kl) { check_vae("vae", 1.0f, "gaussian"); }
Test(models, beta_vae_weights_the_kl_by_beta) { check_vae("beta-vae", 40.0f, "gaussian"); }
Test(models, bernoulli_reconstruction_is_the_cross_entropy_of_the_logits) {
    check_vae("vae", 1.0f, "bernoulli");
}

Test(models, beta_tcvae_adds_beta_minus_one_total_correlations) {
    for (int mws = 0; mws < 2; mws++) {
        struct opts o = defaults_of("beta-tcvae");
        set_option(gw_model_find("beta-tcvae"), &o, "beta", "6");
        set_option(gw_model_find("beta-tcvae"), &o, "tc-estimator", mws ? "mws" : "full-batch");
        struct gw_model *m = tiny("beta-tcvae", &o, 7);
        struct tn_tensor *x = images(8);
        struct replay r;
        replay_of(m, x, tn_rng_new(9), false, &r);
        struct gw_terms t;
        loss_terms(m, x, 9, &t);
        double tc = ref_tc(&r, log(mws ? B * 1000.0 : B)), kl = ref_kl(&r), rec = ref_gaussian_rec(&r);
        assert_near(gw_terms_get(&t, "loss_tc"), tc, mws ? "TC (mws)" : "TC (full batch)");
        assert_near(gw_terms_get(&t, "loss_rec"), rec, "reconstruction");
        assert_near(gw_terms_get(&t, "loss_kl"), kl, "KL");
        assert_rest(&t, kl + 5 * tc, "KL + 5 TC");
        gw_terms_free(&t);
        gw_model_free(m);
    }
}

Test(models, wae_mmd_is_the_infovae_combination) {
    for (int imq = 0; imq < 2; imq++) {
        struct opts o = defaults_of("wae-mmd");
        set_option(gw_model_find("wae-mmd"), &o, "kernel", imq ? "imq" : "rbf");
        struct gw_model *m = tiny("wae-mmd", &o, 10);
        struct tn_tensor *x = images(11);
        struct replay r;
        replay_of(m, x, tn_rng_new(12), false, &r);
        struct gw_terms t;
        loss_terms(m, x, 12, &t);
        double mmd = ref_mmd(r.zp, r.z, imq), kl = ref_kl(&r), rec = ref_gaussian_rec(&r);
        assert_near(gw_terms_get(&t, "loss_mmd"), mmd, imq ? "MMD (imq)" : "MMD (rbf)");
        /* official alpha 0.9, lambda 100 */
        assert_near(gw_terms_get(&t, "loss_rec"), rec, "reconstruction");
        assert_rest(&t, 0.1 * kl + 99.9 * mmd, "0.1 KL + 99.9 MMD");
        gw_terms_free(&t);
        gw_model_free(m);
    }
}

Test(models, factorvae_adds_gamma_times_the_discriminators_log_ratio) {
    struct gw_model *m = tiny("factorvae", NULL, 13);
    struct tn_tensor *x = images(14);
    struct replay r;
    replay_of(m, x, tn_rng_new(15), false, &r);
    struct gw_terms t;
    loss_terms(m, x, 15, &t);
    /* the discriminator's logits of z, through its module, then the log-softmax in double */
    float logits[B * 2];
    int64_t zs[2] = {B, L};
    bool grad = ag_set_grad_enabled(false);
    tn_to_host(nn_forward(child(m, "discriminator"), make_tensor(2, zs, r.z)), logits);
    ag_set_grad_enabled(grad);
    double tc = 0;
    for (int i = 0; i < B; i++) tc += ((double)logits[2 * i] - logits[2 * i + 1]) / B;
    assert_near(gw_terms_get(&t, "loss_tc"), tc, "TC estimate");
    assert_near(gw_terms_get(&t, "loss_rec"), ref_gaussian_rec(&r), "reconstruction");
    assert_rest(&t, ref_kl(&r) + 0.1 * tc, "KL + 0.1 TC");
    gw_terms_free(&t);
    gw_model_free(m);
}

/* ---- terms on hand values ---- */

Test(models, mmd_of_a_set_with_itself_is_zero_and_the_rbf_kernel_is_vaetcs) {
    float a[B * L] = {0, 1, 2, -1, 0.5f, 3, 2, 2, 2, 0, 0, 1};
    int64_t shape[2] = {B, L};
    struct tn_tensor *x = make_tensor(2, shape, a);
    cr_assert_float_eq(tn_item(gw_mmd(x, x, GW_MMD_RBF)), 0.0, 1e-6);
    cr_assert_float_eq(tn_item(gw_mmd(x, x, GW_MMD_IMQ)), 0.0, 1e-6);
    /* two one-point sets at squared distance 9 with L = 3: 2 - 2 exp(-9 / 9) */
    float p[3] = {0, 0, 0}, q[3] = {3, 0, 0};
    int64_t one[2] = {1, 3};
    double got = tn_item(gw_mmd(make_tensor(2, one, p), make_tensor(2, one, q), GW_MMD_RBF));
    cr_assert_float_eq(got, 2 - 2 * exp(-1.0), 1e-6, "%g", got);
}

Test(models, permuted_dimensions_keep_each_column_as_a_multiset) {
    float v[6 * 2] = {1, 10, 2, 20, 3, 30, 4, 40, 5, 50, 6, 60}, out[12];
    int64_t shape[2] = {6, 2};
    struct tn_rng rng = tn_rng_new(3);
    tn_to_host(gw_permute_dims(make_tensor(2, shape, v), &rng), out);
    for (int k = 0; k < 2; k++) {
        double sum = 0, sq = 0;
        for (int i = 0; i < 6; i++) {
            sum += out[i * 2 + k];
            sq += out[i * 2 + k] * out[i * 2 + k];
        }
        cr_assert_float_eq(sum, k ? 210 : 21, 1e-9, "column %d sum", k);
        cr_assert_float_eq(sq, k ? 9100 : 91, 1e-9, "column %d sum of squares", k);
    }
    bool moved = false; /* the two columns are not permuted alike in this draw */
    for (int i = 0; i < 6; i++) moved = moved || out[i * 2 + 1] != 10 * out[i * 2];
    cr_assert(moved, "both columns got the same permutation");
}

Test(models, the_tc_estimators_differ_by_l_minus_one_log_n) {
    float z[B * L], mu[B * L], lv[B * L];
    for (int i = 0; i < B * L; i++) {
        z[i] = (float)sin(i + 1.0);
        mu[i] = (float)cos(2.0 * i);
        lv[i] = (float)(0.3 * sin(3.0 * i));
    }
    int64_t shape[2] = {B, L};
    struct tn_tensor *zt = make_tensor(2, shape, z), *mt = make_tensor(2, shape, mu);
    struct tn_tensor *lt = make_tensor(2, shape, lv);
    double full = tn_item(gw_total_correlation(zt, mt, lt, log(B)));
    double mws = tn_item(gw_total_correlation(zt, mt, lt, log(B * 500.0)));
    cr_assert_float_eq(mws - full, (L - 1) * log(500.0), 1e-4, "%g", mws - full);
}

/* ---- gradients ---- */

struct loss_ctx {
    struct gw_model *m;
    struct tn_tensor *x;
    bool adversary;
};

/* the main loss, or FactorVAE's discriminator loss, with the same draws every call */
static struct tn_tensor *loss_fn(struct tn_tensor *const *inputs, void *p) {
    (void)inputs; /* the model's own parameters, perturbed in place */
    struct loss_ctx *c = p;
    struct tn_rng rng = tn_rng_new(21);
    struct gw_terms t;
    gw_model_terms(c->m, &t);
    struct tn_tensor *loss = c->m->ops->loss(c->m, c->x, &rng, &t);
    if (c->adversary) {
        /* -mean(log D_1(perm z) + log D_0(z)) on the loss's codes, as the adversary step */
        struct nn_module *d = child(c->m, "discriminator");
        int64_t shape[2] = {B, L};
        struct tn_rng draw = tn_rng_new(22);
        struct tn_tensor *codes = tn_randn(TN_CPU, 2, shape, &draw);
        struct tn_tensor *fake = nn_forward(d, codes), *real = nn_forward(d, gw_permute_dims(codes, &draw));
        fake = ag_sub(fake, ag_logsumexp(fake, AG_AXIS(1), true));
        real = ag_sub(real, ag_logsumexp(real, AG_AXIS(1), true));
        loss = ag_neg(ag_mean_all(ag_add(ag_slice(real, 1, 1, 1), ag_slice(fake, 1, 0, 1))));
    }
    gw_terms_free(&t);
    return loss;
}

static void gradcheck(const char *name, const char *const *params, int n, bool adversary) {
    struct gw_model *m = tiny(name, NULL, 30);
    struct loss_ctx ctx = {m, images(31), adversary};
    struct tn_tensor *inputs[4];
    for (int i = 0; i < n; i++) {
        inputs[i] = nn_module_find(&m->base, params[i]);
        cr_assert(inputs[i], "%s has no %s", name, params[i]);
    }
    struct ag_check_opts opts = {.eps = 1e-3, .atol = 1e-2, .rtol = 2e-2, .max_directions = 8};
    struct ag_check_result r;
    ag_gradcheck(loss_fn, &ctx, n, inputs, &opts, &r);
    cr_assert(r.ok, "%s%s: %s", name, adversary ? " (discriminator)" : "", r.message);
    gw_model_free(m);
}

static const char *const shared_params[] = {"encoder.fc.weight", "encoder.fc_logvar.bias",
                                            "decoder.0.weight"};

Test(models, gradcheck_of_the_ae_loss) {
    const char *p[] = {"encoder.fc.weight", "decoder.0.weight"};
    gradcheck("ae", p, 2, false);
}
Test(models, gradcheck_of_the_vae_loss) { gradcheck("vae", shared_params, 3, false); }
Test(models, gradcheck_of_the_beta_vae_loss) { gradcheck("beta-vae", shared_params, 3, false); }
Test(models, gradcheck_of_the_beta_tcvae_loss) { gradcheck("beta-tcvae", shared_params, 3, false); }
Test(models, gradcheck_of_the_wae_mmd_loss) { gradcheck("wae-mmd", shared_params, 3, false); }
Test(models, gradcheck_of_the_factorvae_loss) {
    const char *p[] = {"encoder.fc.weight", "decoder.0.weight", "discriminator.0.weight"};
    gradcheck("factorvae", p, 3, false);
}
Test(models, gradcheck_of_the_factorvae_discriminator_loss) {
    const char *p[] = {"discriminator.0.weight", "discriminator.10.bias"};
    gradcheck("factorvae", p, 2, true);
}

/* ---- the registry and the generic steps ---- */

/* every entry builds with its official options, its defaults lie in its rows' ranges, its
 * first prior is taken, and one training step writes every term (adversary terms included) */
Test(models, every_registered_model_builds_and_a_step_writes_all_its_terms) {
    for (const struct gw_model_entry *const *e = gw_models; *e; e++) {
        struct opts o = defaults_of((*e)->name);
        for (int i = 0; i < (*e)->n_options; i++) {
            const struct gw_option *r = &(*e)->options[i];
            cr_assert(r->source && r->help && r->group, "%s --%s: no source, help or group",
                      (*e)->name, r->name);
            double v = r->kind == GW_OPT_FLOAT    ? *(float *)(o.bytes + r->offset)
                       : r->kind == GW_OPT_DOUBLE ? *(double *)(o.bytes + r->offset)
                       : r->kind == GW_OPT_INT    ? *(int *)(o.bytes + r->offset)
                                                  : r->min;
            if (r->kind != GW_OPT_STRING && r->kind != GW_OPT_BOOL)
                cr_assert(v >= r->min && v <= r->max, "%s --%s default %g outside [%g, %g]",
                          (*e)->name, r->name, v, r->min, r->max);
        }
        struct gw_common c = gw_common_defaults();
        c.image_size = 32;
        c.width = 0.0625f;
        c.latent = L;
        c.batch = B;
        snprintf(c.model, sizeof c.model, "%s", (*e)->name);
        snprintf(c.prior, sizeof c.prior, "%s", (*e)->priors[0]);
        struct tn_rng rng = tn_rng_new(40);
        struct gw_model *m;
        cr_assert_eq(gw_model_new(&c, o.bytes, NULL, &rng, &m), TN_OK, "%s: %s", (*e)->name,
                     tn_last_error());
        cr_assert_eq(m->n_groups, m->ops->adversary ? 2 : 1, "%s: groups", (*e)->name);
        struct gw_terms t;
        gw_model_terms(m, &t);
        gw_model_train_step(m, images(41), &rng, &t);
        gw_terms_read(&t);
        cr_assert(t.set[0] && strcmp(t.info[0].name, "loss") == 0, "%s: no loss term first",
                  (*e)->name);
        for (int i = 0; i < t.n; i++) /* optional terms (--gmg's) are written only when on */
            cr_assert(!t.set[i] || isfinite(t.host[i]), "%s: term %s not finite", (*e)->name,
                      t.info[i].name);
        gw_terms_free(&t);
        gw_model_free(m);
    }
}

Test(models, the_warm_up_scales_every_groups_rate) {
    struct gw_model *m = tiny("factorvae", NULL, 50);
    m->common.warmup_steps = 10;
    gw_model_set_iteration_lr(m, 3);
    cr_assert_float_eq(m->groups[0].optim->opts.lr, 0.3 * m->groups[0].lr, 1e-15);
    cr_assert_float_eq(m->groups[1].optim->opts.lr, 0.3 * 1e-3, 1e-15);
    gw_model_set_iteration_lr(m, 10);
    cr_assert_float_eq(m->groups[1].optim->opts.lr, 1e-3, 1e-15);
    gw_model_free(m);
}

Test(models, the_main_step_leaves_the_adversary_untouched) {
    struct gw_model *m = tiny("factorvae", NULL, 60);
    struct tn_tensor *w = nn_module_find(&m->base, "discriminator.0.weight");
    float before[16], after[16];
    struct tn_tensor *first = tn_view(w, 1, (int64_t[]){16}, (int64_t[]){1}, w->offset);
    tn_to_host(first, before);
    struct tn_rng rng = tn_rng_new(61);
    struct gw_terms t;
    gw_model_terms(m, &t);
    gw_model_main_step(m, images(62), &rng, &t);
    tn_to_host(first, after);
    cr_assert(memcmp(before, after, sizeof before) == 0, "the main step moved the discriminator");
    cr_assert_null(w->grad, "the main step computed the discriminator's gradient");
    gw_model_adversary_steps(m, images(62), &rng, &t);
    tn_to_host(first, after);
    cr_assert(memcmp(before, after, sizeof before) != 0, "the discriminator step did not move it");
    gw_terms_free(&t);
    gw_model_free(m);
}

Test(models, unknown_models_priors_and_bad_options_are_refused) {
    struct gw_common c = gw_common_defaults();
    struct tn_rng rng = tn_rng_new(1);
    struct gw_model *m;
    snprintf(c.model, sizeof c.model, "vqvae");
    cr_assert_eq(gw_model_new(&c, NULL, NULL, &rng, &m), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "unknown model 'vqvae'"), "%s", tn_last_error());
    snprintf(c.model, sizeof c.model, "vae");
    snprintf(c.prior, sizeof c.prior, "np");
    cr_assert_eq(gw_model_new(&c, NULL, NULL, &rng, &m), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "does not take the prior 'np'"), "%s", tn_last_error());
    snprintf(c.prior, sizeof c.prior, "gaussian");
    struct opts o = defaults_of("wae-mmd");
    set_option(gw_model_find("wae-mmd"), &o, "kernel", "laplace");
    snprintf(c.model, sizeof c.model, "wae-mmd");
    cr_assert_eq(gw_model_new(&c, o.bytes, NULL, &rng, &m), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "unknown MMD kernel 'laplace'"), "%s", tn_last_error());
}
