/* eval_ood.h - out-of-distribution detection with a model's own score (gw_model_ops.
 * ood_score): one score per image, a higher score meaning "more out of distribution", and the
 * ROC of held-out images against in-distribution ones (the paper's Fig. 3 for GWAE).
 *
 * GWAE scores an image by its critic's Kantorovich potential: f(Dec(z), z) with z ~ q(z|x) as
 * the official clu.py ("decoded", its default), or f(x, z) ("data"), without a sign flip; the
 * VAE family by its negative ELBO; the AE and the WAE by their reconstruction error. The names
 * are the model entry's ood_scores. Not here: the ROC computation (gw_roc) and the figure.
 */
#ifndef TOOL_EVAL_OOD_H
#define TOOL_EVAL_OOD_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"

/* Scores of kind (an index into the model's ood_scores) of the first n images of d (n <= 0:
 * all) into out[n]; returns n. The model must have a score. */
int64_t eval_ood_scores(struct gw_model *m, const struct gw_dataset *d, int64_t n, int kind,
                        struct tn_rng *rng, double *out);

/* The ROC of one out-of-distribution set against the in-distribution one. */
struct eval_ood_result {
    int64_t n_id, n_ood;
    double auc;        /* P(an OOD score exceeds an in-distribution one), ties counting half */
    double *fpr, *tpr; /* the curve (malloc'ed), points long */
    int64_t points;
};

/* Scores the first n_id images of id and n_ood of ood (<= 0: all) and their ROC, the OOD
 * images being the positives. Free r with eval_ood_free. */
void eval_ood_detect(struct gw_model *m, const struct gw_dataset *id, int64_t n_id,
                     const struct gw_dataset *ood, int64_t n_ood, int kind, struct tn_rng *rng,
                     struct eval_ood_result *r);

/* Frees the curve of r. */
void eval_ood_free(struct eval_ood_result *r);

#endif
