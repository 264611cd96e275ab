/* test_docs.c - the docs under test: every C block of every Markdown file in docs/ present
 * when the suite runs is compiled, and what the docs say a program prints is what it prints.
 *
 * One parameterised test per check of tests/helpers/doc_blocks.h, found when the test binary
 * starts (a new document needs no rebuild). Per kind:
 *  - compile / body: written to a scratch file after a prelude (the engine's headers) and the
 *    marker's context (at its line "..." if it has one), and compiled with the build's C
 *    compiler and flags, -Werror included;
 *  - run: compiled as a shared object with no prelude (a run block is a whole program), then
 *    loaded into a child of this test process, which links it against the libraries (this
 *    binary exports every symbol of them), calls its main with stdout to a file, and checks
 *    that it left no tensor alive; that stdout must equal the block after it in the doc;
 *  - output: the build's PROGRAM ARGS runs (an example of examples/), and its stdout must equal
 *    the block;
 *  - excerpt: the block's lines, spaces at both ends aside, appear in a row in the named file;
 *  - illustrative: skipped, with the marker's reason.
 * A malformed marker fails its document's first test. The marking convention is written for
 * doc writers in docs/architecture.md ("Code in the docs").
 */
#define _POSIX_C_SOURCE 200809L /* fork, mkdtemp, dirent */

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autograd/ag.h"
#include "helpers/doc_blocks.h"
#include "helpers/test_support.h"

#define MAX_DOCS 64
#define MESSAGE_MAX 4000

TestSuite(docs, .timeout = 120);

/* What the compiled blocks see before their own lines (the engine's public API). */
static const char prelude[] = "#include <math.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
                              "#include <string.h>\n#include \"autograd/ag.h\"\n"
                              "#include \"tensor/tn_random.h\"\n";

/* One test: a document and the index of a check in it (-1: the document does not parse). */
struct doc_param {
    char doc[96];
    int check;
};

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the Markdown files in docs/, sorted; returns their count. */
static int list_docs(char names[][96]) {
    DIR *dir = opendir(DOCS_SOURCE_DIR "/docs");
    if (!dir) return 0;
    char *found[MAX_DOCS];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < MAX_DOCS) {
        size_t len = strlen(e->d_name);
        if (len > 3 && len < 96 && strcmp(e->d_name + len - 3, ".md") == 0)
            found[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(found, (size_t)n, sizeof *found, by_name);
    for (int i = 0; i < n; i++) {
        snprintf(names[i], 96, "%.95s", found[i]);
        free(found[i]);
    }
    return n;
}

static void doc_path(const char *doc, char *path, size_t size) {
    snprintf(path, size, "%s/docs/%.95s", DOCS_SOURCE_DIR, doc);
}

static void free_params(struct criterion_test_params *p) { cr_free(p->params); }

ParameterizedTestParameters(docs, check) {
    static char names[MAX_DOCS][96];
    int n_docs = list_docs(names), total = 0;
    struct doc_param *params = NULL;
    for (int d = 0; d < n_docs; d++) {
        char path[512], err[512];
        struct doc_file f;
        doc_path(names[d], path, sizeof path);
        int first = doc_parse(path, &f, err, sizeof err) == 0 ? 0 : -1, n = f.n;
        doc_free(&f);
        struct doc_param *grown = cr_malloc(sizeof *grown * (size_t)(total + n + 1));
        if (params) memcpy(grown, params, sizeof *grown * (size_t)total);
        cr_free(params);
        params = grown;
        for (int k = first; k < n; k++) {
            snprintf(params[total].doc, sizeof params[total].doc, "%.95s", names[d]);
            params[total++].check = k;
        }
    }
    return cr_make_param_array(struct doc_param, params, (size_t)total, free_params);
}

/* ---- helpers ---- */

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)size + 1);
    size_t got = fread(s, 1, (size_t)size, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static void write_file(const char *path, const char *a, const char *b, const char *c) {
    FILE *f = fopen(path, "w");
    cr_assert(f, "cannot write %s", path);
    fputs(a, f);
    fputs(b, f);
    fputs(c, f);
    fclose(f);
}

/* Runs argv with stdout and stderr into files (NULL: /dev/null); returns the exit status,
 * or 128 + the signal. */
static int spawn(char *const *argv, const char *out, const char *err) {
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) {
        int fo = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The compiler's command line: DOCS_CC, the flags, then extra arguments (NULL-terminated). */
static int compile(const char *log, ...) {
    char flags[] = DOCS_CFLAGS;
    char *argv[96];
    int n = 0;
    argv[n++] = DOCS_CC;
    for (char *tok = strtok(flags, " "); tok && n < 64; tok = strtok(NULL, " ")) argv[n++] = tok;
    argv[n++] = "-I" DOCS_SOURCE_DIR;
    argv[n++] = "-I" DOCS_SOURCE_DIR "/tools";
    va_list ap;
    va_start(ap, log);
    for (char *a = va_arg(ap, char *); a && n < 95; a = va_arg(ap, char *)) argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    return spawn(argv, NULL, log);
}

/* s with spaces at the ends of its lines and blank lines at its end removed. */
static void trim_lines(char *s) {
    char *w = s;
    for (char *r = s; *r;) {
        char *eol = strchr(r, '\n');
        size_t len = eol ? (size_t)(eol - r) : strlen(r);
        size_t keep = len;
        while (keep > 0 && isspace((unsigned char)r[keep - 1])) keep--;
        memmove(w, r, keep);
        w += keep;
        if (eol) *w++ = '\n';
        r += len + (eol ? 1 : 0);
    }
    while (w > s && w[-1] == '\n') w--;
    *w = '\0';
}

/* Fails unless got equals want line for line, naming the first line that differs. */
static void assert_same_output(const char *where, char *want, char *got) {
    trim_lines(want);
    trim_lines(got);
    if (strcmp(want, got) == 0) return;
    int line = 1;
    const char *w = want, *g = got;
    while (*w && *w == *g) {
        if (*w == '\n') line++;
        w++;
        g++;
    }
    const char *wl = w, *gl = g;
    while (wl > want && wl[-1] != '\n') wl--;
    while (gl > got && gl[-1] != '\n') gl--;
    cr_assert_fail("%s: output line %d differs from the doc\n  doc:  %.*s\n  real: %.*s\n"
                   "whole output:\n%.1500s", where, line, (int)strcspn(wl, "\n"), wl,
                   (int)strcspn(gl, "\n"), gl, got);
}

/* A scratch folder for one check. */
static void scratch(char *dir, size_t size) {
    snprintf(dir, size, "/tmp/doc_check_XXXXXX");
    cr_assert(mkdtemp(dir), "mkdtemp failed");
}

/* ---- the kinds ---- */

/* Splits the context at its line "..." (where the block goes) into before and after; with no
 * such line the block goes after all of it. */
static void split_context(const char *context, char **before, const char **after) {
    const char *c = context ? context : "";
    const char *at = strncmp(c, "...\n", 4) == 0 ? c : strstr(c, "\n...\n");
    if (!at) {
        *before = strdup(c);
        *after = "";
        return;
    }
    size_t cut = at == c ? 0 : (size_t)(at - c) + 1;
    *before = strndup(c, cut);
    *after = c + cut + 4;
}

static void check_compile(const char *doc, const char *where, const struct doc_check *c,
                          const char *dir) {
    char src[256], obj[256], log[256], head[MESSAGE_MAX], tail[MESSAGE_MAX];
    snprintf(src, sizeof src, "%s/block.c", dir);
    snprintf(obj, sizeof obj, "%s/block.o", dir);
    snprintf(log, sizeof log, "%s/compiler.txt", dir);
    char *before;
    const char *after;
    split_context(c->context, &before, &after);
    /* the #line makes the compiler's messages name the doc's own lines */
    snprintf(head, sizeof head, "%s%s%s#line %d \"docs/%s\"\n", prelude, before,
             c->kind == DOC_BODY ? "void doc_block(void) {\n" : "", c->line + 1, doc);
    snprintf(tail, sizeof tail, "%s%s", c->kind == DOC_BODY ? "}\n" : "", after);
    free(before);
    write_file(src, head, c->code, tail);
    int rc = compile(log, "-c", src, "-o", obj, (char *)NULL);
    char *msg = read_file(log);
    cr_assert_eq(rc, 0, "%s: the block does not compile:\n%.3000s", where, msg ? msg : "");
    free(msg);
}

static void check_run(const char *doc, const char *where, const struct doc_check *c,
                      const char *dir) {
    char src[256], lib[256], log[256], out[256], err[256];
    snprintf(src, sizeof src, "%s/block.c", dir);
    snprintf(lib, sizeof lib, "%s/block.so", dir);
    snprintf(log, sizeof log, "%s/compiler.txt", dir);
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    snprintf(err, sizeof err, "%s/stderr.txt", dir);
    char line[300];
    snprintf(line, sizeof line, "#line %d \"docs/%s\"\n", c->line + 1, doc);
    write_file(src, line, c->code, "");
    int rc = compile(log, "-fPIC", "-shared", "-Wl,-Bsymbolic", src, "-o", lib, "-lm",
                     (char *)NULL);
    char *msg = read_file(log);
    cr_assert_eq(rc, 0, "%s: the program does not compile:\n%.3000s", where, msg ? msg : "");
    free(msg);
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "fork failed");
    if (pid == 0) { /* the program, linked against this binary's libraries */
        int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fo, 1);
        dup2(fe, 2);
        void *handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            fprintf(stderr, "cannot load the program: %s\n", dlerror());
            _exit(125);
        }
        int (*program)(int, char **);
        *(void **)&program = dlsym(handle, "main");
        if (!program) _exit(124);
        char *argv[] = {"doc_block", NULL};
        int64_t before = tn_mem_stats(TN_CPU).live_tensors;
        int status = program(1, argv);
        fflush(NULL);
        if (status == 0 && tn_mem_stats(TN_CPU).live_tensors != before) {
            fprintf(stderr, "the program left %lld tensors alive\n",
                    (long long)(tn_mem_stats(TN_CPU).live_tensors - before));
            _exit(123);
        }
        _exit(status);
    }
    int status;
    waitpid(pid, &status, 0);
    char *got = read_file(out), *why = read_file(err);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s: the program failed (%s %d); stderr:\n%.2000s", where,
              WIFEXITED(status) ? "exit status" : "signal",
              WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), why ? why : "");
    char *want = strdup(c->expected);
    assert_same_output(where, want, got ? got : strdup(""));
    free(want);
    free(got);
    free(why);
}

static void check_output(const char *where, const struct doc_check *c, const char *dir) {
    char args[256], program[512], out[256];
    snprintf(args, sizeof args, "%s", c->argument);
    char *argv[16];
    int n = 0;
    for (char *tok = strtok(args, " "); tok && n < 15; tok = strtok(NULL, " ")) argv[n++] = tok;
    argv[n] = NULL;
    for (const char *p = argv[0]; *p; p++)
        cr_assert(isalnum((unsigned char)*p) || *p == '_',
                  "%s: output names a program of the build folder, not \"%s\"", where, argv[0]);
    snprintf(program, sizeof program, "%s/%s", DOCS_BINARY_DIR, argv[0]);
    cr_assert(access(program, X_OK) == 0, "%s: %s is not built", where, program);
    argv[0] = program;
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    int rc = spawn(argv, out, NULL);
    cr_assert_eq(rc, 0, "%s: %s exited with %d", where, c->argument, rc);
    char *got = read_file(out), *want = strdup(c->expected);
    assert_same_output(where, want, got);
    free(want);
    free(got);
}

/* The next line of s with its surrounding spaces removed, into line; advances *s. */
static bool next_line(const char **s, char *line, size_t size) {
    if (!**s) return false;
    const char *eol = strchr(*s, '\n');
    size_t len = eol ? (size_t)(eol - *s) : strlen(*s);
    const char *a = *s, *b = *s + len;
    while (a < b && isspace((unsigned char)*a)) a++;
    while (b > a && isspace((unsigned char)b[-1])) b--;
    snprintf(line, size, "%.*s", (int)(b - a), a);
    *s += len + (eol ? 1 : 0);
    return true;
}

/* True when the lines of block appear in a row in text, spaces at both ends aside. */
static bool contains_lines(const char *text, const char *block) {
    char want[512], got[512];
    for (const char *start = text; *start;) {
        const char *t = start, *b = block;
        bool all = true;
        while (next_line(&b, want, sizeof want))
            if (!next_line(&t, got, sizeof got) || strcmp(want, got) != 0) {
                all = false;
                break;
            }
        if (all) return true;
        const char *eol = strchr(start, '\n');
        if (!eol) break;
        start = eol + 1;
    }
    return false;
}

static void check_excerpt(const char *where, const struct doc_check *c) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", DOCS_SOURCE_DIR, c->argument);
    char *text = read_file(path);
    cr_assert(text, "%s: excerpt of %s, which cannot be read", where, c->argument);
    bool found = contains_lines(text, c->code);
    free(text);
    cr_assert(found, "%s: these lines are not in %s (in this order, one after another):\n%s",
              where, c->argument, c->code);
}

ParameterizedTest(struct doc_param *p, docs, check) {
    char path[512], err[512], where[160];
    doc_path(p->doc, path, sizeof path);
    struct doc_file f;
    int parsed = doc_parse(path, &f, err, sizeof err);
    cr_assert_eq(parsed, 0, "%s", err);
    if (p->check < 0) {
        doc_free(&f);
        return;
    }
    cr_assert_lt(p->check, f.n, "docs/%s changed while the tests ran", p->doc);
    const struct doc_check *c = &f.checks[p->check];
    snprintf(where, sizeof where, "docs/%s:%d", p->doc, c->line);
    if (c->kind == DOC_ILLUSTRATIVE) {
        char reason[300];
        snprintf(reason, sizeof reason, "%s: illustrative: %s", where, c->argument);
        doc_free(&f);
        cr_skip_test("%s", reason);
    }
    char dir[64];
    scratch(dir, sizeof dir);
    switch (c->kind) {
    case DOC_COMPILE:
    case DOC_BODY: check_compile(p->doc, where, c, dir); break;
    case DOC_RUN: check_run(p->doc, where, c, dir); break;
    case DOC_OUTPUT: check_output(where, c, dir); break;
    case DOC_EXCERPT: check_excerpt(where, c); break;
    case DOC_ILLUSTRATIVE: break;
    }
    remove_tree(dir);
    doc_free(&f);
}

/* The reader itself, on a document made for it. */
Test(docs, markers_are_read_as_the_convention_says) {
    char dir[64], path[128], err[256];
    scratch(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/doc.md", dir);
    write_file(path,
               "Text.\n\n```c\nint a;\n```\n\n<!-- doc-test: body\nint x;\n-->\n"
               "   ```c\n   x = 1;\n   ```\n<!-- doc-test: run -->\n```c\nint main(void) {}\n"
               "```\n\nPrints:\n\n```text\nhi\n```\n<!-- doc-test: output dot_example -->\n"
               "```dot\ndigraph {}\n```\n```sh\nnot a check\n```\n",
               "<!-- doc-test: illustrative not C -->\n```c\n...\n```\n", "");
    struct doc_file f;
    cr_assert_eq(doc_parse(path, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n, 5);
    cr_assert_eq(f.checks[0].kind, DOC_COMPILE);
    cr_assert_str_eq(f.checks[0].code, "int a;\n");
    cr_assert_eq(f.checks[1].kind, DOC_BODY);
    cr_assert_str_eq(f.checks[1].context, "int x;\n");
    cr_assert_str_eq(f.checks[1].code, "x = 1;\n", "the fence's indentation is removed");
    cr_assert_eq(f.checks[2].kind, DOC_RUN);
    cr_assert_str_eq(f.checks[2].expected, "hi\n");
    cr_assert_eq(f.checks[3].kind, DOC_OUTPUT);
    cr_assert_str_eq(f.checks[3].argument, "dot_example");
    cr_assert_eq(f.checks[4].kind, DOC_ILLUSTRATIVE);
    cr_assert_str_eq(f.checks[4].argument, "not C");
    doc_free(&f);
    write_file(path, "<!-- doc-test: bodyy -->\n```c\nx;\n```\n", "", "");
    cr_assert_neq(doc_parse(path, &f, err, sizeof err), 0);
    cr_assert(strstr(err, "unknown doc-test kind"), "%s", err);
    write_file(path, "<!-- doc-test: run -->\n\n```c\nx;\n```\n", "", "");
    cr_assert_neq(doc_parse(path, &f, err, sizeof err), 0);
    cr_assert(strstr(err, "not right above a fence"), "%s", err);
    remove_tree(dir);
}
