/* cmd_eval.c - `gwae eval RUN_DIR`: the paper's measurements of a run's checkpoint into
 * RUN_DIR/metrics.json and figures (docs/evaluation.md describes each).
 *
 * PSNR follows the official code (gwae-spec.md section 7): per image, 20 log10(1) - 10
 * log10(MSE) over every value, the reconstruction decoded from a sample of q(z|x) in
 * evaluation mode; the same from the mean mu is reported beside it. The loss terms are the
 * means of the main loss terms over test batches in evaluation mode (gw_eval_step). Then, each
 * unless skipped: L_GW against the GW solver on test batches (eval_gw.h), the isometry of
 * generated pairs, DCI on a factor dataset (eval_dci.h), out-of-distribution AUC by the
 * critic on the held-out classes and, for Fashion-MNIST, on generated shapes (eval_ood.h),
 * Frechet distances in the features of the run's classifier (eval_fid.h), k-NN accuracy of
 * the codes on labelled data (eval_knn.h), and the figures.
 *
 * Every option is checked and the run opened before any work; every file is written at the
 * end, each atomically: the keys written replace those of the same name in metrics.json and
 * other keys stay (the end of training writes some of the same keys for the last model).
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval_dci.h"
#include "eval_fid.h"
#include "eval_figures.h"
#include "eval_gw.h"
#include "eval_knn.h"
#include "eval_ood.h"
#include "evaluate.h"
#include "nn/nn_json.h"
#include "run_dir.h"
#include "session.h"
#include "tool.h"

#define TEST_SALT 0x74657374ull /* the draws of the test metrics, as at the end of training */
#define MEASURE_SALT 0x6d65617375ull /* the draws of the measurements after PSNR and losses */
#define SHAPES_OOD_SEED 0x6f6f64ull

struct eval_options {
    struct use_options use; /* first, so that the shared options' offsets hold here too */
    bool skip_gw, skip_isometry, skip_dci, skip_ood, skip_fid, skip_figures, skip_knn;
    bool retrain_classifier;
    int64_t gw_batches, pairs;
    int classifier_epochs;
    char isometry[16], ood_score[32];
};

#define E(field) offsetof(struct eval_options, field), sizeof(((struct eval_options *)0)->field)

static const char *const isometry_kinds[] = {"scaled", "squared", NULL};
static const char *const shared_names[] = {"checkpoint", "limit", "data", "threads", "device",
                                           "max-data-memory", NULL};

static const struct gw_option eval_specs[] = {
    {"gw-batches", GW_OPT_I64, E(gw_batches), 1, 1e6, NULL, GW_OPT_LOCAL, "Measurements", "N",
     "test batches of L_GW against the GW solver", NULL},
    {"pairs", GW_OPT_I64, E(pairs), 2, 1e7, NULL, GW_OPT_LOCAL, "Measurements", "N",
     "pairs of generated samples in the isometry histogram", NULL},
    {"isometry", GW_OPT_STRING, E(isometry), 1, 0, isometry_kinds, GW_OPT_LOCAL, "Measurements", "KIND",
     "scaled: (C/s)|dz| and |dx| as L_GW; squared: |dz|^2 and |dx|^2 as the official vis.py", NULL},
    {"ood-score", GW_OPT_STRING, E(ood_score), 0, 0, NULL, GW_OPT_LOCAL, "Measurements", "KIND",
     "the model's out-of-distribution score (gwae models lists them; default: its first): "
     "gwae decoded f(Dec(z), z) as the official clu.py or data f(x, z); neg-elbo; recon-error",
     NULL},
    {"classifier-epochs", GW_OPT_INT, E(classifier_epochs), 1, 1000, NULL, GW_OPT_LOCAL,
     "Measurements", "N", "epochs of the feature classifier when one is trained", NULL},
    {"retrain-classifier", GW_OPT_BOOL, E(retrain_classifier), 0, 0, NULL, GW_OPT_LOCAL,
     "Measurements", NULL, "train the feature classifier again even if the run has one", NULL},
    {"skip-gw", GW_OPT_BOOL, E(skip_gw), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no L_GW against the solver", NULL},
    {"skip-isometry", GW_OPT_BOOL, E(skip_isometry), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no isometry histogram", NULL},
    {"skip-dci", GW_OPT_BOOL, E(skip_dci), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL, "no DCI", NULL},
    {"skip-ood", GW_OPT_BOOL, E(skip_ood), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no out-of-distribution detection", NULL},
    {"skip-fid", GW_OPT_BOOL, E(skip_fid), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no classifier and no Frechet distances", NULL},
    {"skip-figures", GW_OPT_BOOL, E(skip_figures), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no PNG figures", NULL},
    {"skip-knn", GW_OPT_BOOL, E(skip_knn), 0, 0, NULL, GW_OPT_LOCAL, "Skipping", NULL,
     "no k-NN classification of the codes", NULL},
};

static const char eval_usage[] =
    "usage: gwae eval RUN_DIR [options]\n\n"
    "Evaluates a run's checkpoint (checkpoint_best by default) on its test split and writes\n"
    "the results into RUN_DIR/metrics.json (also printed) and PNG figures in RUN_DIR:\n"
    "  PSNR (MAX 1) of reconstructions from a sample of q(z|x) and from its mean, the mean\n"
    "  loss terms; L_GW beside the empirical GW of the project's solver on test batches\n"
    "  (gw_*); the isometry of generated pairs (isometry.png, isometry_correlation); DCI and\n"
    "  the Fig. 2 scatter (dci_scatter.png) on the shapes dataset; the ROC and AUC of\n"
    "  out-of-distribution detection by the critic (roc.png) on the held-out classes of a\n"
    "  --holdout-classes run and, for Fashion-MNIST, on generated shapes; Frechet distances in\n"
    "  the features of a classifier the run trains once (classifier.safetensors; not the\n"
    "  Inception FID); traversals.png, reconstructions.png, samples.png, loss_curves.png and\n"
    "  gw_curve.png (from log.jsonl); k-NN accuracy of the test codes against the training\n"
    "  codes on labelled data. The --skip-* options leave parts out; --limit N uses the first\n"
    "  N test images (and N of each out-of-distribution set and, for k-NN, of training\n"
    "  images) everywhere.\n";

static void eval_defaults(struct eval_options *o) {
    memset(o, 0, sizeof *o);
    use_defaults(&o->use);
    o->gw_batches = 10;
    o->pairs = 10000;
    o->classifier_epochs = gw_classifier_defaults().epochs;
    snprintf(o->isometry, sizeof o->isometry, "scaled");
}

#define SKIPS_MAX 8

/* everything eval computes besides PSNR and the losses */
struct results {
    bool gw, isometry, dci, fid, knn;
    int64_t gw_batches;
    struct eval_gw_point gw_mean, gw_se;
    double *dz, *dx, correlation;
    struct eval_dci d;
    struct eval_ood_result ood[2];
    const char *ood_name[2];   /* "heldout", "shapes" */
    int n_ood;
    int ood_kind;              /* index into the model's ood_scores */
    struct eval_fid f;
    struct eval_knn knn_result;
    bool classifier_trained;
    struct {
        const char *what;      /* the metrics.json key after "skipped_" */
        char why[160];
    } skips[SKIPS_MAX];        /* measurements left out, with the reason */
    int n_skips;
};

static void results_free(struct results *r) {
    free(r->dz);
    free(r->dx);
    if (r->dci) eval_dci_free(&r->d);
    for (int i = 0; i < r->n_ood; i++) eval_ood_free(&r->ood[i]);
}

#define DCI_MIN_IMAGES 15 /* two per fold of the 5-fold cross-validation on the 67% split */

/* the first limit images of d (limit <= 0: all) */
static int64_t images_of(const struct gw_dataset *d, int64_t limit) {
    return limit > 0 && limit < d->count ? limit : d->count;
}

/* a measurement left out, with its reason for metrics.json (and stderr when asked for) */
static void skip(struct results *r, const char *what, bool say, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void skip(struct results *r, const char *what, bool say, const char *fmt, ...) {
    if (r->n_skips == SKIPS_MAX) return;
    r->skips[r->n_skips].what = what;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->skips[r->n_skips].why, sizeof r->skips[r->n_skips].why, fmt, ap);
    va_end(ap);
    if (say) fprintf(stderr, "gwae eval: %s left out: %s\n", what, r->skips[r->n_skips].why);
    r->n_skips++;
}

/* the index of the --ood-score the model has ("" for its first), or -1 after the error line */
static int ood_kind(const struct gw_model *m, const char *name) {
    const char *const *kinds = m->entry->ood_scores;
    if (!kinds) return -1;
    if (!name[0]) return 0;
    char known[128] = "";
    for (int i = 0; kinds[i]; i++) {
        if (strcmp(kinds[i], name) == 0) return i;
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", kinds[i]);
    }
    tool_fail("eval", TOOL_EXIT_USAGE, "--ood-score %s: the model %s has the scores: %s", name,
              m->entry->name, known);
    return -2;
}

/* the measurements; 0 or the exit code */
static int measure(struct session *ses, const struct eval_options *o, struct results *r) {
    struct tn_rng rng = tn_rng_new(ses->s.seed ^ MEASURE_SALT);
    int64_t limit = o->use.limit;
    int64_t n_test = images_of(&ses->data.test, limit), batch = ses->s.model.batch;
    if (o->skip_gw) {
        skip(r, "gw", false, "--skip-gw");
    } else {
        int64_t whole = n_test / batch; /* whole batches within --limit */
        r->gw = whole > 0;
        if (r->gw)
            r->gw_batches = eval_gw_split(ses->model, &ses->data.test,
                                          whole < o->gw_batches ? whole : o->gw_batches, &rng,
                                          &r->gw_mean, &r->gw_se);
        else
            skip(r, "gw", true, "%lld test images, a batch of %lld needed", (long long)n_test,
                 (long long)batch);
    }
    if (o->skip_isometry) {
        skip(r, "isometry", false, "--skip-isometry");
    } else {
        r->dz = malloc((size_t)o->pairs * sizeof *r->dz);
        r->dx = malloc((size_t)o->pairs * sizeof *r->dx);
        TN_CHECK(r->dz && r->dx, "eval", "out of host memory");
        eval_isometry(ses->model, o->pairs, strcmp(o->isometry, "squared") == 0, &rng, r->dz, r->dx);
        r->correlation = gw_correlation(r->dz, r->dx, o->pairs);
        r->isometry = true;
    }
    if (o->skip_dci) {
        skip(r, "dci", false, "--skip-dci");
    } else if (strcmp(ses->s.dataset, "shapes") != 0) {
        skip(r, "dci", false, "the dataset %s has no generative factors (shapes has)",
             ses->s.dataset);
    } else {
        r->dci = n_test >= DCI_MIN_IMAGES;
        if (r->dci) eval_dci_compute(ses->model, &ses->data.test, limit, &rng, ses->s.seed, &r->d);
        else skip(r, "dci", true, "%lld test images, %d needed", (long long)n_test, DCI_MIN_IMAGES);
    }
    bool heldout = ses->data.held_out.count > 0, fashion = strcmp(ses->s.dataset, "fashion-mnist") == 0;
    if (o->skip_ood) {
        skip(r, "ood", false, "--skip-ood");
    } else if (r->ood_kind < 0) {
        skip(r, "ood", false, "the model %s has no out-of-distribution score", ses->s.model.model);
    } else if (!heldout && !fashion) {
        skip(r, "ood", false, "no held-out classes and no second dataset for %s", ses->s.dataset);
    }
    if (!o->skip_ood && r->ood_kind >= 0 && heldout) {
        r->ood_name[r->n_ood] = "heldout";
        eval_ood_detect(ses->model, &ses->data.test, limit, &ses->data.held_out, limit, r->ood_kind,
                        &rng, &r->ood[r->n_ood++]);
    }
    if (!o->skip_ood && r->ood_kind >= 0 && fashion) {
        struct gw_dataset shapes;
        if (gw_shapes_generate(n_test, ses->s.model.image_size, SHAPES_OOD_SEED, &shapes) != TN_OK)
            return tool_fail("eval", TOOL_EXIT_FAIL, "%s", tn_last_error());
        r->ood_name[r->n_ood] = "shapes";
        eval_ood_detect(ses->model, &ses->data.test, limit, &shapes, limit, r->ood_kind, &rng,
                        &r->ood[r->n_ood++]);
        gw_dataset_free(&shapes);
    }
    if (o->skip_fid) {
        skip(r, "fid", false, "--skip-fid");
    } else if (n_test < 2) {
        skip(r, "fid", true, "%lld test images, 2 needed", (long long)n_test);
    } else {
        struct gw_classifier_options co = gw_classifier_defaults();
        co.epochs = o->classifier_epochs;
        struct gw_classifier *c;
        int rc = eval_classifier_obtain("eval", ses, &co, o->retrain_classifier, &c,
                                        &r->classifier_trained);
        if (rc) return rc;
        eval_fid_compute(ses, c, limit, &rng, &r->f);
        gw_classifier_free(c);
        r->fid = true;
    }
    char why[160] = "--skip-knn";
    r->knn = !o->skip_knn && eval_knn_compute(ses->model, &ses->data, limit, &r->knn_result, why,
                                              sizeof why);
    if (!r->knn) skip(r, "knn", false, "%s", why);
    return 0;
}

static void put_pair(struct nn_json_writer *w, const char *key, double mean, double se) {
    char k[96];
    snprintf(k, sizeof k, "%s_mean", key);
    nn_json_put_number(w, k, mean);
    snprintf(k, sizeof k, "%s_stderr", key);
    nn_json_put_number(w, k, se);
}

static void put_results(struct nn_json_writer *w, const struct session *ses,
                        const struct eval_options *o, const struct results *r) {
    if (r->gw) {
        nn_json_put_int(w, "gw_batches", r->gw_batches);
        nn_json_put_int(w, "gw_batch_size", ses->s.model.batch);
        put_pair(w, "gw_estimate", r->gw_mean.estimate, r->gw_se.estimate);
        put_pair(w, "gw_solver", r->gw_mean.solver, r->gw_se.solver);
        put_pair(w, "gw_solver_square", r->gw_mean.solver_sq, r->gw_se.solver_sq);
        put_pair(w, "gw_solver_generated", r->gw_mean.solver_gen, r->gw_se.solver_gen);
        put_pair(w, "gw_solver_encoded", r->gw_mean.solver_enc, r->gw_se.solver_enc);
    }
    if (r->isometry) {
        nn_json_put_int(w, "isometry_pairs", o->pairs);
        nn_json_put_string(w, "isometry_distances", o->isometry);
        nn_json_put_number(w, "isometry_correlation", r->correlation);
    }
    if (r->dci) {
        nn_json_put_int(w, "dci_images", r->d.n);
        nn_json_put_number(w, "dci_disentanglement", r->d.dci.disentanglement);
        nn_json_put_number(w, "dci_completeness", r->d.dci.completeness);
        nn_json_put_number(w, "dci_informativeness", r->d.dci.informativeness);
        nn_json_put_int(w, "dci_max_depth", r->d.dci.max_depth);
        nn_json_put_string(w, "dci_scatter_factor", ses->data.test.factor_names[r->d.factor]);
        nn_json_put_int(w, "dci_scatter_dim_first", r->d.dims[0]);
        nn_json_put_int(w, "dci_scatter_dim_second", r->d.dims[1]);
    }
    if (r->n_ood) nn_json_put_string(w, "ood_score", ses->model->entry->ood_scores[r->ood_kind]);
    for (int i = 0; i < r->n_ood; i++) {
        char k[64];
        snprintf(k, sizeof k, "ood_%s_auc", r->ood_name[i]);
        nn_json_put_number(w, k, r->ood[i].auc);
        snprintf(k, sizeof k, "ood_%s_images", r->ood_name[i]);
        nn_json_put_int(w, k, r->ood[i].n_ood);
    }
    if (r->n_ood) nn_json_put_int(w, "ood_in_distribution_images", r->ood[0].n_id);
    if (r->fid) {
        nn_json_put_int(w, "fd_images", r->f.images);
        nn_json_put_number(w, "fd_classifier_accuracy", r->f.accuracy);
        nn_json_put_bool(w, "fd_classifier_trained_now", r->classifier_trained);
        nn_json_put_number(w, "fd_prior", r->f.prior);
        nn_json_put_number(w, "fd_reconstruction", r->f.reconstruction);
        nn_json_put_number(w, "fd_train_test", r->f.train_test);
    }
    if (r->knn) eval_knn_json(w, &r->knn_result);
    for (int i = 0; i < r->n_skips; i++) {
        char k[64];
        snprintf(k, sizeof k, "skipped_%s", r->skips[i].what);
        nn_json_put_string(w, k, r->skips[i].why);
    }
}

/* the figures; false with the reason in err */
static bool figures(struct session *ses, const struct eval_options *o, const struct results *r,
                    char *err, size_t size) {
    struct eval_figure_set f = {0};
    f.dir = ses->dir;
    f.model = ses->model;
    f.test = &ses->data.test;
    f.seed = ses->s.seed;
    if (r->isometry) {
        f.dz = r->dz;
        f.dx = r->dx;
        f.pairs = o->pairs;
        f.squared = strcmp(o->isometry, "squared") == 0;
        f.correlation = r->correlation;
    }
    if (r->dci) f.dci = &r->d;
    for (int i = 0; i < r->n_ood; i++) {
        f.roc[i].name = r->ood_name[i];
        f.roc[i].fpr = r->ood[i].fpr;
        f.roc[i].tpr = r->ood[i].tpr;
        f.roc[i].points = r->ood[i].points;
        f.roc[i].auc = r->ood[i].auc;
    }
    f.n_roc = r->n_ood;
    return eval_figures_write(&f, err, size);
}

int cmd_eval(int argc, char **argv) {
    struct eval_options o;
    eval_defaults(&o);
    const char *dir = NULL;
    int rc = use_parse_extra("eval", eval_usage, shared_names, eval_specs,
                             (int)(sizeof eval_specs / sizeof eval_specs[0]), argc, argv, &o,
                             sizeof o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("eval", dir, &o.use, true, &ses))) {
        tn_scope_end();
        return rc;
    }
    /* every file eval may write, checked before hours of work rather than after */
    static const char *const outputs[] = {"metrics.json", EVAL_CLASSIFIER_FILE, "traversals.png",
                                          "samples.png", "reconstructions.png", "loss_curves.png",
                                          "gw_curve.png", "isometry.png", "dci_scatter.png",
                                          "roc.png", NULL};
    char why[TOOL_PATH_MAX + 512];
    if (!run_dir_check_outputs(ses.dir, outputs, why, sizeof why)) {
        session_close(&ses);
        tn_scope_end();
        return tool_fail("eval", TOOL_EXIT_FAIL, "%s", why);
    }
    struct results res = {0};
    res.ood_kind = ood_kind(ses.model, o.ood_score);
    if (res.ood_kind == -2) {
        session_close(&ses);
        tn_scope_end();
        return TOOL_EXIT_USAGE;
    }
    double t0 = tool_now();
    struct tn_rng rng = tn_rng_new(ses.s.seed ^ TEST_SALT);
    double psnr[2], se[2];
    struct gw_terms tl;
    gw_model_terms(ses.model, &tl);
    int64_t n = eval_psnr(ses.model, &ses.data.test, o.use.limit, &rng, psnr, se);
    eval_losses(ses.model, &ses.data.test, o.use.limit, &rng, &tl);
    char err[TOOL_PATH_MAX + 512];
    rc = measure(&ses, &o, &res);
    if (!rc && !o.skip_figures && !figures(&ses, &o, &res, err, sizeof err))
        rc = tool_fail("eval", TOOL_EXIT_FAIL, "%s", err);
    char *update = NULL;
    if (!rc) {
        struct nn_json_writer w;
        nn_json_begin(&w, false);
        nn_json_put_string(&w, "eval_version", EVAL_VERSION);
        nn_json_put_string(&w, "model", ses.s.model.model);
        nn_json_put_string(&w, "prior", ses.s.model.prior);
        nn_json_put_string(&w, "checkpoint", ses.checkpoint_name);
        nn_json_put_int(&w, "test_images", n);
        put_pair(&w, "test_psnr", psnr[0], se[0]);
        put_pair(&w, "test_psnr_mu", psnr[1], se[1]);
        eval_json_terms(&w, "test_", &tl);
        put_results(&w, &ses, &o, &res);
        nn_json_put_number(&w, "eval_time_s", tool_now() - t0);
        update = nn_json_end(&w);
        if (!update) rc = tool_fail("eval", TOOL_EXIT_FAIL, "out of memory");
    }
    results_free(&res);
    gw_terms_free(&tl);
    session_close(&ses);
    tn_scope_end();
    if (!rc && !run_dir_merge_json(dir, "metrics.json", update, err, sizeof err))
        rc = tool_fail("eval", TOOL_EXIT_FAIL, "%s", err);
    if (!rc) printf("%s", update);
    free(update);
    return rc;
}
