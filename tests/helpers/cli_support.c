/* cli_support.c - running the gwae program from the CLI tests (cli_support.h). */
#define _POSIX_C_SOURCE 200809L

#include "cli_support.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "test_support.h"

char tmp[64];
char gwae[PATH_MAX + 8];
char out_text[1 << 16], err_text[1 << 16];

void cli_setup(void) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(n > 0, "readlink /proc/self/exe: %s", strerror(errno));
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(gwae, sizeof gwae, "%s/gwae", self);
    cr_assert(access(gwae, X_OK) == 0, "%s is not built (cmake --build builds it with the tests)", gwae);
    snprintf(tmp, sizeof tmp, "/tmp/test_cli_XXXXXX");
    cr_assert(mkdtemp(tmp), "mkdtemp: %s", strerror(errno));
    setenv("OMP_NUM_THREADS", "1", 1); /* ctest runs two test processes on two cores */
}

void cli_teardown(void) { remove_tree(tmp); }

/* tmp/name in one of 16 buffers (reused in turn: copy a path that must live long) */
const char *at(const char *name) {
    static char path[16][PATH_MAX];
    static int k;
    k = (k + 1) % 16;
    snprintf(path[k], sizeof path[k], "%s/%s", tmp, name);
    return path[k];
}

void slurp(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f) fclose(f);
}

/* runs `gwae <args>` in tmp; returns the exit code, stdout and stderr in out_text, err_text */
int run(const char *fmt, ...) {
    char args[4096], cmd[4 * PATH_MAX + 4096 + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd %s && %s %s >%s 2>%s", tmp, gwae, args, at(".stdout"), at(".stderr"));
    int status = system(cmd);
    slurp(at(".stdout"), out_text, sizeof out_text);
    slurp(at(".stderr"), err_text, sizeof err_text);
    remove(at(".stdout"));
    remove(at(".stderr"));
    cr_assert(WIFEXITED(status), "gwae %s did not exit normally (status %d): %s", args, status, err_text);
    return WEXITSTATUS(status);
}

/* asserts stderr is exactly one non-empty line */
void assert_one_line(const char *what) {
    size_t n = strlen(err_text);
    cr_assert(n > 1 && err_text[n - 1] == '\n' && strchr(err_text, '\n') == err_text + n - 1,
              "%s: stderr is not one line: [%s]", what, err_text);
    cr_assert(strncmp(err_text, "gwae", 4) == 0, "%s: the line does not start with gwae: %s", what,
              err_text);
}

/* a bad input: the exit code, one line on stderr that contains `says` */
void assert_refused(int rc, int code, const char *says, const char *what) {
    cr_assert_eq(rc, code, "%s: exit code %d, expected %d; stderr: %s", what, rc, code, err_text);
    assert_one_line(what);
    cr_assert(strstr(err_text, says), "%s: the message does not say '%s': %s", what, says, err_text);
}

void snap(const char *dir, struct snapshot *s) {
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    cr_assert(d, "opendir %s", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        cr_assert(s->n < SNAP_MAX);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        cr_assert(f, "open %s", path);
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        s->data[s->n] = malloc((size_t)size + 1);
        cr_assert(fread(s->data[s->n], 1, (size_t)size, f) == (size_t)size);
        fclose(f);
        s->size[s->n] = size;
        snprintf(s->name[s->n], sizeof s->name[s->n], "%s", e->d_name);
        s->n++;
    }
    closedir(d);
}

void snap_free(struct snapshot *s) {
    for (int i = 0; i < s->n; i++) free(s->data[i]);
}

/* asserts dir holds exactly the files of before, with the same bytes */
void assert_unchanged(const char *dir, struct snapshot *before, const char *what) {
    struct snapshot now;
    snap(dir, &now);
    cr_assert_eq(now.n, before->n, "%s: %d files in %s, %d before", what, now.n, dir, before->n);
    for (int i = 0; i < before->n; i++) {
        int j = 0;
        while (j < now.n && strcmp(now.name[j], before->name[i]) != 0) j++;
        cr_assert(j < now.n, "%s: %s disappeared", what, before->name[i]);
        cr_assert(now.size[j] == before->size[i] &&
                      memcmp(now.data[j], before->data[i], (size_t)now.size[j]) == 0,
                  "%s: %s was modified", what, before->name[i]);
    }
    snap_free(&now);
}

bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    cr_assert(f, "create %s", path);
    fputs(text, f);
    fclose(f);
}

/* trains the tiny run into tmp/name for the given steps (plus extra options) */
void train_tiny(const char *name, int steps, const char *extra) {
    int rc = run("train " TINY " --steps %d --out %s %s", steps, at(name), extra);
    cr_assert_eq(rc, 0, "the tiny training run failed (%d): %s", rc, err_text);
}

void assert_png(const char *path) {
    char head[9] = {0};
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s is missing", path);
    cr_assert_eq(fread(head, 1, 8, f), 8u);
    fclose(f);
    cr_assert(memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
}

void assert_contains(const char *path, const char *text) {
    char buf[1 << 16];
    slurp(path, buf, sizeof buf);
    cr_assert(strstr(buf, text), "%s does not contain %s:\n%s", path, text, buf);
}

/* the text of log.jsonl's line for step n */
void step_line(const char *log, int n, char *out, size_t size) {
    char buf[1 << 16];
    slurp(log, buf, sizeof buf);
    char key[64];
    snprintf(key, sizeof key, "{\"event\": \"step\", \"step\": %d,", n);
    char *p = strstr(buf, key);
    cr_assert(p, "%s has no line for step %d", log, n);
    size_t len = strcspn(p, "\n");
    char *t = strstr(p, "\"step_time_s\""); /* the losses, not the timings */
    if (t && (size_t)(t - p) < len) len = (size_t)(t - p);
    snprintf(out, size, "%.*s", (int)len, p);
}

/* asserts metrics.json of the run holds each key */
void assert_keys(const char *path, const char *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, "\"%s\": ", keys[i]);
        assert_contains(path, want);
    }
}

/* writes a gzip file holding n bytes of data */
void write_gz(const char *path, const unsigned char *data, size_t n) {
    gzFile f = gzopen(path, "wb");
    cr_assert(f, "gzopen %s", path);
    cr_assert_eq(gzwrite(f, data, (unsigned)n), (int)n);
    gzclose(f);
}

/* writes dir/<prefix>-{images-idx3,labels-idx1}-ubyte.gz: n 28x28 images (a gradient that
 * depends on the label) with labels i % 10 */
void write_fake_fashion_split(const char *dir, const char *prefix, int n) {
    static unsigned char images[16 + 100 * 784], labels[8 + 100];
    const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 28, 0, 0, 0, 28};
    const unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    memcpy(images, ih, 16);
    memcpy(labels, lh, 8);
    for (int i = 0; i < n; i++) {
        labels[8 + i] = (unsigned char)(i % 10);
        for (int p = 0; p < 784; p++) images[16 + i * 784 + p] = (unsigned char)((p * (i % 10 + 1)) % 256);
    }
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    write_gz(path, images, 16 + (size_t)n * 784);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    write_gz(path, labels, 8 + (size_t)n);
}

/* a fake Fashion-MNIST folder tmp/fashion (100 training and 50 test images) into data */
void write_fake_fashion(char data[PATH_MAX]) {
    snprintf(data, PATH_MAX, "%s", at("fashion"));
    mkdir(data, 0755);
    write_fake_fashion_split(data, "train", 100);
    write_fake_fashion_split(data, "t10k", 50);
}
