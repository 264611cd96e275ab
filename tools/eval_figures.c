/* eval_figures.c - the image-grid figures of `gwae eval` (traversals, reconstructions,
 * samples) and the entry that writes every figure; the plotted ones are in eval_plots.c.
 */
#include "eval_figures.h"

#include <stdio.h>
#include <stdlib.h>

#include "evaluate.h"
#include "gwae/gw_png.h"
#include "settings.h"

#define FIGURE_SALT 0x666967ull /* the sample grid's draws, as training's figures */
#define TRAVERSAL_STEPS 9
#define TRAVERSAL_RANGE 2.0f
#define SAMPLES_N 64
#define SAMPLES_COLS 8
#define RECON_N 10

enum tn_status eval_traversals_png(struct gw_model *m, const struct gw_dataset *d, const char *path) {
    int64_t l = m->cfg.latent, n = l * TRAVERSAL_STEPS;
    float *mu = malloc((size_t)l * sizeof *mu), *z = malloc((size_t)(n * l) * sizeof *z);
    TN_CHECK(mu && z, "eval_traversals_png", "out of host memory");
    bool grad = eval_begin(m);
    tn_scope_begin();
    struct tn_tensor *m1, *lv;
    gw_encode(m, eval_batch_at(d, 0, 1), &m1, &lv);
    tn_to_host(m1, mu);
    for (int64_t j = 0; j < l; j++)
        for (int s = 0; s < TRAVERSAL_STEPS; s++) {
            float *row = z + (j * TRAVERSAL_STEPS + s) * l;
            for (int64_t k = 0; k < l; k++) row[k] = mu[k];
            row[j] = -TRAVERSAL_RANGE + 2.0f * TRAVERSAL_RANGE * (float)s / (TRAVERSAL_STEPS - 1);
        }
    struct tn_tensor *zt = tn_from_host(TN_CPU, 2, (int64_t[]){n, l}, z);
    enum tn_status st = gw_png_write_grid(path, gw_decode(m, zt), TRAVERSAL_STEPS, 1);
    tn_scope_end();
    eval_end(m, grad);
    free(mu);
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
