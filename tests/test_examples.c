/* test_examples.c - runs the example programs in short forms and checks what they print.
 *
 *  - wgan_gp_8gaussians --quick: exits 0, and the sliced Wasserstein distance of the trained
 *    generator to the 8-Gaussian target is lower than that of the untrained generator;
 *  - fashion_mnist_classifier --limit 2000 --epochs 1: exits 0 with a test accuracy above
 *    60% (skipped when the Fashion-MNIST directory is missing);
 *  - fashion_mnist_classifier --data <missing dir>: a one-line error and a non-zero status.
 *
 * The example binaries are found next to this test binary (the directory of /proc/self/exe),
 * which is where CMake puts them, whatever the working directory. Each runs with one OpenMP
 * thread, as ctest runs the tests, and the whole file takes well under a minute on 2 cores.
 */
#define _POSIX_C_SOURCE 200809L /* popen, pclose, readlink */

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DATA_DIR /* overridable (-DDATA_DIR=...) to exercise the skip */
#define DATA_DIR "/usr/share/datasets/fashion-mnist"
#endif
#define OUTPUT_MAX (64 * 1024)
#define MIN_TEST_ACCURACY 60.0 /* percent, after one epoch on 2000 images */

TestSuite(examples, .timeout = 180);

/* Path of the example program name in the directory of the running test binary. */
static void example_path(const char *name, char *out, size_t size) {
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    cr_assert(n > 0, "cannot read /proc/self/exe");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    cr_assert(slash, "no directory in %s", self);
    *slash = '\0';
    int written = snprintf(out, size, "%s/%s", self, name);
    cr_assert(written > 0 && (size_t)written < size, "path of %s too long", name);
    cr_assert(access(out, X_OK) == 0, "example binary %s not found (build it first)", out);
}

/* Runs "<example> <args>" with stderr merged into stdout; returns the exit status (-1 if it
 * did not exit normally) and the output in out (NUL-terminated, truncated to size - 1). */
static int run_example(const char *name, const char *args, char *out, size_t size) {
    char path[4096], command[8192];
    example_path(name, path, sizeof path);
    snprintf(command, sizeof command, "OMP_NUM_THREADS=1 '%s' %s 2>&1", path, args);
    FILE *pipe = popen(command, "r");
    cr_assert(pipe, "cannot run %s", command);
    size_t used = 0, got;
    char chunk[4096];
    while ((got = fread(chunk, 1, sizeof chunk, pipe)) > 0) {
        size_t room = size - 1 - used;
        size_t take = got < room ? got : room;
        memcpy(out + used, chunk, take);
        used += take;
    }
    out[used] = '\0';
    int status = pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The number after the first occurrence of label in output; fails the test if absent. */
static double metric(const char *output, const char *label) {
    const char *at = strstr(output, label);
    cr_assert(at, "no \"%s\" in the output:\n%s", label, output);
    char *end;
    double value = strtod(at + strlen(label), &end);
    cr_assert(end != at + strlen(label), "no number after \"%s\" in the output:\n%s", label,
              output);
    return value;
}

Test(examples, wgan_gp_quick_run_beats_untrained_generator) {
    static char output[OUTPUT_MAX];
    int status = run_example("wgan_gp_8gaussians", "--quick --seed 1", output, sizeof output);
    cr_assert_eq(status, 0, "exit status %d; output:\n%s", status, output);
    double untrained = metric(output, "sliced Wasserstein distance (untrained generator):");
    double trained = metric(output, "sliced Wasserstein distance (trained generator):");
    double near = metric(output, "fraction within 0.10 of a centre:");
    double modes = metric(output, "modes covered:");
    cr_assert(untrained > 0.0 && trained > 0.0, "distances %g and %g", untrained, trained);
    cr_assert_lt(trained, untrained, "trained generator (%g) no closer than untrained (%g):\n%s",
                 trained, untrained, output);
    cr_assert(near >= 0.0 && near <= 1.0, "fraction %g", near);
    cr_assert(modes >= 0.0 && modes <= 8.0, "modes covered %g", modes);
}

Test(examples, classifier_learns_from_2000_images) {
    struct stat st;
    if (stat(DATA_DIR, &st) != 0 || !S_ISDIR(st.st_mode))
        cr_skip_test("Fashion-MNIST not found at %s: classifier test skipped", DATA_DIR);
    static char output[OUTPUT_MAX];
    int status = run_example("fashion_mnist_classifier", "--limit 2000 --epochs 1 --data " DATA_DIR,
                             output, sizeof output);
    cr_assert_eq(status, 0, "exit status %d; output:\n%s", status, output);
    double loss = metric(output, "train loss");
    double accuracy = metric(output, "test accuracy:");
    cr_assert(loss > 0.0 && loss < 2.5, "train loss %g:\n%s", loss, output);
    cr_assert_gt(accuracy, MIN_TEST_ACCURACY, "test accuracy %g%%:\n%s", accuracy, output);
    cr_assert_leq(accuracy, 100.0, "test accuracy %g%%", accuracy);
}

Test(examples, classifier_reports_missing_data_directory) {
    static char output[OUTPUT_MAX];
    int status = run_example("fashion_mnist_classifier",
                             "--data /nonexistent/fashion-mnist-for-test", output, sizeof output);
    cr_assert_neq(status, 0, "exit status 0 for a missing data directory:\n%s", output);
    const char *newline = strchr(output, '\n');
    cr_assert(newline && newline[1] == '\0', "expected one line of error, got:\n%s", output);
    cr_assert(strstr(output, "/nonexistent/fashion-mnist-for-test"),
              "the error does not name the directory:\n%s", output);
}
