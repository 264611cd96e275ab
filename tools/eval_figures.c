/* eval_figures.c - the image-grid figures of `gwae eval` (traversals, reconstructions,
 * samples) and the entry that writes every figure; the plotted ones are in eval_plots.c.
 */
#include "eval_figures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "png_write.h"
#include "settings.h"

#define FIGURE_SALT 0x666967ull /* the sample grid's draws, as training's figures */
#define TRAVERSAL_STEPS 9
#define TRAVERSAL_RANGE 2.0   /* in standard deviations of the latent over test codes */
#define TRAVERSAL_IMAGES 256 /* test codes that give each latent's mean and spread */
#define SAMPLES_N 64
#define SAMPLES_COLS 8
#define RECON_N 10

enum tn_status eval_traversals_png(struct gw_model *m, const struct gw_dataset *d, const char *path) {
    int64_t l = m->common.latent, n = l * TRAVERSAL_STEPS;
    float *codes, *z = malloc((size_t)(n * l) * sizeof *z);
    int64_t k = eval_encode(m, d, TRAVERSAL_IMAGES, NULL, &codes);
    TN_CHECK(z, "eval_traversals_png", "out of host memory");
    for (int64_t j = 0; j < l; j++) {
        double mean = 0, sq = 0; /* the spread of latent j over the first k test codes */
        for (int64_t i = 0; i < k; i++) mean += codes[i * l + j] / (double)k;
        for (int64_t i = 0; i < k; i++) sq += (codes[i * l + j] - mean) * (codes[i * l + j] - mean);
        double sd = k > 1 ? sqrt(sq / (double)(k - 1)) : 1.0;
        for (int s = 0; s < TRAVERSAL_STEPS; s++) {
            float *row = z + (j * TRAVERSAL_STEPS + s) * l;
            memcpy(row, codes, (size_t)l * sizeof *row); /* the first image's mu */
            double t = -TRAVERSAL_RANGE + 2.0 * TRAVERSAL_RANGE * s / (TRAVERSAL_STEPS - 1);
            row[j] = (float)(mean + t * sd);
        }
    }
    bool grad = eval_begin(m);
    tn_scope_begin();
    struct tn_tensor *zt = tn_from_host(m->device, 2, (int64_t[]){n, l}, z);
    enum tn_status st = png_write_grid(path, gw_model_decode(m, zt), TRAVERSAL_STEPS, 1);
    tn_scope_end();
    eval_end(m, grad);
    free(codes);
    free(z);
    return st;
}

bool eval_figures_write(const struct eval_figure_set *f, char *err, size_t size) {
    char path[TOOL_PATH_MAX + 64];
    struct tn_rng rng = tn_rng_new(f->seed ^ FIGURE_SALT);
    settings_join(path, sizeof path, f->dir, "traversals.png");
    enum tn_status st = eval_traversals_png(f->model, f->test, path);
    if (st == TN_OK) {
        settings_join(path, sizeof path, f->dir, "samples.png");
        st = eval_samples_png(f->model, path, SAMPLES_N, SAMPLES_COLS, &rng);
    }
    if (st == TN_OK) {
        settings_join(path, sizeof path, f->dir, "reconstructions.png");
        st = eval_reconstructions_png(f->model, f->test, RECON_N, path);
    }
    if (st != TN_OK) {
        snprintf(err, size, "%s", tn_last_error());
        return false;
    }
    return eval_plots_write(f, err, size);
}
