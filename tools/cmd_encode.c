/* cmd_encode.c - `gwae encode RUN_DIR`: the latent means of a split, with the labels or
 * generative factors the dataset knows, for other tools (disentanglement metrics, plots).
 *
 * CSV: one header line (z0 .. z{L-1}, then the factor names such as "label" or "floor_hue")
 * and one row per image. .npy: the latents [N, L] in FILE and, when the dataset has labels or
 * factors, [N, F] in FILE with ".npy" replaced by ".factors.npy". Both are written atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "npy.h"
#include "session.h"
#include "tool.h"

static const char *const encode_names[] = {"split", "out", "limit", "checkpoint", "data", "threads",
                                           "device", "max-data-memory", NULL};

static const char encode_usage[] =
    "usage: gwae encode RUN_DIR [--split test|valid|train] [--out FILE.npy|FILE.csv] [--limit N]\n\n"
    "Writes the mean of q(z|x) for every image of the split (evaluation mode). A .csv gets the\n"
    "columns z0..z{L-1} followed by the dataset's labels or factors (label for Fashion-MNIST;\n"
    "floor_hue, wall_hue, object_hue, scale, shape, orientation for shapes). A .npy gets the\n"
    "latents [N, L], and the labels or factors [N, F] go to FILE.factors.npy beside it.\n"
    "Default --out: RUN_DIR/latents_<split>.npy.\n";

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* latents [n, l] and factors [n, f] as one CSV */
static enum tn_status write_csv(const char *path, const float *z, int64_t n, int64_t l,
                                const struct gw_dataset *d) {
    int64_t f = d->factors ? d->n_factors : 0, cols = l + f;
    char(*names)[40] = malloc((size_t)cols * sizeof *names);
    const char **ptrs = malloc((size_t)cols * sizeof *ptrs);
    float *rows = malloc((size_t)(n * cols > 0 ? n * cols : 1) * sizeof *rows);
    TN_CHECK(names && ptrs && rows, "encode", "out of host memory");
    for (int64_t j = 0; j < cols; j++) {
        if (j < l) snprintf(names[j], sizeof names[j], "z%lld", (long long)j);
        else snprintf(names[j], sizeof names[j], "%s", d->factor_names[j - l]);
        ptrs[j] = names[j];
    }
    for (int64_t i = 0; i < n; i++) {
        memcpy(rows + i * cols, z + i * l, (size_t)l * sizeof *rows);
        if (f) memcpy(rows + i * cols + l, d->factors + i * f, (size_t)f * sizeof *rows);
    }
    enum tn_status status = csv_write(path, n, cols, ptrs, rows);
    free(names);
    free(ptrs);
    free(rows);
    return status;
}

int cmd_encode(int argc, char **argv) {
    struct use_options o;
    use_defaults(&o);
    const char *dir;
    int rc = use_parse("encode", encode_usage, encode_names, argc, argv, &o, &dir);
    if (rc) return rc < 0 ? 0 : rc;
    char path[TOOL_PATH_MAX + 64], factors_path[TOOL_PATH_MAX + 80];
    if (o.out[0]) snprintf(path, sizeof path, "%s", o.out);
    else snprintf(path, sizeof path, "%s/latents_%s.npy", dir, o.split);
    bool csv = ends_with(path, ".csv");
    if (!csv && !ends_with(path, ".npy"))
        return tool_fail("encode", TOOL_EXIT_USAGE, "--out %s: the file must end in .npy or .csv", path);
    snprintf(factors_path, sizeof factors_path, "%.*s.factors.npy", (int)(strlen(path) - 4), path);
    struct session ses;
    tn_scope_begin();
    if ((rc = session_open("encode", dir, &o, true, &ses))) {
        tn_scope_end();
        return rc;
    }
    const struct gw_dataset *d = session_split(&ses, o.split);
    float *z;
    int64_t l = ses.model->common.latent, n = eval_encode(ses.model, d, o.limit, NULL, &z);
    enum tn_status status;
    if (csv) {
        status = write_csv(path, z, n, l, d);
    } else {
        status = npy_write(path, n, l, z);
        if (status == TN_OK && d->factors && d->n_factors > 0)
            status = npy_write(factors_path, n, d->n_factors, d->factors);
    }
    free(z);
    bool factors = !csv && d->factors && d->n_factors > 0;
    session_close(&ses);
    tn_scope_end();
    if (status != TN_OK) return tool_fail("encode", TOOL_EXIT_FAIL, "%s", tn_last_error());
    printf("%s: %lld x %lld latents of the %s split\n", path, (long long)n, (long long)l, o.split);
    if (factors) printf("%s: their labels or factors\n", factors_path);
    return 0;
}
