/* test_swae.c - the Symmetric WAE (gwae/models/swae.c) and its headline measurement: the
 * nearest pseudo-input agrees with brute force; only the selected pseudo-inputs receive
 * gradient; the objectives against a double-precision reference, and the model's loss terms
 * combine as its objective says with the reconstruction recomputed in double; the pseudo-inputs
 * start as training images plus noise, K is capped at the training images, and everything is
 * trained by AdamNormGrad (its own tests are in test_optim.c); prior draws; the k-NN accuracy
 * (gwae/eval/knn.c) on cases with known answers.
 */
#include <math.h>
#include <string.h>

#include "gwae/data/dataset.h"
#include "gwae/eval/metrics.h"
#include "gwae/models/swae.h"
#include "helpers/test_support.h"

LEAK_CHECKED_SUITE(swae);

/* a tiny swae on 32x32 images (latent 3, batch 4) whose K (4000 by default) is capped by a
 * training set of train_size images */
static struct gw_model *tiny_swae(int64_t train_size, uint64_t seed) {
    struct gw_common c = gw_common_defaults();
    snprintf(c.model, sizeof c.model, "swae");
    snprintf(c.prior, sizeof c.prior, "pseudo-inputs");
    c.image_size = 32;
    c.width = 0.0625f;
    c.latent = 3;
    c.batch = 4;
    c.train_size = train_size;
    struct tn_rng rng = tn_rng_new(seed);
    struct gw_model *m;
    cr_assert_eq(gw_model_new(&c, NULL, NULL, &rng, &m), TN_OK, "%s", tn_last_error());
    return m;
}

Test(swae, nearest_pseudo_input_agrees_with_brute_force) {
    struct tn_rng rng = tn_rng_new(1);
    int b = 9, k = 23, d = 2 * 5 * 5;
    struct tn_tensor *x = make_random(&rng, 4, (int64_t[]){b, 2, 5, 5}, 0.0f, 1.0f);
    struct tn_tensor *u = make_random(&rng, 4, (int64_t[]){k, 2, 5, 5}, 0.0f, 1.0f);
    float xs[9 * 50], us[23 * 50], got[9];
    tn_to_host(x, xs);
    tn_to_host(u, us);
    tn_to_host(gw_swae_nearest(x, u), got);
    for (int i = 0; i < b; i++) {
        int best = 0;
        double best_d = INFINITY;
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (int e = 0; e < d; e++) s += pow((double)xs[i * d + e] - us[j * d + e], 2);
            if (s < best_d) {
                best_d = s;
                best = j;
            }
        }
        cr_assert_eq((int)got[i], best, "image %d: row %d, brute force %d", i, (int)got[i], best);
    }
}

/* double-precision sums of squares over the batch, per image averaged */
static double ref_sq(const float *a, const float *b, int n, int per) {
    double s = 0;
    for (int i = 0; i < n * per; i++) s += pow((double)a[i] - b[i], 2);
    return s / n;
}

Test(swae, objectives_match_a_double_reference) {
    struct tn_rng rng = tn_rng_new(2);
    int b = 3, v = 12, l = 4;
    float x[36], xr[36], xd[36], ze[12], zd[12];
    struct tn_tensor *t[5];
    for (int i = 0; i < 5; i++) /* x, x_rec, x_d in [0, 1), z_e, z_d in [-2, 2) */
        t[i] = i < 3 ? make_random(&rng, 2, (int64_t[]){b, v}, 0, 1)
                     : make_random(&rng, 2, (int64_t[]){b, l}, -2, 2);
    tn_to_host(t[0], x);
    tn_to_host(t[1], xr);
    tn_to_host(t[2], xd);
    tn_to_host(t[3], ze);
    tn_to_host(t[4], zd);
    double rec = ref_sq(xr, x, b, v), xl = ref_sq(xd, x, b, v), zl = ref_sq(ze, zd, b, l);
    const float beta = 0.3f, lambda = 2.5f;
    const double want[3] = {beta * xl + (1 - beta) * rec + lambda * zl, beta * xl + lambda * zl,
                            beta * rec + lambda * zl};
    const enum gw_swae_objective objs[3] = {GW_SWAE_XZREC, GW_SWAE_XZ, GW_SWAE_ZREC};
    for (int o = 0; o < 3; o++) {
        struct tn_tensor *r, *xp, *zp;
        double got = tn_item(gw_swae_objective(objs[o], beta, lambda, t[0], t[1], t[2], t[3], t[4],
                                               &r, &xp, &zp));
        cr_assert(fabs(got - want[o]) <= 1e-5 * want[o], "objective %d: %g, reference %g", o, got,
                  want[o]);
        cr_assert(fabs(tn_item(r) - rec) <= 1e-5 * rec && fabs(tn_item(xp) - xl) <= 1e-5 * xl &&
                  fabs(tn_item(zp) - zl) <= 1e-5 * zl);
    }
}

Test(swae, pseudo_inputs_start_as_training_images_and_k_is_capped) {
    struct gw_dataset d;
    cr_assert_eq(gw_shapes_generate(10, 32, 3, &d), TN_OK);
    struct gw_model *m = tiny_swae(d.count, 4);
    struct tn_tensor *u = gw_swae_pseudo_inputs(m);
    cr_assert_eq(u->shape[0], 10, "K %lld, capped at 10 images", (long long)u->shape[0]);
    cr_assert_eq(*(int *)m->options, 10, "the resolved K is in the model's options");
    cr_assert_eq(m->groups[0].optim->opts.kind, NN_OPTIM_ADAM_NORMGRAD);
    struct tn_rng rng = tn_rng_new(5);
    gw_model_init_from_data(m, &d, &rng);
    int64_t idx[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    struct tn_tensor *images = gw_dataset_batch(&d, idx, 10);
    /* the noise is N(0, 0.01^2): mean |u - x| = 0.01 sqrt(2 / pi) */
    double diff = tn_item(ag_mean_all(ag_abs(ag_sub(u, images))));
    cr_assert(fabs(diff - 0.01 * sqrt(2 / 3.141592653589793)) < 5e-4, "mean |u - x| = %g", diff);
    gw_dataset_free(&d);
    gw_model_free(m);
}

Test(swae, only_the_selected_pseudo_inputs_receive_gradient) {
    struct gw_dataset d, batch;
    cr_assert_eq(gw_shapes_generate(12, 32, 6, &d), TN_OK);
    cr_assert_eq(gw_shapes_generate(4, 32, 7, &batch), TN_OK);
    struct gw_model *m = tiny_swae(d.count, 8);
    struct tn_rng rng = tn_rng_new(9);
    gw_model_init_from_data(m, &d, &rng);
    struct tn_tensor *x = gw_dataset_batch(&batch, (int64_t[]){0, 1, 2, 3}, 4);
    struct tn_tensor *u = gw_swae_pseudo_inputs(m);
    float picked[4];
    tn_to_host(gw_swae_nearest(x, ag_clamp(u, 0.0f, 1.0f)), picked);
    struct gw_terms t;
    gw_model_terms(m, &t);
    nn_module_zero_grad(&m->base);
    ag_backward(m->ops->loss(m, x, &rng, &t), 0);
    cr_assert_not_null(u->grad);
    int64_t per = u->numel / u->shape[0];
    float *g = malloc((size_t)u->numel * sizeof *g);
    tn_to_host(u->grad, g);
    for (int64_t k = 0; k < u->shape[0]; k++) {
        bool selected = false;
        for (int i = 0; i < 4; i++) selected = selected || (int64_t)picked[i] == k;
        double norm = 0;
        for (int64_t e = 0; e < per; e++) norm += fabs(g[k * per + e]);
        if (selected)
            cr_assert_gt(norm, 0.0, "selected pseudo-input %lld has no gradient", (long long)k);
        else
            cr_assert_eq(norm, 0.0, "pseudo-input %lld was not selected: gradient %g",
                         (long long)k, norm);
    }
    free(g);
    gw_terms_free(&t);
    gw_dataset_free(&d);
    gw_dataset_free(&batch);
    gw_model_free(m);
}

Test(swae, loss_terms_combine_as_the_objective_with_a_double_reconstruction) {
    struct gw_dataset d;
    cr_assert_eq(gw_shapes_generate(8, 32, 10, &d), TN_OK);
    struct gw_model *m = tiny_swae(d.count, 11);
    struct tn_rng rng = tn_rng_new(12);
    gw_model_init_from_data(m, &d, &rng);
    struct tn_tensor *x = gw_dataset_batch(&d, (int64_t[]){4, 5, 6, 7}, 4);
    struct gw_terms t;
    gw_model_terms(m, &t);
    gw_model_eval_step(m, x, &rng, &t);
    gw_terms_read(&t);
    double loss = gw_terms_get(&t, "loss"), rec = gw_terms_get(&t, "loss_rec");
    double xl = gw_terms_get(&t, "loss_x"), zl = gw_terms_get(&t, "loss_z");
    double want = 0.5 * xl + 0.5 * rec + 1.0 * zl; /* xzrec, beta 0.5, lambda 1 */
    cr_assert(fabs(loss - want) <= 1e-5 * want, "loss %g, terms give %g", loss, want);
    /* rec = sum (Dec(E(x)) - x)^2 / B, the decoding clamped to [1/512, 1 - 1/512] */
    bool grad = ag_set_grad_enabled(false);
    struct tn_tensor *mu, *logvar;
    gw_model_encode(m, x, &mu, &logvar);
    cr_assert_null(logvar, "the encoder is deterministic");
    static float xs[4 * 3 * 32 * 32], ys[4 * 3 * 32 * 32];
    tn_to_host(x, xs);
    tn_to_host(gw_model_decode(m, mu), ys);
    ag_set_grad_enabled(grad);
    for (int i = 0; i < 4 * 3 * 32 * 32; i++)
        cr_assert(ys[i] >= 1.0f / 512 && ys[i] <= 1.0f - 1.0f / 512);
    double ref = ref_sq(ys, xs, 4, 3 * 32 * 32);
    cr_assert(fabs(rec - ref) <= 1e-5 * ref, "rec %g, double %g", rec, ref);
    struct tn_tensor *z = gw_model_sample(m, 6, &rng);
    int64_t shape[2] = {6, 3};
    assert_shape(z, 2, shape);
    gw_terms_free(&t);
    gw_dataset_free(&d);
    gw_model_free(m);
}

/* ---- k-NN accuracy ---- */

Test(swae, knn_accuracy_on_cases_with_known_answers) {
    /* memory: class 0 around 0, class 1 around 10 (1-D); queries near each, one mislabelled */
    float train[6] = {0, 1, 2, 10, 11, 12}, train_labels[6] = {0, 0, 0, 1, 1, 1};
    float test[4] = {0.5f, 11.5f, 1.6f, 9}, test_labels[4] = {0, 1, 1, 1};
    const int ks[3] = {1, 3, 10};
    double acc[3];
    gw_knn_accuracy(train, train_labels, 6, test, test_labels, 4, 1, ks, 3, acc);
    cr_assert_float_eq(acc[0], 0.75, 1e-12); /* the query at 1.6 is nearest to class 0 */
    cr_assert_float_eq(acc[1], 0.75, 1e-12);
    /* k = 10 > 6 votes over all six: a 3-3 tie goes to the smaller label, 0 */
    cr_assert_float_eq(acc[2], 0.25, 1e-12);
    /* 2-D, k = 3 with a 2-1 vote: the two nearer points of label 2 outvote label 1 */
    float tr2[8] = {0, 0, 0, 1, 5, 5, 1, 0}, lab2[4] = {2, 1, 7, 2};
    float q[2] = {0.4f, 0.1f}, ql[1] = {2};
    gw_knn_accuracy(tr2, lab2, 4, q, ql, 1, 2, (int[]){3}, 1, acc);
    cr_assert_float_eq(acc[0], 1.0, 1e-12);
    /* equal distances: the earlier training code comes first (k = 1) */
    float tr3[2] = {-1, 1}, lab3[2] = {4, 3}, q3[1] = {0}, ql3[1] = {4};
    gw_knn_accuracy(tr3, lab3, 2, q3, ql3, 1, 1, (int[]){1}, 1, acc);
    cr_assert_float_eq(acc[0], 1.0, 1e-12);
}
