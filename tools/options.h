/* options.h - the command line of the gwae tool, table-driven: one table per command says
 * each option's name, type, range, where its value lives in a settings struct and its help,
 * as rows of struct gw_option (gwae/option.h), the same rows models and priors declare.
 *
 * The same table parses the command line, prints --help (with the current values as the
 * defaults), writes the run's config.json (every saved option under its name with '-' turned
 * into '_') and reads it back through the same strict checks, so an option, its range and its
 * place in config.json are written down once. Numbers are parsed strictly: the whole text must
 * be a number of the right kind and inside the range, or the parse fails with a one-line reason
 * ("'abc' is not an integer"). Not here: what the settings mean (settings.c, the commands).
 */
#ifndef TOOL_OPTIONS_H
#define TOOL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gwae/option.h"

struct opt_table {
    const struct gw_option *specs;
    int n;
    /* optional: for an option the table lacks, a clause saying where it belongs ("an option
     * of beta-vae, not of gwae") written into buf, or NULL when there is none */
    const char *(*unknown_hint)(const char *name, char *buf, size_t size);
};

/* What a parse found besides option values. */
struct opt_result {
    bool help;                  /* --help or -h was given */
    bool seen[128];             /* seen[i]: specs[i] was given on the command line */
    const char *positional[4];  /* arguments that are not options, in order */
    int n_positional;
};

/* Parses argv[0..argc) into the settings struct at base. Returns 0, or 2 after printing
 * "gwae <cmd>: <reason>" on stderr. Accepts "--name value" and "--name=value". */
int opt_parse(const char *cmd, const struct opt_table *t, void *base, int argc, char **argv,
              int max_positional, struct opt_result *r);

/* Sets the option from text with every check of the command line; false with the reason
 * (without the option's name) in err. */
bool opt_set(const struct gw_option *s, void *base, const char *text, char *err, size_t size);

/* The option's current value as text (numbers round-trip exactly, bools "true"/"false"). */
void opt_format(const struct gw_option *s, const void *base, char *out, size_t size);

/* Finds the option called name (without "--"; '_' matches '-'), or NULL. */
const struct gw_option *opt_find(const struct opt_table *t, const char *name);

/* Prints the table's options grouped, with the current values of base as defaults and where
 * each default comes from when its row says. */
void opt_print_help(const struct opt_table *t, const void *base);

/* Strict integer parse of all of text into [min, max]; false with the reason in err. */
bool opt_parse_int64(const char *text, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t size);

/* Strict finite floating-point parse of all of text into [min, max]. */
bool opt_parse_double(const char *text, double min, double max, double *out, char *err,
                      size_t size);

#endif
