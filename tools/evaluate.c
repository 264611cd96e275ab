/* evaluate.c - losses, PSNR, encodings and figures of a model in evaluation mode.
 *
 * Each batch runs in a scope of its own, so memory stays at one batch's worth whatever the
 * split's size. Per-image values are summed in double on the host.
 */
#include "evaluate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "png_write.h"

bool eval_begin(struct gw_model *m) {
    nn_module_train(&m->base, false);
    return ag_set_grad_enabled(false);
}

void eval_end(struct gw_model *m, bool grad) {
    ag_set_grad_enabled(grad);
    nn_module_train(&m->base, true);
}

struct tn_tensor *eval_batch_at(const struct gw_model *m, const struct gw_dataset *d, int64_t first,
                              int64_t n) {
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    TN_CHECK(idx, "evaluate", "out of host memory");
    for (int64_t i = 0; i < n; i++) idx[i] = first + i;
    struct tn_tensor *x = gw_dataset_batch(d, idx, n);
    free(idx);
    return m ? tn_to_device(x, m->device) : x;
}

static int64_t count_of(const struct gw_dataset *d, int64_t n) {
    return n <= 0 || n > d->count ? d->count : n;
}

int64_t eval_losses(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                    struct gw_terms *mean) {
    n = count_of(d, n);
    gw_terms_clear(mean);
    int64_t used = 0, b = m->common.batch;
    struct gw_terms t;
    gw_model_terms(m, &t);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        if (k < 2) break;
        gw_terms_clear(&t);
        tn_scope_begin();
        gw_model_eval_step(m, eval_batch_at(m, d, first, k), rng, &t);
        tn_scope_end();
        gw_terms_accumulate(mean, &t, (double)k);
        used += k;
    }
    gw_terms_free(&t);
    if (used > 0) gw_terms_scale(mean, 1.0 / (double)used);
    else gw_terms_clear(mean);
    gw_terms_read(mean);
    return used;
}

void eval_json_terms(struct nn_json_writer *w, const char *prefix, const struct gw_terms *t) {
    for (int i = 0; i < t->n; i++) {
        if (!t->set[i]) continue;
        char key[96];
        snprintf(key, sizeof key, "%s%s", prefix, t->info[i].name);
        nn_json_put_number(w, key, t->host[i]);
    }
}

/* sums PSNR and PSNR^2 of each image of x against y (host [k, v]) */
static void psnr_sums(const float *x, const float *y, int64_t k, int64_t v, double *sum, double *sq) {
    for (int64_t i = 0; i < k; i++) {
        double se = 0;
        for (int64_t j = 0; j < v; j++) {
            double e = (double)x[i * v + j] - (double)y[i * v + j];
            se += e * e;
        }
        double mse = se / (double)v;
        /* 20 log10(MAX) = 0 for MAX = 1; the floor caps identical images at 100 dB, and a
         * non-finite error stays non-finite (a NaN compares false: never floored to 100 dB) */
        double p = isfinite(mse) ? -10.0 * log10(mse > 1e-10 ? mse : 1e-10) : NAN;
        *sum += p;
        *sq += p * p;
    }
}

int64_t eval_psnr(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                  double psnr[2], double stderr_[2]) {
    n = count_of(d, n);
    int64_t b = m->common.batch, v = (int64_t)d->channels * d->size * d->size;
    float *x = malloc((size_t)(b * v) * sizeof *x), *y = malloc((size_t)(b * v) * sizeof *y);
    TN_CHECK(x && y, "eval_psnr", "out of host memory");
    double sum[2] = {0, 0}, sq[2] = {0, 0};
    bool grad = eval_begin(m);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        tn_scope_begin();
        struct tn_tensor *xb = eval_batch_at(m, d, first, k), *mu, *logvar;
        gw_model_encode(m, xb, &mu, &logvar);
        tn_to_host(xb, x);
        tn_to_host(gw_model_decode(m, logvar ? gw_reparameterize(mu, logvar, rng) : mu), y);
        psnr_sums(x, y, k, v, &sum[0], &sq[0]);
        tn_to_host(gw_model_decode(m, mu), y);
        psnr_sums(x, y, k, v, &sum[1], &sq[1]);
        tn_scope_end();
    }
    eval_end(m, grad);
    free(x);
    free(y);
    for (int i = 0; i < 2; i++) {
        psnr[i] = n > 0 ? sum[i] / (double)n : NAN;
        double var = n > 1 ? (sq[i] - sum[i] * psnr[i]) / (double)(n - 1) : NAN;
        stderr_[i] = n > 1 && isfinite(var) ? sqrt(var > 0 ? var : 0) / sqrt((double)n) : NAN;
    }
    return n;
}

int64_t eval_encode(struct gw_model *m, const struct gw_dataset *d, int64_t n, struct tn_rng *rng,
                    float **out) {
    n = count_of(d, n);
    int64_t b = m->common.batch, l = m->common.latent;
    *out = malloc((size_t)(n * l > 0 ? n * l : 1) * sizeof **out);
    TN_CHECK(*out, "eval_encode", "out of host memory");
    bool grad = eval_begin(m);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        tn_scope_begin();
        tn_to_host(gw_model_code(m, eval_batch_at(m, d, first, k), rng), *out + first * l);
        tn_scope_end();
    }
    eval_end(m, grad);
    return n;
}

enum tn_status eval_samples_png(struct gw_model *m, const char *path, int n, int cols,
                                struct tn_rng *rng) {
    bool grad = eval_begin(m);
    tn_scope_begin();
    struct tn_tensor *xs = gw_model_decode(m, gw_model_sample(m, n, rng));
    enum tn_status status = png_write_grid(path, xs, cols, 2);
    tn_scope_end();
    eval_end(m, grad);
    return status;
}

enum tn_status eval_reconstructions_png(struct gw_model *m, const struct gw_dataset *d, int n,
                                        const char *path) {
    n = (int)count_of(d, n);
    bool grad = eval_begin(m);
    tn_scope_begin();
    struct tn_tensor *x = eval_batch_at(m, d, 0, n);
    struct tn_tensor *rows[2] = {x, gw_model_decode(m, gw_model_code(m, x, NULL))};
    enum tn_status status = png_write_grid(path, ag_concat(2, rows, 0), n, 2);
    tn_scope_end();
    eval_end(m, grad);
    return status;
}
