/* classifier.h - the feature network of the project's Frechet distance: a small CNN that
 * the engine trains on a dataset's class column (Fashion-MNIST's label, the shape factor of
 * the generated scenes), whose penultimate layer gives the features.
 *
 * Network, for images [N, 3, S, S] in [0, 1] (S divisible by 8):
 *   2x - 1, conv 3->16, 16->32, 32->64 (k3 s2 p1, each + ReLU), flatten,
 *   Linear 64 (S/8)^2 -> 128 + ReLU  = the features [N, 128],
 *   Linear 128 -> classes            = the logits.
 * Softmax cross-entropy, Adam (lr 1e-3), shuffled batches. This is not Inception-v3: a
 * distance in these features is comparable only between runs that share the classifier.
 * Not here: files other than its checkpoint, and the distance itself (eval/metrics.h).
 */
#ifndef GW_CLASSIFIER_H
#define GW_CLASSIFIER_H

#include "gwae/data/dataset.h"
#include "nn/nn_layers.h"

#define GW_CLASSIFIER_FEATURES 128

struct gw_classifier {
    struct nn_module *features; /* [N, 3, S, S] -> [N, GW_CLASSIFIER_FEATURES] */
    struct nn_linear *head;     /* -> [N, classes] */
    int image_size, classes;
    struct tn_device device;    /* where it lives and computes (the CPU until moved) */
};

struct gw_classifier_options {
    int epochs;       /* passes over the training images (2) */
    int batch;        /* 64 */
    double lr;        /* Adam's learning rate (1e-3) */
    int64_t limit;    /* train on the first limit images only (0: all) */
    uint64_t seed;    /* initial weights and shuffling */
};

/* The defaults in the comments of gw_classifier_options. */
struct gw_classifier_options gw_classifier_defaults(void);

/* The column of d's factors that holds its classes: "label", else "shape"; -1 when none. */
int gw_classifier_column(const struct gw_dataset *d);

/* A new network for images of size S (a multiple of 8, 8..512) and the given number of
 * classes (2..1024), weights drawn from rng; TN_ERR_INVALID with the reason. */
enum tn_status gw_classifier_new(int image_size, int classes, struct tn_rng *rng,
                                 struct gw_classifier **out);

/* Frees the network. NULL is fine. */
void gw_classifier_free(struct gw_classifier *c);

/* Moves the classifier's weights to device; later batches are copied there. TN_ERR_OOM when
 * the device has no room. */
enum tn_status gw_classifier_to_device(struct gw_classifier *c, struct tn_device device);

/* Trains on the class column `column` of d (values 0..classes-1); returns the mean loss of
 * the last epoch. */
double gw_classifier_train(struct gw_classifier *c, const struct gw_dataset *d, int column,
                           const struct gw_classifier_options *o);

/* Fraction of the first n images of d (n <= 0: all) whose largest logit is their class. */
double gw_classifier_accuracy(struct gw_classifier *c, const struct gw_dataset *d, int column,
                              int64_t n);

/* Features of the images x [N, 3, S, S] (evaluation mode) into out[N, FEATURES]. */
void gw_classifier_features(struct gw_classifier *c, struct tn_tensor *x, float *out);

/* Saves the weights with identity (free text a load must match) to path atomically. */
enum tn_status gw_classifier_save(struct gw_classifier *c, const char *identity, const char *path);

/* Loads path into c; TN_ERR_INVALID when it is another network or identity, TN_ERR_IO when
 * it cannot be read. */
enum tn_status gw_classifier_load(struct gw_classifier *c, const char *identity, const char *path);

#endif
