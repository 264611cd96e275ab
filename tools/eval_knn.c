/* eval_knn.c - codes of the training and test splits and their k-NN accuracy (eval_knn.h). */
#include "eval_knn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "gwae/eval/metrics.h"

const int eval_knn_ks[EVAL_KNN_N] = {1, 3, 5, 10};

/* a dataset with one label per image, as the labelled loaders make */
static bool labelled(const struct gw_dataset *d) {
    return d->n_factors == 1 && d->factors && strcmp(d->factor_names[0], "label") == 0;
}

bool eval_knn_compute(struct gw_model *m, const struct gw_splits *data, int64_t limit,
                      struct eval_knn *out, char *why, size_t size) {
    memset(out, 0, sizeof *out);
    if (!labelled(&data->train) || !labelled(&data->test)) {
        snprintf(why, size, "the dataset has no class labels");
        return false;
    }
    float *train, *test;
    out->n_train = eval_encode(m, &data->train, limit, NULL, &train);
    out->n_test = eval_encode(m, &data->test, limit, NULL, &test);
    gw_knn_accuracy(train, data->train.factors, out->n_train, test, data->test.factors,
                    out->n_test, m->common.latent, eval_knn_ks, EVAL_KNN_N, out->acc);
    free(train);
    free(test);
    return true;
}

void eval_knn_json(struct nn_json_writer *w, const struct eval_knn *k) {
    nn_json_put_int(w, "knn_train_images", k->n_train);
    nn_json_put_int(w, "knn_test_images", k->n_test);
    for (int i = 0; i < EVAL_KNN_N; i++) {
        char key[32];
        snprintf(key, sizeof key, "knn_acc_%d", eval_knn_ks[i]);
        nn_json_put_number(w, key, k->acc[i]);
    }
}
