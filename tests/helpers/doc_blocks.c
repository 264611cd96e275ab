/* doc_blocks.c - the Markdown reader of doc_blocks.h: fences, their indentation, and the
 * doc-test markers above them. Holds no compiling or running. */
#define _POSIX_C_SOURCE 200809L /* strndup, getline */

#include "doc_blocks.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"compile", "body", "run", "output", "excerpt",
                                         "illustrative"};

const char *doc_kind_name(enum doc_kind kind) { return kind_names[kind]; }

/* The document as lines, without their newlines. */
struct lines {
    char **items;
    int n;
};

static int read_lines(const char *path, struct lines *out) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int room = 0;
    out->items = NULL;
    out->n = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (out->n == room) {
            room = room ? 2 * room : 256;
            out->items = realloc(out->items, (size_t)room * sizeof *out->items);
        }
        out->items[out->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    return 0;
}

static void free_lines(struct lines *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
}

static const char *skip_spaces(const char *s) {
    while (*s == ' ') s++;
    return s;
}

static bool is_fence(const char *line) { return strncmp(skip_spaces(line), "```", 3) == 0; }

/* A growing string. */
struct text {
    char *s;
    size_t n, cap;
};

static void text_add(struct text *t, const char *s) {
    size_t len = strlen(s);
    if (t->n + len + 2 > t->cap) {
        t->cap = 2 * (t->n + len + 2);
        t->s = realloc(t->s, t->cap);
    }
    memcpy(t->s + t->n, s, len);
    t->n += len;
    t->s[t->n++] = '\n';
    t->s[t->n] = '\0';
}

/* Reads the fenced block opening at line *i; on return *i is its closing fence. Writes its
 * info string's first word into lang and its lines, less the fence's indentation, into code. */
static int read_block(const struct lines *l, int *i, char *lang, size_t lang_size, char **code) {
    const char *open = l->items[*i];
    size_t indent = (size_t)(skip_spaces(open) - open);
    const char *info = skip_spaces(open) + 3;
    while (*info == '`') info++;
    size_t k = 0;
    while (info[k] && info[k] != ' ' && k + 1 < lang_size) {
        lang[k] = info[k];
        k++;
    }
    lang[k] = '\0';
    struct text t = {0};
    for ((*i)++; *i < l->n && !is_fence(l->items[*i]); (*i)++) {
        const char *s = l->items[*i];
        size_t lead = (size_t)(skip_spaces(s) - s);
        text_add(&t, s + (lead < indent ? lead : indent));
    }
    *code = t.s ? t.s : strdup("");
    return *i < l->n ? 0 : -1;
}

static int fail(char *err, size_t size, const char *path, int line, const char *fmt, ...) {
    int n = snprintf(err, size, "%s:%d: ", path, line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + (n > 0 && (size_t)n < size ? (size_t)n : 0),
              size - (n > 0 && (size_t)n < size ? (size_t)n : 0), fmt, ap);
    va_end(ap);
    return -1;
}

/* A marker's parts: its kind, the rest of its first line, and its context lines. */
struct marker {
    int line; /* 0: none */
    enum doc_kind kind;
    char *argument;
    char *context;
};

/* Parses the marker starting at line *i (it starts with "<!-- doc-test:"); *i ends on the
 * line holding "-->". */
static int read_marker(const struct lines *l, int *i, struct marker *m, const char *path,
                       char *err, size_t err_size) {
    const char *s = skip_spaces(l->items[*i]) + strlen("<!-- doc-test:");
    s = skip_spaces(s);
    const char *end_first = strstr(s, "-->");
    size_t word = strcspn(s, " ");
    int kind = -1;
    for (int k = 0; k < (int)(sizeof kind_names / sizeof *kind_names); k++)
        if (strlen(kind_names[k]) == word && strncmp(s, kind_names[k], word) == 0) kind = k;
    if (kind < 0)
        return fail(err, err_size, path, *i + 1, "unknown doc-test kind \"%.*s\"", (int)word, s);
    m->line = *i + 1;
    m->kind = (enum doc_kind)kind;
    const char *arg = skip_spaces(s + word);
    size_t arg_len = end_first ? (size_t)(end_first - arg) : strlen(arg);
    while (arg_len > 0 && arg[arg_len - 1] == ' ') arg_len--;
    m->argument = strndup(arg, arg_len);
    m->context = NULL;
    if (end_first) return 0;
    struct text t = {0};
    for ((*i)++; *i < l->n && strcmp(skip_spaces(l->items[*i]), "-->") != 0; (*i)++)
        text_add(&t, l->items[*i]);
    m->context = t.s;
    if (*i >= l->n) return fail(err, err_size, path, m->line, "marker without its \"-->\"");
    return 0;
}

static void add_check(struct doc_file *doc, struct doc_check c) {
    doc->checks = realloc(doc->checks, (size_t)(doc->n + 1) * sizeof *doc->checks);
    doc->checks[doc->n++] = c;
}

/* Checks what a marker needs before it is attached to the block at line. */
static int validate(const struct marker *m, bool is_c, const char *path, char *err,
                    size_t err_size) {
    bool needs_argument = m->kind == DOC_OUTPUT || m->kind == DOC_EXCERPT ||
                          m->kind == DOC_ILLUSTRATIVE;
    if (needs_argument && m->argument[0] == '\0')
        return fail(err, err_size, path, m->line, "doc-test %s needs %s", doc_kind_name(m->kind),
                    m->kind == DOC_OUTPUT ? "a program" : m->kind == DOC_EXCERPT ? "a file" : "a reason");
    if (!needs_argument && m->argument[0] != '\0')
        return fail(err, err_size, path, m->line, "doc-test %s takes no argument",
                    doc_kind_name(m->kind));
    if (m->context && m->kind != DOC_COMPILE && m->kind != DOC_BODY)
        return fail(err, err_size, path, m->line, "only compile and body markers take context");
    if (is_c == (m->kind == DOC_OUTPUT))
        return fail(err, err_size, path, m->line, "doc-test %s on a %s block",
                    doc_kind_name(m->kind), is_c ? "C" : "non-C");
    return 0;
}

int doc_parse(const char *path, struct doc_file *doc, char *err, size_t err_size) {
    struct lines l;
    doc->checks = NULL;
    doc->n = 0;
    if (read_lines(path, &l) != 0) return fail(err, err_size, path, 0, "cannot read");
    struct marker m = {0}; /* the marker waiting for its fence; owns its strings until then */
    int status = 0;
    for (int i = 0; i < l.n && status == 0; i++) {
        const char *s = skip_spaces(l.items[i]);
        if (m.line && !is_fence(s)) {
            status = fail(err, err_size, path, m.line, "marker not right above a fence");
        } else if (strncmp(s, "<!-- doc-test:", 14) == 0) {
            status = read_marker(&l, &i, &m, path, err, err_size);
        } else if (is_fence(s)) {
            int line = i + 1;
            char lang[16], *code = NULL;
            if (read_block(&l, &i, lang, sizeof lang, &code) != 0)
                status = fail(err, err_size, path, line, "fence never closed");
            bool is_c = strcmp(lang, "c") == 0;
            if (status == 0 && m.line) status = validate(&m, is_c, path, err, err_size);
            if (status != 0 || (!is_c && !m.line)) { /* other languages: prose, not checks */
                free(code);
                continue;
            }
            struct doc_check c = {m.line ? m.kind : DOC_COMPILE, line, code, m.context,
                                  m.argument, NULL};
            m = (struct marker){0};
            if (c.kind == DOC_OUTPUT) c.expected = strdup(code);
            if (c.kind == DOC_RUN) { /* the next fenced block is what the program prints */
                int j = i + 1;
                while (j < l.n && !is_fence(l.items[j]) &&
                       strncmp(skip_spaces(l.items[j]), "<!--", 4) != 0)
                    j++;
                if (j >= l.n || !is_fence(l.items[j]) ||
                    read_block(&l, &j, lang, sizeof lang, &c.expected) != 0)
                    status = fail(err, err_size, path, line,
                                  "a run block needs its output in the next fenced block");
                i = j;
            }
            add_check(doc, c);
        }
    }
    if (status == 0 && m.line) status = fail(err, err_size, path, m.line, "marker at the end");
    free(m.argument);
    free(m.context);
    free_lines(&l);
    return status;
}

void doc_free(struct doc_file *doc) {
    for (int i = 0; i < doc->n; i++) {
        free(doc->checks[i].code);
        free(doc->checks[i].context);
        free(doc->checks[i].argument);
        free(doc->checks[i].expected);
    }
    free(doc->checks);
    doc->checks = NULL;
    doc->n = 0;
}
