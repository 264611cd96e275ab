/* eval_fid.h - the run's feature classifier (trained once with the engine and cached in the
 * run directory as classifier.safetensors) and Frechet distances in its feature space.
 *
 * The distances, between the Gaussians fitted to the classifier's 128 features of two image
 * sets (gw_frechet): test images against as many decoded prior samples (generation), against
 * their reconstructions Dec(z), z ~ q(z|x) (reconstruction), and the first of them against as
 * many training images (the estimator's floor at this sample size; fewer when the training
 * split is smaller). Not the Inception FID: the numbers are
 * comparable only between runs evaluated with the same classifier settings and data.
 */
#ifndef TOOL_EVAL_FID_H
#define TOOL_EVAL_FID_H

#include "gwae/eval/classifier.h"
#include "session.h"

#define EVAL_CLASSIFIER_FILE "classifier.safetensors"

/* Frechet distances of a run (see the top of this file) and the classifier's test accuracy. */
struct eval_fid {
    int64_t images;
    double prior, reconstruction, train_test;
    double accuracy;
};

/* The run's classifier: loaded from RUN_DIR/classifier.safetensors when one was trained on
 * this run's data and retrain is false, else trained with o on the training split and saved
 * there (atomically). *trained says which. Returns 0 or the exit code (after the command's
 * one error line). */
int eval_classifier_obtain(const char *cmd, struct session *ses,
                           const struct gw_classifier_options *o, bool retrain,
                           struct gw_classifier **out, bool *trained);

/* The distances on the first n test images (n <= 0: all), draws from rng. */
void eval_fid_compute(struct session *ses, struct gw_classifier *c, int64_t n, struct tn_rng *rng,
                      struct eval_fid *out);

#endif
