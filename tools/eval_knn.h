/* eval_knn.h - k-nearest-neighbour classification of a run's latent codes, the Symmetric WAE
 * paper's headline measurement, for any model whose dataset has class labels: the training
 * split's codes are the memory and the test split's the queries, k = 1, 3, 5 and 10.
 *
 * Codes are the means of q(z|x) (the code itself for a deterministic encoder) in evaluation
 * mode, as the SWAE authors' E(x). Not here: the classifier (eval/metrics.h, gw_knn_accuracy).
 */
#ifndef TOOL_EVAL_KNN_H
#define TOOL_EVAL_KNN_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"
#include "nn/nn_json.h"

#define EVAL_KNN_N 4

extern const int eval_knn_ks[EVAL_KNN_N]; /* 1, 3, 5, 10 */

struct eval_knn {
    int64_t n_train, n_test; /* codes in the memory and queries */
    double acc[EVAL_KNN_N];  /* accuracy for each k of eval_knn_ks */
};

/* k-NN accuracy with the first limit training and test images as memory and queries (limit <=
 * 0: all); false with the reason in why (the dataset has no class labels) and nothing done. */
bool eval_knn_compute(struct gw_model *m, const struct gw_splits *data, int64_t limit,
                      struct eval_knn *out, char *why, size_t size);

/* Appends knn_train_images, knn_test_images and knn_acc_<k> for each k. */
void eval_knn_json(struct nn_json_writer *w, const struct eval_knn *k);

#endif
