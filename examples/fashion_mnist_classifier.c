/* fashion_mnist_classifier.c - an MLP that classifies Fashion-MNIST.
 *
 * The model: 784 -> 256 (ReLU) -> 10, on images scaled to [0, 1] and standardised with the
 * training set's mean and std. The loss is softmax cross-entropy written with the engine's
 * ops: log_softmax(z) = z - logsumexp(z) (ag_logsumexp), loss = -mean_i <onehot_i,
 * log_softmax(z_i)>. Adam (PyTorch defaults, lr 1e-3), mini-batches of BATCH shuffled
 * images, one tensor scope per step. After each epoch it prints the mean training loss; at
 * the end the accuracy on the 10,000 test images.
 *
 *   fashion_mnist_classifier [--epochs N] [--limit N] [--seed S] [--data DIR]
 *
 * --limit N trains on the first N training images only (the tests use it); --data names the
 * directory holding {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (default
 * /usr/share/datasets/fashion-mnist). A missing directory or file is a one-line error and
 * exit status 1. docs/nn.md ("Examples") lists measured accuracy and time.
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gwae/data/idx.h"
#include "nn/nn_layers.h"
#include "nn/nn_optim.h"

#define M(layer) (&(layer)->base) /* a layer as its module */

#define IMAGE_SIDE 28
#define PIXELS (IMAGE_SIDE * IMAGE_SIDE)
#define CLASSES 10
#define HIDDEN 256
#define BATCH 64
#define EVAL_BATCH 1000
#define LEARNING_RATE 1e-3
#define DEFAULT_EPOCHS 5
#define PIXEL_MEAN 0.2860f /* of the Fashion-MNIST training images, in [0, 1] */
#define PIXEL_STD 0.3530f
#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

static const char *program = "fashion_mnist_classifier";

struct options {
    int epochs;
    long long limit; /* 0: every training image */
    uint64_t seed;
    const char *data_dir;
};

/* Images [count, 28, 28] and their labels [count]. */
struct dataset {
    struct gw_idx images, labels;
    int64_t count;
};

static bool parse_int(const char *text, long long min, long long *out) {
    char *end;
    long long v = strtoll(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < min) return false;
    *out = v;
    return true;
}

static bool parse_options(int argc, char **argv, struct options *opts) {
    *opts = (struct options){DEFAULT_EPOCHS, 0, 1, DEFAULT_DATA_DIR};
    for (int i = 1; i < argc; i++) {
        long long v;
        if (i + 1 >= argc) return false;
        if (strcmp(argv[i], "--epochs") == 0) {
            if (!parse_int(argv[++i], 1, &v) || v > 1000) return false;
            opts->epochs = (int)v;
        } else if (strcmp(argv[i], "--limit") == 0) {
            if (!parse_int(argv[++i], 1, &v)) return false;
            opts->limit = v;
        } else if (strcmp(argv[i], "--seed") == 0) {
            if (!parse_int(argv[++i], 0, &v)) return false;
            opts->seed = (uint64_t)v;
        } else if (strcmp(argv[i], "--data") == 0) {
            opts->data_dir = argv[++i];
        } else {
            return false;
        }
    }
    return true;
}

/* ---- data ---- */

static bool load_idx(const char *dir, const char *file, struct gw_idx *out) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    if (gw_idx_load(path, 0, out) != TN_OK) {
        fprintf(stderr, "%s: %s\n", program, tn_last_error());
        return false;
    }
    return true;
}

/* Loads "<prefix>-images-idx3-ubyte.gz" and "<prefix>-labels-idx1-ubyte.gz" from dir and
 * checks that they are 28x28 images with as many labels in 0..9. */
static bool load_split(const char *dir, const char *prefix, struct dataset *out) {
    char images[256], labels[256];
    snprintf(images, sizeof images, "%s-images-idx3-ubyte.gz", prefix);
    snprintf(labels, sizeof labels, "%s-labels-idx1-ubyte.gz", prefix);
    *out = (struct dataset){0};
    if (!load_idx(dir, images, &out->images)) return false;
    if (!load_idx(dir, labels, &out->labels)) {
        gw_idx_free(&out->images);
        return false;
    }
    const struct gw_idx *im = &out->images, *lb = &out->labels;
    bool ok = im->ndim == 3 && im->dims[1] == IMAGE_SIDE && im->dims[2] == IMAGE_SIDE &&
              lb->ndim == 1 && lb->dims[0] == im->dims[0];
    for (int64_t i = 0; ok && i < lb->count; i++) ok = lb->data[i] < CLASSES;
    if (!ok) {
        fprintf(stderr, "%s: %s/%s and %s do not hold 28x28 images with labels 0..9\n", program,
                dir, images, labels);
        gw_idx_free(&out->images);
        gw_idx_free(&out->labels);
        return false;
    }
    out->count = im->dims[0];
    return true;
}

static void dataset_free(struct dataset *d) {
    gw_idx_free(&d->images);
    gw_idx_free(&d->labels);
}

/* The standardised images order[0..n) as x [n, 784]; their one-hot labels as onehot
 * [n, 10] when onehot_out is not NULL. */
static struct tn_tensor *make_batch(const struct dataset *d, const int64_t *order, int64_t n,
                                    struct tn_tensor **onehot_out, float *scratch) {
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *src = d->images.data + order[i] * PIXELS;
        for (int p = 0; p < PIXELS; p++)
            scratch[i * PIXELS + p] = ((float)src[p] / 255.0f - PIXEL_MEAN) / PIXEL_STD;
    }
    struct tn_tensor *x = tn_from_host(TN_CPU, 2, (int64_t[]){n, PIXELS}, scratch);
    if (onehot_out) {
        memset(scratch, 0, sizeof(float) * (size_t)(n * CLASSES));
        for (int64_t i = 0; i < n; i++) scratch[i * CLASSES + d->labels.data[order[i]]] = 1.0f;
        *onehot_out = tn_from_host(TN_CPU, 2, (int64_t[]){n, CLASSES}, scratch);
    }
    return x;
}

/* Fisher-Yates shuffle of order[0..n) with uniform draws from rng. */
static void shuffle(int64_t *order, int64_t n, struct tn_rng *rng, float *draws) {
    tn_rng_uniform_host(rng, draws, n);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(draws[i] * (float)(i + 1));
        if (j > i) j = i;
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

/* ---- model and loss ---- */

static struct nn_module *classifier_new(struct tn_rng *rng) {
    return M(nn_sequential_of("classifier", M(nn_linear_new("", PIXELS, HIDDEN, true, rng)),
                              M(nn_relu_new("")), M(nn_linear_new("", HIDDEN, CLASSES, true, rng)),
                              NULL));
}

/* -mean_i sum_k onehot[i, k] * log_softmax(logits)[i, k] */
static struct tn_tensor *cross_entropy(struct tn_tensor *logits, struct tn_tensor *onehot) {
    struct tn_tensor *log_probs = ag_sub(logits, ag_logsumexp(logits, AG_AXIS(1), true));
    struct tn_tensor *picked = ag_sum(ag_mul(onehot, log_probs), AG_AXIS(1), false);
    return ag_neg(ag_mean_all(picked));
}

/* One pass over order[0..n) in mini-batches; returns the mean training loss. */
static double train_epoch(struct nn_module *model, struct nn_optim *opt,
                          const struct dataset *train, const int64_t *order, int64_t n,
                          float *scratch) {
    double total = 0.0;
    for (int64_t start = 0; start < n; start += BATCH) {
        int64_t size = n - start < BATCH ? n - start : BATCH;
        tn_scope_begin();
        struct tn_tensor *onehot;
        struct tn_tensor *x = make_batch(train, order + start, size, &onehot, scratch);
        struct tn_tensor *loss = cross_entropy(nn_forward(model, x), onehot);
        nn_optim_zero_grad(opt);
        ag_backward(loss, 0);
        nn_optim_step(opt);
        total += (double)tn_item(loss) * (double)size;
        tn_scope_end();
    }
    return total / (double)n;
}

/* Number of test images whose largest logit is at their label. */
static int64_t count_correct(struct nn_module *model, const struct dataset *test,
                             float *scratch) {
    int64_t *order = malloc(sizeof(int64_t) * EVAL_BATCH);
    float *logits = malloc(sizeof(float) * EVAL_BATCH * CLASSES);
    if (!order || !logits) abort();
    nn_module_train(model, false);
    bool grad_mode = ag_set_grad_enabled(false);
    int64_t correct = 0;
    for (int64_t start = 0; start < test->count; start += EVAL_BATCH) {
        int64_t size = test->count - start < EVAL_BATCH ? test->count - start : EVAL_BATCH;
        for (int64_t i = 0; i < size; i++) order[i] = start + i;
        tn_scope_begin();
        tn_to_host(nn_forward(model, make_batch(test, order, size, NULL, scratch)), logits);
        tn_scope_end();
        for (int64_t i = 0; i < size; i++) {
            int best = 0;
            for (int k = 1; k < CLASSES; k++)
                if (logits[i * CLASSES + k] > logits[i * CLASSES + best]) best = k;
            correct += best == test->labels.data[start + i];
        }
    }
    ag_set_grad_enabled(grad_mode);
    nn_module_train(model, true);
    free(order);
    free(logits);
    return correct;
}

static double seconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + 1e-9 * (double)(now.tv_nsec - start->tv_nsec);
}

int main(int argc, char **argv) {
    struct options opts;
    if (!parse_options(argc, argv, &opts)) {
        fprintf(stderr, "usage: %s [--epochs N] [--limit N] [--seed S] [--data DIR]\n", argv[0]);
        return 2;
    }
    struct stat st;
    if (stat(opts.data_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: data directory %s not found (give one with --data DIR)\n", program,
                opts.data_dir);
        return 1;
    }
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    struct dataset train, test;
    if (!load_split(opts.data_dir, "train", &train)) return 1;
    if (!load_split(opts.data_dir, "t10k", &test)) {
        dataset_free(&train);
        return 1;
    }
    int64_t n_train = opts.limit > 0 && opts.limit < train.count ? opts.limit : train.count;
    printf("Fashion-MNIST: %lld training images (of %lld), %lld test images, loaded in %.1f s\n",
           (long long)n_train, (long long)train.count, (long long)test.count,
           seconds_since(&start));

    struct tn_rng rng = tn_rng_new(opts.seed);
    struct nn_module *model = classifier_new(&rng);
    struct nn_entry_list params = {0};
    nn_module_collect(model, "", false, &params);
    struct nn_optim_opts adam = nn_optim_defaults(NN_OPTIM_ADAM, LEARNING_RATE);
    struct nn_optim *opt = nn_optim_new(&adam, params.n, params.items);
    nn_entry_list_free(&params);

    int64_t *order = malloc(sizeof(int64_t) * (size_t)n_train);
    float *draws = malloc(sizeof(float) * (size_t)n_train);
    float *scratch = malloc(sizeof(float) * EVAL_BATCH * PIXELS);
    if (!order || !draws || !scratch) abort();
    for (int64_t i = 0; i < n_train; i++) order[i] = i;

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int epoch = 1; epoch <= opts.epochs; epoch++) {
        shuffle(order, n_train, &rng, draws);
        double loss = train_epoch(model, opt, &train, order, n_train, scratch);
        printf("epoch %d/%d  train loss %.4f  (%.1f s)\n", epoch, opts.epochs, loss,
               seconds_since(&start));
    }
    double train_seconds = seconds_since(&start);
    int64_t correct = count_correct(model, &test, scratch);
    printf("training time: %.1f s\n", train_seconds);
    printf("test accuracy: %.2f%% (%lld of %lld)\n", 100.0 * (double)correct / (double)test.count,
           (long long)correct, (long long)test.count);

    free(order);
    free(draws);
    free(scratch);
    nn_optim_free(opt);
    nn_module_free(model);
    dataset_free(&train);
    dataset_free(&test);
    return 0;
}
