/* eval_ood.h - out-of-distribution scores by the critic's Kantorovich potential (the paper's
 * Fig. 3): one score per image, a higher score meaning "more out of distribution".
 *
 * The official clu.py scores an image x by f(Dec(z), z) with z ~ q(z|x) (EVAL_OOD_DECODED,
 * the default); EVAL_OOD_DATA scores the inference pair itself, f(x, z). The critic's sign
 * is the code's: it is trained to raise f on generative pairs and lower it on data pairs
 * (gwae-spec.md 4.4), and the score is f as computed, without a sign flip, as clu.py uses it.
 * Not here: the ROC computation (gw_roc) and the figure.
 */
#ifndef TOOL_EVAL_OOD_H
#define TOOL_EVAL_OOD_H

#include "gwae/data/dataset.h"
#include "gwae/model.h"

enum eval_ood_score {
    EVAL_OOD_DECODED, /* f(Dec(z), z), z ~ q(z|x) */
    EVAL_OOD_DATA,    /* f(x, z), z ~ q(z|x) */
};

/* Scores of the first n images of d (n <= 0: all) into out[n]; returns n. */
int64_t eval_ood_scores(struct gw_model *m, const struct gw_dataset *d, int64_t n,
                        enum eval_ood_score kind, struct tn_rng *rng, double *out);

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
                     const struct gw_dataset *ood, int64_t n_ood, enum eval_ood_score kind,
                     struct tn_rng *rng, struct eval_ood_result *r);

/* Frees the curve of r. */
void eval_ood_free(struct eval_ood_result *r);

#endif
