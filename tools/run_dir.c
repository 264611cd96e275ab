/* run_dir.c - the run directory's files: preparing it, atomic and appending writes, merging
 * metrics.json, and the checkpoint lists of a run.
 *
 * Checkpoint names: the model's tensors under their dotted names with no prefix
 * ("encoder.trunk.0.weight", "log_c"), each parameter group's optimizer under "optim.<group>"
 * ("optim.main", "optim.critic"), the generator as "rng", counters "run.step", "run.epoch",
 * "run.epoch_batch", "run.since_best", "run.elapsed_ms", and as free metadata the fingerprint
 * "gwae.config" (compared key by key on load) and the best validation loss "run.best_val_loss"
 * (a double does not fit a float tensor).
 */
#define _POSIX_C_SOURCE 200809L

#include "run_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn/nn_file.h"
#include "nn/nn_json.h"
#include "settings.h"

/* mkdir -p dir; false with errno set */
static bool make_dirs(const char *dir) {
    char path[TOOL_PATH_MAX];
    if (strlen(dir) >= sizeof path) {
        errno = ENAMETOOLONG;
        return false;
    }
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return false;
        *p = '/';
    }
    return mkdir(path, 0777) == 0 || errno == EEXIST;
}

bool run_dir_writable(const char *dir, char *err, size_t size) {
    char probe[TOOL_PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/.gwae-write-test.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        snprintf(err, size, "cannot write in %s: %s", dir, strerror(errno));
        return false;
    }
    close(fd);
    unlink(probe);
    return true;
}

/* the files of a run that a new run would overwrite */
static const char *const run_files[] = {"log.jsonl", "checkpoint_last.safetensors",
                                        "checkpoint_best.safetensors", "metrics.json"};

bool run_dir_check_outputs(const char *dir, const char *const *names, char *err, size_t size) {
    if (!run_dir_writable(dir, err, size)) return false;
    char path[TOOL_PATH_MAX + 64];
    struct stat sb;
    for (const char *const *n = names; *n; n++)
        if (settings_join(path, sizeof path, dir, *n) && lstat(path, &sb) == 0 &&
            !S_ISREG(sb.st_mode)) {
            snprintf(err, size, "%s is %s: nothing is written through or over it", path,
                     S_ISLNK(sb.st_mode) ? "a symbolic link" : "not a regular file");
            return false;
        }
    return true;
}

bool run_dir_prepare_new(const char *dir, bool *created, char *err, size_t size) {
    struct stat sb;
    *created = false;
    if (stat(dir, &sb) == 0) {
        if (!S_ISDIR(sb.st_mode)) {
            snprintf(err, size, "%s exists and is not a directory", dir);
            return false;
        }
        if (run_dir_has(dir, "config.json")) {
            snprintf(err, size, "%s already holds a run (config.json); continue it with --resume %s "
                     "or choose another --out", dir, dir);
            return false;
        }
        for (size_t i = 0; i < sizeof run_files / sizeof run_files[0]; i++)
            if (run_dir_has(dir, run_files[i])) {
                snprintf(err, size, "%s holds %s of another run (but no config.json); choose "
                         "another --out, or move the files away", dir, run_files[i]);
                return false;
            }
    } else {
        if (!make_dirs(dir)) {
            snprintf(err, size, "cannot create %s: %s", dir, strerror(errno));
            return false;
        }
        *created = true;
    }
    if (!run_dir_writable(dir, err, size)) {
        if (*created) rmdir(dir);
        *created = false;
        return false;
    }
    return true;
}

void run_dir_remove_new(const char *dir, bool created) {
    char path[TOOL_PATH_MAX + 64];
    const char *names[] = {"config.json", "checkpoint_last.safetensors"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (settings_join(path, sizeof path, dir, names[i])) unlink(path);
    if (created) rmdir(dir);
}

/* the pid of "<name>.tmp.<pid>", or 0 when name is not such a file */
static long tmp_pid(const char *name) {
    const char *p = strstr(name, ".tmp.");
    if (!p || p == name) return 0;
    p += 5;
    char *end;
    long pid = strtol(p, &end, 10);
    return *p && *end == '\0' && pid > 0 ? pid : 0;
}

int run_dir_remove_stale(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    struct dirent *e;
    char path[TOOL_PATH_MAX + 300];
    while ((e = readdir(d))) {
        long pid = tmp_pid(e->d_name);
        if (pid == 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* its writer may be alive */
        if (settings_join(path, sizeof path, dir, e->d_name) && unlink(path) == 0) removed++;
    }
    closedir(d);
    return removed;
}

bool run_dir_has(const char *dir, const char *name) {
    char path[TOOL_PATH_MAX + 64];
    struct stat sb;
    return settings_join(path, sizeof path, dir, name) && stat(path, &sb) == 0;
}

bool run_dir_write_text(const char *dir, const char *name, const char *text, char *err, size_t size) {
    char path[TOOL_PATH_MAX + 64];
    if (!settings_join(path, sizeof path, dir, name)) {
        snprintf(err, size, "%s: path too long", dir);
        return false;
    }
    if (nn_write_file_atomic(path, text, strlen(text)) != TN_OK) {
        snprintf(err, size, "%s", tn_last_error());
        return false;
    }
    return true;
}

bool run_dir_append(const char *dir, const char *name, const char *line, char *err, size_t size) {
    char path[TOOL_PATH_MAX + 64];
    if (!settings_join(path, sizeof path, dir, name)) {
        snprintf(err, size, "%s: path too long", dir);
        return false;
    }
    /* no symbolic link (O_NOFOLLOW), and nothing that could block (O_NONBLOCK: a FIFO) */
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        int saved = errno;
        if (fd >= 0) close(fd);
        snprintf(err, size, "cannot append to %s: %s", path,
                 fd >= 0 ? "not a regular file" : saved == ELOOP ? "it is a symbolic link"
                                                                 : strerror(saved));
        return false;
    }
    size_t len = strlen(line);
    ssize_t n = write(fd, line, len);
    int saved = errno;
    close(fd);
    if (n != (ssize_t)len) {
        snprintf(err, size, "writing %s failed: %s", path, n < 0 ? strerror(saved) : "short write");
        return false;
    }
    return true;
}

/* re-emits one parsed pair in w */
static void put_pair(struct nn_json_writer *w, const struct nn_json_pair *p) {
    if (p->type == NN_JSON_STRING) nn_json_put_string(w, p->key, p->text);
    else nn_json_put_raw(w, p->key, p->text);
}

bool run_dir_merge_json(const char *dir, const char *name, const char *update, char *err,
                        size_t size) {
    char path[TOOL_PATH_MAX + 64], why[256];
    if (!settings_join(path, sizeof path, dir, name)) {
        snprintf(err, size, "%s: path too long", dir);
        return false;
    }
    struct nn_json_flat old = {0}, new_pairs;
    size_t len;
    char *text = nn_json_read_file(path, &len);
    if (text) {
        bool ok = nn_json_flat_parse(text, len, &old, why, sizeof why);
        free(text);
        if (!ok) {
            nn_json_flat_free(&old);
            snprintf(err, size, "%s: %s (not replaced)", path, why);
            return false;
        }
    }
    if (!nn_json_flat_parse(update, strlen(update), &new_pairs, why, sizeof why)) {
        nn_json_flat_free(&old);
        nn_json_flat_free(&new_pairs);
        snprintf(err, size, "metrics: %s", why);
        return false;
    }
    struct nn_json_writer w;
    nn_json_begin(&w, true);
    for (int i = 0; i < old.n; i++) {
        const struct nn_json_pair *p = nn_json_flat_get(&new_pairs, old.pairs[i].key);
        put_pair(&w, p ? p : &old.pairs[i]);
    }
    for (int i = 0; i < new_pairs.n; i++)
        if (!nn_json_flat_get(&old, new_pairs.pairs[i].key)) put_pair(&w, &new_pairs.pairs[i]);
    nn_json_flat_free(&old);
    nn_json_flat_free(&new_pairs);
    char *merged = nn_json_end(&w);
    if (!merged) {
        snprintf(err, size, "%s: out of memory", path);
        return false;
    }
    bool ok = nn_write_file_atomic(path, merged, strlen(merged)) == TN_OK;
    if (!ok) snprintf(err, size, "%s", tn_last_error());
    free(merged);
    return ok;
}

/* ---- checkpoints ---- */

/* the model's tensors and its fingerprint (free metadata: run_ckpt_load compares it key by key,
 * so that fingerprints written before a setting existed, or in another order, still match) */
static void add_model(struct nn_ckpt *c, const struct tool_settings *s, struct gw_model *m) {
    char fingerprint[2048];
    settings_fingerprint(s, fingerprint, sizeof fingerprint);
    nn_ckpt_set_meta(c, "gwae.config", fingerprint);
    nn_ckpt_add_module(c, "", &m->base);
}

struct nn_ckpt *run_ckpt_full(const struct tool_settings *s, struct gw_model *m,
                              struct run_state *st) {
    struct nn_ckpt *c = nn_ckpt_new();
    add_model(c, s, m);
    for (int g = 0; g < m->n_groups; g++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "optim.%s", m->groups[g].name);
        nn_ckpt_add_optim(c, prefix, m->groups[g].optim);
    }
    nn_ckpt_add_rng(c, "rng", &st->rng);
    nn_ckpt_add_i64(c, "run.step", &st->step);
    nn_ckpt_add_i64(c, "run.epoch", &st->epoch);
    nn_ckpt_add_i64(c, "run.epoch_batch", &st->epoch_batch);
    nn_ckpt_add_i64(c, "run.since_best", &st->since_best);
    nn_ckpt_add_i64(c, "run.elapsed_ms", &st->elapsed_ms);
    return c;
}

struct nn_ckpt *run_ckpt_model(const struct tool_settings *s, struct gw_model *m) {
    struct nn_ckpt *c = nn_ckpt_new();
    add_model(c, s, m);
    nn_ckpt_allow_extra(c, true);
    return c;
}

enum tn_status run_ckpt_save(struct nn_ckpt *c, const struct run_state *st, const char *path) {
    char text[40];
    if (isfinite(st->best_val)) nn_json_format_double(st->best_val, text, sizeof text);
    else snprintf(text, sizeof text, "inf");
    nn_ckpt_set_meta(c, "run.best_val_loss", text);
    return nn_ckpt_save(c, path);
}

/* the value of key in a "k=v k=v" fingerprint, copied into out: an option added later and
 * left out at its legacy value reads as that value, anything else absent as "(none)"; false
 * when key is absent */
static void fingerprint_value(const char *fp, const char *key, char *out, size_t size) {
    size_t k = strlen(key);
    for (const char *p = fp; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
        if (strncmp(p, key, k) == 0 && p[k] == '=') {
            size_t n = strcspn(p + k + 1, " ");
            snprintf(out, size, "%.*s", (int)n, p + k + 1);
            return;
        }
    const char *legacy = settings_legacy_value(key);
    snprintf(out, size, "%s", legacy ? legacy : "(none)");
}

/* true when the fingerprint fp has key */
static bool has_key(const char *fp, const char *key) {
    size_t k = strlen(key);
    for (const char *p = fp; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL)
        if (strncmp(p, key, k) == 0 && p[k] == '=') return true;
    return false;
}

/* The first key of `keys` (a fingerprint) whose value differs between have and want, with
 * both values; false when none does. A retired key (settings_retired_key) that want lacks is
 * not compared: runs from before the model registry recorded it for every prior. */
static bool first_difference(const char *keys, const char *have, const char *want, char *key,
                             char *a, char *b) {
    for (const char *p = keys; p && *p; p = strchr(p, ' '), p = p ? p + 1 : NULL) {
        snprintf(key, 64, "%.*s", (int)strcspn(p, "="), p);
        if (settings_retired_key(key) && !has_key(want, key)) continue;
        fingerprint_value(have, key, a, 64);
        fingerprint_value(want, key, b, 64);
        if (strcmp(a, b) != 0) return true;
    }
    return false;
}

/* refuses a checkpoint whose fingerprint differs from the model's, naming the first setting
 * that differs, before the list's own (longer) check message would */
static enum tn_status check_fingerprint(const char *want, const char *path) {
    struct nn_ckpt *probe = nn_ckpt_new();
    nn_ckpt_allow_extra(probe, true);
    enum tn_status status = nn_ckpt_load(probe, path);
    const char *have = status == TN_OK ? nn_ckpt_meta(probe, "gwae.config") : NULL;
    if (status == TN_OK && !have)
        status = tn_error(TN_ERR_INVALID, "%s is not a gwae checkpoint (it has no gwae.config)", path);
    char key[64], a[64], b[64];
    /* the keys of this run's fingerprint, then those only the checkpoint's has */
    if (status == TN_OK && strcmp(have, want) != 0 &&
        (first_difference(want, have, want, key, a, b) ||
         first_difference(have, have, want, key, a, b)))
        status = tn_error(TN_ERR_INVALID, "%s was written for another configuration: %s is %s "
                          "there and %s in this run's config.json", path, key, a, b);
    nn_ckpt_free(probe);
    return status;
}

enum tn_status run_ckpt_load(struct nn_ckpt *c, const struct tool_settings *s,
                             struct run_state *st, const char *path) {
    char want[2048];
    settings_fingerprint(s, want, sizeof want);
    enum tn_status status = check_fingerprint(want, path);
    if (status == TN_OK) status = nn_ckpt_load(c, path);
    if (status != TN_OK) return status;
    nn_ckpt_set_meta(c, "gwae.config", want); /* later saves carry this run's own form */
    if (!st) return TN_OK;
    const char *text = nn_ckpt_meta(c, "run.best_val_loss");
    char *end = NULL;
    st->best_val = text ? strtod(text, &end) : INFINITY;
    if (!text || *end != '\0' || isnan(st->best_val))
        return tn_error(TN_ERR_INVALID, "checkpoint %s: metadata run.best_val_loss is missing or "
                        "not a number", path);
    return TN_OK;
}
