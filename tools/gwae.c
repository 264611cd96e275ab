/* gwae.c - the gwae program: `gwae <command> [options]`, dispatching to the commands.
 *
 *   train        train a model into a run directory (or --resume one)
 *   eval         the paper's measurements of a run's checkpoint: metrics.json and figures
 *   sample       a grid of decoded prior samples as PNG
 *   reconstruct  test images over their reconstructions as PNG
 *   encode       latent means (and labels or factors) as .npy or CSV
 *   bench        milliseconds per training iteration, main step and adversary steps
 *   classifier   the feature classifier of eval's Frechet distances, trained on the run's data
 *   models       the models and priors the tool knows, one line each
 *   compare      evaluated runs side by side: means and spreads over seeds, figures
 *
 * Each command has --help. Exit codes are in tool.h; the helpers every command uses (the
 * error line, the clock) are in tool.c.
 */
#define _POSIX_C_SOURCE 200809L /* setenv, execv */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} commands[] = {
    {"train", cmd_train, "train a model (GWAE by default) into a run directory, or --resume one"},
    {"eval", cmd_eval, "PSNR, GW, isometry, DCI, OOD, Frechet distances and figures of a run"},
    {"sample", cmd_sample, "decode prior samples into a PNG grid"},
    {"reconstruct", cmd_reconstruct, "test images over their reconstructions, as PNG"},
    {"encode", cmd_encode, "latent means (with labels or factors) as .npy or CSV"},
    {"bench", cmd_bench, "median milliseconds per training iteration, main and adversary steps"},
    {"classifier", cmd_classifier, "train the feature classifier of eval's Frechet distances"},
    {"models", cmd_models, "the models and priors, one line each (--options: their options)"},
    {"compare", cmd_compare, "evaluated runs side by side: mean +- sd over seeds, tables, figures"},
};

static void usage(void) {
    printf("usage: gwae <command> [options]\n\n"
               "Gromov-Wasserstein autoencoders and their relatives: train, evaluate, compare\n"
               "and use them on a CPU or a GPU.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        printf("  %-12s %s\n", commands[i].name, commands[i].help);
    printf("\n`gwae <command> --help` describes a command's options.\n"
               "Exit codes: 0 success, 1 the work failed (files, data, checkpoints, a non-finite\n"
               "loss), 2 a wrong command line. Errors are one line on stderr.\n");
}

/* libgomp reads OMP_WAIT_POLICY once, when it is loaded, and by default its idle threads spin
 * between parallel regions. On a small shared machine the spinning thread takes the core from
 * the one doing the serial work in between: one paper-configuration iteration took 1.43 s with
 * spinning and 0.96 s with passive waiting on the project's 2-core machine. So unless the user
 * chose a policy, the program sets passive and re-executes itself once (a few milliseconds). */
static void prefer_passive_waiting(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: go on with the default */
}

int main(int argc, char **argv) {
    prefer_passive_waiting(argv);
    if (argc < 2) {
        fprintf(stderr, "gwae: a command is required (train, eval, sample, reconstruct, encode, "
                        "bench, classifier, models, compare; see gwae --help)\n");
        return TOOL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage();
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 2, argv + 2);
    fflush(stdout);
    fprintf(stderr, "gwae: unknown command '%s' (commands: train, eval, sample, reconstruct, "
                    "encode, bench, classifier, models, compare; see gwae --help)\n", argv[1]);
    return TOOL_EXIT_USAGE;
}
