/* eval_dci.c - codes of a factor dataset, their DCI scores and the latents of the scatter.
 *
 * The scatter's factor is object_hue (the paper's Fig. 2) when the dataset has one, else the
 * first factor; its two latents are those with the largest importance R[., factor].
 */
#include "eval_dci.h"

#include <stdlib.h>
#include <string.h>

#include "evaluate.h"

void eval_dci_compute(struct gw_model *m, const struct gw_dataset *d, int64_t n,
                      struct tn_rng *rng, uint64_t seed, struct eval_dci *out) {
    memset(out, 0, sizeof *out);
    TN_CHECK(d->n_factors > 0, "eval_dci_compute", "the dataset has no factors");
    int64_t l = m->common.latent;
    out->n = eval_encode(m, d, n, rng, &out->codes);
    n = out->n;
    out->dci = gw_dci_score(out->codes, n, l, d->factors, d->n_factors, seed);
    out->factor = 0;
    for (int k = 0; k < d->n_factors; k++)
        if (strcmp(d->factor_names[k], "object_hue") == 0) out->factor = k;
    const double *r = out->dci.importance;
    int f = d->n_factors, a = 0;
    for (int j = 1; j < l; j++)
        if (r[j * f + out->factor] > r[a * f + out->factor]) a = j;
    int c = l == 1 ? a : a == 0 ? 1 : 0;
    for (int j = 0; j < l; j++)
        if (j != a && r[j * f + out->factor] > r[c * f + out->factor]) c = j;
    out->dims[0] = a;
    out->dims[1] = c;
}

void eval_dci_free(struct eval_dci *e) {
    gw_dci_free(&e->dci);
    free(e->codes);
    e->codes = NULL;
}
