/* eval_dci.h - disentanglement of a run on a dataset with generative factors (the generated
 * shapes): DCI of the latent codes against the factors, and the two latents most informative
 * about one factor for the paper's Fig. 2 scatter.
 *
 * Codes are z ~ q(z|x) in evaluation mode, as the official encode_set (gwae-spec.md 7).
 * Not here: the forest and the scores (eval/metrics.h), the figure (eval_figures.h).
 */
#ifndef TOOL_EVAL_DCI_H
#define TOOL_EVAL_DCI_H

#include "gwae/data/dataset.h"
#include "gwae/eval/metrics.h"
#include "gwae/model.h"

struct eval_dci {
    struct gw_dci dci;     /* D, C, I, the depth and the importances R[L, factors] */
    int64_t n;             /* images used */
    float *codes;          /* z [n, L] (malloc'ed) */
    int factor;            /* the factor of the scatter (object_hue when there is one) */
    int dims[2];           /* the latents with the highest and second-highest importance for it */
};

/* DCI of the first n images of d (n <= 0: all), which must have factors; draws from rng and
 * the forest seeded by seed. */
void eval_dci_compute(struct gw_model *m, const struct gw_dataset *d, int64_t n,
                      struct tn_rng *rng, uint64_t seed, struct eval_dci *out);

/* Frees what eval_dci_compute allocated. */
void eval_dci_free(struct eval_dci *e);

#endif
