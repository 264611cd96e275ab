/* forest.c - a random forest of regression trees, the estimator inside the DCI
 * scores, following scikit-learn's RandomForestRegressor defaults: bootstrap samples drawn
 * with replacement (kept as integer weights), every feature tried at each split in a fresh
 * random order, the exact best threshold by variance reduction (midpoints between distinct
 * sorted values), max_depth and min_leaf as the only limits, impurity-decrease importances.
 *
 * Speed: each feature is sorted once per fit; a node owns one contiguous slice of every
 * feature's sorted index list and a split partitions those slices stably, so one tree level
 * costs O(dim n) and a tree O(depth dim n) instead of a sort per node.
 * The DCI protocol (splits, depth search, scores) is eval/dci.c's.
 */
#include <float.h>
#include <stdlib.h>
#include <string.h>

#include "gwae/data/dataset.h"
#include "metrics.h"
#include "tensor/tn_error.h"
#include "tensor/tn_random.h"

/* scikit-learn does not split between values closer than this (its FEATURE_THRESHOLD). */
#define SPLIT_GAP 1e-7f

struct tree_node {
    int feature;      /* -1 for a leaf */
    double threshold; /* x[feature] <= threshold goes left */
    int left, right;
    double value; /* weighted mean of y in the node */
};

struct tree {
    struct tree_node *nodes;
    int count, cap;
};

struct gw_forest {
    int n_trees;
    int64_t dim;
    struct tree *trees;
    double *importance; /* [dim], sums to 1 (or all 0 when no tree ever split) */
};

/* What one tree's growth works on. */
struct grower {
    const float *x; /* [n, dim] */
    const double *y, *w;
    int64_t dim;
    int max_depth, min_leaf;
    int32_t *sorted;    /* [dim][count]: the node slices of each feature's sorted order */
    int32_t *scratch;   /* [count] for stable partitions */
    unsigned char *left_side; /* [n] */
    int64_t *features;  /* [dim] the random order of this node */
    double *gain;       /* [dim] this tree's impurity decreases */
    struct tn_rng *rng;
    struct tree *tree;
    int64_t count;      /* samples in the bootstrap (distinct rows) */
};

/* Appends a node; returns its index. */
static int push_node(struct tree *t) {
    if (t->count == t->cap) {
        int cap = t->cap ? 2 * t->cap : 64;
        struct tree_node *nodes = realloc(t->nodes, (size_t)cap * sizeof *nodes);
        TN_CHECK(nodes, "gw_forest_fit", "out of memory for %d tree nodes", cap);
        t->nodes = nodes;
        t->cap = cap;
    }
    t->nodes[t->count] = (struct tree_node){.feature = -1, .left = -1, .right = -1};
    return t->count++;
}

/* The best split of the slice [lo, hi) or false: feature, threshold and the position in that
 * feature's slice after which the left side ends. */
struct split {
    int feature;
    double threshold;
    int64_t cut; /* left = [lo, cut) */
    double proxy;
};

/* Scans the features in a random order for the largest sl^2/wl + sr^2/wr, the variance
 * reduction up to terms that do not depend on the split. */
static bool best_split(struct grower *g, int64_t lo, int64_t hi, double w_all, double s_all,
                       struct split *best) {
    int64_t dim = g->dim;
    gw_permutation(g->rng, dim, g->features);
    bool found = false;
    best->proxy = -DBL_MAX;
    for (int64_t q = 0; q < dim; q++) {
        int f = (int)g->features[q];
        const int32_t *idx = g->sorted + f * g->count;
        double wl = 0.0, sl = 0.0;
        for (int64_t p = lo; p + 1 < hi; p++) {
            int32_t r = idx[p];
            wl += g->w[r];
            sl += g->w[r] * g->y[r];
            int64_t n_left = p + 1 - lo;
            if (n_left < g->min_leaf) continue;
            if (hi - (p + 1) < g->min_leaf) break;
            float a = g->x[(int64_t)r * dim + f], b = g->x[(int64_t)idx[p + 1] * dim + f];
            if (b <= a + SPLIT_GAP) continue;
            double wr = w_all - wl, sr = s_all - sl;
            double proxy = sl * sl / wl + sr * sr / wr;
            if (proxy > best->proxy) {
                best->proxy = proxy;
                best->feature = f;
                best->threshold = 0.5 * ((double)a + (double)b);
                best->cut = p + 1;
                found = true;
            }
        }
    }
    return found;
}

/* Stable partition of every feature's slice [lo, hi) by left_side. */
static void partition(struct grower *g, int64_t lo, int64_t hi) {
    for (int64_t f = 0; f < g->dim; f++) {
        int32_t *idx = g->sorted + f * g->count;
        int64_t l = lo, r = 0;
        for (int64_t p = lo; p < hi; p++) {
            if (g->left_side[idx[p]])
                idx[l++] = idx[p];
            else
                g->scratch[r++] = idx[p];
        }
        memcpy(idx + l, g->scratch, (size_t)r * sizeof *idx);
    }
}

/* Grows the subtree of the slice [lo, hi) at depth; returns its node index. */
static int grow(struct grower *g, int64_t lo, int64_t hi, int depth, double *w_node,
                double *impurity) {
    double w = 0.0, s = 0.0, ss = 0.0;
    for (int64_t p = lo; p < hi; p++) {
        int32_t r = g->sorted[p]; /* feature 0's slice holds the same rows */
        w += g->w[r];
        s += g->w[r] * g->y[r];
        ss += g->w[r] * g->y[r] * g->y[r];
    }
    double mean = s / w, imp = ss / w - mean * mean;
    *w_node = w;
    *impurity = imp;
    int id = push_node(g->tree);
    g->tree->nodes[id].value = mean;
    struct split sp = {.feature = -1};
    if (depth >= g->max_depth || hi - lo < 2 || hi - lo < 2 * (int64_t)g->min_leaf ||
        imp <= DBL_EPSILON || !best_split(g, lo, hi, w, s, &sp))
        return id;
    const int32_t *idx = g->sorted + sp.feature * g->count;
    for (int64_t p = lo; p < hi; p++) g->left_side[idx[p]] = p < sp.cut;
    partition(g, lo, hi);
    double wl, il, wr, ir;
    int left = grow(g, lo, sp.cut, depth + 1, &wl, &il);
    int right = grow(g, sp.cut, hi, depth + 1, &wr, &ir);
    struct tree_node *node = &g->tree->nodes[id]; /* after the children: nodes may move */
    node->feature = sp.feature;
    node->threshold = sp.threshold;
    node->left = left;
    node->right = right;
    g->gain[sp.feature] += w * imp - wl * il - wr * ir;
    return id;
}

/* A row and its value in one feature, sorted by value (ties by row, for determinism). */
struct keyed_row {
    int32_t row;
    float value;
};

static int by_value_then_row(const void *pa, const void *pb) {
    const struct keyed_row *a = pa, *b = pb;
    if (a->value != b->value) return a->value < b->value ? -1 : 1;
    return (a->row > b->row) - (a->row < b->row);
}

struct gw_forest *gw_forest_fit(const float *x, const double *y, int64_t n, int64_t dim,
                                const struct gw_forest_options *opts) {
    TN_CHECK(x && y && opts && n >= 1 && n < INT32_MAX && dim >= 1, "gw_forest_fit",
             "bad shape (n = %lld, dim = %lld)", (long long)n, (long long)dim);
    TN_CHECK(opts->n_trees >= 1 && opts->max_depth >= 1 && opts->min_leaf >= 1, "gw_forest_fit",
             "bad options (%d trees, depth %d, min_leaf %d)", opts->n_trees, opts->max_depth,
             opts->min_leaf);
    struct gw_forest *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->n_trees = opts->n_trees;
    f->dim = dim;
    f->trees = calloc((size_t)opts->n_trees, sizeof *f->trees);
    f->importance = calloc((size_t)dim, sizeof *f->importance);
    int32_t *presorted = malloc((size_t)(n * dim) * sizeof *presorted);
    struct keyed_row *keys = malloc((size_t)n * sizeof *keys);
    struct grower g = {.x = x, .y = y, .dim = dim, .max_depth = opts->max_depth,
                       .min_leaf = opts->min_leaf};
    double *w = calloc((size_t)n, sizeof *w);
    float *u = malloc((size_t)n * sizeof *u);
    g.sorted = malloc((size_t)(n * dim) * sizeof *g.sorted);
    g.scratch = malloc((size_t)n * sizeof *g.scratch);
    g.left_side = malloc((size_t)n);
    g.features = malloc((size_t)dim * sizeof *g.features);
    g.gain = malloc((size_t)dim * sizeof *g.gain);
    bool ok = f->trees && f->importance && presorted && keys && w && u && g.sorted &&
              g.scratch && g.left_side && g.features && g.gain;
    struct tn_rng rng = tn_rng_new(opts->seed);
    g.rng = &rng;
    g.w = w;
    for (int64_t c = 0; ok && c < dim; c++) {
        for (int64_t r = 0; r < n; r++) keys[r] = (struct keyed_row){(int32_t)r, x[r * dim + c]};
        qsort(keys, (size_t)n, sizeof *keys, by_value_then_row);
        for (int64_t r = 0; r < n; r++) presorted[c * n + r] = keys[r].row;
    }
    for (int t = 0; ok && t < opts->n_trees; t++) {
        tn_rng_uniform_host(&rng, u, n); /* the bootstrap as multiplicities */
        memset(w, 0, (size_t)n * sizeof *w);
        for (int64_t r = 0; r < n; r++) {
            int64_t k = (int64_t)(u[r] * (float)n);
            w[k < n ? k : n - 1] += 1.0;
        }
        int64_t count = 0;
        for (int64_t c = 0; c < dim; c++) {
            count = 0;
            for (int64_t r = 0; r < n; r++)
                if (w[presorted[c * n + r]] > 0.0) g.sorted[c * n + count++] = presorted[c * n + r];
        }
        for (int64_t c = 1; c < dim; c++) /* pack the slices at stride count */
            memmove(g.sorted + c * count, g.sorted + c * n, (size_t)count * sizeof *g.sorted);
        g.count = count;
        g.tree = &f->trees[t];
        memset(g.gain, 0, (size_t)dim * sizeof *g.gain);
        double w_root, imp_root;
        grow(&g, 0, count, 0, &w_root, &imp_root);
        /* as scikit-learn: each tree's importances normalised, trees that never split left
         * out of the mean, the mean normalised again */
        double total = 0.0;
        for (int64_t c = 0; c < dim; c++) total += g.gain[c];
        if (f->trees[t].count > 1 && total > 0.0)
            for (int64_t c = 0; c < dim; c++) f->importance[c] += g.gain[c] / total;
    }
    double total = 0.0;
    for (int64_t c = 0; ok && c < dim; c++) total += f->importance[c];
    for (int64_t c = 0; ok && c < dim && total > 0.0; c++) f->importance[c] /= total;
    free(presorted);
    free(keys);
    free(w);
    free(u);
    free(g.sorted);
    free(g.scratch);
    free(g.left_side);
    free(g.features);
    free(g.gain);
    if (!ok) {
        gw_forest_free(f);
        return NULL;
    }
    return f;
}

void gw_forest_predict(const struct gw_forest *f, const float *x, int64_t n, double *out) {
    TN_CHECK(f && x && out && n >= 0, "gw_forest_predict", "NULL argument or n < 0");
    for (int64_t r = 0; r < n; r++) {
        const float *row = x + r * f->dim;
        double sum = 0.0;
        for (int t = 0; t < f->n_trees; t++) {
            const struct tree_node *nodes = f->trees[t].nodes;
            int k = 0;
            while (nodes[k].feature >= 0)
                k = (double)row[nodes[k].feature] <= nodes[k].threshold ? nodes[k].left
                                                                         : nodes[k].right;
            sum += nodes[k].value;
        }
        out[r] = sum / f->n_trees;
    }
}

void gw_forest_importances(const struct gw_forest *f, double *out) {
    TN_CHECK(f && out, "gw_forest_importances", "NULL argument");
    memcpy(out, f->importance, (size_t)f->dim * sizeof *out);
}

void gw_forest_free(struct gw_forest *f) {
    if (!f) return;
    for (int t = 0; f->trees && t < f->n_trees; t++) free(f->trees[t].nodes);
    free(f->trees);
    free(f->importance);
    free(f);
}
