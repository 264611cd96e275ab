/* dataset.c - gw_data_load for the three sources, seeded splits, batches, permutations and
 * the image resize of data/dataset.h.
 *
 * Splits are planned on indices before any image is decoded or resized, so each split is
 * written once into its own buffer (no full-size copy that is then cut up): a seeded
 * permutation of [0, N) gives the validation images first, then the test images, then the
 * training images, of which at most `limit` are kept; each split is then stored in source
 * order. The split generator is keyed by the seed mixed with a constant, so that it does not
 * draw the same numbers as a model initialised from the same seed.
 * A zero in valid_fraction, test_fraction or shapes_count means the default: 0.1, 0.1 and
 * 10000; test_fraction is ignored for Fashion-MNIST, which has its official test set, and
 * limit caps only the training split. A NULL path for Fashion-MNIST means Debian's folder.
 * Held-out classes (holdout) are taken out of the index lists before the split is planned,
 * so train/valid/test never see them and the split of the remaining images is drawn over
 * those alone; their official test images become held_out, the out-of-distribution set.
 * Each loader first bounds the memory the dataset will take from what it knows before
 * reading (the IDX headers, the number of files or scenes) and refuses it over max_memory.
 * Paths in messages are quoted by tn_quote. The scene renderer is in data/shapes.c and the
 * PNG/JPEG decoding in data/image_folder.c.
 */
#define _POSIX_C_SOURCE 200809L

#include "dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idx.h"

#define DEFAULT_FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define DEFAULT_SHAPES_COUNT 10000
#define DEFAULT_FRACTION 0.1
#define FASHION_CLASSES 10
#define SPLIT_KEY 0x5eed5b117da7a5e7ull

/* ---- resizing ---- */

/* Taps of a 1-D resize from in to out samples: output i reads first[i] .. first[i]+count[i]-1
 * with weights w[i * max + t]. Bilinear (PyTorch, align_corners=False, source index clamped
 * at 0) when out >= in; the exact area average (each output covers in/out inputs, partial
 * inputs weighted by their overlap) when out < in. */
static void axis_taps(int in, int out, int max, int *first, int *count, float *w) {
    double scale = (double)in / out;
    for (int i = 0; i < out; i++) {
        float *wi = w + (size_t)i * (size_t)max;
        if (out >= in) {
            double s = (i + 0.5) * scale - 0.5;
            if (s < 0) s = 0;
            int i0 = (int)s;
            if (i0 > in - 1) i0 = in - 1;
            float l = (float)(s - i0);
            first[i] = i0;
            count[i] = i0 < in - 1 ? 2 : 1;
            wi[0] = count[i] == 2 ? 1.0f - l : 1.0f;
            wi[1] = l;
        } else {
            double a = i * scale, b = (i + 1) * scale;
            int k0 = (int)floor(a), k1 = (int)ceil(b);
            if (k1 > in) k1 = in;
            if (k1 - k0 > max) k1 = k0 + max;
            first[i] = k0;
            count[i] = k1 - k0;
            for (int k = k0; k < k1; k++) {
                double lo = a > k ? a : k, hi = b < k + 1 ? b : k + 1;
                wi[k - k0] = (float)((hi - lo) / scale);
            }
        }
    }
}

void gw_resize_plane(const uint8_t *src, int src_h, int src_w, uint8_t *dst, int dst_h, int dst_w) {
    TN_CHECK(src_h > 0 && src_w > 0 && dst_h > 0 && dst_w > 0, "gw_resize_plane",
             "sizes must be positive: %dx%d -> %dx%d", src_h, src_w, dst_h, dst_w);
    int max_w = dst_w >= src_w ? 2 : src_w / dst_w + 2;
    int max_h = dst_h >= src_h ? 2 : src_h / dst_h + 2;
    size_t floats = (size_t)src_h * dst_w + (size_t)dst_w * max_w + (size_t)dst_h * max_h;
    size_t ints = 2 * ((size_t)dst_w + (size_t)dst_h);
    float *tmp = malloc(floats * sizeof(float) + ints * sizeof(int));
    TN_CHECK(tmp, "gw_resize_plane", "out of host memory");
    float *wx = tmp + (size_t)src_h * dst_w, *wy = wx + (size_t)dst_w * max_w;
    int *fx = (int *)(wy + (size_t)dst_h * max_h), *cx = fx + dst_w, *fy = cx + dst_w,
        *cy = fy + dst_h;
    axis_taps(src_w, dst_w, max_w, fx, cx, wx);
    axis_taps(src_h, dst_h, max_h, fy, cy, wy);
    for (int y = 0; y < src_h; y++) {
        const uint8_t *row = src + (size_t)y * src_w;
        for (int j = 0; j < dst_w; j++) {
            const float *wj = wx + (size_t)j * max_w;
            float acc = 0.0f;
            for (int t = 0; t < cx[j]; t++) acc += wj[t] * row[fx[j] + t];
            tmp[(size_t)y * dst_w + j] = acc;
        }
    }
    for (int i = 0; i < dst_h; i++) {
        const float *wi = wy + (size_t)i * max_h;
        for (int j = 0; j < dst_w; j++) {
            float acc = 0.0f;
            for (int t = 0; t < cy[i]; t++) acc += wi[t] * tmp[(size_t)(fy[i] + t) * dst_w + j];
            acc += 0.5f;
            dst[(size_t)i * dst_w + j] = (uint8_t)(acc < 0.0f ? 0.0f : acc > 255.0f ? 255.0f : acc);
        }
    }
    free(tmp);
}

/* ---- permutations and split plans ---- */

void gw_permutation(struct tn_rng *rng, int64_t n, int64_t *out) {
    for (int64_t i = 0; i < n; i++) out[i] = i;
    /* Fisher-Yates; each index draws two 24-bit uniforms combined into one 48-bit fraction,
     * so the modulo-like bias stays below n / 2^48 for any n */
    enum { CHUNK = 4096 };
    float u[2 * CHUNK];
    int used = CHUNK;
    for (int64_t i = n - 1; i > 0; i--) {
        if (used == CHUNK) {
            int64_t left = i < CHUNK ? i : CHUNK;
            tn_rng_uniform_host(rng, u, 2 * left);
            used = 0;
        }
        double hi = (double)u[2 * used] * 16777216.0, lo = (double)u[2 * used + 1] * 16777216.0;
        used++;
        double frac = (hi * 16777216.0 + lo) / 281474976710656.0;
        int64_t j = (int64_t)(frac * (double)(i + 1));
        if (j > i) j = i;
        int64_t swap = out[i];
        out[i] = out[j];
        out[j] = swap;
    }
}

static int compare_index(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Indices of each split, pointing into one permutation buffer. */
struct split_plan {
    int64_t *perm;
    const int64_t *train, *valid, *test;
    int64_t n_train, n_valid, n_test;
};

/* Plans the split of n items: round(n * fractions) validation and test items, the rest for
 * training capped at limit (0: no cap); each split sorted back into source order. */
static enum tn_status plan_split(int64_t n, double valid_fraction, double test_fraction,
                                 int64_t limit, uint64_t seed, const char *what,
                                 struct split_plan *p) {
    memset(p, 0, sizeof *p);
    if (valid_fraction < 0 || test_fraction < 0 || valid_fraction + test_fraction >= 1.0)
        return tn_error(TN_ERR_INVALID,
                        "%s: validation (%g) and test (%g) fractions must be >= 0 and sum below 1",
                        what, valid_fraction, test_fraction);
    if (limit < 0)
        return tn_error(TN_ERR_INVALID, "%s: negative limit %lld", what, (long long)limit);
    int64_t nv = llround((double)n * valid_fraction), nt = llround((double)n * test_fraction);
    int64_t rest = n - nv - nt;
    if (rest < 1)
        return tn_error(TN_ERR_INVALID, "%s: %lld images leave none for training", what,
                        (long long)n);
    p->perm = malloc((size_t)n * sizeof(int64_t));
    if (!p->perm) return tn_error(TN_ERR_OOM, "%s: out of host memory for the split", what);
    struct tn_rng rng = tn_rng_new(seed ^ SPLIT_KEY);
    gw_permutation(&rng, n, p->perm);
    p->n_valid = nv;
    p->n_test = nt;
    p->n_train = limit > 0 && limit < rest ? limit : rest;
    p->valid = p->perm;
    p->test = p->perm + nv;
    p->train = p->perm + nv + nt;
    qsort(p->perm, (size_t)nv, sizeof(int64_t), compare_index);
    qsort(p->perm + nv, (size_t)nt, sizeof(int64_t), compare_index);
    qsort(p->perm + nv + nt, (size_t)p->n_train, sizeof(int64_t), compare_index);
    return TN_OK;
}

/* ---- the memory bound ---- */

/* At most how many of n images the splits keep: the training split capped at limit, and
 * round(n * fraction) each for validation and test (held-out images come out of these). */
static uint64_t split_bound(int64_t n, int64_t limit, double valid_fraction,
                            double test_fraction) {
    if (n <= 0) return 0;
    uint64_t train = limit > 0 && limit < n ? (uint64_t)limit : (uint64_t)n;
    uint64_t rest = (uint64_t)ceil((double)n * valid_fraction) +
                    (uint64_t)ceil((double)n * test_fraction);
    return train + rest < (uint64_t)n ? train + rest : (uint64_t)n;
}

/* Bytes of n images at size x size with n_factors floats each. */
static uint64_t image_bytes(uint64_t n, int size, int n_factors) {
    return n * (3 * (uint64_t)size * (uint64_t)size + 4 * (uint64_t)n_factors);
}

/* Refuses a dataset that needs more than opts->max_memory bytes; what names the source. */
static enum tn_status check_memory(const struct gw_data_options *opts, const char *what,
                                   uint64_t bytes) {
    uint64_t limit = opts->max_memory ? opts->max_memory : GW_DATA_MAX_MEMORY_DEFAULT;
    if (bytes <= limit) return TN_OK;
    return tn_error(TN_ERR_INVALID, "%s: the dataset would take %.3g GiB of host memory, over the "
                    "limit of %.3g GiB for one dataset (raise it with --max-data-memory)", what,
                    (double)bytes / (1 << 30), (double)limit / (1 << 30));
}

/* ---- datasets ---- */

/* Allocates n images of 3 x size x size bytes and n x n_factors floats. */
static enum tn_status dataset_alloc(struct gw_dataset *d, int64_t n, int size, int n_factors) {
    memset(d, 0, sizeof *d);
    size_t bytes = (size_t)n * 3 * (size_t)size * (size_t)size;
    d->pixels = malloc(bytes ? bytes : 1);
    d->factors = n_factors ? malloc((size_t)(n ? n : 1) * (size_t)n_factors * sizeof(float)) : NULL;
    if (!d->pixels || (n_factors && !d->factors)) {
        gw_dataset_free(d);
        return tn_error(TN_ERR_OOM, "out of host memory for %lld images of %dx%d", (long long)n,
                        size, size);
    }
    d->count = n;
    d->channels = 3;
    d->size = size;
    d->n_factors = n_factors;
    return TN_OK;
}

/* Copies images idx[0..n) of src (pixels, factors and names) into a new dataset. */
static enum tn_status take(const struct gw_dataset *src, const int64_t *idx, int64_t n,
                           struct gw_dataset *dst) {
    enum tn_status st = dataset_alloc(dst, n, src->size, src->n_factors);
    if (st != TN_OK) return st;
    memcpy(dst->factor_names, src->factor_names, sizeof dst->factor_names);
    size_t per = (size_t)src->channels * (size_t)src->size * (size_t)src->size;
    for (int64_t i = 0; i < n; i++) {
        memcpy(dst->pixels + (size_t)i * per, src->pixels + (size_t)idx[i] * per, per);
        for (int f = 0; f < src->n_factors; f++)
            dst->factors[i * src->n_factors + f] = src->factors[idx[i] * src->n_factors + f];
    }
    return TN_OK;
}

void gw_dataset_free(struct gw_dataset *d) {
    free(d->pixels);
    free(d->factors);
    memset(d, 0, sizeof *d);
}

void gw_splits_free(struct gw_splits *s) {
    gw_dataset_free(&s->train);
    gw_dataset_free(&s->valid);
    gw_dataset_free(&s->test);
    gw_dataset_free(&s->held_out);
}

struct tn_tensor *gw_dataset_batch(const struct gw_dataset *d, const int64_t *idx, int64_t n) {
    TN_CHECK(n >= 0, "gw_dataset_batch", "negative batch size %lld", (long long)n);
    int64_t shape[4] = {n, d->channels, d->size, d->size};
    struct tn_tensor *t = tn_empty(TN_CPU, 4, shape);
    float *out = tn_data(t);
    int64_t per = (int64_t)d->channels * d->size * d->size;
    for (int64_t i = 0; i < n; i++) {
        TN_CHECK(idx[i] >= 0 && idx[i] < d->count, "gw_dataset_batch",
                 "index %lld outside [0, %lld)", (long long)idx[i], (long long)d->count);
        const uint8_t *src = d->pixels + idx[i] * per;
        float *dst = out + i * per;
        for (int64_t k = 0; k < per; k++) dst[k] = (float)src[k] / 255.0f; /* as ToTensor */
    }
    return t;
}

/* ---- Fashion-MNIST ---- */

/* Reads the header of <dir>/<base>.gz, or of <dir>/<base> when only the uncompressed file is
 * there, into out; the path read into path. */
static enum tn_status open_idx(const char *dir, const char *base, struct gw_idx *out,
                               char *path, size_t path_size) {
    snprintf(path, path_size, "%s/%s.gz", dir, base);
    if (access(path, F_OK) != 0) {
        snprintf(path, path_size, "%s/%s", dir, base);
        if (access(path, F_OK) != 0) {
            char shown[TN_QUOTE_SIZE];
            snprintf(path, path_size, "%s/%s.gz", dir, base);
            return tn_error(
                TN_ERR_IO,
                "%s: cannot open (install Debian's dataset-fashion-mnist or pass --data DIR)",
                tn_quote(path, shown, sizeof shown));
        }
    }
    return gw_idx_read_header(path, out);
}

/* Checks that images [N, H, W] and labels [N] go together, and that every label is a class
 * of Fashion-MNIST (paths quoted for messages). */
static enum tn_status check_pair(const struct gw_idx *images, const char *image_path,
                                 const struct gw_idx *labels, const char *label_path) {
    if (images->ndim != 3)
        return tn_error(TN_ERR_INVALID, "%s: images must have 3 dims [N, H, W], found %d",
                        image_path, images->ndim);
    if (labels->ndim != 1)
        return tn_error(TN_ERR_INVALID, "%s: labels must have 1 dim [N], found %d", label_path,
                        labels->ndim);
    if (labels->dims[0] != images->dims[0])
        return tn_error(TN_ERR_INVALID, "%s: %lld labels for the %lld images of %s", label_path,
                        (long long)labels->dims[0], (long long)images->dims[0], image_path);
    for (int64_t i = 0; i < labels->count; i++)
        if (labels->data[i] >= FASHION_CLASSES)
            return tn_error(TN_ERR_INVALID, "%s: label %d at index %lld is outside 0..%d",
                            label_path, labels->data[i], (long long)i, FASHION_CLASSES - 1);
    return TN_OK;
}

/* Resizes images which[0..n) (all when which is NULL) to 3 x size x size, with their labels. */
static enum tn_status fill_from_idx(const struct gw_idx *images, const struct gw_idx *labels,
                                    const int64_t *which, int64_t n, int size,
                                    struct gw_dataset *d) {
    enum tn_status st = dataset_alloc(d, n, size, 1);
    if (st != TN_OK) return st;
    snprintf(d->factor_names[0], sizeof d->factor_names[0], "label");
    int h = (int)images->dims[1], w = (int)images->dims[2];
    size_t plane = (size_t)size * (size_t)size;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) {
        int64_t k = which ? which[i] : i;
        uint8_t *dst = d->pixels + (size_t)i * 3 * plane;
        gw_resize_plane(images->data + (size_t)k * (size_t)h * (size_t)w, h, w, dst, size, size);
        memcpy(dst + plane, dst, plane);
        memcpy(dst + 2 * plane, dst, plane);
        d->factors[i] = (float)labels->data[k];
    }
    return TN_OK;
}

/* Indices of the labels whose class is (keep) or is not (!keep) in holdout, into a malloc'ed
 * *out; their number is returned (-1 when out of memory). */
static int64_t select_classes(const struct gw_idx *labels, uint32_t holdout, bool held,
                              int64_t **out) {
    int64_t n = labels->dims[0], k = 0;
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    if (!*out) return -1;
    for (int64_t i = 0; i < n; i++) {
        unsigned c = labels->data[i];
        bool in = c < 32 && (holdout >> c & 1u);
        if (in == held) (*out)[k++] = i;
    }
    return k;
}

/* Maps the split's indices (positions in keep[]) back to source indices. */
static void map_plan(struct split_plan *p, const int64_t *keep) {
    int64_t n = p->n_valid + p->n_test + p->n_train;
    for (int64_t i = 0; i < n; i++) p->perm[i] = keep[p->perm[i]];
}

static enum tn_status load_fashion_mnist(const struct gw_data_options *opts,
                                         struct gw_splits *out) {
    const char *dir = opts->path && opts->path[0] ? opts->path : DEFAULT_FASHION_DIR;
    static const char *const names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    struct gw_idx idx[4] = {{0}};
    char paths[4][4096], shown[4][TN_QUOTE_SIZE];
    enum tn_status st = TN_OK;
    double vf = opts->valid_fraction ? opts->valid_fraction : DEFAULT_FRACTION;
    uint64_t bytes = 0; /* the raw values, then the splits' images (held-out ones are test's) */
    for (int i = 0; i < 4 && st == TN_OK; i++) {
        st = open_idx(dir, names[i], &idx[i], paths[i], sizeof paths[i]);
        tn_quote(paths[i], shown[i], sizeof shown[i]);
        bytes += (uint64_t)idx[i].count;
    }
    if (st == TN_OK) {
        bytes += image_bytes(split_bound(idx[0].dims[0], opts->limit, vf, 0.0) +
                             (uint64_t)idx[2].dims[0], opts->size, 1);
        st = check_memory(opts, shown[0], bytes);
    }
    for (int i = 0; i < 4 && st == TN_OK; i++) /* at most what the header said */
        st = gw_idx_load(paths[i], (uint64_t)idx[i].count, &idx[i]);
    if (st == TN_OK) st = check_pair(&idx[0], shown[0], &idx[1], shown[1]);
    if (st == TN_OK) st = check_pair(&idx[2], shown[2], &idx[3], shown[3]);
    struct split_plan plan = {0};
    int64_t *keep = NULL, *test_keep = NULL, *test_held = NULL;
    int64_t n_keep = 0, n_test = 0, n_held = 0;
    if (st == TN_OK) {
        n_keep = select_classes(&idx[1], opts->holdout, false, &keep);
        n_test = select_classes(&idx[3], opts->holdout, false, &test_keep);
        n_held = select_classes(&idx[3], opts->holdout, true, &test_held);
        if (n_keep < 0 || n_test < 0 || n_held < 0)
            st = tn_error(TN_ERR_OOM, "%s: out of host memory for the class lists", shown[0]);
    }
    if (st == TN_OK) st = plan_split(n_keep, vf, 0.0, opts->limit, opts->seed, shown[0], &plan);
    if (st == TN_OK) {
        map_plan(&plan, keep);
        st = fill_from_idx(&idx[0], &idx[1], plan.train, plan.n_train, opts->size, &out->train);
    }
    if (st == TN_OK)
        st = fill_from_idx(&idx[0], &idx[1], plan.valid, plan.n_valid, opts->size, &out->valid);
    if (st == TN_OK) st = fill_from_idx(&idx[2], &idx[3], test_keep, n_test, opts->size, &out->test);
    if (st == TN_OK && opts->holdout)
        st = fill_from_idx(&idx[2], &idx[3], test_held, n_held, opts->size, &out->held_out);
    free(keep);
    free(test_keep);
    free(test_held);
    free(plan.perm);
    for (int i = 0; i < 4; i++) gw_idx_free(&idx[i]);
    return st;
}

/* ---- generated scenes ---- */

static enum tn_status load_shapes(const struct gw_data_options *opts, struct gw_splits *out) {
    int64_t n = opts->shapes_count ? opts->shapes_count : DEFAULT_SHAPES_COUNT;
    if (n < 0) return tn_error(TN_ERR_INVALID, "shapes: negative scene count %lld", (long long)n);
    struct split_plan plan;
    double vf = opts->valid_fraction ? opts->valid_fraction : DEFAULT_FRACTION;
    double tf = opts->test_fraction ? opts->test_fraction : DEFAULT_FRACTION;
    /* every scene is rendered, then the splits are copied out of them */
    uint64_t bytes = image_bytes((uint64_t)n + split_bound(n, opts->limit, vf, tf), opts->size, 6);
    enum tn_status st = check_memory(opts, "shapes", bytes);
    if (st == TN_OK) st = plan_split(n, vf, tf, opts->limit, opts->seed, "shapes", &plan);
    if (st != TN_OK) return st;
    struct gw_dataset all = {0};
    st = gw_shapes_generate(n, opts->size, opts->seed, &all);
    if (st == TN_OK) st = take(&all, plan.train, plan.n_train, &out->train);
    if (st == TN_OK) st = take(&all, plan.valid, plan.n_valid, &out->valid);
    if (st == TN_OK) st = take(&all, plan.test, plan.n_test, &out->test);
    gw_dataset_free(&all);
    free(plan.perm);
    return st;
}

/* ---- a folder of images ---- */

/* Decodes files which[0..n) of paths into d, in parallel; the error of the first bad file
 * (in list order, so the same file is named whatever the thread count) is returned. */
static enum tn_status fill_from_files(char *const *paths, const int64_t *which, int64_t n,
                                      int size, struct gw_dataset *d) {
    enum tn_status st = dataset_alloc(d, n, size, 0);
    if (st != TN_OK) return st;
    size_t per = 3 * (size_t)size * (size_t)size;
    int64_t first_bad = n;
    enum tn_status bad_status = TN_OK;
    char bad_msg[512] = "";
#pragma omp parallel for schedule(dynamic, 8)
    for (int64_t i = 0; i < n; i++) {
        int64_t seen;
#pragma omp atomic read
        seen = first_bad;
        if (i > seen) continue; /* a bad file comes earlier: this one cannot be reported */
        enum tn_status s = gw_image_read(paths[which[i]], size, d->pixels + (size_t)i * per);
        if (s != TN_OK) {
#pragma omp critical(gw_data_first_bad)
            if (i < first_bad) {
                snprintf(bad_msg, sizeof bad_msg, "%s", tn_last_error());
                bad_status = s;
#pragma omp atomic write
                first_bad = i;
            }
        }
    }
    if (first_bad < n) {
        gw_dataset_free(d);
        return tn_error(bad_status, "%s", bad_msg);
    }
    return TN_OK;
}

static enum tn_status load_folder(const struct gw_data_options *opts, struct gw_splits *out) {
    if (!opts->path || !opts->path[0])
        return tn_error(TN_ERR_INVALID, "the folder source needs a path (--data DIR)");
    char **paths, shown[TN_QUOTE_SIZE];
    int64_t count;
    enum tn_status st = gw_image_list(opts->path, &paths, &count);
    if (st != TN_OK) return st;
    struct split_plan plan = {0};
    double vf = opts->valid_fraction ? opts->valid_fraction : DEFAULT_FRACTION;
    double tf = opts->test_fraction ? opts->test_fraction : DEFAULT_FRACTION;
    tn_quote(opts->path, shown, sizeof shown);
    uint64_t bytes = image_bytes(split_bound(count, opts->limit, vf, tf), opts->size, 0);
    st = check_memory(opts, shown, bytes);
    if (st == TN_OK) st = plan_split(count, vf, tf, opts->limit, opts->seed, shown, &plan);
    if (st == TN_OK) st = fill_from_files(paths, plan.train, plan.n_train, opts->size, &out->train);
    if (st == TN_OK) st = fill_from_files(paths, plan.valid, plan.n_valid, opts->size, &out->valid);
    if (st == TN_OK) st = fill_from_files(paths, plan.test, plan.n_test, opts->size, &out->test);
    free(plan.perm);
    gw_image_list_free(paths, count);
    return st;
}

enum tn_status gw_data_load(const struct gw_data_options *opts, struct gw_splits *out) {
    memset(out, 0, sizeof *out);
    if (opts->size < 1 || opts->size > 4096)
        return tn_error(TN_ERR_INVALID, "image size %d outside 1..4096", opts->size);
    if (opts->holdout && opts->source != GW_SOURCE_FASHION_MNIST)
        return tn_error(TN_ERR_INVALID, "held-out classes need a labelled source (fashion-mnist)");
    enum tn_status st;
    switch (opts->source) {
    case GW_SOURCE_FASHION_MNIST: st = load_fashion_mnist(opts, out); break;
    case GW_SOURCE_SHAPES: st = load_shapes(opts, out); break;
    case GW_SOURCE_FOLDER: st = load_folder(opts, out); break;
    default: return tn_error(TN_ERR_INVALID, "unknown data source %d", (int)opts->source);
    }
    if (st != TN_OK) gw_splits_free(out);
    return st;
}
