/* test_eval.c - the tool-level pieces of `gwae eval` and `gwae train --holdout-classes` with
 * known answers: held-out classes absent from train/valid/test and present only in the
 * out-of-distribution set; the holdout list parser; L_GW being the GW objective at the decoder's
 * coupling of the pairs the solver gets; the squared isometry distances being the scaled ones without C/s; the OOD
 * scores being the critic at the pairs the docs name, and the AUC of a set against itself
 * being one half; the DCI scatter picking the two most important latents; the feature
 * classifier learning the shape factor of the generated scenes to a stated accuracy, and its
 * checkpoint refusing another run's data.
 *
 * Models are tiny (32x32, width 1/16, L = 4, batch 8) and untrained: the known answers hold
 * for any weights. Fashion-MNIST tests skip themselves when Debian's dataset is missing.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eval_dci.h"
#include "eval_gw.h"
#include "eval_ood.h"
#include "evaluate.h"
#include "gwae/models/gwae.h"
#include "gwae/eval/classifier.h"
#include "helpers/test_support.h"
#include "settings.h"

#define FASHION "/usr/share/datasets/fashion-mnist"
#define HELD ((1u << 5) | (1u << 7) | (1u << 9))

LEAK_CHECKED_SUITE(eval);

static struct gw_model *tiny_model(uint64_t seed) {
    struct gw_common cfg = gw_common_defaults();
    cfg.image_size = 32;
    cfg.width = 0.0625f;
    cfg.latent = 4;
    cfg.batch = 8;
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&cfg, NULL, NULL, &rng, &m), TN_OK, "%s", tn_last_error());
    return m;
}

/* q(z|x) made deterministic: logvar = -60 whatever x, so z ~ q(z|x) is mu to float precision */
static void deterministic_encoder(struct gw_model *m) {
    struct tn_tensor *w = nn_module_find(&m->base, "encoder.fc_logvar.weight");
    struct tn_tensor *b = nn_module_find(&m->base, "encoder.fc_logvar.bias");
    float *zero = calloc((size_t)w->numel, sizeof *zero), bias[4] = {-60, -60, -60, -60};
    tn_write_host(w, zero);
    tn_write_host(b, bias);
    free(zero);
}

static struct gw_dataset scenes(int64_t n, uint64_t seed, int size) {
    struct gw_dataset d;
    cr_assert_eq(gw_shapes_generate(n, size, seed, &d), TN_OK, "%s", tn_last_error());
    return d;
}

/* ---- held-out classes ---- */

static bool has_class(const struct gw_dataset *d, uint32_t mask) {
    for (int64_t i = 0; i < d->count; i++)
        if (mask >> (int)d->factors[i] & 1u) return true;
    return false;
}

Test(eval, held_out_classes_never_reach_train_valid_or_test) {
    if (access(FASHION "/train-labels-idx1-ubyte.gz", R_OK) != 0)
        cr_skip_test("no Fashion-MNIST in " FASHION);
    struct gw_data_options o = {.source = GW_SOURCE_FASHION_MNIST, .path = FASHION, .size = 8,
                                .limit = 500, .seed = 3, .holdout = HELD};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_OK, "%s", tn_last_error());
    cr_assert_eq(s.train.count, 500);
    cr_assert_eq(s.valid.count, 4200, "10%% of the 42,000 training images of 7 classes");
    cr_assert_eq(s.test.count, 7000);
    cr_assert_eq(s.held_out.count, 3000, "the 3,000 test images of classes 5, 7, 9");
    cr_assert(!has_class(&s.train, HELD) && !has_class(&s.valid, HELD) && !has_class(&s.test, HELD));
    cr_assert(!has_class(&s.held_out, ~HELD & 0x3ffu), "a kept class in the held-out set");
    cr_assert(has_class(&s.train, 1u << 0) && has_class(&s.held_out, 1u << 9));
    gw_splits_free(&s);
}

Test(eval, held_out_classes_need_a_labelled_source) {
    struct gw_data_options o = {.source = GW_SOURCE_SHAPES, .size = 16, .shapes_count = 50,
                                .holdout = 1u};
    struct gw_splits s;
    cr_assert_eq(gw_data_load(&o, &s), TN_ERR_INVALID);
    cr_assert(strstr(tn_last_error(), "labelled"), "%s", tn_last_error());
}

Test(eval, holdout_lists_parse_strictly) {
    uint32_t mask;
    char err[256];
    cr_assert(settings_holdout_mask("5,7,9", &mask, err, sizeof err) && mask == HELD);
    cr_assert(settings_holdout_mask("", &mask, err, sizeof err) && mask == 0);
    const char *bad[] = {"5,5", "10", "-1", "a", "5,", ",5", "5;7", " 5", "0,1,2,3,4,5,6,7,8"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!settings_holdout_mask(bad[i], &mask, err, sizeof err), "'%s' accepted", bad[i]);
}

/* ---- GW and isometry ---- */

Test(eval, gw_estimate_is_the_gw_objective_at_the_decoders_coupling) {
    struct gw_model *m = tiny_model(1);
    struct gw_dataset d = scenes(8, 2, 32);
    struct tn_rng rng = tn_rng_new(3), again = tn_rng_new(3);
    int64_t idx[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    struct eval_gw_point p;
    eval_gw_batch(m, gw_dataset_batch(&d, idx, 8), &rng, &p);
    /* the same prior draws by hand: d_Z = (C/s)|dz| with s the mean unbiased std, d_X = |dx|,
     * and the objective at the identity coupling (1/8 on the diagonal) */
    nn_module_train(&m->base, false);
    struct tn_tensor *zs = gw_model_sample(m, 8, &again), *xs = gw_model_decode(m, zs);
    float z[8 * 4], x[8 * 3 * 32 * 32];
    tn_to_host(zs, z);
    tn_to_host(xs, x);
    double dz[64], dx[64], plan[64] = {0}, s = 0;
    gw_distance_matrix(z, 8, 4, dz);
    gw_distance_matrix(x, 8, 3 * 32 * 32, dx);
    for (int k = 0; k < 4; k++) {
        double mean = 0, var = 0;
        for (int i = 0; i < 8; i++) mean += z[i * 4 + k] / 8.0;
        for (int i = 0; i < 8; i++) var += (z[i * 4 + k] - mean) * (z[i * 4 + k] - mean) / 7.0;
        s += sqrt(var) / 4.0;
    }
    double c = exp(tn_item(nn_module_find(&m->base, "log_c")));
    for (int i = 0; i < 64; i++) dz[i] *= c / s;
    for (int i = 0; i < 8; i++) plan[i * 9] = 1.0 / 8;
    double at_decoder = gw_gw_objective(dx, 8, dz, 8, GW_GW_ABS, plan);
    cr_assert_float_eq(p.estimate, at_decoder, 1e-5 * at_decoder, "L_GW %g, objective %g",
                       p.estimate, at_decoder);
    /* the solver searches the couplings of the same points: it gets near or below that */
    cr_assert(p.solver_gen <= at_decoder * 1.01, "solver %g, decoder's coupling %g", p.solver_gen,
              at_decoder);
    cr_assert(p.solver >= 0 && p.solver_sq >= 0 && p.solver_enc >= 0 && isfinite(p.solver) &&
              isfinite(p.solver_sq) && isfinite(p.solver_enc));
    gw_dataset_free(&d);
    gw_model_free(m);
}

Test(eval, squared_isometry_is_the_scaled_one_without_c_over_s) {
    struct gw_model *m = tiny_model(4);
    enum { N = 40 };
    double dz[N], dx[N], dz2[N], dx2[N];
    struct tn_rng a = tn_rng_new(5), b = tn_rng_new(5);
    eval_isometry(m, N, false, &a, dz, dx);
    eval_isometry(m, N, true, &b, dz2, dx2);
    double ratio = dz2[0] / (dz[0] * dz[0]); /* (s / C)^2, the same for every pair */
    for (int i = 0; i < N; i++) {
        cr_assert_float_eq(dx2[i], dx[i] * dx[i], 1e-6 * dx2[i] + 1e-12, "pair %d: d_X", i);
        cr_assert_float_eq(dz2[i] / (dz[i] * dz[i]), ratio, 1e-6 * ratio, "pair %d: d_Z", i);
    }
    gw_model_free(m);
}

/* ---- out-of-distribution scores ---- */

Test(eval, ood_scores_are_the_critic_at_the_pairs_documented) {
    struct gw_model *m = tiny_model(6);
    deterministic_encoder(m);
    struct gw_dataset d = scenes(5, 7, 32);
    double decoded[5], data[5];
    struct tn_rng rng = tn_rng_new(8);
    cr_assert_eq(eval_ood_scores(m, &d, 0, 0, &rng, decoded), 5); /* "decoded" */
    eval_ood_scores(m, &d, 0, 1, &rng, data);                      /* "data" */
    nn_module_train(&m->base, false);
    int64_t idx[5] = {0, 1, 2, 3, 4};
    struct tn_tensor *x = gw_dataset_batch(&d, idx, 5), *mu, *logvar;
    gw_model_encode(m, x, &mu, &logvar);
    float f_dec[5], f_data[5];
    tn_to_host(gwae_critic(m, gw_model_decode(m, mu), mu), f_dec);
    tn_to_host(gwae_critic(m, x, mu), f_data);
    for (int i = 0; i < 5; i++) {
        cr_assert_float_eq(decoded[i], f_dec[i], 1e-5 * (1 + fabs(f_dec[i])), "f(Dec(z), z) %d", i);
        cr_assert_float_eq(data[i], f_data[i], 1e-5 * (1 + fabs(f_data[i])), "f(x, z) %d", i);
    }
    gw_dataset_free(&d);
    gw_model_free(m);
}

Test(eval, ood_auc_of_a_set_against_itself_is_one_half) {
    struct gw_model *m = tiny_model(9);
    deterministic_encoder(m);
    struct gw_dataset d = scenes(12, 10, 32);
    struct tn_rng rng = tn_rng_new(11);
    struct eval_ood_result r;
    eval_ood_detect(m, &d, 0, &d, 0, 0, &rng, &r);
    cr_assert_eq(r.n_id, 12);
    cr_assert_eq(r.n_ood, 12);
    cr_assert_float_eq(r.auc, 0.5, 1e-12, "AUC %g", r.auc);
    cr_assert(r.fpr[0] == 0 && r.tpr[0] == 0 && r.fpr[r.points - 1] == 1 && r.tpr[r.points - 1] == 1);
    eval_ood_free(&r);
    gw_dataset_free(&d);
    gw_model_free(m);
}

/* ---- DCI ---- */

Test(eval, dci_scatter_takes_the_two_latents_most_important_for_object_hue) {
    struct gw_model *m = tiny_model(12);
    struct gw_dataset d = scenes(120, 13, 32);
    struct tn_rng rng = tn_rng_new(14);
    struct eval_dci e;
    eval_dci_compute(m, &d, 0, &rng, 15, &e);
    cr_assert_eq(e.n, 120);
    cr_assert_str_eq(d.factor_names[e.factor], "object_hue");
    const double *r = e.dci.importance;
    int f = d.n_factors, a = e.dims[0], b = e.dims[1];
    cr_assert_neq(a, b);
    for (int j = 0; j < 4; j++) {
        cr_assert(r[j * f + e.factor] <= r[a * f + e.factor], "latent %d beats the first", j);
        if (j != a) cr_assert(r[j * f + e.factor] <= r[b * f + e.factor], "latent %d beats the second", j);
    }
    cr_assert(e.dci.informativeness >= 0 && e.dci.informativeness <= 1);
    eval_dci_free(&e);
    gw_dataset_free(&d);
    gw_model_free(m);
}

/* ---- the feature classifier ---- */

Test(eval, classifier_learns_the_shape_factor_above_90_percent) {
    struct gw_dataset train = scenes(2000, 16, 32), test = scenes(300, 17, 32);
    int column = gw_classifier_column(&train);
    cr_assert_str_eq(train.factor_names[column], "shape");
    struct tn_rng rng = tn_rng_new(18);
    struct gw_classifier *c;
    cr_assert_eq(gw_classifier_new(32, 4, &rng, &c), TN_OK, "%s", tn_last_error());
    struct gw_classifier_options o = gw_classifier_defaults();
    o.epochs = 5;
    gw_classifier_train(c, &train, column, &o);
    double acc = gw_classifier_accuracy(c, &test, column, 0);
    cr_log_info("shape accuracy %.3f", acc);
    cr_assert(acc > 0.9, "shape accuracy %.3f on 300 unseen scenes (chance 0.25)", acc);
    gw_classifier_free(c);
    gw_dataset_free(&train);
    gw_dataset_free(&test);
}

Test(eval, classifier_checkpoint_round_trips_and_refuses_another_identity) {
    struct tn_rng rng = tn_rng_new(19), rng2 = tn_rng_new(20);
    struct gw_classifier *a, *b;
    cr_assert_eq(gw_classifier_new(16, 4, &rng, &a), TN_OK);
    cr_assert_eq(gw_classifier_new(16, 4, &rng2, &b), TN_OK);
    char path[64];
    snprintf(path, sizeof path, "/tmp/test_eval_%d.safetensors", (int)getpid());
    cr_assert_eq(gw_classifier_save(a, "run A", path), TN_OK, "%s", tn_last_error());
    cr_assert_eq(gw_classifier_load(b, "run B", path), TN_ERR_INVALID);
    cr_assert_eq(gw_classifier_load(b, "run A", path), TN_OK, "%s", tn_last_error());
    struct gw_dataset d = scenes(3, 21, 16);
    int64_t idx[3] = {0, 1, 2};
    float fa[3 * GW_CLASSIFIER_FEATURES], fb[3 * GW_CLASSIFIER_FEATURES];
    gw_classifier_features(a, gw_dataset_batch(&d, idx, 3), fa);
    gw_classifier_features(b, gw_dataset_batch(&d, idx, 3), fb);
    cr_assert(memcmp(fa, fb, sizeof fa) == 0, "the loaded classifier gives other features");
    struct gw_classifier *bad;
    cr_assert_eq(gw_classifier_new(12, 4, &rng, &bad), TN_ERR_INVALID, "size 12 is not a multiple of 8");
    cr_assert_null(bad);
    remove(path);
    gw_dataset_free(&d);
    gw_classifier_free(a);
    gw_classifier_free(b);
}

/* ---- PSNR of a broken model ---- */

/* NaN reconstructions have a NaN error: the PSNR is not a number, never the 100 dB floor */
Test(eval, psnr_of_non_finite_reconstructions_is_not_a_number) {
    struct gw_model *m = tiny_model(20);
    struct gw_dataset d = scenes(6, 21, 32);
    struct tn_rng rng = tn_rng_new(22);
    double psnr[2], se[2];
    eval_psnr(m, &d, 0, &rng, psnr, se);
    cr_assert(isfinite(psnr[0]) && psnr[0] < 100, "a working model: %g dB", psnr[0]);
    struct tn_tensor *b = nn_module_find(&m->base, "decoder.0.bias");
    float *v = calloc((size_t)b->numel, sizeof *v);
    v[0] = NAN;
    tn_write_host(b, v);
    free(v);
    eval_psnr(m, &d, 0, &rng, psnr, se);
    for (int i = 0; i < 2; i++)
        cr_assert(isnan(psnr[i]) && isnan(se[i]), "PSNR %d: %g +- %g dB from NaN images", i,
                  psnr[i], se[i]);
    gw_dataset_free(&d);
    gw_model_free(m);
}

/* eval's mean of a model's terms over batches: the mean of the per-batch values */
Test(eval, losses_are_the_image_weighted_mean_of_the_batches) {
    struct gw_model *m = tiny_model(23);
    struct gw_dataset d = scenes(20, 24, 32); /* batches of 8, 8 and 4 images */
    struct tn_rng rng = tn_rng_new(25), again = tn_rng_new(25);
    struct gw_terms mean, one;
    gw_model_terms(m, &mean);
    gw_model_terms(m, &one);
    cr_assert_eq(eval_losses(m, &d, 0, &rng, &mean), 20);
    double want = 0;
    for (int first = 0; first < 20; first += 8) {
        int k = 20 - first < 8 ? 20 - first : 8;
        gw_terms_clear(&one);
        tn_scope_begin();
        gw_model_eval_step(m, eval_batch_at(m, &d, first, k), &again, &one);
        tn_scope_end();
        gw_terms_read(&one);
        want += k * gw_terms_get(&one, "loss_w") / 20.0;
    }
    double got = gw_terms_get(&mean, "loss_w");
    cr_assert_float_eq(got, want, 1e-5 * fabs(want), "loss_w %g, the batches' mean %g", got, want);
    cr_assert(isnan(gw_terms_get(&mean, "loss_disc")), "a critic term in an eval step's mean");
    gw_terms_free(&mean);
    gw_terms_free(&one);
    gw_dataset_free(&d);
    gw_model_free(m);
}
