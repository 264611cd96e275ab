/* eval_ood.c - critic scores of images for out-of-distribution detection (eval_ood.h).
 *
 * Batches of the model's batch size in evaluation mode (no power iteration), one scope each.
 */
#include "eval_ood.h"

#include <stdlib.h>

#include "evaluate.h"

int64_t eval_ood_scores(struct gw_model *m, const struct gw_dataset *d, int64_t n,
                        enum eval_ood_score kind, struct tn_rng *rng, double *out) {
    n = n <= 0 || n > d->count ? d->count : n;
    int64_t b = m->cfg.batch;
    float *f = malloc((size_t)b * sizeof *f);
    TN_CHECK(f, "eval_ood_scores", "out of host memory");
    bool grad = eval_begin(m);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        tn_scope_begin();
        struct tn_tensor *x = eval_batch_at(d, first, k), *mu, *logvar;
        gw_encode(m, x, &mu, &logvar);
        struct tn_tensor *z = gw_reparameterize(mu, logvar, rng);
        tn_to_host(gw_critic(m, kind == EVAL_OOD_DECODED ? gw_decode(m, z) : x, z), f);
        tn_scope_end();
        for (int64_t i = 0; i < k; i++) out[first + i] = f[i];
    }
    eval_end(m, grad);
    free(f);
    return n;
}
