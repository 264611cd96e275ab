/* options.c - the table-driven option parser, its strict number parsing and --help.
 *
 * Integers go through strtoll/strtoull and floats through strtod, and the whole text must be
 * consumed: no leading space, no trailing characters, no overflow, nothing non-finite. Floats
 * are printed with the fewest digits that read back to the same value, so config.json holds
 * "0.0001" rather than "0.00010000000000000000479" and a value survives a save and a load.
 */
#include "options.h"

#include "nn/nn_json.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool opt_parse_int64(const char *text, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t size) {
    char *end;
    errno = 0;
    if (*text == '\0' || isspace((unsigned char)*text)) {
        snprintf(err, size, "'%s' is not an integer", text);
        return false;
    }
    long long v = strtoll(text, &end, 10);
    if (*end != '\0') {
        snprintf(err, size, "'%s' is not an integer", text);
        return false;
    }
    if (errno == ERANGE || v < min || v > max) {
        snprintf(err, size, "%s is out of range [%" PRId64 ", %" PRId64 "]", text, min, max);
        return false;
    }
    *out = v;
    return true;
}

bool opt_parse_double(const char *text, double min, double max, double *out, char *err,
                      size_t size) {
    char *end;
    errno = 0;
    if (*text == '\0' || isspace((unsigned char)*text)) {
        snprintf(err, size, "'%s' is not a number", text);
        return false;
    }
    double v = strtod(text, &end);
    if (*end != '\0' || isnan(v)) {
        snprintf(err, size, "'%s' is not a number", text);
        return false;
    }
    if (!isfinite(v) || v < min || v > max) {
        snprintf(err, size, "%s is out of range [%g, %g]", text, min, max);
        return false;
    }
    *out = v;
    return true;
}

static bool parse_u64(const char *text, uint64_t *out, char *err, size_t size) {
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*text)) {
        snprintf(err, size, "'%s' is not a non-negative integer", text);
        return false;
    }
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0') {
        snprintf(err, size, "'%s' is not a non-negative integer", text);
        return false;
    }
    if (errno == ERANGE) {
        snprintf(err, size, "%s is out of range [0, %" PRIu64 "]", text, UINT64_MAX);
        return false;
    }
    *out = v;
    return true;
}

static bool set_string(const struct gw_option *s, char *dst, const char *text, char *err,
                       size_t size) {
    if (s->choices) {
        bool ok = false;
        for (const char *const *c = s->choices; *c; c++) ok = ok || strcmp(*c, text) == 0;
        if (!ok) {
            int used = snprintf(err, size, "unknown value '%s' (known:", text);
            for (const char *const *c = s->choices; *c && used > 0 && (size_t)used < size; c++)
                used += snprintf(err + used, size - (size_t)used, "%s %s",
                                 c == s->choices ? "" : ",", *c);
            if (used > 0 && (size_t)used < size) snprintf(err + used, size - (size_t)used, ")");
            return false;
        }
    }
    if (*text == '\0' && s->min > 0) {
        snprintf(err, size, "must not be empty");
        return false;
    }
    if (strlen(text) >= s->size) {
        snprintf(err, size, "longer than %zu characters", s->size - 1);
        return false;
    }
    memcpy(dst, text, strlen(text) + 1);
    return true;
}

bool opt_set(const struct gw_option *s, void *base, const char *text, char *err, size_t size) {
    char *p = (char *)base + s->offset;
    int64_t i;
    double d;
    switch (s->kind) {
    case GW_OPT_INT:
        if (!opt_parse_int64(text, (int64_t)s->min, (int64_t)s->max, &i, err, size)) return false;
        *(int *)p = (int)i;
        return true;
    case GW_OPT_I64:
        if (!opt_parse_int64(text, (int64_t)s->min, (int64_t)s->max, &i, err, size)) return false;
        *(int64_t *)p = i;
        return true;
    case GW_OPT_U64:
        return parse_u64(text, (uint64_t *)p, err, size);
    case GW_OPT_FLOAT:
        if (!opt_parse_double(text, s->min, s->max, &d, err, size)) return false;
        *(float *)p = (float)d;
        return true;
    case GW_OPT_DOUBLE:
        if (!opt_parse_double(text, s->min, s->max, &d, err, size)) return false;
        *(double *)p = d;
        return true;
    case GW_OPT_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            *(bool *)p = text[0] == 't';
            return true;
        }
        snprintf(err, size, "'%s' is not true or false", text);
        return false;
    case GW_OPT_STRING:
        return set_string(s, p, text, err, size);
    }
    snprintf(err, size, "bad option kind");
    return false;
}

static void format_float(float v, char *out, size_t size) {
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(out, size, "%.*g", digits, (double)v);
        if (strtof(out, NULL) == v) return;
    }
}

void opt_format(const struct gw_option *s, const void *base, char *out, size_t size) {
    const char *p = (const char *)base + s->offset;
    switch (s->kind) {
    case GW_OPT_INT: snprintf(out, size, "%d", *(const int *)p); return;
    case GW_OPT_I64: snprintf(out, size, "%" PRId64, *(const int64_t *)p); return;
    case GW_OPT_U64: snprintf(out, size, "%" PRIu64, *(const uint64_t *)p); return;
    case GW_OPT_FLOAT: format_float(*(const float *)p, out, size); return;
    case GW_OPT_DOUBLE: nn_json_format_double(*(const double *)p, out, size); return;
    case GW_OPT_BOOL: snprintf(out, size, "%s", *(const bool *)p ? "true" : "false"); return;
    case GW_OPT_STRING: snprintf(out, size, "%s", p); return;
    }
}

/* a == b where '_' in b matches '-' in a */
static bool same_name(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (*a != *b && !(*a == '-' && *b == '_')) return false;
    return *a == *b;
}

const struct gw_option *opt_find(const struct opt_table *t, const char *name) {
    for (int i = 0; i < t->n; i++)
        if (same_name(t->specs[i].name, name)) return &t->specs[i];
    return NULL;
}

int opt_parse(const char *cmd, const struct opt_table *t, void *base, int argc, char **argv,
              int max_positional, struct opt_result *r) {
    memset(r, 0, sizeof *r);
    if (t->n > (int)(sizeof r->seen / sizeof r->seen[0])) {
        fprintf(stderr, "gwae %s: too many options in the table\n", cmd);
        return 2;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            r->help = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (arg[0] == '-' && arg[1] != '\0') {
                fprintf(stderr, "gwae %s: unknown option '%s' (see gwae %s --help)\n", cmd, arg, cmd);
                return 2;
            }
            if (r->n_positional >= max_positional) {
                fprintf(stderr, "gwae %s: unexpected argument '%s' (see gwae %s --help)\n", cmd,
                        arg, cmd);
                return 2;
            }
            r->positional[r->n_positional++] = arg;
            continue;
        }
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        if (len >= sizeof name) len = sizeof name - 1;
        memcpy(name, arg + 2, len);
        name[len] = '\0';
        const struct gw_option *s = NULL;
        for (int i = 0; i < t->n && !s; i++)
            if (strcmp(t->specs[i].name, name) == 0) s = &t->specs[i];
        if (!s) {
            char buf[512];
            const char *hint = t->unknown_hint ? t->unknown_hint(name, buf, sizeof buf) : NULL;
            if (hint)
                fprintf(stderr, "gwae %s: --%s is %s\n", cmd, name, hint);
            else
                fprintf(stderr, "gwae %s: unknown option '--%s' (see gwae %s --help)\n", cmd,
                        name, cmd);
            return 2;
        }
        const char *value;
        if (s->kind == GW_OPT_BOOL && !eq) {
            value = "true";
        } else if (eq) {
            value = eq + 1;
        } else if (a + 1 < argc) {
            value = argv[++a];
        } else {
            fprintf(stderr, "gwae %s: --%s needs a value (%s)\n", cmd, s->name, s->metavar);
            return 2;
        }
        char err[256];
        if (!opt_set(s, base, value, err, sizeof err)) {
            fprintf(stderr, "gwae %s: --%s: %s\n", cmd, s->name, err);
            return 2;
        }
        r->seen[s - t->specs] = true;
    }
    return 0;
}

/* prints text from column `indent`, wrapped at 79 columns */
static void print_wrapped(const char *text, int column, int indent) {
    const int width = 79;
    while (*text) {
        int room = width - column, len = (int)strlen(text);
        int cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ') cut--;
            if (cut == 0) cut = len;
        }
        printf("%.*s", cut, text);
        text += cut;
        while (*text == ' ') text++;
        if (*text) printf("\n%*s", indent, "");
        column = indent;
    }
    printf("\n");
}

void opt_print_help(const struct opt_table *t, const void *base) {
    const char *group = NULL;
    for (int i = 0; i < t->n; i++) {
        const struct gw_option *s = &t->specs[i];
        if (!group || strcmp(group, s->group) != 0) {
            group = s->group;
            printf("\n%s:\n", group);
        }
        char left[64], value[256], text[1024];
        snprintf(left, sizeof left, "--%s%s%s", s->name, s->metavar ? " " : "",
                 s->metavar ? s->metavar : "");
        opt_format(s, base, value, sizeof value);
        char from[256] = "";
        if (s->source) snprintf(from, sizeof from, "; %s", s->source);
        bool on = s->kind == GW_OPT_BOOL && *(const bool *)((const char *)base + s->offset);
        if (s->kind == GW_OPT_BOOL && s->source)
            snprintf(text, sizeof text, "%s (default %s%s)", s->help, on ? "on" : "off", from);
        else if (s->kind == GW_OPT_BOOL)
            snprintf(text, sizeof text, "%s%s", s->help, on ? " (on)" : "");
        else if (value[0])
            snprintf(text, sizeof text, "%s (default %s%s)", s->help, value, from);
        else
            snprintf(text, sizeof text, "%s%s%s%s", s->help, from[0] ? " (" : "",
                     from[0] ? from + 2 : "", from[0] ? ")" : "");
        printf("  %-22s ", left);
        print_wrapped(text, 25, 25);
    }
}
