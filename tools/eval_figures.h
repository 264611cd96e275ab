/* eval_figures.h - the PNG figures of `gwae eval`, each written atomically into the run
 * directory:
 *   traversals.png       rows = latent dims, columns = that dim set to its mean -2 .. +2
 *                        standard deviations over 256 test codes (9 steps; codes spread
 *                        on their own scale, which need not be the prior's), the others at
 *                        mu of the first test image
 *   reconstructions.png  10 test images over their reconstructions from mu
 *   samples.png          64 decoded prior samples
 *   loss_curves.png      the loss terms of log.jsonl's step lines and the validation loss
 *   gw_curve.png         L_GW and the solver's GW per epoch (the paper's Fig. 1a)
 *   isometry.png         2-D histogram of (d_Z, d_X) of generated pairs (Fig. 1b)
 *   dci_scatter.png      the two latents most informative about one factor (Fig. 2)
 *   roc.png              ROC curves of out-of-distribution detection (Fig. 3)
 * A figure whose data is absent (no DCI, no OOD set, a log without epochs) is not written.
 */
#ifndef TOOL_EVAL_FIGURES_H
#define TOOL_EVAL_FIGURES_H

#include <stdbool.h>
#include <stddef.h>

#include "eval_dci.h"
#include "gwae/data/dataset.h"
#include "gwae/model.h"

/* One ROC curve of roc.png. */
struct eval_roc_curve {
    const char *name;
    const double *fpr, *tpr;
    int64_t points;
    double auc;
};

/* What eval_figures_write draws; NULL or 0 fields leave their figure out. */
struct eval_figure_set {
    const char *dir;
    struct gw_model *model;
    const struct gw_dataset *test;
    uint64_t seed;
    const double *dz, *dx;        /* isometry distances of pairs generated pairs */
    int64_t pairs;
    bool squared;                 /* dz, dx are squared distances (vis.py) */
    double correlation;
    const struct eval_dci *dci;   /* codes and the chosen dims */
    struct eval_roc_curve roc[2];
    int n_roc;
};

/* Writes every figure of f; false with the reason in err. */
bool eval_figures_write(const struct eval_figure_set *f, char *err, size_t size);

/* The plots read from data (plot.h): loss_curves.png and gw_curve.png from dir/log.jsonl,
 * isometry.png, dci_scatter.png and roc.png from f. false with the reason in err. */
bool eval_plots_write(const struct eval_figure_set *f, char *err, size_t size);

/* Writes traversals.png (see the top of this file) for the first image of d. */
enum tn_status eval_traversals_png(struct gw_model *m, const struct gw_dataset *d, const char *path);

#endif
