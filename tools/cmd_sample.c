/* cmd_sample.c - `gwae sample RUN_DIR` (decoded prior samples) and `gwae reconstruct RUN_DIR`
 * (images over their reconstructions), each written as one PNG grid.
 *
 * Both run the model in evaluation mode: samples go through the prior with its batch norm on
 * the running statistics; reconstructions decode the mean mu of q(z|x).
 */
#include <stdio.h>

#include "evaluate.h"
#include "session.h"
#include "tool.h"

static const char *const sample_names[] = {"n", "cols", "seed", "out", "checkpoint", "threads",
                                           "device", NULL};

static const char sample_usage[] =
    "usage: gwae sample RUN_DIR [--n N] [--cols C] [--seed S] [--out FILE.png]\n\n"
    "Draws N points from the run's trained prior, decodes them (evaluation mode) and writes\n"
    "them as a PNG grid (default RUN_DIR/sample.png).\n";

int cmd_sample(int argc, char **argv) {
    struct use_options o;
    use_defaults(&o);
    o.n = 64;
    const char *dir;
    int rc = use_parse("sample", sample_usage, sample_names, argc, argv, &o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    char path[TOOL_PATH_MAX + 64];
    if (o.out[0]) snprintf(path, sizeof path, "%s", o.out);
    else settings_join(path, sizeof path, dir, "sample.png");
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("sample", dir, &o, false, &ses))) {
        tn_scope_end();
        return rc;
    }
    struct tn_rng rng = tn_rng_new(o.seed);
    enum tn_status status = eval_samples_png(ses.model, path, (int)o.n, o.cols, &rng);
    session_close(&ses);
    tn_scope_end();
    if (status != TN_OK) return tool_fail("sample", TOOL_EXIT_FAIL, "%s", tn_last_error());
    printf("%s\n", path);
    return 0;
}

static const char *const recon_names[] = {"n", "split", "out", "checkpoint", "data", "threads",
                                          "device", "max-data-memory", NULL};

static const char recon_usage[] =
    "usage: gwae reconstruct RUN_DIR [--n N] [--split test|valid|train] [--out FILE.png]\n\n"
    "Writes the first N images of the split (top row) over their reconstructions decoded from\n"
    "the mean of q(z|x) (bottom row) as a PNG (default RUN_DIR/reconstruct.png).\n";

int cmd_reconstruct(int argc, char **argv) {
    struct use_options o;
    use_defaults(&o);
    o.n = 10;
    const char *dir;
    int rc = use_parse("reconstruct", recon_usage, recon_names, argc, argv, &o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    char path[TOOL_PATH_MAX + 64];
    if (o.out[0]) snprintf(path, sizeof path, "%s", o.out);
    else settings_join(path, sizeof path, dir, "reconstruct.png");
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("reconstruct", dir, &o, true, &ses))) {
        tn_scope_end();
        return rc;
    }
    enum tn_status status = eval_reconstructions_png(ses.model, session_split(&ses, o.split),
                                                     (int)o.n, path);
    session_close(&ses);
    tn_scope_end();
    if (status != TN_OK) return tool_fail("reconstruct", TOOL_EXIT_FAIL, "%s", tn_last_error());
    printf("%s\n", path);
    return 0;
}
