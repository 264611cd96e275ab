/* eval_fid.c - the run's feature classifier and the Frechet distances of eval_fid.h.
 *
 * The classifier's identity (what a cached file must match) is the run's data settings, so
 * a file copied from another run is not used; how it was trained (gwae classifier's options)
 * is the user's choice and is not checked. Features are gathered one batch at a time into host arrays [n, 128].
 */
#include "eval_fid.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "evaluate.h"
#include "gwae/eval/metrics.h"
#include "run_dir.h"
#include "tool.h"

/* what a cached classifier must have been trained on: the run's data settings */
static void identity_of(const struct session *ses, char *out, size_t size) {
    snprintf(out, size, "dataset=%s size=%d limit=%lld shapes_count=%lld holdout=%s seed=%llu "
             "valid=%g test=%g", ses->s.dataset, ses->s.model.image_size, (long long)ses->s.limit,
             (long long)ses->s.shapes_count, ses->s.holdout, (unsigned long long)ses->s.seed,
             ses->s.valid_fraction, ses->s.test_fraction);
}

/* classes in column of d: the largest value + 1 */
static int class_count(const struct gw_dataset *d, int column) {
    int k = 1;
    for (int64_t i = 0; i < d->count; i++) {
        int c = (int)(d->factors[i * d->n_factors + column] + 0.5f);
        if (c + 1 > k) k = c + 1;
    }
    return k < 2 ? 2 : k;
}

/* moves the classifier to the run's model's device (the --device of the command) */
static int place(const char *cmd, struct session *ses, struct gw_classifier **c) {
    if (gw_classifier_to_device(*c, ses->model->device) == TN_OK) return 0;
    int rc = tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
    gw_classifier_free(*c);
    *c = NULL;
    return rc;
}

int eval_classifier_obtain(const char *cmd, struct session *ses,
                           const struct gw_classifier_options *o, bool retrain,
                           struct gw_classifier **out, bool *trained) {
    *out = NULL;
    const struct gw_dataset *train = &ses->data.train;
    int column = gw_classifier_column(train);
    if (column < 0)
        return tool_fail(cmd, TOOL_EXIT_FAIL, "dataset %s has no class labels to train the "
                         "feature classifier on (use --skip-fid)", ses->s.dataset);
    char identity[1024], path[TOOL_PATH_MAX + 64];
    identity_of(ses, identity, sizeof identity);
    settings_join(path, sizeof path, ses->dir, EVAL_CLASSIFIER_FILE);
    int classes = class_count(train, column);
    struct tn_rng rng = tn_rng_new(o->seed);
    if (gw_classifier_new(ses->s.model.image_size, classes, &rng, out) != TN_OK)
        return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
    *trained = retrain || !run_dir_has(ses->dir, EVAL_CLASSIFIER_FILE) ||
               gw_classifier_load(*out, identity, path) != TN_OK;
    if (!*trained) return place(cmd, ses, out);
    if (!retrain && run_dir_has(ses->dir, EVAL_CLASSIFIER_FILE))
        fprintf(stderr, "gwae %s: %s does not fit this run (%s); training a new one\n", cmd, path,
                tn_last_error());
    gw_classifier_free(*out);
    rng = tn_rng_new(o->seed);
    gw_classifier_new(ses->s.model.image_size, classes, &rng, out);
    int rc = place(cmd, ses, out);
    if (rc) return rc;
    fprintf(stderr, "gwae %s: training the feature classifier on %lld images (%d epochs)\n", cmd,
            (long long)(o->limit > 0 && o->limit < train->count ? o->limit : train->count),
            o->epochs);
    gw_classifier_train(*out, train, column, o);
    if (gw_classifier_save(*out, identity, path) != TN_OK) {
        gw_classifier_free(*out);
        *out = NULL;
        return tool_fail(cmd, TOOL_EXIT_FAIL, "%s", tn_last_error());
    }
    return 0;
}

/* what a batch of images is turned into before its features are taken */
enum source { DATA, PRIOR, RECONSTRUCTION };

/* features [n, F] of the first n images of d (or of prior samples / reconstructions) */
static float *features(struct gw_model *m, struct gw_classifier *c, const struct gw_dataset *d,
                       int64_t n, enum source what, struct tn_rng *rng) {
    int64_t b = m->common.batch;
    float *f = malloc((size_t)(n * GW_CLASSIFIER_FEATURES) * sizeof *f);
    TN_CHECK(f, "eval_fid", "out of host memory");
    bool grad = eval_begin(m);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        tn_scope_begin();
        struct tn_tensor *x;
        if (what == PRIOR) {
            x = gw_model_decode(m, gw_model_sample(m, k, rng));
        } else {
            x = eval_batch_at(what == RECONSTRUCTION ? m : NULL, d, first, k);
            if (what == RECONSTRUCTION) x = gw_model_decode(m, gw_model_code(m, x, rng));
        }
        gw_classifier_features(c, x, f + first * GW_CLASSIFIER_FEATURES);
        tn_scope_end();
    }
    eval_end(m, grad);
    return f;
}

/* Frechet distance between feature sets a and b of n rows */
static double distance(const float *a, const float *b, int64_t n) {
    enum { F = GW_CLASSIFIER_FEATURES };
    double *m = malloc((size_t)(2 * F + 2 * F * F) * sizeof *m);
    TN_CHECK(m, "eval_fid", "out of host memory");
    double *m2 = m + F, *c1 = m2 + F, *c2 = c1 + F * F;
    gw_mean_cov(a, n, F, m, c1);
    gw_mean_cov(b, n, F, m2, c2);
    double d = gw_frechet(m, c1, m2, c2, F);
    free(m);
    return d;
}

void eval_fid_compute(struct session *ses, struct gw_classifier *c, int64_t n, struct tn_rng *rng,
                      struct eval_fid *out) {
    const struct gw_dataset *test = &ses->data.test, *train = &ses->data.train;
    n = n <= 0 || n > test->count ? test->count : n;
    int64_t n_train = n < train->count ? n : train->count;
    out->images = n;
    out->accuracy = gw_classifier_accuracy(c, test, gw_classifier_column(test), n);
    float *ft = features(ses->model, c, test, n, DATA, rng);
    float *fp = features(ses->model, c, NULL, n, PRIOR, rng);
    out->prior = distance(ft, fp, n);
    free(fp);
    float *fr = features(ses->model, c, test, n, RECONSTRUCTION, rng);
    out->reconstruction = distance(ft, fr, n);
    free(fr);
    float *ftr = features(ses->model, c, train, n_train, DATA, rng);
    out->train_test = n_train >= 2 ? distance(ft, ftr, n_train) : NAN;
    free(ftr);
    free(ft);
}
