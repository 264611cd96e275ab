/* classifier.c - the feature CNN of eval/classifier.h: construction, training with Adam on
 * softmax cross-entropy, accuracy, features and its safetensors checkpoint.
 *
 * One batch per tensor scope; the shuffled order of each epoch comes from the seed and the
 * epoch, so a classifier is reproducible from its options.
 */
#include "classifier.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_checkpoint.h"
#include "nn/nn_optim.h"

#define HIDDEN GW_CLASSIFIER_FEATURES

struct gw_classifier_options gw_classifier_defaults(void) {
    return (struct gw_classifier_options){.epochs = 2, .batch = 64, .lr = 1e-3, .limit = 0,
                                          .seed = 1};
}

int gw_classifier_column(const struct gw_dataset *d) {
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < d->n_factors; k++)
            if (strcmp(d->factor_names[k], pass == 0 ? "label" : "shape") == 0) return k;
    return -1;
}

enum tn_status gw_classifier_new(int image_size, int classes, struct tn_rng *rng,
                                 struct gw_classifier **out) {
    *out = NULL;
    if (image_size < 8 || image_size > 512 || image_size % 8)
        return tn_error(TN_ERR_INVALID, "classifier: image size %d is not a multiple of 8 in "
                        "8..512", image_size);
    if (classes < 2 || classes > 1024)
        return tn_error(TN_ERR_INVALID, "classifier: %d classes (2..1024 needed)", classes);
    struct gw_classifier *c = calloc(1, sizeof *c);
    if (!c) return tn_error(TN_ERR_OOM, "classifier: out of host memory");
    int64_t side = image_size / 8;
    tn_scope_begin(); /* the layers keep their own references to the weights */
    c->features = &nn_sequential_of(
        "features", &nn_conv2d_new("", 3, 16, 3, 2, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base,
        &nn_relu_new("")->base,
        &nn_conv2d_new("", 16, 32, 3, 2, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base,
        &nn_relu_new("")->base,
        &nn_conv2d_new("", 32, 64, 3, 2, 1, 1, 1, true, TN_PAD_ZEROS, rng)->base,
        &nn_relu_new("")->base, &nn_flatten_new("", 1)->base,
        &nn_linear_new("", 64 * side * side, HIDDEN, true, rng)->base, &nn_relu_new("")->base,
        NULL)->base;
    c->head = nn_linear_new("head", HIDDEN, classes, true, rng);
    tn_scope_end();
    c->image_size = image_size;
    c->classes = classes;
    c->device = TN_CPU;
    *out = c;
    return TN_OK;
}

enum tn_status gw_classifier_to_device(struct gw_classifier *c, struct tn_device device) {
    enum tn_status st = nn_module_to_device(c->features, device);
    if (st == TN_OK) st = nn_module_to_device(&c->head->base, device);
    if (st == TN_OK) c->device = device;
    return st;
}

void gw_classifier_free(struct gw_classifier *c) {
    if (!c) return;
    nn_module_free(c->features);
    nn_module_free(&c->head->base);
    free(c);
}

/* the features of images x [N, 3, S, S] in [0, 1] (any device: copied to the classifier's) */
static struct tn_tensor *features_of(struct gw_classifier *c, struct tn_tensor *x) {
    x = tn_to_device(x, c->device);
    return nn_forward(c->features, ag_sub_scalar(ag_mul_scalar(x, 2.0f), 1.0f));
}

/* class of image i of d in column */
static int class_of(const struct gw_dataset *d, int column, int64_t i) {
    return (int)(d->factors[i * d->n_factors + column] + 0.5f);
}

/* -mean_i log softmax(logits)_i[class_i] over the images idx[0..n) of d */
static struct tn_tensor *cross_entropy(struct gw_classifier *c, const struct gw_dataset *d,
                                       int column, const int64_t *idx, int64_t n, float *onehot) {
    memset(onehot, 0, (size_t)(n * c->classes) * sizeof *onehot);
    for (int64_t i = 0; i < n; i++) {
        int k = class_of(d, column, idx[i]);
        TN_CHECK(k >= 0 && k < c->classes, "gw_classifier_train", "class %d of image %lld "
                 "outside 0..%d", k, (long long)idx[i], c->classes - 1);
        onehot[i * c->classes + k] = 1.0f;
    }
    struct tn_tensor *t = tn_from_host(c->device, 2, (int64_t[]){n, c->classes}, onehot);
    struct tn_tensor *logits = nn_linear_forward(c->head, features_of(c, gw_dataset_batch(d, idx, n)));
    struct tn_tensor *logp = ag_sub(logits, ag_logsumexp(logits, AG_AXIS(1), true));
    return ag_neg(ag_mean_all(ag_sum(ag_mul(t, logp), AG_AXIS(1), false)));
}

double gw_classifier_train(struct gw_classifier *c, const struct gw_dataset *d, int column,
                           const struct gw_classifier_options *o) {
    TN_CHECK(column >= 0 && column < d->n_factors, "gw_classifier_train", "no class column %d",
             column);
    int64_t n = o->limit > 0 && o->limit < d->count ? o->limit : d->count;
    struct nn_entry_list params = {0};
    nn_module_collect(c->features, "features", false, &params);
    nn_module_collect(&c->head->base, "head", false, &params);
    struct nn_optim_opts adam = nn_optim_defaults(NN_OPTIM_ADAM, o->lr);
    struct nn_optim *opt = nn_optim_new(&adam, params.n, params.items);
    nn_entry_list_free(&params);
    int64_t *perm = malloc((size_t)(n ? n : 1) * sizeof *perm);
    float *onehot = malloc((size_t)o->batch * (size_t)c->classes * sizeof *onehot);
    TN_CHECK(perm && onehot, "gw_classifier_train", "out of host memory");
    double mean = 0;
    for (int e = 0; e < o->epochs; e++) {
        struct tn_rng rng = tn_rng_new(o->seed * 0x9e3779b97f4a7c15ull + (uint64_t)e);
        gw_permutation(&rng, n, perm);
        double total = 0;
        for (int64_t first = 0; first < n; first += o->batch) {
            int64_t k = n - first < o->batch ? n - first : o->batch;
            tn_scope_begin();
            struct tn_tensor *loss = cross_entropy(c, d, column, perm + first, k, onehot);
            nn_optim_zero_grad(opt);
            ag_backward(loss, 0);
            nn_optim_step(opt);
            total += (double)tn_item(loss) * (double)k;
            tn_scope_end();
        }
        mean = n > 0 ? total / (double)n : 0;
    }
    nn_optim_free(opt);
    free(perm);
    free(onehot);
    return mean;
}

/* runs f on the batches [first, first + k) of the first n images of d in evaluation mode */
static void for_batches(struct gw_classifier *c, const struct gw_dataset *d, int64_t n,
                        void (*f)(struct gw_classifier *c, struct tn_tensor *x, int64_t first,
                                  int64_t k, void *ctx),
                        void *ctx) {
    enum { BATCH = 256 };
    int64_t idx[BATCH];
    nn_module_train(c->features, false);
    bool grad = ag_set_grad_enabled(false);
    for (int64_t first = 0; first < n; first += BATCH) {
        int64_t k = n - first < BATCH ? n - first : BATCH;
        for (int64_t i = 0; i < k; i++) idx[i] = first + i;
        tn_scope_begin();
        f(c, gw_dataset_batch(d, idx, k), first, k, ctx);
        tn_scope_end();
    }
    ag_set_grad_enabled(grad);
    nn_module_train(c->features, true);
}

struct accuracy_ctx {
    const struct gw_dataset *d;
    int column;
    int64_t correct;
    float *logits;
};

static void count_correct(struct gw_classifier *c, struct tn_tensor *x, int64_t first, int64_t k,
                          void *ctx) {
    struct accuracy_ctx *a = ctx;
    tn_to_host(nn_linear_forward(c->head, features_of(c, x)), a->logits);
    for (int64_t i = 0; i < k; i++) {
        const float *row = a->logits + i * c->classes;
        int best = 0;
        for (int j = 1; j < c->classes; j++)
            if (row[j] > row[best]) best = j;
        a->correct += best == class_of(a->d, a->column, first + i);
    }
}

double gw_classifier_accuracy(struct gw_classifier *c, const struct gw_dataset *d, int column,
                              int64_t n) {
    n = n > 0 && n < d->count ? n : d->count;
    struct accuracy_ctx a = {d, column, 0, malloc(256 * (size_t)c->classes * sizeof(float))};
    TN_CHECK(a.logits, "gw_classifier_accuracy", "out of host memory");
    for_batches(c, d, n, count_correct, &a);
    free(a.logits);
    return n > 0 ? (double)a.correct / (double)n : 0;
}

void gw_classifier_features(struct gw_classifier *c, struct tn_tensor *x, float *out) {
    nn_module_train(c->features, false);
    bool grad = ag_set_grad_enabled(false);
    tn_scope_begin();
    tn_to_host(features_of(c, x), out);
    tn_scope_end();
    ag_set_grad_enabled(grad);
    nn_module_train(c->features, true);
}

/* the checkpoint list: the weights, the shape of the network and the identity */
static struct nn_ckpt *list_of(struct gw_classifier *c, const char *identity) {
    struct nn_ckpt *k = nn_ckpt_new();
    nn_ckpt_add_module(k, "features", c->features);
    nn_ckpt_add_module(k, "head", &c->head->base);
    char shape[64];
    snprintf(shape, sizeof shape, "size=%d classes=%d features=%d", c->image_size, c->classes,
             HIDDEN);
    nn_ckpt_add_check(k, "classifier", shape);
    nn_ckpt_add_check(k, "identity", identity);
    return k;
}

enum tn_status gw_classifier_save(struct gw_classifier *c, const char *identity, const char *path) {
    struct nn_ckpt *k = list_of(c, identity);
    enum tn_status st = nn_ckpt_save(k, path);
    nn_ckpt_free(k);
    return st;
}

enum tn_status gw_classifier_load(struct gw_classifier *c, const char *identity, const char *path) {
    struct nn_ckpt *k = list_of(c, identity);
    enum tn_status st = nn_ckpt_load(k, path);
    nn_ckpt_free(k);
    return st;
}
