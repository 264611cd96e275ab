/* eval_ood.c - a model's out-of-distribution scores of images and their ROC (eval_ood.h).
 *
 * Batches of the model's batch size in evaluation mode (no power iteration), one scope each.
 */
#include "eval_ood.h"

#include <stdlib.h>

#include "evaluate.h"
#include "gwae/eval/metrics.h"

int64_t eval_ood_scores(struct gw_model *m, const struct gw_dataset *d, int64_t n, int kind,
                        struct tn_rng *rng, double *out) {
    TN_CHECK(m->ops->ood_score, "eval_ood_scores", "model %s has no OOD score", m->entry->name);
    n = n <= 0 || n > d->count ? d->count : n;
    int64_t b = m->common.batch;
    float *f = malloc((size_t)b * sizeof *f);
    TN_CHECK(f, "eval_ood_scores", "out of host memory");
    bool grad = eval_begin(m);
    for (int64_t first = 0; first < n; first += b) {
        int64_t k = n - first < b ? n - first : b;
        tn_scope_begin();
        tn_to_host(m->ops->ood_score(m, eval_batch_at(m, d, first, k), kind, rng), f);
        tn_scope_end();
        for (int64_t i = 0; i < k; i++) out[first + i] = f[i];
    }
    eval_end(m, grad);
    free(f);
    return n;
}

void eval_ood_detect(struct gw_model *m, const struct gw_dataset *id, int64_t n_id,
                     const struct gw_dataset *ood, int64_t n_ood, int kind, struct tn_rng *rng,
                     struct eval_ood_result *r) {
    n_id = n_id <= 0 || n_id > id->count ? id->count : n_id;
    n_ood = n_ood <= 0 || n_ood > ood->count ? ood->count : n_ood;
    double *s = malloc((size_t)(n_id + n_ood) * sizeof *s);
    r->fpr = malloc((size_t)(n_id + n_ood + 1) * sizeof *r->fpr);
    r->tpr = malloc((size_t)(n_id + n_ood + 1) * sizeof *r->tpr);
    TN_CHECK(s && r->fpr && r->tpr, "eval_ood_detect", "out of host memory");
    r->n_id = eval_ood_scores(m, id, n_id, kind, rng, s);
    r->n_ood = eval_ood_scores(m, ood, n_ood, kind, rng, s + n_id);
    r->auc = gw_roc(s, r->n_id, s + n_id, r->n_ood, r->fpr, r->tpr, &r->points);
    free(s);
}

void eval_ood_free(struct eval_ood_result *r) {
    free(r->fpr);
    free(r->tpr);
    r->fpr = r->tpr = NULL;
}
