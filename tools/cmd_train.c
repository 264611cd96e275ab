/* cmd_train.c - `gwae train`: a new run into --out DIR, or --resume DIR.
 *
 * Order of work, so that a bad input changes nothing: parse and check every option; read the
 * run's config.json (resume); check the directory can be written; load the data; build the
 * model; load checkpoint_last (resume). Only then is anything written: config.json and a
 * step-0 checkpoint_last for a new run, a "resume" line in log.jsonl for a resumed one.
 *
 * Training follows the official loop for every model: epochs over shuffled batches of the
 * training split (the permutation of epoch e is drawn from (seed, e), so a resumed run
 * continues mid-epoch with the same batches), each batch one gw_model_train_step (the main
 * step, then the adversary's steps if the model has one); after each epoch the validation loss
 * (mean main loss in evaluation mode), checkpoint_best when it is strictly lower,
 * checkpoint_last, the figures, the GW curve (L_GW and the solver's empirical GW on the first
 * 64 validation images and 64 prior draws of a fixed seed, eval_gw.h; the paper's Fig. 1a),
 * and early stopping once `patience` epochs pass without a new best. The step's terms stay on
 * the model's device and are read only for a log line, a progress redraw, a checkpoint or the
 * end; a non-finite term found there stops the run before anything is saved, so
 * checkpoint_last stays the last good state.
 *
 * A crash never costs the run: every save is atomic, and a checkpoint's counters are
 * resumable whatever the moment (a save at an epoch's last batch records batch == batches per
 * epoch, and a resume from it runs that epoch's end first). SIGINT and SIGTERM let the
 * current step (or epoch end) finish, save checkpoint_last and exit with 128 + the signal and
 * one line saying how to resume; a second signal kills at once (the saves stay atomic).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "eval_gw.h"
#include "evaluate.h"
#include "fault.h"
#include "nn/nn_json.h"
#include "progress.h"
#include "run_dir.h"
#include "session.h"
#include "tool.h"

#define VALID_SALT 0x76616c6964ull   /* seeds of the validation, figure and test draws */
#define FIGURE_SALT 0x666967ull
#define TEST_SALT 0x74657374ull
#define GW_CURVE_SALT 0x67776375ull
#define GW_CURVE_N 64 /* validation images (and prior draws) of the per-epoch GW values */
#define EPOCH_SALT 0x9e3779b97f4a7c15ull
#define SAMPLES_N 64
#define SAMPLES_COLS 8
#define RECON_N 10

/* the signal that asked the run to stop (0: none) */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig) {
    stop_signal = sig;
    signal(sig, SIG_DFL); /* a second one stops at once */
}

struct trainer {
    const char *dir;
    struct tool_settings s;
    struct gw_splits data;
    struct gw_model *model;
    struct nn_ckpt *ckpt;
    struct run_state st;
    struct progress prog;
    struct gw_terms terms;     /* the terms of the last step (on the model's device) */
    bool have_last;            /* a step ran in this session */
    int64_t steps_per_epoch, cap;
    int64_t *perm;
    double session_start;
    int64_t elapsed_base_ms;
    int64_t saved_step;        /* the step checkpoint_last holds */
    double part_val;           /* validation loss of a part epoch at the end (NAN: none) */
    double last_val;           /* validation loss of the last whole epoch (NAN: none) */
    char err[TOOL_PATH_MAX + 512];
};

static void train_usage(const struct tool_settings *d) {
    printf("usage: gwae train [--model NAME] [options] --out DIR\n"
           "       gwae train --resume DIR [--epochs N] [--steps N] [--patience N] [...]\n\n"
           "Trains a model (GWAE by default; gwae models lists them) and writes into DIR:\n"
           "config.json (the resolved settings), log.jsonl\n"
           "(one line per logged step and per epoch), checkpoint_last.safetensors and\n"
           "checkpoint_best.safetensors (lowest validation loss), reconstructions.png and\n"
           "samples.png (refreshed every epoch) and metrics.json (test PSNR, final loss terms).\n"
           "Without options it trains the small default: Fashion-MNIST at 32x32, width 0.25,\n"
           "L = 16, on %lld training images for %d epochs (minutes on 2 cores), with learning\n"
           "rate 5e-4 warmed up over 100 iterations (and, for GWAE, the neural prior, a critic\n"
           "rate of 5e-4 and 2 critic steps) so that so short a run learns.\n"
           "The paper's configuration: --image-size 64 --width 1 --limit 0 --lr 1e-4\n"
           "--warmup-steps 0 --epochs 1000000 (stopped by --patience), and for GWAE\n"
           "--lr-critic 1e-4 --n-critic 5. The options below are those of the model and prior\n"
           "chosen: gwae train --model NAME [--prior NAME] --help shows another's.\n"
           "Training stops at --epochs, at --steps, or after --patience epochs without a new\n"
           "best validation loss, whichever comes first. --resume continues a run where its\n"
           "checkpoint_last left it; it takes the run's config.json and accepts only the Run and\n"
           "Runtime options (an option that would change the model or data is refused).\n"
           "A non-finite loss stops the run (exit 1) and leaves the last good checkpoint.\n",
           (long long)d->limit, d->epochs);
    struct settings_table room;
    opt_print_help(settings_train_table(d, &room), d);
}

/* --resume: the run's settings, with the Run and Runtime options the command line gives */
static int merge_resume(const struct opt_table *t, const struct opt_result *r,
                        const struct tool_settings *cli, struct tool_settings *run, bool *changed) {
    char err[TOOL_PATH_MAX + 512];
    *changed = false;
    for (int i = 0; i < t->n; i++) {
        const struct gw_option *spec = &t->specs[i];
        if (!r->seen[i]) continue;
        char mine[TOOL_PATH_MAX], theirs[TOOL_PATH_MAX];
        opt_format(spec, cli, mine, sizeof mine);
        opt_format(spec, run, theirs, sizeof theirs);
        if (spec->cls == GW_OPT_FIXED && strcmp(mine, theirs) != 0)
            return tool_fail("train", TOOL_EXIT_USAGE, "--%s %s conflicts with the run in %s, which "
                             "has %s = %s; a resumed run keeps its model and data settings",
                             spec->name, mine, cli->resume, spec->name, theirs);
        *changed = *changed || (spec->cls == GW_OPT_RUN && strcmp(mine, theirs) != 0);
        opt_set(spec, run, mine, err, sizeof err);
    }
    return 0;
}

/* reads the terms of the last step to the host; false (tr->err says which term) when one is
 * not finite */
static bool read_terms(struct trainer *tr) {
    gw_terms_read(&tr->terms);
    double value;
    const char *bad = gw_terms_first_bad(&tr->terms, &value);
    if (!bad) return true;
    snprintf(tr->err, sizeof tr->err, "step %lld: %s is not finite (%s; terms are read every "
             "--log-every steps and before every save); stopping. The last good checkpoint is "
             "%s/checkpoint_last.safetensors (step %lld)", (long long)tr->st.step, bad,
             isnan(value) ? "nan" : value > 0 ? "inf" : "-inf", tr->dir, (long long)tr->saved_step);
    return false;
}

/* appends the object w holds to log.jsonl */
static bool log_line(struct trainer *tr, struct nn_json_writer *w) {
    char *line = nn_json_end(w);
    bool ok = line && run_dir_append(tr->dir, "log.jsonl", line, tr->err, sizeof tr->err);
    if (!line) snprintf(tr->err, sizeof tr->err, "out of memory for a log line");
    free(line);
    return ok;
}

static void update_elapsed(struct trainer *tr) {
    tr->st.elapsed_ms = tr->elapsed_base_ms + (int64_t)((tool_now() - tr->session_start) * 1000.0);
}

static bool save(struct trainer *tr, const char *name) {
    if (tr->have_last && !read_terms(tr)) return false; /* never save a model gone non-finite */
    char path[TOOL_PATH_MAX + 64];
    settings_join(path, sizeof path, tr->dir, name);
    update_elapsed(tr);
    if (run_ckpt_save(tr->ckpt, &tr->st, path) != TN_OK) {
        snprintf(tr->err, sizeof tr->err, "%s", tn_last_error());
        return false;
    }
    if (strcmp(name, "checkpoint_last.safetensors") == 0) tr->saved_step = tr->st.step;
    return true;
}

static bool figures(struct trainer *tr) {
    char path[TOOL_PATH_MAX + 64];
    struct tn_rng rng = tn_rng_new(tr->s.seed ^ FIGURE_SALT);
    settings_join(path, sizeof path, tr->dir, "samples.png");
    if (eval_samples_png(tr->model, path, SAMPLES_N, SAMPLES_COLS, &rng) != TN_OK) goto fail;
    settings_join(path, sizeof path, tr->dir, "reconstructions.png");
    if (eval_reconstructions_png(tr->model, &tr->data.test, RECON_N, path) != TN_OK) goto fail;
    return true;
fail:
    snprintf(tr->err, sizeof tr->err, "%s", tn_last_error());
    return false;
}

/* the validation terms into vl (made with gw_model_terms); false when the loss is not finite */
static bool validation_loss(struct trainer *tr, struct gw_terms *vl) {
    fault_point("validate");
    struct tn_rng rng = tn_rng_new(tr->s.seed ^ VALID_SALT);
    eval_losses(tr->model, &tr->data.valid, 0, &rng, vl);
    double loss = gw_terms_get(vl, "loss");
    if (isfinite(loss)) return true;
    snprintf(tr->err, sizeof tr->err, "epoch %lld: the validation loss is not finite (%s); "
             "stopping. The last good checkpoint is %s/checkpoint_last.safetensors (step %lld)",
             (long long)tr->st.epoch + 1, isnan(loss) ? "nan" : loss > 0 ? "inf" : "-inf",
             tr->dir, (long long)tr->saved_step);
    return false;
}

/* validation loss; saves checkpoint_best when strictly lower. -1 on an error, 0 or 1 (new best) */
static int validate(struct trainer *tr, struct gw_terms *vl) {
    if (!validation_loss(tr, vl)) return -1;
    double loss = gw_terms_get(vl, "loss");
    if (!(loss < tr->st.best_val)) return 0;
    tr->st.best_val = loss;
    return save(tr, "checkpoint_best.safetensors") ? 1 : -1;
}

/* a run that stops inside an epoch: its validation loss is reported, and while no epoch has
 * ended it becomes checkpoint_best, so that a run always leaves one; the best loss that
 * checkpoint_best and early stopping compare against stays that of whole epochs, so a run
 * stopped and resumed mid-epoch decides as one that ran straight through */
static bool validate_part_epoch(struct trainer *tr) {
    struct gw_terms vl;
    gw_model_terms(tr->model, &vl);
    bool ok = validation_loss(tr, &vl);
    double loss = gw_terms_get(&vl, "loss");
    gw_terms_free(&vl);
    if (!ok) return false;
    bool first = !isfinite(tr->st.best_val);
    if (first && !save(tr, "checkpoint_best.safetensors")) return false;
    tr->part_val = loss;
    progress_message(&tr->prog, "stopped inside epoch %lld: val_loss %.6g%s", (long long)tr->st.epoch + 1,
                     loss, first ? " (no epoch has ended: checkpoint_best holds this model)" : "");
    return true;
}

/* the GW values of the epoch's model on the fixed validation batch, into w */
static void gw_curve(struct trainer *tr, struct nn_json_writer *w) {
    int64_t n = tr->data.valid.count < GW_CURVE_N ? tr->data.valid.count : GW_CURVE_N;
    struct tn_rng rng = tn_rng_new(tr->s.seed ^ GW_CURVE_SALT);
    struct eval_gw_point p;
    double t0 = tool_now();
    tn_scope_begin();
    eval_gw_batch(tr->model, eval_batch_at(tr->model, &tr->data.valid, 0, n), &rng, &p);
    tn_scope_end();
    nn_json_put_number(w, "gw_estimate", p.estimate);
    nn_json_put_number(w, "gw_solver", p.solver);
    nn_json_put_number(w, "gw_solver_square", p.solver_sq);
    nn_json_put_number(w, "gw_solver_generated", p.solver_gen);
    nn_json_put_number(w, "gw_solver_encoded", p.solver_enc);
    nn_json_put_number(w, "gw_time_s", tool_now() - t0);
}

/* end_epoch with the validation terms' room vl */
static bool end_epoch_with(struct trainer *tr, double epoch_start, struct gw_terms *vl) {
    if (!read_terms(tr)) return false; /* a step gone non-finite, said before validation does */
    int improved = validate(tr, vl);
    if (improved < 0) return false;
    tr->st.epoch++;
    tr->st.epoch_batch = 0;
    tr->st.since_best = improved ? 0 : tr->st.since_best + 1;
    double loss = gw_terms_get(vl, "loss");
    tr->last_val = loss;
    if (!save(tr, "checkpoint_last.safetensors")) return false;
    fault_point("epoch-saved");
    if (!figures(tr)) return false;
    struct nn_json_writer w;
    nn_json_begin(&w, false);
    nn_json_put_string(&w, "event", "epoch");
    nn_json_put_int(&w, "epoch", tr->st.epoch);
    nn_json_put_int(&w, "step", tr->st.step);
    eval_json_terms(&w, "val_", vl);
    nn_json_put_number(&w, "best_val_loss", tr->st.best_val);
    nn_json_put_bool(&w, "improved", improved);
    nn_json_put_number(&w, "epoch_time_s", tool_now() - epoch_start);
    gw_curve(tr, &w);
    if (!log_line(tr, &w)) return false;
    char took[32];
    progress_duration(tool_now() - epoch_start, took, sizeof took);
    progress_message(&tr->prog, "epoch %lld: val_loss %.6g%s (%s)", (long long)tr->st.epoch, loss,
                     improved ? ", new best: checkpoint_best saved" : "", took);
    return true;
}

static bool end_epoch(struct trainer *tr, double epoch_start) {
    struct gw_terms vl;
    gw_model_terms(tr->model, &vl);
    bool ok = end_epoch_with(tr, epoch_start, &vl);
    gw_terms_free(&vl);
    return ok;
}

/* one training iteration on batch b of the epoch; false to stop (tr->err says why) */
static bool train_batch(struct trainer *tr, int64_t b) {
    int64_t n_train = tr->data.train.count, bs = tr->s.model.batch;
    int64_t first = b * bs, k = n_train - first < bs ? n_train - first : bs;
    gw_terms_clear(&tr->terms);
    tn_scope_begin();
    struct tn_tensor *x = tn_to_device(gw_dataset_batch(&tr->data.train, tr->perm + first, k),
                                       tr->model->device);
    double t0 = tool_now();
    gw_model_set_iteration_lr(tr->model, tr->st.step + 1);
    gw_model_train_step(tr->model, x, &tr->st.rng, &tr->terms);
    double step_time = tool_now() - t0;
    tn_scope_end();
    tr->st.step++;
    tr->st.epoch_batch = b + 1;
    tr->have_last = true;
    fault_point("step");
    bool logged = tr->st.step % tr->s.log_every == 0;
    bool shown = progress_due(&tr->prog, tr->st.step, logged);
    if ((logged || shown) && !read_terms(tr)) return false;
    if (logged) {
        struct nn_json_writer w;
        nn_json_begin(&w, false);
        nn_json_put_string(&w, "event", "step");
        nn_json_put_int(&w, "step", tr->st.step);
        nn_json_put_int(&w, "epoch", tr->st.epoch + 1);
        eval_json_terms(&w, "", &tr->terms);
        nn_json_put_number(&w, "step_time_s", step_time);
        update_elapsed(tr);
        nn_json_put_number(&w, "time_s", (double)tr->st.elapsed_ms / 1000.0);
        if (!log_line(tr, &w)) return false;
    }
    if (shown) progress_step(&tr->prog, tr->st.step, tr->st.epoch + 1, &tr->terms);
    if (tr->s.checkpoint_every > 0 && tr->st.step % tr->s.checkpoint_every == 0)
        return save(tr, "checkpoint_last.safetensors");
    return true;
}

/* after SIGINT or SIGTERM: checkpoint_last holds the run as it stands; always false, with the
 * line that says how to go on in tr->err */
static bool interrupted(struct trainer *tr) {
    progress_done(&tr->prog);
    if (tr->saved_step != tr->st.step && !save(tr, "checkpoint_last.safetensors")) return false;
    struct nn_json_writer w;
    nn_json_begin(&w, false);
    nn_json_put_string(&w, "event", "interrupted");
    nn_json_put_int(&w, "step", tr->st.step);
    nn_json_put_string(&w, "signal", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT");
    if (!log_line(tr, &w)) return false;
    snprintf(tr->err, sizeof tr->err, "stopped by %s at step %lld: checkpoint_last holds it; go on "
             "with gwae train --resume %s", stop_signal == SIGTERM ? "SIGTERM" : "SIGINT",
             (long long)tr->st.step, tr->dir);
    return false;
}

/* the epochs; *reason says what ended them. false on an error */
static bool train_loop(struct trainer *tr, const char **reason) {
    int64_t n_train = tr->data.train.count;
    tr->perm = malloc((size_t)n_train * sizeof *tr->perm);
    TN_CHECK(tr->perm, "train", "out of host memory");
    for (;;) {
        if (tr->st.step >= tr->cap) {
            *reason = "steps";
            return true;
        }
        if (tr->st.epoch >= tr->s.epochs) {
            *reason = "epochs";
            return true;
        }
        if (tr->s.patience > 0 && tr->st.since_best >= tr->s.patience) {
            *reason = "patience";
            return true;
        }
        double epoch_start = tool_now();
        struct tn_rng order = tn_rng_new(tr->s.seed + EPOCH_SALT * (uint64_t)(tr->st.epoch + 1));
        gw_permutation(&order, n_train, tr->perm);
        for (int64_t b = tr->st.epoch_batch; b < tr->steps_per_epoch; b++) {
            if (tr->st.step >= tr->cap || stop_signal) break;
            if (!train_batch(tr, b)) return false;
        }
        if (tr->st.epoch_batch == tr->steps_per_epoch && !end_epoch(tr, epoch_start)) return false;
        if (stop_signal) return interrupted(tr);
    }
}

/* after the loop: validation of a part epoch, checkpoint_last, figures, metrics.json */
static bool finish(struct trainer *tr, const char *reason) {
    if (tr->st.epoch_batch != 0 && !validate_part_epoch(tr)) return false;
    if (tr->saved_step != tr->st.step && !save(tr, "checkpoint_last.safetensors")) return false;
    if (!figures(tr)) return false;
    struct tn_rng rng = tn_rng_new(tr->s.seed ^ TEST_SALT);
    struct gw_terms tl;
    gw_model_terms(tr->model, &tl);
    double psnr[2], se[2];
    int64_t n = eval_psnr(tr->model, &tr->data.test, tr->s.eval_limit, &rng, psnr, se);
    eval_losses(tr->model, &tr->data.test, tr->s.eval_limit, &rng, &tl);
    update_elapsed(tr);
    struct nn_json_writer w;
    nn_json_begin(&w, false);
    nn_json_put_string(&w, "eval_version", EVAL_VERSION);
    nn_json_put_string(&w, "model", tr->s.model.model);
    nn_json_put_string(&w, "prior", tr->s.model.prior);
    nn_json_put_string(&w, "checkpoint", "last");
    nn_json_put_int(&w, "steps", tr->st.step);
    nn_json_put_int(&w, "epochs", tr->st.epoch);
    nn_json_put_number(&w, "epoch_progress", (double)tr->st.epoch_batch / (double)tr->steps_per_epoch);
    nn_json_put_string(&w, "stopped_by", reason);
    nn_json_put_number(&w, "wall_time_s", (double)tr->st.elapsed_ms / 1000.0);
    nn_json_put_number(&w, "best_val_loss", tr->st.best_val);
    nn_json_put_number(&w, "final_val_loss", isnan(tr->part_val) ? tr->last_val : tr->part_val);
    nn_json_put_int(&w, "test_images", n);
    nn_json_put_number(&w, "test_psnr_mean", psnr[0]);
    nn_json_put_number(&w, "test_psnr_stderr", se[0]);
    nn_json_put_number(&w, "test_psnr_mu_mean", psnr[1]);
    nn_json_put_number(&w, "test_psnr_mu_stderr", se[1]);
    eval_json_terms(&w, "test_", &tl);
    gw_terms_free(&tl);
    if (tr->have_last) eval_json_terms(&w, "final_", &tr->terms);
    char *update = nn_json_end(&w);
    bool ok = update && run_dir_merge_json(tr->dir, "metrics.json", update, tr->err, sizeof tr->err);
    free(update);
    if (!ok) return false;
    nn_json_begin(&w, false);
    nn_json_put_string(&w, "event", "end");
    nn_json_put_int(&w, "step", tr->st.step);
    nn_json_put_int(&w, "epoch", tr->st.epoch);
    nn_json_put_string(&w, "stopped_by", reason);
    if (!log_line(tr, &w)) return false;
    progress_done(&tr->prog);
    char took[32];
    progress_duration((double)tr->st.elapsed_ms / 1000.0, took, sizeof took);
    char best[64];
    if (isfinite(tr->st.best_val)) snprintf(best, sizeof best, "%.6g", tr->st.best_val);
    else snprintf(best, sizeof best, "none yet (no epoch has ended)");
    printf("gwae train: done after %lld steps, %lld epochs (%s, stopped by %s)\n"
           "  test PSNR %.2f dB +- %.2f (%lld images), best val_loss %s\n"
           "  metrics:  %s/metrics.json\n  figures:  %s/reconstructions.png %s/samples.png\n"
           "  checkpoints: %s/checkpoint_best.safetensors %s/checkpoint_last.safetensors\n",
           (long long)tr->st.step, (long long)tr->st.epoch, took, reason, psnr[0], se[0],
           (long long)n, best, tr->dir, tr->dir, tr->dir, tr->dir, tr->dir);
    return true;
}

/* the value of --name in argv ("--name VALUE" or "--name=VALUE"), or NULL */
static const char *find_arg(int argc, char **argv, const char *name) {
    size_t n = strlen(name);
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, n) != 0) continue;
        if (arg[2 + n] == '=') return arg + 3 + n;
        if (arg[2 + n] == '\0' && a + 1 < argc) return argv[a + 1];
    }
    return NULL;
}

static bool wants_help(int argc, char **argv) {
    for (int a = 0; a < argc; a++)
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) return true;
    return false;
}

/* the model and prior whose options the command line may name: --model and --prior, else the
 * resumed run's, else the default GWAE; 0 or the exit code */
static int choose_model(struct trainer *tr, int argc, char **argv, struct tool_settings *cli) {
    const char *model = find_arg(argc, argv, "model"), *prior = find_arg(argc, argv, "prior");
    const char *resume = find_arg(argc, argv, "resume");
    if (resume && !wants_help(argc, argv)) {
        settings_defaults(&tr->s);
        if (!settings_load_run(resume, &tr->s, tr->err, sizeof tr->err))
            return tool_fail("train", TOOL_EXIT_FAIL, "%s", tr->err);
        if (!model) model = tr->s.model.model;
        if (!prior && strcmp(model, tr->s.model.model) == 0) prior = tr->s.model.prior;
    }
    if (!model && !prior) return 0;
    if (!settings_select(cli, model ? model : cli->model.model, prior, true, tr->err, sizeof tr->err))
        return tool_fail("train", TOOL_EXIT_USAGE, "%s", tr->err);
    return 0;
}

/* options, checks and the run directory, before anything is written; 0 or the exit code */
static int setup(struct trainer *tr, int argc, char **argv, bool *created, bool *run_changed) {
    struct tool_settings cli;
    settings_defaults(&cli);
    int rc = choose_model(tr, argc, argv, &cli);
    if (rc) return rc;
    struct settings_table room;
    const struct opt_table *t = settings_train_table(&cli, &room);
    struct opt_result r;
    if ((rc = opt_parse("train", t, &cli, argc, argv, 0, &r))) return rc;
    if (r.help) {
        train_usage(&cli);
        return -1;
    }
    if (!cli.out[0] && !cli.resume[0])
        return tool_fail("train", TOOL_EXIT_USAGE, "--out DIR (a new run) or --resume DIR is required");
    if (cli.out[0] && cli.resume[0])
        return tool_fail("train", TOOL_EXIT_USAGE, "--out and --resume exclude each other");
    *run_changed = false;
    if (cli.resume[0] && (rc = merge_resume(t, &r, &cli, &tr->s, run_changed))) return rc;
    if (!cli.resume[0]) tr->s = cli;
    if (!settings_check(&tr->s, tr->err, sizeof tr->err))
        return tool_fail("train", TOOL_EXIT_USAGE, "%s", tr->err);
    tr->dir = cli.resume[0] ? tr->s.resume : tr->s.out;
    if (cli.resume[0]) {
        static const char *const outputs[] = {"config.json", "log.jsonl", "metrics.json",
                                              "checkpoint_last.safetensors",
                                              "checkpoint_best.safetensors", "samples.png",
                                              "reconstructions.png", NULL};
        if (!run_dir_check_outputs(tr->dir, outputs, tr->err, sizeof tr->err))
            return tool_fail("train", TOOL_EXIT_FAIL, "%s", tr->err);
        if (!run_dir_has(tr->dir, "checkpoint_last.safetensors"))
            return tool_fail("train", TOOL_EXIT_FAIL, "%s has no checkpoint_last.safetensors to resume from",
                             tr->dir);
    } else if (!run_dir_prepare_new(tr->dir, created, tr->err, sizeof tr->err)) {
        return tool_fail("train", TOOL_EXIT_FAIL, "%s", tr->err);
    }
    return 0;
}

/* data, model and (resume) checkpoint; 0 or the exit code */
static int load(struct trainer *tr, bool resume) {
    int rc = session_load_data("train", &tr->s, &tr->data);
    if (rc) return rc;
    int64_t n = tr->data.train.count, bs = tr->s.model.batch;
    tr->steps_per_epoch = n / bs + (n % bs >= 2 ? 1 : 0);
    tr->s.model.train_size = n;
    tr->st.rng = tn_rng_new(tr->s.seed);
    if ((rc = session_build_model("train", &tr->s, &tr->st.rng, &tr->model))) return rc;
    if (!resume) { /* the model's data-dependent options and initial values (model.h) */
        memcpy(tr->s.model_options, tr->model->options, tr->model->entry->options_size);
        gw_model_init_from_data(tr->model, &tr->data.train, &tr->st.rng);
    }
    gw_model_terms(tr->model, &tr->terms);
    tr->st.best_val = INFINITY;
    tr->ckpt = run_ckpt_full(&tr->s, tr->model, &tr->st);
    if (!resume) return 0;
    char path[TOOL_PATH_MAX + 64];
    settings_join(path, sizeof path, tr->dir, "checkpoint_last.safetensors");
    if (run_ckpt_load(tr->ckpt, &tr->s, &tr->st, path) != TN_OK)
        return tool_fail("train", TOOL_EXIT_FAIL, "%s", tn_last_error());
    /* batch == batches per epoch: a save at an epoch's last batch, its end still to run */
    if (tr->st.step < 0 || tr->st.epoch < 0 || tr->st.epoch_batch < 0 ||
        tr->st.epoch_batch > tr->steps_per_epoch)
        return tool_fail("train", TOOL_EXIT_FAIL, "%s: its counters (step %lld, epoch %lld, batch "
                         "%lld) do not fit the dataset's %lld batches per epoch", path,
                         (long long)tr->st.step, (long long)tr->st.epoch,
                         (long long)tr->st.epoch_batch, (long long)tr->steps_per_epoch);
    tr->saved_step = tr->st.step;
    return 0;
}

/* the first writes of the session: the step-0 checkpoint, then config.json (so that a run
 * directory with a config.json always has a checkpoint to resume from), or a resume line */
static bool start(struct trainer *tr, bool resume, bool run_changed) {
    if (!resume && !save(tr, "checkpoint_last.safetensors")) return false;
    char *config = settings_to_json(&tr->s);
    bool write = !resume || run_changed;
    bool ok = config && (!write || run_dir_write_text(tr->dir, "config.json", config, tr->err,
                                                      sizeof tr->err));
    if (!config) snprintf(tr->err, sizeof tr->err, "out of memory for config.json");
    free(config);
    if (!ok || !resume) return ok;
    struct nn_json_writer w;
    nn_json_begin(&w, false);
    nn_json_put_string(&w, "event", "resume");
    nn_json_put_int(&w, "step", tr->st.step);
    nn_json_put_int(&w, "epoch", tr->st.epoch);
    return log_line(tr, &w);
}

int cmd_train(int argc, char **argv) {
    struct trainer *tr = calloc(1, sizeof *tr);
    TN_CHECK(tr, "train", "out of host memory");
    tr->part_val = tr->last_val = NAN;
    fault_init();
    stop_signal = 0;
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
    bool created = false, run_changed = false;
    tn_scope_begin();
    int rc = setup(tr, argc, argv, &created, &run_changed);
    bool resume = tr->s.resume[0] != '\0';
    if (rc == 0) {
        int removed = run_dir_remove_stale(tr->dir);
        if (removed > 0)
            fprintf(stderr, "gwae train: removed %d temporary file%s left by an interrupted save "
                    "in %s\n", removed, removed == 1 ? "" : "s", tr->dir);
        int threads = settings_apply_threads(&tr->s);
        rc = load(tr, resume);
        if (rc == 0) {
            tr->cap = tr->s.steps > 0 ? tr->s.steps : INT64_MAX;
            int64_t planned = (int64_t)tr->s.epochs * tr->steps_per_epoch;
            progress_init(&tr->prog, tr->st.step, planned < tr->cap ? planned : tr->cap);
            tr->session_start = tool_now();
            tr->elapsed_base_ms = tr->st.elapsed_ms;
            fprintf(stderr, "gwae train: %s %s: %s (prior %s), %s %dx%d, %lld train / %lld valid / "
                    "%lld test images, %lld parameters, %lld steps per epoch, %d threads\n",
                    resume ? "resuming" : "new run", tr->dir, tr->s.model.model, tr->s.model.prior,
                    tr->s.dataset, tr->s.model.image_size,
                    tr->s.model.image_size, (long long)tr->data.train.count,
                    (long long)tr->data.valid.count, (long long)tr->data.test.count,
                    (long long)nn_module_param_count(&tr->model->base),
                    (long long)tr->steps_per_epoch, threads);
            const char *reason = "epochs";
            bool started = start(tr, resume, run_changed);
            if (!started || !train_loop(tr, &reason) || !finish(tr, reason)) {
                progress_done(&tr->prog);
                rc = tool_fail("train", stop_signal ? 128 + stop_signal : TOOL_EXIT_FAIL, "%s",
                               tr->err);
            }
            /* a new run that could not write its first files leaves nothing behind, so that
             * --out can try again (a full disk, say) */
            if (!started && !resume) run_dir_remove_new(tr->dir, created);
        }
        if (rc && created) rmdir(tr->dir); /* only if empty: a started run keeps its files */
    }
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    nn_ckpt_free(tr->ckpt);
    if (tr->model) gw_terms_free(&tr->terms);
    gw_model_free(tr->model);
    gw_splits_free(&tr->data);
    free(tr->perm);
    tn_scope_end();
    free(tr);
    return rc < 0 ? 0 : rc;
}
