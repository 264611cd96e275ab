/* cli_support.h - running the gwae program as a user runs it, for the CLI tests
 * (test_cli.c, test_cli_models.c, test_cli_crash.c): a temporary directory per test, the
 * binary found beside the test's executable, its exit code, stdout and stderr, snapshots of a
 * run directory to prove a refused command changed nothing, and readers of what a run wrote.
 */
#ifndef CLI_SUPPORT_H
#define CLI_SUPPORT_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* A run of the generated scenes at 32x32 with a width-0.125 network: about a second. */
#define TINY "--dataset shapes --shapes-count 160 --image-size 32 --width 0.125 --batch 8 --limit 64"

extern char tmp[64];                           /* this test's directory */
extern char gwae[PATH_MAX + 8];                /* the binary */
extern char out_text[1 << 16], err_text[1 << 16]; /* stdout and stderr of the last run */

/* The suites' init and fini: makes tmp and finds the binary; removes tmp. */
void cli_setup(void);
void cli_teardown(void);

/* tmp/name in one of 16 static buffers (reused in turn: copy a path that must live long). */
const char *at(const char *name);

/* The file at path into buf (at most size - 1 bytes, NUL-terminated; "" when missing). */
void slurp(const char *path, char *buf, size_t size);

/* Runs `gwae <args>` in tmp; returns the exit code, stdout and stderr in out_text, err_text. */
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Asserts stderr is exactly one non-empty line starting with "gwae". */
void assert_one_line(const char *what);

/* A bad input: the exit code, one line on stderr that contains `says`. */
void assert_refused(int rc, int code, const char *says, const char *what);

#define SNAP_MAX 32

/* Every file of a directory: its name and bytes. */
struct snapshot {
    int n;
    char name[SNAP_MAX][256];
    char *data[SNAP_MAX];
    long size[SNAP_MAX];
};

/* Takes a snapshot of dir (its files not starting with '.'). */
void snap(const char *dir, struct snapshot *s);

/* Frees a snapshot's copies. */
void snap_free(struct snapshot *s);

/* Asserts dir holds exactly the files of before, with the same bytes. */
void assert_unchanged(const char *dir, struct snapshot *before, const char *what);

/* True when path exists and is not empty. */
bool exists(const char *path);

/* Writes text to path. */
void write_file(const char *path, const char *text);

/* Trains the tiny run into tmp/name for the given steps (plus extra options). */
void train_tiny(const char *name, int steps, const char *extra);

/* Asserts path is a PNG file. */
void assert_png(const char *path);

/* Asserts the file at path contains text. */
void assert_contains(const char *path, const char *text);

/* The text of log.jsonl's line for step n up to its timings, into out. */
void step_line(const char *log, int n, char *out, size_t size);

/* Asserts the JSON file at path has each of the n keys. */
void assert_keys(const char *path, const char *const *keys, size_t n);

/* Writes a gzip file holding n bytes of data. */
void write_gz(const char *path, const unsigned char *data, size_t n);

/* Writes dir/<prefix>-{images-idx3,labels-idx1}-ubyte.gz: n 28x28 images (a gradient that
 * depends on the label) with labels i % 10. */
void write_fake_fashion_split(const char *dir, const char *prefix, int n);

/* A fake Fashion-MNIST folder tmp/fashion (100 training and 50 test images) into data. */
void write_fake_fashion(char data[PATH_MAX]);

#endif
