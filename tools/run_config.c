/* run_config.c - a run's config.json (written from and read back through the rows of the
 * train table of its model and prior) and the model fingerprint that checkpoints carry.
 *
 * A config.json without a "model" key is a GWAE run from before the model registry: it also
 * holds "components" and "gmp_paper" whatever its prior, which are then ignored unless the
 * prior takes them. Options added after runs were first written take the value that gives
 * such a run its old behaviour when they are missing (added_later).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_json.h"
#include "settings.h"

/* "name" of an option as config.json spells it: '-' becomes '_' */
static void key_of(const struct gw_option *row, char *out, size_t size) {
    snprintf(out, size, "%s", row->name);
    for (char *c = out; *c; c++)
        if (*c == '-') *c = '_';
}

char *settings_to_json(const struct tool_settings *s) {
    struct settings_table room;
    const struct opt_table *t = settings_train_table(s, &room);
    struct nn_json_writer w;
    nn_json_begin(&w, true);
    for (int i = 0; i < t->n; i++) {
        const struct gw_option *row = &t->specs[i];
        if (row->cls == GW_OPT_LOCAL) continue;
        char key[64], value[TOOL_PATH_MAX];
        key_of(row, key, sizeof key);
        opt_format(row, s, value, sizeof value);
        if (row->kind == GW_OPT_STRING) nn_json_put_string(&w, key, value);
        else nn_json_put_raw(&w, key, value);
    }
    return nn_json_end(&w);
}

/* Options added after runs were first written, with the value that gives a run written
 * before them its old behaviour (not necessarily today's default: the small default warms
 * its learning rates up now, runs from before did not). */
static const struct {
    const char *name, *value;
} added_later[] = {
    {"holdout-classes", ""},
    {"warmup-steps", "0"},
    {"sn-iterations", "1"},
    {"model", "gwae"},
    /* the Gromov-Monge gap of beta-vae and beta-tcvae: off, at its defaults (gwae/models/gmg.h) */
    {"gmg", "0"},
    {"gmg-cost", "cosine"},
    {"gmg-map", "decoder"},
    {"gmg-epsilon", "0.01"},
    {"gmg-value", "regularised"},
    {"gmg-dst-only", "false"},
};

const char *settings_legacy_value(const char *name) {
    for (size_t i = 0; i < sizeof added_later / sizeof added_later[0]; i++)
        if (strcmp(name, added_later[i].name) == 0) return added_later[i].value;
    return NULL;
}

bool settings_retired_key(const char *name) {
    return strcmp(name, "components") == 0 || strcmp(name, "gmp-paper") == 0 ||
           strcmp(name, "gmp_paper") == 0;
}

/* one pair of config.json into s: the type must fit the row's kind */
static bool load_pair(const struct opt_table *t, const struct nn_json_pair *p, struct tool_settings *s,
                      bool legacy, bool *present, char *err, size_t size) {
    const struct gw_option *row = opt_find(t, p->key);
    if (!row && legacy && settings_retired_key(p->key)) return true;
    if (!row || row->cls == GW_OPT_LOCAL) {
        snprintf(err, size, "unknown key \"%s\" for the model %s with the prior %s", p->key,
                 s->model.model, s->model.prior);
        return false;
    }
    enum nn_json_type want = row->kind == GW_OPT_STRING ? NN_JSON_STRING
                          : row->kind == GW_OPT_BOOL ? NN_JSON_BOOL
                                                     : NN_JSON_NUMBER;
    if (p->type != want) {
        snprintf(err, size, "%s: expected a %s", p->key,
                 want == NN_JSON_STRING ? "string" : want == NN_JSON_BOOL ? "boolean" : "number");
        return false;
    }
    char why[256];
    if (!opt_set(row, s, p->text, why, sizeof why)) {
        snprintf(err, size, "%s: %s", p->key, why);
        return false;
    }
    present[row - t->specs] = true;
    return true;
}

/* the text of the string key of o, or fallback when o lacks it; NULL (err) when not a string */
static const char *string_key(const struct nn_json_flat *o, const char *key, const char *fallback,
                              char *err, size_t size) {
    const struct nn_json_pair *p = nn_json_flat_get(o, key);
    if (!p) {
        if (!fallback) snprintf(err, size, "missing \"%s\"", key);
        return fallback;
    }
    if (p->type == NN_JSON_STRING) return p->text;
    snprintf(err, size, "%s: expected a string", key);
    return NULL;
}

/* the pairs of o into s, the model and prior first; false with the reason in why */
static bool load_object(const struct nn_json_flat *o, struct tool_settings *s, char *why,
                        size_t size) {
    bool legacy = nn_json_flat_get(o, "model") == NULL;
    const char *model = string_key(o, "model", settings_legacy_value("model"), why, size);
    const char *prior = model ? string_key(o, "prior", NULL, why, size) : NULL;
    if (!prior || !settings_select(s, model, prior, false, why, size)) return false;
    struct settings_table room;
    const struct opt_table *t = settings_train_table(s, &room);
    bool present[SETTINGS_ROWS_MAX] = {false};
    for (int i = 0; i < o->n; i++)
        if (!load_pair(t, &o->pairs[i], s, legacy, present, why, size)) return false;
    for (int i = 0; i < t->n; i++)
        if (t->specs[i].cls != GW_OPT_LOCAL && !present[i]) {
            const char *value = settings_legacy_value(t->specs[i].name);
            if (!value) {
                snprintf(why, size, "missing \"%s\"", t->specs[i].name);
                return false;
            }
            if (!opt_set(&t->specs[i], s, value, why, size)) return false;
        }
    return settings_check(s, why, size);
}

bool settings_load_text(const char *text, size_t len, struct tool_settings *s, char *err,
                        size_t size) {
    struct nn_json_flat o;
    bool ok = nn_json_flat_parse(text, len, &o, err, size) && load_object(&o, s, err, size);
    nn_json_flat_free(&o);
    return ok;
}

bool settings_load_run(const char *dir, struct tool_settings *s, char *err, size_t size) {
    char path[TOOL_PATH_MAX + 32], why[512];
    if (!settings_join(path, sizeof path, dir, "config.json")) {
        snprintf(err, size, "%s: path too long", dir);
        return false;
    }
    size_t len;
    char *text = nn_json_read_file(path, &len);
    if (!text) {
        /* nn_json_read_file leaves the reason (a FIFO, a folder, ...) in tn_last_error */
        snprintf(err, size, "%s (is %s a run directory?)", tn_last_error(), dir);
        return false;
    }
    bool ok = settings_load_text(text, len, s, why, sizeof why);
    free(text);
    if (!ok) snprintf(err, size, "%s: %s", path, why);
    return ok;
}

/* true when the row's value lives in the part of struct tool_settings that defines the model */
static bool identity_row(const struct gw_option *row) {
    size_t model = offsetof(struct tool_settings, model);
    size_t options = offsetof(struct tool_settings, model_options);
    size_t prior = offsetof(struct tool_settings, prior_options);
    return (row->offset >= model && row->offset < model + sizeof(struct gw_common)) ||
           (row->offset >= options && row->offset < options + GW_OPTIONS_MAX) ||
           (row->offset >= prior && row->offset < prior + GW_OPTIONS_MAX);
}

void settings_fingerprint(const struct tool_settings *s, char *out, size_t size) {
    struct settings_table room;
    const struct opt_table *t = settings_train_table(s, &room);
    int used = snprintf(out, size, "channels=%d", s->model.channels);
    for (int i = 0; i < t->n && used > 0 && (size_t)used < size; i++) {
        const struct gw_option *row = &t->specs[i];
        if (row->cls != GW_OPT_FIXED || !identity_row(row)) continue;
        char value[64];
        opt_format(row, s, value, sizeof value);
        /* an option at the value it had before it existed is left out, so that checkpoints
         * written before it still match */
        const char *legacy = settings_legacy_value(row->name);
        if (legacy && strcmp(value, legacy) == 0) continue;
        used += snprintf(out + used, size - (size_t)used, " %s=%s", row->name, value);
    }
}
