/* cmd_eval.c - `gwae eval RUN_DIR`: test metrics of a run's checkpoint into metrics.json.
 *
 * PSNR follows the official code (gwae-spec.md section 7): per image, 20 log10(1) - 10
 * log10(MSE) over every value, the reconstruction decoded from a sample of q(z|x) in
 * evaluation mode; the same from the mean mu is reported beside it. The loss terms are the
 * means of the main loss terms over test batches in evaluation mode (gw_eval_step). The keys
 * written replace those of the same name in metrics.json (the end of training writes the
 * same keys for the last model); other keys stay.
 */
#include <stdio.h>
#include <stdlib.h>

#include "evaluate.h"
#include "json.h"
#include "run_dir.h"
#include "session.h"
#include "tool.h"

#define TEST_SALT 0x74657374ull /* the draws of the test metrics, as at the end of training */

static const char *const eval_names[] = {"checkpoint", "limit", "data", "threads", NULL};

static const char eval_usage[] =
    "usage: gwae eval RUN_DIR [--checkpoint best|last|FILE] [--limit N] [--data PATH]\n\n"
    "Evaluates a run's checkpoint (checkpoint_best by default) on the test split: PSNR per\n"
    "image (MAX 1) of reconstructions decoded from a sample of q(z|x) (the official metric)\n"
    "and from its mean, with mean and standard error, and the mean loss terms in evaluation\n"
    "mode. Prints them as one JSON object and merges them into RUN_DIR/metrics.json.\n";

int cmd_eval(int argc, char **argv) {
    struct use_options o;
    use_defaults(&o);
    const char *dir;
    int rc = use_parse("eval", eval_usage, eval_names, argc, argv, &o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("eval", dir, &o, true, &ses))) {
        tn_scope_end();
        return rc;
    }
    struct tn_rng rng = tn_rng_new(ses.s.seed ^ TEST_SALT);
    double psnr[2], se[2];
    struct gw_losses tl;
    int64_t n = eval_psnr(ses.model, &ses.data.test, o.limit, &rng, psnr, se);
    eval_losses(ses.model, &ses.data.test, o.limit, &rng, &tl);
    struct json_writer w;
    json_begin(&w, false);
    json_string(&w, "checkpoint", ses.checkpoint_name);
    json_int(&w, "test_images", n);
    json_number(&w, "test_psnr_mean", psnr[0]);
    json_number(&w, "test_psnr_stderr", se[0]);
    json_number(&w, "test_psnr_mu_mean", psnr[1]);
    json_number(&w, "test_psnr_mu_stderr", se[1]);
    json_number(&w, "test_loss", tl.loss);
    json_number(&w, "test_loss_gw", tl.loss_gw);
    json_number(&w, "test_loss_w", tl.loss_w);
    json_number(&w, "test_loss_d", tl.loss_d);
    json_number(&w, "test_loss_h", tl.loss_h);
    json_number(&w, "test_c", tl.c);
    json_number(&w, "test_f_q", tl.f_q);
    json_number(&w, "test_f_p", tl.f_p);
    char *update = json_end(&w), err[TOOL_PATH_MAX + 512];
    session_close(&ses);
    tn_scope_end();
    if (!update) return tool_fail("eval", TOOL_EXIT_FAIL, "out of memory");
    if (!run_dir_merge_json(dir, "metrics.json", update, err, sizeof err)) {
        free(update);
        return tool_fail("eval", TOOL_EXIT_FAIL, "%s", err);
    }
    printf("%s", update);
    free(update);
    return 0;
}
